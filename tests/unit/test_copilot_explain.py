"""'Why?' after a plan: the copilot sends the previous request to assist/explain and keeps the plan as context."""

from costplan.services.copilot import copilot
from costplan_contracts.copilot import CopilotRequest


def _plan_then(message: str, plan: str):
    first = copilot(CopilotRequest(message=plan))
    return first, copilot(CopilotRequest(message=message, context=first.context))


def test_why_explains_the_previous_plan_with_its_exact_request():
    plan, why = _plan_then("why did it win?", "cheapest for 5M tokens/day with 20% output, llama 3.3 70b, top 3")
    assert why.intent.value == "explain" and why.endpoint == "/api/v1/assist/explain"
    assert why.request == {"plan_llm": plan.request}
    assert why.result["kind"] == "plan_llm" and why.answer == why.result["winner"]["summary"]
    assert why.result["winner"]["first"]["label"].endswith(plan.result["rows"][0]["model"])


def test_after_an_explanation_the_next_message_still_refines_the_plan():
    plan, why = _plan_then("explain", "cheapest for 5M tokens/day with 20% output, llama 3.3 70b, top 3")
    budget = copilot(CopilotRequest(message="what about with a $100 budget?", context=why.context))
    assert budget.intent.value == "plan_llm"
    assert budget.request == {**plan.request, "constraints": {"monthly_budget_usd": 100.0}}


def test_a_scaling_plan_is_explained_too():
    _, why = _plan_then("explain the break-even", "how many replicas for llama 3.1 70b at 10 rps, 2000 input tokens "
                                                  "and 400 output tokens per request")
    assert why.request.keys() == {"plan_scaling"} and why.result["kind"] == "plan_scaling"


def test_why_without_a_previous_plan_is_a_question():
    r = copilot(CopilotRequest(message="why?"))
    assert r.request is None and [q.slot for q in r.questions] == ["context"]
