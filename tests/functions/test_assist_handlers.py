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
