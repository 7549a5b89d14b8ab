import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tools/ (local server, template reader)
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "costplan")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CostPlan")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

EVENTS = ROOT / "events"


@pytest.fixture
def lambda_context():
    return SimpleNamespace(function_name="costplan-test", memory_limit_in_mb=1024,
                           invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:costplan-test",
                           aws_request_id="lambda-request-1", get_remaining_time_in_millis=lambda: 60_000)


def load_event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())
