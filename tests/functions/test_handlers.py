"""The Lambda handlers, invoked in-process with the events/ files (what `sam local invoke` sends)."""

import json

import pytest
from conftest import load_event

from tools.template import load_function_module

plan_llm = load_function_module("functions/plan_llm")
meta_bounds = load_function_module("functions/meta_bounds")


def invoke(module, event, ctx):
    response = module.handler(event, ctx)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def test_plan_llm_event_returns_ranked_rows_and_the_request_id_as_correlation_id(lambda_context):
    status, body, headers = invoke(plan_llm, load_event("plan_llm"), lambda_context)
    assert status == 200
    assert body["rows"] and body["rows"][0]["rank"] == 1
    assert {r["canonical_model"] for r in body["rows"]} == {"llama-3.1-70b-instruct"}
    assert headers["x-correlation-id"] == "req-plan-llm-0001"


def test_malformed_json_is_a_400_envelope(lambda_context):
    status, body, _ = invoke(plan_llm, load_event("plan_llm_bad_json"), lambda_context)
    assert status == 400
    assert body["error"]["code"] == "MALFORMED_JSON"
    assert body["correlation_id"] == "req-plan-llm-0002"


def test_a_bad_field_is_a_422_naming_each_field_and_reason(lambda_context):
    status, body, _ = invoke(plan_llm, load_event("plan_llm_bad_field"), lambda_context)
    assert status == 422
    fields = {d["field"]: d["reason"] for d in body["error"]["details"]}
    assert set(fields) == {"workload.input_tokens_per_month", "workload.cached_input_share"}
    assert "greater than or equal to 0" in fields["workload.input_tokens_per_month"]


def test_an_unknown_model_is_a_422_with_suggestions(lambda_context):
    status, body, _ = invoke(plan_llm, load_event("plan_llm_unknown_model"), lambda_context)
    assert status == 422
    detail = body["error"]["details"][0]
    assert detail["field"] == "model" and "llama-3.1-70b-instruct" in detail["reason"]


def test_an_unknown_route_is_a_404_envelope(lambda_context):
    event = load_event("plan_llm")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/v1/plan/nothing"
    status, body, _ = invoke(plan_llm, event, lambda_context)
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"


def test_a_body_over_the_limit_is_a_413(lambda_context):
    event = load_event("plan_llm")
    event["body"] = json.dumps({"workload": {"input_tokens_per_month": 1, "output_tokens_per_month": 1},
                                "padding": "x" * 300_000})
    status, body, _ = invoke(plan_llm, event, lambda_context)
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_an_unknown_request_field_is_rejected_not_ignored(lambda_context):
    event = load_event("plan_llm")
    event["body"] = json.dumps({"workload": {"input_tokens_per_month": 1, "output_tokens_per_month": 1}, "topk": 3})
    status, body, _ = invoke(plan_llm, event, lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "topk"


def test_a_fault_is_a_500_envelope_with_the_correlation_id(lambda_context, monkeypatch):
    def boom(_request):
        raise RuntimeError("catalog exploded")

    monkeypatch.setattr(plan_llm, "plan_llm", boom)
    status, body, _ = invoke(plan_llm, load_event("plan_llm"), lambda_context)
    assert status == 500 and body == {
        "error": {"code": "INTERNAL_ERROR", "message": "Internal error; quote the correlation id", "details": []},
        "correlation_id": "req-plan-llm-0001"}


def test_the_returned_warnings_are_one_aggregated_structured_log_line(lambda_context, caplog):
    event = load_event("plan_llm")
    event["body"] = json.dumps({"workload": {"input_tokens_per_month": 1e6, "output_tokens_per_month": 1e6},
                                "constraints": {"monthly_budget_usd": 0, "providers": ["openai", "nosuchprovider"],
                                                "exclude_providers": ["nosuchprovider2"]}})
    status, body, _ = invoke(plan_llm, event, lambda_context)
    logged = [r for r in caplog.records if hasattr(r, "warnings")]
    codes = [w["code"] for w in body["warnings"]]
    assert status == 200 and len(codes) >= 3 and len(set(codes)) < len(codes)  # a code repeats (two fields)
    assert len(logged) == 1  # one line per request, not one per warning
    assert logged[0].warning_codes == sorted(set(codes))  # every code, each once
    assert logged[0].warnings == body["warnings"]  # and every warning as returned


def test_the_warnings_line_is_logged_at_the_level_of_the_most_severe_warning(caplog):
    import logging

    from costplan.adapters.observability import log_warnings
    from costplan_contracts.common import Warning
    from costplan_contracts.enums import Severity, WarningCode

    def warning(severity):
        return Warning(code=WarningCode.SCENARIO_ASSUMPTION, severity=severity, field=None, message="m", action="a")

    caplog.set_level(logging.INFO)
    log_warnings("plan_llm", [warning(Severity.INFO), warning(Severity.INFO)])
    log_warnings("plan_llm", [warning(Severity.INFO), warning(Severity.WARNING)])
    levels = [r.levelno for r in caplog.records if hasattr(r, "warning_codes")]
    assert levels == [logging.INFO, logging.WARNING]


def test_meta_bounds_serves_the_bounds_validation_uses(lambda_context):
    from costplan_contracts import bounds

    status, body, _ = invoke(meta_bounds, load_event("meta_bounds"), lambda_context)
    assert status == 200
    assert body["top_k"] == {"min": bounds.TOP_K_MIN, "max": bounds.TOP_K_MAX, "default": bounds.TOP_K_DEFAULT}
    assert "per_1m_tokens" in body["pricing_units"]


@pytest.mark.parametrize("top_k", [0, 101])
def test_top_k_outside_its_bounds_is_a_422(lambda_context, top_k):
    event = load_event("plan_llm")
    event["body"] = json.dumps({"workload": {"input_tokens_per_month": 1, "output_tokens_per_month": 1}, "top_k": top_k})
    status, body, _ = invoke(plan_llm, event, lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "top_k"


plan_scaling = load_function_module("functions/plan_scaling")


def test_plan_scaling_event_returns_configurations_with_a_rationale(lambda_context):
    status, body, headers = invoke(plan_scaling, load_event("plan_scaling"), lambda_context)
    assert status == 200 and body["configurations"]
    top = body["configurations"][0]
    assert top["replicas"]["peak"] >= top["replicas"]["avg"] >= top["replicas"]["min"] >= 1
    assert body["rationale"] == top["rationale"]
    assert headers["x-correlation-id"] == "req-plan-scaling-0001"


def test_plan_scaling_rejects_an_average_above_the_peak_naming_the_field(lambda_context):
    status, body, _ = invoke(plan_scaling, load_event("plan_scaling_bad_field"), lambda_context)
    assert status == 422
    assert body["error"]["details"][0]["field"] == "avg_requests_per_second"


def test_plan_scaling_rejects_a_model_without_open_weights(lambda_context):
    status, body, _ = invoke(plan_scaling, load_event("plan_scaling_unknown_model"), lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "model"


def test_plan_llm_self_hosted_event_ranks_both_kinds(lambda_context):
    status, body, _ = invoke(plan_llm, load_event("plan_llm_self_hosted"), lambda_context)
    assert status == 200
    assert {r["deployment"] for r in body["rows"]} == {"hosted_api", "self_hosted"}


rank_catalog = load_function_module("functions/rank_catalog")


def test_rank_catalog_event_ranks_speech_to_text_per_audio_minute(lambda_context):
    status, body, _ = invoke(rank_catalog, load_event("rank_catalog"), lambda_context)
    assert status == 200 and body["rows"]
    assert {r["native_unit"] for r in body["rows"]} == {"per_audio_minute"}
    assert all(r["monthly_cost_usd"] <= 1000 for r in body["rows"])


def test_rank_catalog_cross_dimension_event_names_the_factor(lambda_context):
    status, body, _ = invoke(rank_catalog, load_event("rank_catalog_cross_dimension"), lambda_context)
    assert status == 200
    assert body["rows"][0]["conversion"] == {"factor": "characters_per_request", "value": 400.0}
    assert "CROSS_DIMENSION_FACTOR_USED" in {w["code"] for w in body["warnings"]}


def test_rank_catalog_unknown_unit_lists_the_known_units(lambda_context):
    status, body, _ = invoke(rank_catalog, load_event("rank_catalog_unknown_unit"), lambda_context)
    detail = body["error"]["details"][0]
    assert status == 422 and detail["field"] == "quantity.unit" and "per_audio_minute" in detail["reason"]


def test_rank_catalog_llm_tokens_without_a_mix_names_the_field(lambda_context):
    status, body, _ = invoke(rank_catalog, load_event("rank_catalog_llm_without_mix"), lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "output_token_share"


invoice_analyze = load_function_module("functions/invoice_analyze")
invoice_simulate = load_function_module("functions/invoice_simulate")


def test_invoice_analyze_event_reconciles_and_finds_savings(lambda_context):
    status, body, _ = invoke(invoice_analyze, load_event("invoice_analyze"), lambda_context)
    rec = body["reconciliation"]
    assert status == 200 and body["focus_version"] == "1.2"
    assert rec["input_rows"] == rec["recognised_rows"] + rec["unrecognised_rows"] + rec["rejected_rows"]
    assert body["findings"] and body["opportunities"][0]["remediation_steps"]


def test_invoice_analyze_lists_missing_mandatory_columns(lambda_context):
    status, body, _ = invoke(invoice_analyze, load_event("invoice_analyze_missing_columns"), lambda_context)
    assert status == 422 and body["error"]["details"] == [
        {"field": "invoice.csv", "reason": "missing mandatory FOCUS 1.0 column BilledCost"}]


def test_invoice_line_items_report_a_bad_row_and_analyse_the_rest(lambda_context):
    status, body, _ = invoke(invoice_analyze, load_event("invoice_analyze_line_items"), lambda_context)
    assert status == 200 and body["reconciliation"]["rejected_rows"] == 1
    assert body["row_errors"][0]["row"] == 3 and body["row_errors"][0]["column"] == "quantity"


def test_invoice_simulate_event_replays_deterministically(lambda_context):
    first = invoke(invoice_simulate, load_event("invoice_simulate"), lambda_context)
    again = invoke(invoice_simulate, load_event("invoice_simulate"), lambda_context)
    assert first[0] == 200 and first[1] == again[1]
    assert [s["action"] for s in first[1]["steps"]] == ["volume_growth", "cache_hit_rate", "switch_provider",
                                                         "commitment"]


def test_an_invoice_over_the_lambda_payload_limit_is_a_413(lambda_context):
    event = load_event("invoice_analyze")
    event["body"] = json.dumps({"invoice": {"format": "focus", "csv": "x" * (6 * 1024 * 1024 + 10)}})
    status, body, _ = invoke(invoice_analyze, event, lambda_context)
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"


insights_quality_price = load_function_module("functions/insights_quality_price")


def test_insights_event_returns_points_frontier_and_chart(lambda_context):
    status, body, _ = invoke(insights_quality_price, load_event("insights_quality_price"), lambda_context)
    assert status == 200 and body["points"] and body["pareto_frontier"]
    assert body["vega_lite"]["$schema"].endswith("v5.json")


def test_insights_unknown_profile_is_a_422_naming_the_field(lambda_context):
    status, body, _ = invoke(insights_quality_price, load_event("insights_quality_price_bad_profile"), lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "profile"
