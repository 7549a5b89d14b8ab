"""schemathesis against every operation of the merged OpenAPI document (tools.openapi.merged_openapi), served
in-process by the app `make run` serves (tools.local_api, over ASGI).

Checks: no 5xx (not_a_server_error), every response matches its documented schema (response_schema_conformance),
and every status it returns is documented for that operation (status_code_conformance). Positive and negative
cases, every schemathesis phase that runs under pytest (examples, coverage, fuzzing). Generation is derandomized
(Hypothesis derives each operation's seed from its label), so a CI failure reproduces on a laptop.

FUZZ_EXAMPLES sets the fuzzing cases per operation: 300 in `make test`, 1000 in `make fuzz`.
"""

import os
from collections import Counter

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from costplan.services.errors import FieldError, RequestRejected
from tools.local_api import build_app

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
CALLS: Counter = Counter()


def _no_cost_explorer(_query):
    """Tests never touch the network: a Cost Explorer pull is refused as the default deployment refuses it."""
    raise RequestRejected("Cost Explorer pull mode is off", [FieldError("invoice.cost_explorer", "not enabled here")])


@pytest.fixture(scope="module", autouse=True)
def local_backends(tmp_path_factory):
    from tools.template import load_function_module

    mp = pytest.MonkeyPatch()
    mp.setenv("COSTPLAN_STORAGE", "local")
    mp.setenv("COSTPLAN_LOCAL_DIR", str(tmp_path_factory.mktemp("fuzz")))
    for name in ("functions/invoice_analyze", "functions/invoice_simulate"):
        mp.setattr(load_function_module(name), "fetch", _no_cost_explorer)
    yield
    mp.undo()
    print(f"\nschemathesis cases per operation: {dict(sorted(CALLS.items()))}")


schema = schemathesis.openapi.from_asgi("/openapi.json", build_app())
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none")


@schema.parametrize()
def test_every_operation_survives_generated_requests(case):
    CALLS[f"{case.method} {case.path}"] += 1
    case.call_and_validate(checks=CHECKS)
