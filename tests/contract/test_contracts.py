"""The public contract: response snapshot, additive-only OpenAPI, and codes shared by core and contracts."""

import json
import os
from pathlib import Path

import pytest

from costplan.core.ranking import Reason
from costplan.core.units import UNITS
from costplan.services.plan.llm import plan_llm
from costplan_contracts.enums import PricingUnit, ReasonCode
from costplan_contracts.plan_llm import PlanLlmRequest
from tools.openapi import OPENAPI, breaking_changes, merged_openapi, render

SNAPSHOTS = Path(__file__).resolve().parents[2] / "contracts" / "snapshots"
FIXED_REQUEST = {
    "workload": {"input_tokens_per_month": 2_000_000_000, "output_tokens_per_month": 500_000_000,
                 "cached_input_share": 0.25, "max_context_tokens": 8000},
    "model": "llama-3.1-70b-instruct",
    "constraints": {"monthly_budget_usd": 1500, "exclude_providers": ["cloudflare"]},
    "top_k": 5,
}


def check_snapshot(name: str, request: dict, got: dict, key: str = "request") -> None:
    """Compare a response with contracts/snapshots/<name>.json; UPDATE_SNAPSHOTS=1 rewrites it after review."""
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps({key: request, "response": got}, indent=2, sort_keys=True) + "\n")
    snap = json.loads(path.read_text())
    assert snap[key] == request
    assert got == snap["response"]


def test_plan_llm_response_matches_its_snapshot():
    """A change here is a contract change: review it, then UPDATE_SNAPSHOTS=1 make test."""
    check_snapshot("plan_llm", FIXED_REQUEST, plan_llm(PlanLlmRequest.model_validate(FIXED_REQUEST)).model_dump(mode="json"))


SCALING_REQUEST = {
    "model": "llama-3.1-70b-instruct", "peak_requests_per_second": 20, "avg_requests_per_second": 8,
    "min_requests_per_second": 1, "avg_input_tokens": 2000, "avg_output_tokens": 400,
    "slo": {"ttft_ms": 2000, "tpot_ms": 60}, "top_k": 3,
}


def test_plan_scaling_response_matches_its_snapshot():
    from costplan.services.plan.scaling import plan_scaling
    from costplan_contracts.plan_scaling import PlanScalingRequest

    got = plan_scaling(PlanScalingRequest.model_validate(SCALING_REQUEST)).model_dump(mode="json")
    check_snapshot("plan_scaling", SCALING_REQUEST, got)


CATALOG_REQUEST = {"workload_type": "speech_to_text", "quantity": {"value": 100000, "unit": "per_audio_minute"},
                   "constraints": {"monthly_budget_usd": 1000, "pricing_unit": "per_audio_hour"}, "top_k": 5}


def test_rank_catalog_response_matches_its_snapshot():
    from costplan.services.catalog_rank.rank import rank_catalog
    from costplan_contracts.rank_catalog import RankCatalogRequest

    got = rank_catalog(RankCatalogRequest.model_validate(CATALOG_REQUEST)).model_dump(mode="json")
    check_snapshot("rank_catalog", CATALOG_REQUEST, got)


def test_invoice_responses_match_their_snapshots():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from invoice_data import focus_csv

    from costplan.services.invoice import analyze, simulate
    from costplan_contracts.invoice import AnalyzeRequest, SimulateRequest

    invoice = {"format": "focus", "csv": focus_csv("1.2")}
    scenarios = [{"action": "cache_hit_rate", "rate": 0.4}, {"action": "volume_growth", "pct": 25}]
    got = {"analyze": analyze(AnalyzeRequest.model_validate({"invoice": invoice})).model_dump(mode="json"),
           "simulate": simulate(SimulateRequest.model_validate({"invoice": invoice, "scenarios": scenarios}))
           .model_dump(mode="json")}
    check_snapshot("invoice", scenarios, got, key="scenarios")


def test_insights_response_matches_its_snapshot():
    from costplan.services.plan.insights import quality_price
    from costplan_contracts.insights import QualityPriceRequest

    request = {"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8}, "profile": "coding",
               "monthly_budget_usd": 2000, "providers": ["anthropic", "openai", "google", "deepseek"]}
    check_snapshot("insights_quality_price", request, quality_price(QualityPriceRequest.model_validate(request))
                   .model_dump(mode="json"))


def test_openapi_document_is_current():
    assert render(merged_openapi()) == OPENAPI.read_text(), "run `make openapi` and commit contracts/openapi.json"


def test_committed_openapi_lists_every_route():
    doc = json.loads(OPENAPI.read_text())
    assert {"/api/v1/plan/llm", "/api/v1/meta/bounds", "/api/v1/plan/scaling",
            "/api/v1/rank/catalog", "/api/v1/invoice/analyze", "/api/v1/invoice/simulate",
            "/api/v1/report/generate", "/api/v1/report/{report_id}", "/api/v1/insights/quality-price"} <= set(doc["paths"])


def test_removing_or_renaming_a_field_is_a_breaking_change():
    old = json.loads(OPENAPI.read_text())
    new = json.loads(OPENAPI.read_text())
    props = new["components"]["schemas"]["PlanRow"]["properties"]
    props["monthly_cost"] = props.pop("monthly_cost_usd")
    new["components"]["schemas"]["ReasonCode"]["enum"].remove("OVER_BUDGET")
    del new["paths"]["/api/v1/meta/bounds"]
    assert breaking_changes(old, new) == [
        "removed operation GET /api/v1/meta/bounds",
        "removed property PlanRow.monthly_cost_usd",
        "removed enum value ReasonCode.OVER_BUDGET",
    ]
    assert breaking_changes(old, old) == []


@pytest.mark.parametrize("reason", [r for r in Reason if r != Reason.ADMITTED])
def test_every_core_exclusion_reason_has_a_public_code(reason):
    assert ReasonCode[reason.name].value == reason.name


def test_core_units_and_public_units_are_the_same_set():
    assert set(UNITS) == {u.value for u in PricingUnit}


def test_numeric_bounds_are_published_under_json_schema_keywords():
    """A client or fuzzer reads minimum/maximum; pydantic's Python names (ge/le) would be silently ignored."""
    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") in ("integer", "number"):
                assert not {"ge", "le", "gt", "lt"} & node.keys(), path
            for k, v in node.items():
                walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}")

    doc = json.loads(OPENAPI.read_text())
    walk(doc, "")
    bounded = doc["components"]["schemas"]["Workload"]["properties"]["max_context_tokens"]["anyOf"][0]
    assert bounded["minimum"] >= 1 and bounded["maximum"] > bounded["minimum"]
