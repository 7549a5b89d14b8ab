import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from local_server import serve

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tools/ (local server, template reader)
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "costplan")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CostPlan")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

EVENTS = ROOT / "events"
DEFAULT_MARKEXPR = "not integration"  # pytest.ini's addopts


def pytest_configure(config):
    """Test files named on the command line run whole, integration-marked tests included.

    `pytest -q tests/test_api_service.py tests/test_api_server.py` (the seed's command) runs the HTTP server tests
    too; a directory (`pytest tests`) keeps the fast default, and an explicit `-m` other than the default still wins.
    """
    files = [a.split("::")[0] for a in config.args]
    if files and all(f.endswith(".py") for f in files) and config.option.markexpr == DEFAULT_MARKEXPR:
        config.option.markexpr = ""


@pytest.fixture
def lambda_context():
    return SimpleNamespace(function_name="costplan-test", memory_limit_in_mb=1024,
                           invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:costplan-test",
                           aws_request_id="lambda-request-1", get_remaining_time_in_millis=lambda: 60_000)


@pytest.fixture(scope="session")
def local_api(tmp_path_factory):
    """`make run`'s server on a free loopback port, shared by the HTTP tests of one session (tests/local_server.py)."""
    with serve(tmp_path_factory.mktemp("local-api")) as server:
        yield server


def load_event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())
