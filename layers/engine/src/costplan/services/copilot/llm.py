"""The optional LLM backend: Amazon Bedrock's Converse API with tool use, one tool per endpoint, each tool's input
schema being that endpoint's request contract. The model's tool input is validated against the same contract; on
any failure (a fault, no tool call, an unknown tool, an invalid request) the parser answers with a warning.

This module defines the port (``ToolCaller``); ``costplan.adapters.bedrock`` implements it with boto3.
"""

import json
from typing import Protocol

from pydantic import ValidationError

from costplan.services.copilot.run import contract
from costplan.services.warnings import WarningCollector
from costplan_contracts.copilot import CopilotContext
from costplan_contracts.enums import CopilotIntent, Severity, WarningCode

TOOL_INTENTS = (CopilotIntent.PLAN_LLM, CopilotIntent.RANK_CATALOG, CopilotIntent.PLAN_SCALING,
                CopilotIntent.PLAN_TRAINING, CopilotIntent.INVOICE_SIMULATE)
SYSTEM = ("You turn a question about AI costs into exactly one call of one CostPlan tool. Use only figures the "
          "user states or that the previous request holds; never invent volumes. Monthly figures use 730 hours.")


class ToolCaller(Protocol):
    def converse(self, system: list[dict], messages: list[dict], tool_config: dict) -> dict:
        """One Converse call; returns the API's response document."""


def tool_config() -> dict:
    tools = [{"toolSpec": {"name": i.value, "description": f"Build the request of CostPlan's {i.value} endpoint",
                           "inputSchema": {"json": contract(i).model_json_schema()}}} for i in TOOL_INTENTS]
    return {"tools": tools, "toolChoice": {"any": {}}}


def _messages(message: str, ctx: CopilotContext) -> list[dict]:
    text = message
    if ctx.intent is not None and ctx.request is not None:
        text = (f"Previous {ctx.intent.value} request (refine it): {json.dumps(ctx.request, sort_keys=True)}\n\n"
                f"{message}")
    return [{"role": "user", "content": [{"text": text}]}]


def understand(backend: ToolCaller, message: str, ctx: CopilotContext,
               warn: WarningCollector) -> tuple[CopilotIntent, dict] | None:
    """(intent, validated request) from the model, or None after a COPILOT_BACKEND_FALLBACK warning."""
    try:
        out = backend.converse([{"text": SYSTEM}], _messages(message, ctx), tool_config())
        uses = [c["toolUse"] for c in out["output"]["message"]["content"] if "toolUse" in c]
        if len(uses) != 1:
            raise ValueError(f"{len(uses)} tool calls")
        intent = CopilotIntent(uses[0]["name"])
        if intent not in TOOL_INTENTS:
            raise ValueError("not a tool")
        request = uses[0]["input"]
        contract(intent).model_validate(request)
        return intent, request
    except (ValidationError, ValueError, KeyError, TypeError, IndexError) as e:
        reason = "its request failed the contract" if isinstance(e, ValidationError) else "its answer was unusable"
    except Exception:  # noqa: BLE001 - any fault of the backend (throttling, access, network) falls back
        reason = "the call failed"
    warn.add(WarningCode.COPILOT_BACKEND_FALLBACK, "message", f"The LLM backend was not used: {reason}; the "
             "deterministic parser answered.", "Nothing to do; rephrase if the parser missed something.",
             Severity.WARNING)
    return None
