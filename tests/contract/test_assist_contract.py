"""assist responses' snapshots: a change here is a contract change (review, then UPDATE_SNAPSHOTS=1)."""

from test_contracts import check_snapshot

from costplan.services.assist import estimate_workload
from costplan_contracts.assist import AssistWorkloadRequest

WORKLOAD_REQUEST = {
    "use_case": "rag", "scale": {"daily_active_users": 20000, "sessions_per_user_per_day": 1, "turns_per_session": 3},
    "content": {"system_prompt": {"value": 400, "unit": "words"}, "answer": {"value": 250}},
    "rag": {"chunks": 5, "chunk_size": {"value": 512}}, "history": {"retained_turns": 2},
    "growth": {"monthly_rate": 0.08, "horizon_months": 12},
}


def test_assist_workload_response_matches_its_snapshot():
    got = estimate_workload(AssistWorkloadRequest.model_validate(WORKLOAD_REQUEST)).model_dump(mode="json")
    check_snapshot("assist_workload", WORKLOAD_REQUEST, got)


EXPLAIN_REQUEST = {
    "plan_llm": {"workload": {"input_tokens_per_month": 1_000_000_000, "output_tokens_per_month": 200_000_000,
                              "cached_input_share": 0.5, "requests_per_month": 1_000_000},
                 "model": "deepseek-v3.2", "constraints": {"monthly_budget_usd": 400}, "top_k": 3},
    "more_options": 2,
}


def test_assist_explain_response_matches_its_snapshot():
    from costplan.services.assist import explain
    from costplan_contracts.assist import AssistExplainRequest

    got = explain(AssistExplainRequest.model_validate(EXPLAIN_REQUEST)).model_dump(mode="json")
    check_snapshot("assist_explain", EXPLAIN_REQUEST, got)
