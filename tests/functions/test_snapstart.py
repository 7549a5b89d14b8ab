"""SnapStart runtime hooks: every API function primes itself before the snapshot and resets after a restore."""

import json
import random

import numpy as np
import pytest
import snapshot_restore_py
from moto import mock_aws

from costplan.adapters import backends, cost_explorer, snapstart
from costplan.adapters.observability import logger, metrics
from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import get_selfhosted_catalog
from tools.template import http_routes, load_function_module, load_template

TEMPLATE = load_template()
API_FUNCTIONS = sorted({r.code_uri for r in http_routes(TEMPLATE)})
# Every API function primes with a valid request (200), except report status: its priming id is refused
# before any storage call (404 unknown job, or 422 once report ids carry a pattern).
EXPECTED = {"functions/report_status": {404, 422}}


def _hooks_for(app) -> list:
    return [(f, args) for f, args, _ in snapshot_restore_py.get_before_snapshot() if args and args[0] is app]


@pytest.fixture
def aws_without_resources(monkeypatch):
    """AWS storage mode against an empty moto account: any storage call during priming would fail (500)."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                 "COSTPLAN_STORAGE": "aws", "JOBS_TABLE": "absent-table", "REPORT_BUCKET": "absent-bucket",
                 "REPORT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/absent"}.items():
        monkeypatch.setenv(k, v)
    backends.ports.cache_clear()
    with mock_aws():
        yield
    backends.ports.cache_clear()


@pytest.mark.parametrize("code_uri", API_FUNCTIONS)
def test_every_api_function_registers_its_snapshot_hooks(code_uri):
    module = load_function_module(code_uri)
    hooks = _hooks_for(module.app)
    assert [f for f, _ in hooks] == [snapstart.prime]
    assert (snapstart.restore, (), {}) in snapshot_restore_py.get_after_restore()
    event = snapstart.priming_event(module.app)  # the function's own route
    assert event["routeKey"].split(" ", 1)[1] in {r.path for r in http_routes(TEMPLATE) if r.code_uri == code_uri}


@pytest.mark.parametrize("code_uri", API_FUNCTIONS)
def test_priming_serves_a_real_request_through_the_app_without_storage_io(code_uri, aws_without_resources):
    module = load_function_module(code_uri)
    (prime, args), = _hooks_for(module.app)
    get_llm_catalog.cache_clear()
    get_selfhosted_catalog.cache_clear()
    status = prime(*args)  # what the runtime calls before taking the snapshot
    assert status in EXPECTED.get(code_uri, {200})
    assert get_llm_catalog.cache_info().currsize == 1 and get_selfhosted_catalog.cache_info().currsize == 1
    assert metrics.metric_set == {}  # the priming request is not counted as an invocation
    assert backends.ports.cache_info().currsize == 0  # no client built while priming goes into the snapshot
    assert backends.upload_signer.cache_info().currsize == 0  # nor the upload presigner's


def test_the_priming_request_reaches_the_route_and_returns_its_contract():
    module = load_function_module("functions/plan_llm")
    adapter = _hooks_for(module.app)[0][1][1]
    response = adapter(snapstart.priming_event(module.app), None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["rows"][0]["rank"] == 1
    assert response["headers"]["x-correlation-id"] == snapstart.PRIMING_REQUEST_ID


def test_after_restore_nothing_unique_comes_from_the_snapshot(monkeypatch):
    import boto3

    random.seed(7)
    np.random.seed(7)
    snapshot = random.getstate(), np.random.get_state()
    boto3.DEFAULT_SESSION = object()  # a session (and its credentials) captured in the snapshot
    logger.set_correlation_id("snapstart-priming")
    metrics.add_metric(name="Primed", unit="Count", value=1)
    resets = []
    monkeypatch.setattr(cost_explorer, "reset_client", lambda: resets.append("ce"))
    backends.ports()  # a cached backend holding clients

    snapstart.restore()  # what the runtime calls in each environment resumed from the snapshot

    restored = random.random(), np.random.random()
    random.setstate(snapshot[0])
    np.random.set_state(snapshot[1])
    assert restored != (random.random(), np.random.random())  # not the sequence every copy would share
    assert boto3.DEFAULT_SESSION is None
    assert logger.get_correlation_id() is None
    assert metrics.metric_set == {}
    assert resets == ["ce"] and backends.ports.cache_info().currsize == 0


def test_without_the_hooks_library_nothing_is_registered(monkeypatch):
    monkeypatch.setattr(snapstart, "register_before_snapshot", None)
    before = len(snapshot_restore_py.get_before_snapshot())
    assert snapstart.register(object(), lambda e, c: {}) is False
    assert len(snapshot_restore_py.get_before_snapshot()) == before
