"""Cost Explorer pull mode: off by default; when on, an allow-list, a date-range cap and a call cap.

moto's Cost Explorer for the happy path; botocore's Stubber where the exact calls matter (any call
the stub was not told to expect fails the test, so "refused before calling" is really checked).
"""

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber
from conftest import load_event
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend

from costplan.adapters import cost_explorer
from costplan.adapters.cost_explorer import Guard, add_months, fetch
from costplan.services.errors import RequestRejected
from costplan.services.invoice import analyze
from costplan_contracts.invoice import AnalyzeRequest, CostExplorerQuery
from tools.template import load_function_module

pytestmark = pytest.mark.integration

RESULT = {"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Estimated": False, "Groups": [
    {"Keys": ["Amazon Bedrock", "USE1-Claude3.5Sonnet-input-tokens"],
     "Metrics": {"UnblendedCost": {"Amount": "600", "Unit": "USD"}, "UsageQuantity": {"Amount": "200000", "Unit": "N/A"}}},
    {"Keys": ["Amazon Elastic Compute Cloud - Compute", "USE1-BoxUsage:p4d.24xlarge"],
     "Metrics": {"UnblendedCost": {"Amount": "2194.6", "Unit": "USD"}, "UsageQuantity": {"Amount": "100", "Unit": "Hrs"}}},
]}]}
ON = Guard(enabled=True, services=frozenset(cost_explorer.DEFAULT_SERVICES), max_months=13, max_calls=3)


def query(start="2026-10-01", end="2026-11-01", services=("Amazon Bedrock",)) -> CostExplorerQuery:
    return CostExplorerQuery(start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end), services=list(services))


def stubbed(pages: int, last_has_token: bool):
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for n in range(pages):
        page = {"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Groups": [
            {"Keys": ["Amazon Bedrock", f"USE1-usage-{n}"],
             "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}, "UsageQuantity": {"Amount": "1", "Unit": "N/A"}}}]}]}
        if n < pages - 1 or last_has_token:
            page["NextPageToken"] = f"page-{n + 1}"
        stub.add_response("get_cost_and_usage", page)
    stub.activate()
    return client, stub


def rejected(fn) -> dict[str, str]:
    with pytest.raises(RequestRejected) as e:
        fn()
    return {d.field: d.reason for d in e.value.details}


def test_cost_explorer_is_refused_by_default_with_a_422_naming_the_field(monkeypatch, lambda_context):
    monkeypatch.delenv("COSTPLAN_CE_ENABLED", raising=False)
    client, stub = stubbed(0, False)  # no call expected: one would raise
    monkeypatch.setattr(cost_explorer, "_client", lambda: client)
    fn = load_function_module("functions/invoice_analyze")
    response = fn.handler(load_event("invoice_analyze_cost_explorer"), lambda_context)
    body = json.loads(response["body"])
    assert response["statusCode"] == 422
    (detail,) = body["error"]["details"]
    assert detail["field"] == "invoice.cost_explorer" and "CostExplorerEnabled=false" in detail["reason"]
    stub.assert_no_pending_responses()


def test_simulate_refuses_cost_explorer_when_off_too(monkeypatch, lambda_context):
    monkeypatch.setenv("COSTPLAN_CE_ENABLED", "false")
    event = load_event("invoice_simulate")
    event["body"] = json.dumps({"invoice": {"format": "cost_explorer", "cost_explorer": {
        "start": "2026-10-01", "end": "2026-11-01"}}, "scenarios": [{"action": "volume_growth", "pct": 10}]})
    response = load_function_module("functions/invoice_simulate").handler(event, lambda_context)
    assert response["statusCode"] == 422
    assert [d["field"] for d in json.loads(response["body"])["error"]["details"]] == ["invoice.cost_explorer"]


def test_only_allow_listed_services_may_be_queried():
    client, stub = stubbed(0, False)
    fields = rejected(lambda: fetch(query(services=["Amazon Bedrock", "AWS Lambda"]), ON, client))
    assert list(fields) == ["invoice.cost_explorer.services[1]"]
    assert "allow-list" in fields["invoice.cost_explorer.services[1]"]
    guard = Guard.from_env({"COSTPLAN_CE_ENABLED": "true", "COSTPLAN_CE_SERVICES": "AWS Lambda"})
    assert guard.services == {"AWS Lambda"}
    assert fetch(query(services=["AWS Lambda"]), guard, stubbed(1, False)[0])  # the deployment's list wins


def test_the_date_range_is_capped_at_13_months():
    client, _ = stubbed(1, False)
    assert fetch(query("2025-10-01", "2026-11-01"), ON, client)  # exactly 13 months
    fields = rejected(lambda: fetch(query("2025-10-01", "2026-11-02"), ON, client))
    assert list(fields) == ["invoice.cost_explorer.end"] and "13 months" in fields["invoice.cost_explorer.end"]
    fields = rejected(lambda: fetch(query("2026-11-01", "2026-11-01"), ON, client))
    assert "after start" in fields["invoice.cost_explorer.end"]
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


def test_the_query_sent_is_the_one_asked_for_and_pages_are_followed_with_the_token():
    """What boto3 is asked (the Stubber fails on any other parameters or an extra call), and what comes back."""
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    expected = {"TimePeriod": {"Start": "2026-09-01", "End": "2026-11-01"}, "Granularity": "MONTHLY",
                "Metrics": ["UnblendedCost", "UsageQuantity"],
                "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
                "Filter": {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock", "Amazon SageMaker"]}}}
    first = {"ResultsByTime": [{**RESULT["ResultsByTime"][0], "TimePeriod": {"Start": "2026-09-01", "End": "2026-10-01"},
                                "Groups": RESULT["ResultsByTime"][0]["Groups"][:1]}], "NextPageToken": "page-2"}
    stub.add_response("get_cost_and_usage", first, expected)
    stub.add_response("get_cost_and_usage", RESULT, {**expected, "NextPageToken": "page-2"})
    with stub:
        out = fetch(query("2026-09-01", "2026-11-01", ("Amazon Bedrock", "Amazon SageMaker")), ON, client)
    stub.assert_no_pending_responses()
    assert [(g["period"], g["keys"][1], g["cost"], g["quantity"], g["unit"]) for g in out] == [
        ("2026-09", "USE1-Claude3.5Sonnet-input-tokens", "600", "200000", "N/A"),
        ("2026-10", "USE1-Claude3.5Sonnet-input-tokens", "600", "200000", "N/A"),
        ("2026-10", "USE1-BoxUsage:p4d.24xlarge", "2194.6", "100", "Hrs")]


def test_calls_per_request_are_capped():
    client, stub = stubbed(3, last_has_token=False)
    assert len(fetch(query(), ON, client)) == 3  # three pages, three calls: within the cap
    stub.assert_no_pending_responses()
    client, stub = stubbed(3, last_has_token=True)  # a 4th page exists: the 4th call is never made
    fields = rejected(lambda: fetch(query(), ON, client))
    assert "more than 3 Cost Explorer calls" in fields["invoice.cost_explorer"]
    stub.assert_no_pending_responses()


def test_a_report_job_cannot_pull_cost_explorer():
    req = AnalyzeRequest.model_validate({"invoice": {"format": "cost_explorer", "cost_explorer": {
        "start": "2026-10-01", "end": "2026-11-01"}}})
    fields = rejected(lambda: analyze(req))  # no fetcher: the worker has no ce: permission
    assert list(fields) == ["invoice.cost_explorer"]


def test_cost_explorer_results_are_analysed_like_any_invoice_when_turned_on(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                 "COSTPLAN_CE_ENABLED": "true"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        cost_explorer.reset_client()
        moto_api_backend.set_ce_cost_usage(result=RESULT, account_id="123456789012")
        out = analyze(AnalyzeRequest.model_validate({"invoice": {"format": "cost_explorer", "cost_explorer": {
            "start": "2026-10-01", "end": "2026-11-01"}}}), cost_explorer=cost_explorer.fetch)
    cost_explorer.reset_client()
    groups = {(g.model, g.usage_kind.value): g for g in out.line_groups}
    assert groups[("claude-3.5-sonnet", "input_tokens")].quantity == 200_000 * 1000
    assert groups[("p4d.24xlarge", "gpu_hours")].billed_cost == 2194.6
    assert out.reconciliation.input_billed_cost_total == {"USD": 2794.6}
