"""Cost Explorer pull mode: get_cost_and_usage through boto3, against moto's Cost Explorer."""

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend

from costplan.adapters import cost_explorer
from costplan.services.invoice import analyze
from costplan_contracts.invoice import AnalyzeRequest

pytestmark = pytest.mark.integration

RESULT = {"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Estimated": False, "Groups": [
    {"Keys": ["Amazon Bedrock", "USE1-Claude3.5Sonnet-input-tokens"],
     "Metrics": {"UnblendedCost": {"Amount": "600", "Unit": "USD"}, "UsageQuantity": {"Amount": "200000", "Unit": "N/A"}}},
    {"Keys": ["Amazon Elastic Compute Cloud - Compute", "USE1-BoxUsage:p4d.24xlarge"],
     "Metrics": {"UnblendedCost": {"Amount": "2194.6", "Unit": "USD"}, "UsageQuantity": {"Amount": "100", "Unit": "Hrs"}}},
]}]}


def test_cost_explorer_results_are_analysed_like_any_invoice(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        cost_explorer._client.cache_clear()
        moto_api_backend.set_ce_cost_usage(result=RESULT, account_id="123456789012")
        out = analyze(AnalyzeRequest.model_validate({"invoice": {"format": "cost_explorer", "cost_explorer": {
            "start": "2026-10-01", "end": "2026-11-01"}}}), cost_explorer=cost_explorer.fetch)
        assert boto3.client("ce", region_name="us-east-1") is not None
    cost_explorer._client.cache_clear()
    groups = {(g.model, g.usage_kind.value): g for g in out.line_groups}
    assert groups[("claude-3.5-sonnet", "input_tokens")].quantity == 200_000 * 1000
    assert groups[("p4d.24xlarge", "gpu_hours")].billed_cost == 2194.6
    assert out.reconciliation.input_billed_cost_total == {"USD": 2794.6}
