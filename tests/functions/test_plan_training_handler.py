"""POST /api/v1/plan/training through its Lambda handler, with the events/ files."""

import json

from conftest import load_event

from tools.template import load_function_module

plan_training = load_function_module("functions/plan_training")


def invoke(event, ctx):
    response = plan_training.handler(event, ctx)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def test_plan_training_event_ranks_options_by_lifecycle_total_beside_the_base_model(lambda_context):
    status, body, headers = invoke(load_event("plan_training"), lambda_context)
    assert status == 200 and body["options"]
    totals = [o["lifecycle"]["total_usd"] for o in body["options"] if o["lifecycle"]["total_usd"] is not None]
    assert totals == sorted(totals)
    assert body["reference"]["kind"] == "base_model_as_is"
    top = body["options"][0]
    assert top["training_cost_usd"] <= 500 and body["rationale"] == top["rationale"]
    assert headers["x-correlation-id"] == "req-plan-training-0001"


def test_plan_training_rejects_a_negative_dataset_naming_the_field(lambda_context):
    status, body, _ = invoke(load_event("plan_training_bad_field"), lambda_context)
    assert status == 422
    assert body["error"]["details"][0]["field"] == "dataset_tokens"


def test_plan_training_refuses_a_number_sent_as_a_string(lambda_context):
    event = load_event("plan_training")
    body = json.loads(event["body"])
    event["body"] = json.dumps({**body, "dataset_tokens": "50000000"})
    status, out, _ = invoke(event, lambda_context)
    assert status == 422 and out["error"]["details"][0]["field"] == "dataset_tokens"
