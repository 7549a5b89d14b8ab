"""POST /api/v1/copilot through its Lambda handler (events/), and the optional Bedrock backend with Stubber."""

import json
import logging

import boto3
from botocore.stub import Stubber
from conftest import load_event

from costplan.adapters.bedrock import BedrockConverse
from costplan.services.copilot import copilot
from costplan.services.copilot.llm import tool_config
from costplan_contracts.copilot import CopilotRequest
from tools.template import load_function_module

mod = load_function_module("functions/copilot")
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


def invoke(event, ctx):
    response = mod.handler(event, ctx)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def test_copilot_event_answers_a_what_if_with_a_replayable_simulate_request(lambda_context):
    status, body, headers = invoke(load_event("copilot"), lambda_context)
    assert status == 200 and body["intent"] == "invoice_simulate" and body["backend"] == "parser"
    assert body["endpoint"] == "/api/v1/invoice/simulate"
    assert body["request"]["scenarios"] == [{"action": "switch_model", "from": "gpt-4o",
                                             "to": "llama-3.3-70b-instruct", "share": 0.5}]
    assert body["result"]["baseline_monthly"] == 40000.0 and body["result"]["delta"] < 0
    assert headers["x-correlation-id"] == "req-copilot-0001"


def test_a_follow_up_event_applies_the_budget_to_the_previous_request(lambda_context):
    status, body, _ = invoke(load_event("copilot_follow_up"), lambda_context)
    assert status == 200 and body["request"]["constraints"] == {"monthly_budget_usd": 500.0}


def test_a_message_over_the_cap_is_a_422_naming_the_field(lambda_context):
    status, body, _ = invoke(load_event("copilot_bad_field"), lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "message"


def test_the_message_never_reaches_the_logs(lambda_context, caplog):
    event = load_event("copilot")
    event["body"] = json.dumps({"message": "cheapest for 5M tokens/day with 20% output, secret-project-zebra"})
    with caplog.at_level(logging.DEBUG):
        status, _, _ = invoke(event, lambda_context)
    assert status == 200 and "zebra" not in caplog.text


def _stubbed(response: dict | None = None, error: str | None = None):
    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    if error:
        stub.add_client_error("converse", service_error_code=error, http_status_code=403)
    else:
        stub.add_response("converse", response, {
            "modelId": MODEL, "system": [{"text": stub_system()}], "messages": [
                {"role": "user", "content": [{"text": "cheapest for 1B input and 200M output tokens"}]}],
            "toolConfig": tool_config(), "inferenceConfig": {"maxTokens": 1024, "temperature": 0.0}})
    stub.activate()
    return BedrockConverse(MODEL, client=client), stub


def stub_system() -> str:
    from costplan.services.copilot.llm import SYSTEM

    return SYSTEM


def _tool_use(name: str, payload: dict) -> dict:
    return {"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t1", "name": name, "input": payload}}]}}, "stopReason": "tool_use",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}


def test_bedrock_tool_use_output_is_validated_and_run():
    request = {"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8}, "top_k": 2}
    backend, stub = _stubbed(_tool_use("plan_llm", request))
    r = copilot(CopilotRequest(message="cheapest for 1B input and 200M output tokens"), backend=backend)
    stub.assert_no_pending_responses()
    assert r.backend.value == "bedrock" and r.request == request and len(r.result["rows"]) == 2 and not r.warnings


def test_bedrock_output_failing_the_contract_falls_back_to_the_parser_with_a_warning():
    backend, _ = _stubbed(_tool_use("plan_llm", {"workload": {"input_tokens_per_month": -1}}))
    r = copilot(CopilotRequest(message="cheapest for 1B input and 200M output tokens"), backend=backend)
    assert r.backend.value == "parser" and [w.code.value for w in r.warnings] == ["COPILOT_BACKEND_FALLBACK"]
    assert r.request["workload"] == {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8}


def test_a_bedrock_fault_falls_back_to_the_parser_with_a_warning():
    backend, _ = _stubbed(error="AccessDeniedException")
    r = copilot(CopilotRequest(message="cheapest for 1B input and 200M output tokens"), backend=backend)
    assert r.backend.value == "parser" and r.warnings[0].code.value == "COPILOT_BACKEND_FALLBACK"
    assert "AccessDenied" not in r.warnings[0].message


def test_with_bedrock_configured_priming_never_calls_it_and_builds_no_client(lambda_context, monkeypatch):
    import snapshot_restore_py

    from costplan.adapters import bedrock, snapstart

    calls = []

    def client():
        calls.append(1)
        raise AssertionError("a Bedrock client was built while priming")

    client.cache_clear = lambda: None
    monkeypatch.setenv(bedrock.MODEL_ENV, MODEL)
    monkeypatch.setattr(bedrock, "_client", client)
    (prime, args), = [(f, a) for f, a, _ in snapshot_restore_py.get_before_snapshot() if a and a[0] is mod.app]
    assert prime(*args) == 200 and calls == []  # the priming request is answered by the parser alone
    assert snapstart.PRIMING["/api/v1/copilot"][2]["message"]


def test_the_backend_is_on_only_when_a_model_id_is_configured():
    from costplan.adapters.bedrock import backend_from_env

    assert backend_from_env({}) is None and backend_from_env({"COSTPLAN_COPILOT_MODEL_ID": " "}) is None
    assert backend_from_env({"COSTPLAN_COPILOT_MODEL_ID": MODEL}).model_id == MODEL


def test_a_configured_backend_that_fails_still_answers_through_the_handler(lambda_context, monkeypatch):
    from costplan.adapters import bedrock

    class Down:
        def converse(self, **_):
            raise ConnectionError("no route to bedrock")

    monkeypatch.setenv(bedrock.MODEL_ENV, MODEL)
    monkeypatch.setattr(bedrock, "_client", lambda: Down())
    status, body, _ = invoke(load_event("copilot_follow_up"), lambda_context)
    assert status == 200 and body["backend"] == "parser"
    assert [w["code"] for w in body["warnings"]] == ["COPILOT_BACKEND_FALLBACK"]
