"""POST /api/v1/assist/workload and /api/v1/assist/explain through their Lambda handlers, with the events/ files."""

import json

from conftest import load_event

from tools.template import load_function_module

assist_workload = load_function_module("functions/assist_workload")
plan_llm = load_function_module("functions/plan_llm")


def invoke(module, event, ctx):
    response = module.handler(event, ctx)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def with_body(name: str, body: dict) -> dict:
    event = load_event(name)
    event["body"] = json.dumps(body)
    return event


def test_assist_workload_event_returns_a_workload_with_its_assumptions(lambda_context):
    status, body, headers = invoke(assist_workload, load_event("assist_workload"), lambda_context)
    assert status == 200 and headers["x-correlation-id"] == "req-assist-workload-0001"
    w = body["workload"]
    assert w["input_tokens_per_month"] > w["output_tokens_per_month"] > 0 and w["max_context_tokens"] > 0
    assert body["range"]["low"]["input_tokens_per_month"] <= w["input_tokens_per_month"]
    assert {a["override"] for a in body["assumptions"]} >= {"content.answer", "rag.chunk_size", "history.retained_turns"}
    assert body["growth"]["at_horizon"]["input_tokens_per_month"] > w["input_tokens_per_month"]


def test_the_workload_result_posts_to_plan_llm_as_is(lambda_context):
    _, body, _ = invoke(assist_workload, load_event("assist_workload"), lambda_context)
    status, plan, _ = invoke(plan_llm, with_body("plan_llm", body["plan_llm_request"]), lambda_context)
    assert status == 200 and plan["rows"]
    assert plan["io_mix"]["cached_share_of_input"] == body["workload"]["cached_input_share"]
    picked = {k: body[k] for k in ("workload", "slo", "workload_profile")}
    status, again, _ = invoke(plan_llm, with_body("plan_llm", picked), lambda_context)
    assert status == 200 and again["rows"] == plan["rows"]


def test_assist_workload_refuses_two_scales_naming_the_field(lambda_context):
    status, body, _ = invoke(assist_workload, load_event("assist_workload_bad_field"), lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "scale"


def test_assist_workload_refuses_a_count_sent_as_a_string(lambda_context):
    event = with_body("assist_workload", {"use_case": "chat", "scale": {"daily_active_users": "20000"}})
    status, body, _ = invoke(assist_workload, event, lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "scale.daily_active_users"


assist_explain = load_function_module("functions/assist_explain")


def test_assist_explain_event_explains_the_winner_with_checked_break_evens(lambda_context):
    status, body, headers = invoke(assist_explain, load_event("assist_explain"), lambda_context)
    assert status == 200 and headers["x-correlation-id"] == "req-assist-explain-0001"
    assert body["kind"] == "plan_llm" and body["winner"]["second"] is not None
    found = [b for b in body["break_evens"] if b["status"] == "found"]
    assert found and all(b["checked"] and abs(b["first_cost_usd"] - b["second_cost_usd"]) < 0.005 for b in found)
    assert {r["constraint"] for r in body["relaxations"]} == {"budget"}


def test_assist_explain_takes_a_plan_llm_result_as_returned(lambda_context):
    _, plan, _ = invoke(plan_llm, load_event("plan_llm"), lambda_context)
    status, body, _ = invoke(assist_explain, with_body("assist_explain", {"plan_llm_result": plan}), lambda_context)
    assert status == 200 and body["winner"]["first"]["monthly_cost_usd"] == plan["rows"][0]["monthly_cost_usd"]
    assert "EXPLAIN_FROM_RESULT" in [w["code"] for w in body["warnings"]]


def test_assist_explain_refuses_two_rankings_at_once(lambda_context):
    status, body, _ = invoke(assist_explain, load_event("assist_explain_bad_field"), lambda_context)
    assert status == 422 and "give one ranking" in body["error"]["details"][0]["reason"]
