"""The short answer: one template per intent, filled from the result. Plain text; reports escape it."""

from costplan_contracts.copilot import CopilotQuestion
from costplan_contracts.enums import CopilotIntent


def _usd(x: float) -> str:
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def answer(intent: CopilotIntent | None, request: dict | None, result: dict | None,
           questions: list[CopilotQuestion]) -> str:
    if questions:
        return "I need more to answer: " + " ".join(q.question for q in questions)
    if result is None:
        return "Nothing to run."
    if intent in (CopilotIntent.PLAN_LLM, CopilotIntent.RANK_CATALOG):
        rows = result.get("rows") or []
        if not rows:
            return "No offering fits this request; see fallback_steps and exclusions for why."
        top = rows[0]
        name = (f"{top['provider']} {top['model']}" if intent == CopilotIntent.PLAN_LLM
                else f"{top['provider']} {top['offering']}")
        return (f"Cheapest: {name} at {_usd(top['monthly_cost_usd'])}/month; {len(rows)} option"
                f"{'s' if len(rows) != 1 else ''} shown.")
    if intent == CopilotIntent.PLAN_SCALING:
        configs = result.get("configurations") or []
        if not configs:
            return f"No configuration can serve {result.get('model')} at this load; see exclusions."
        c = configs[0]
        return (f"{c['replicas']['peak']} replica(s) of {result['model']} on {c['instance_type']} "
                f"({c['precision']}) at {_usd(c['monthly_cost_usd'])}/month provisioned for the peak.")
    if intent == CopilotIntent.PLAN_TRAINING:
        options = result.get("options") or []
        if not options:
            return "No training option fits; see exclusions."
        o = options[0]
        label = o.get("instance_type") or o.get("provider") or o.get("kind")
        return f"Best option: {label} at {_usd(o['training_cost_usd'])} per training run."
    if intent == CopilotIntent.INVOICE_SIMULATE:
        return (f"From {_usd(result['baseline_monthly'])} to {_usd(result['scenario_monthly'])} a month "
                f"({_usd(result['delta'])}).")
    if intent == CopilotIntent.EXPLAIN:
        winner = result.get("winner")
        return winner["summary"] if winner else "Fewer than two ranked options: nothing to compare."
    return "Done."
