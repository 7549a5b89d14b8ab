"""Validate a structured request with its endpoint's contract and run that endpoint's service (the same call the
endpoint's handler makes), so the request replays as is."""

from pydantic import ValidationError

from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.enums import CopilotIntent


def _services():
    # lazy: cold start, the copilot function imports the five domains' services (tens of ms) only once a question
    # is to be run, not to parse one
    from costplan.services.catalog_rank import rank_catalog
    from costplan.services.invoice import simulate
    from costplan.services.plan import plan_llm, plan_scaling
    from costplan.services.training import plan_training
    from costplan_contracts.invoice import SimulateRequest
    from costplan_contracts.plan_llm import PlanLlmRequest
    from costplan_contracts.plan_scaling import PlanScalingRequest
    from costplan_contracts.plan_training import PlanTrainingRequest
    from costplan_contracts.rank_catalog import RankCatalogRequest

    return {CopilotIntent.PLAN_LLM: (PlanLlmRequest, plan_llm), CopilotIntent.RANK_CATALOG: (RankCatalogRequest, rank_catalog),
            CopilotIntent.PLAN_SCALING: (PlanScalingRequest, plan_scaling),
            CopilotIntent.PLAN_TRAINING: (PlanTrainingRequest, plan_training),
            CopilotIntent.INVOICE_SIMULATE: (SimulateRequest, simulate)}


def contract(intent: CopilotIntent):
    """The request model of an intent's endpoint (explain: assist/explain's)."""
    if intent == CopilotIntent.EXPLAIN:
        from costplan_contracts.assist import AssistExplainRequest  # lazy: as _services

        return AssistExplainRequest
    return _services()[intent][0]


def run(intent: CopilotIntent, request: dict) -> tuple[dict, dict]:
    """(result, request): the endpoint's response as JSON, and the request exactly as it validated."""
    model = contract(intent)
    try:
        parsed = model.model_validate(request)
    except ValidationError as e:
        raise RequestRejected("The structured request failed validation", [
            FieldError(".".join(map(str, err["loc"])) or "request", err["msg"]) for err in e.errors()]) from None
    if intent == CopilotIntent.EXPLAIN:
        from costplan.services.assist import explain  # lazy: as _services

        result = explain(parsed)
    else:
        result = _services()[intent][1](parsed)
    return result.model_dump(mode="json", by_alias=True), request
