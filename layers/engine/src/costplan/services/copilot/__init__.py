"""copilot: a plain-language message in; the structured request of an endpoint, its result and a short answer out.

The parser (parser.py) is pure and deterministic. This module orchestrates: it merges the client's context (the
server keeps no state), builds the endpoint's request (build.py), validates it with that endpoint's contract, runs
the endpoint's service, and phrases the answer. An optional LLM backend (llm.py, a port the Bedrock adapter
implements) may understand the message instead; any failure of it falls back to the parser with a warning.
"""

from pydantic import ValidationError

from costplan.services.copilot.answer import answer
from costplan.services.copilot.build import ENDPOINTS, Built, assist_workload_request, build
from costplan.services.copilot.llm import ToolCaller, understand
from costplan.services.copilot.names import registry
from costplan.services.copilot.parser import Parsed, parse
from costplan.services.copilot.run import run
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.warnings import WarningCollector
from costplan_contracts.copilot import (
    CopilotAssumption,
    CopilotContext,
    CopilotQuestion,
    CopilotRequest,
    CopilotResponse,
    CopilotSlots,
)
from costplan_contracts.enums import CopilotBackend, CopilotIntent, ScenarioAction, Severity, WarningCode

__all__ = ["ToolCaller", "copilot", "parse", "registry"]

VOLUME_SLOTS = ("tokens_per_month", "input_tokens_per_month", "output_tokens_per_month", "requests_per_month",
                "daily_users", "quantity", "peak_requests_per_second", "monthly_spend_usd", "dataset_tokens")
_TOKEN_GROUP = ("tokens_per_month", "input_tokens_per_month", "output_tokens_per_month")


def _intent(p: Parsed, ctx: CopilotContext) -> tuple[CopilotIntent | None, bool]:
    """(intent, follow-up). A message that names no new task refines the previous one."""
    if p.intent == CopilotIntent.EXPLAIN:
        return p.intent, False
    if ctx.intent is not None and ctx.intent != CopilotIntent.EXPLAIN:
        fresh = p.intent not in (None, ctx.intent) and p.intent in p.intents  # named by its own keywords
        if not fresh:
            return ctx.intent, True
    return p.intent, False


def _merge(p: Parsed, ctx: CopilotContext, follow_up: bool, warn: WarningCollector) -> dict:
    new = dict(p.slots)
    if not follow_up:
        if p.factors:
            warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, "message",
                     "A relative change ('double', 'half') needs a previous request to apply to; it was ignored.",
                     "State the figure itself, or send the context of the previous answer.", Severity.INFO)
        return new
    old = ctx.slots.model_dump(exclude_none=True)
    if ctx.intent == CopilotIntent.INVOICE_SIMULATE and "model" in old and "target_model" not in old \
            and "model" in new and "monthly_spend_usd" not in new:  # the answer to "which model should it move to?"
        new["target_model"] = new.pop("model")
        new.setdefault("scenario", ScenarioAction.SWITCH_MODEL)
    if any(k in new for k in _TOKEN_GROUP):
        for k in _TOKEN_GROUP:
            old.pop(k, None)
    merged = {**old, **new}
    for group, f in sorted(p.factors.items()):
        keys = [k for k in (("monthly_budget_usd",) if group == "budget" else VOLUME_SLOTS)
                if k in merged and k not in new]
        for k in keys:
            merged[k] = merged[k] * f
        if not keys:
            warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, "message", f"A relative change (x{f:g}) had no previous "
                     f"{'budget' if group == 'budget' else 'volume'} to apply to; it was ignored.",
                     "State the figure itself.", Severity.INFO)
    return merged


def _questions_for_names(p: Parsed) -> list[CopilotQuestion]:
    return [CopilotQuestion(slot="target_model" if "model" in p.slots else "model",
                            question=f"Which model did you mean by '{m.requested}'?",
                            examples=["gpt-4o", "llama 3.3 70b"], suggestions=list(m.suggestions))
            for m in p.unmatched]


def _assumptions(p: Parsed) -> list[CopilotAssumption]:
    return [CopilotAssumption(field=k, value=p.slots.get(k), source=note, override="state the period, e.g. 'a day'"
                              if "period" in note else "state it explicitly")
            for k, note in sorted(p.notes.items()) if k != "money" or any(
                s in p.slots for s in ("monthly_budget_usd", "monthly_spend_usd"))]


def copilot(req: CopilotRequest, backend: ToolCaller | None = None) -> CopilotResponse:
    ctx = req.context or CopilotContext()
    warn = WarningCollector()
    if backend is not None:
        understood = understand(backend, req.message, ctx, warn)
        if understood is not None:
            intent, request = understood
            return _respond(intent, CopilotBackend.BEDROCK, Built(request), ctx.slots, [], warn)
    p = parse(req.message, registry())
    intent, follow_up = _intent(p, ctx)
    try:
        slots = CopilotSlots.model_validate(_merge(p, ctx, follow_up, warn))
    except ValidationError as e:
        raise RequestRejected("The message gives a figure out of range", [
            FieldError("message", f"{'.'.join(map(str, err['loc']))}: {err['msg']}") for err in e.errors()]) from None
    for m in p.fuzzy:
        warn.add(WarningCode.COPILOT_NAME_MATCHED, "model", f"A model name was read as {m.canonical}, the closest "
                 "registry entry.", "Name the model exactly if you meant another.", Severity.INFO)
    questions = _questions_for_names(p)
    if intent is None:
        questions.append(CopilotQuestion(slot="intent", question="What should I work out: the cheapest LLM for a "
                                         "workload, a self-hosted serving plan, a training run, a catalog ranking, "
                                         "or a what-if on your current spend?",
                                         examples=["cheapest for 5M tokens/day, 20% output",
                                                   "fine-tune llama 3.1 8b with lora on 50M tokens",
                                                   "we spend $40k a month on gpt-4o; what if we moved half to "
                                                   "llama 3.3 70b?"]))
        return _respond(None, CopilotBackend.PARSER, Built(None, questions=questions), slots, _assumptions(p), warn,
                        ctx)
    estimate = None
    if intent == CopilotIntent.PLAN_LLM:
        estimate = _estimate(slots)
    previous = {"intent": ctx.intent.value, "request": ctx.request} if ctx.intent and ctx.request else None
    built = build(intent, slots, estimate, previous)
    asked = {q.slot for q in questions}
    built.questions[:0] = questions
    built.questions = [q for i, q in enumerate(built.questions) if i < len(questions) or q.slot not in asked]
    if built.questions:
        built.request = None
    return _respond(intent, CopilotBackend.PARSER, built, slots, _assumptions(p) + built.assumptions, warn, ctx)


def _estimate(slots: CopilotSlots) -> dict | None:
    """assist/workload for a use case and its scale, when no token volumes were stated."""
    wreq = assist_workload_request(slots)
    if wreq is None or any(getattr(slots, k) is not None for k in _TOKEN_GROUP):
        return None
    # lazy: cold start, only a question without token volumes needs assist/workload
    from costplan.services.assist import estimate_workload
    from costplan_contracts.assist import AssistWorkloadRequest

    try:
        out = estimate_workload(AssistWorkloadRequest.model_validate(wreq))
    except ValidationError as e:
        raise RequestRejected("The message gives a figure assist/workload refuses", [
            FieldError("message", f"{'.'.join(map(str, err['loc']))}: {err['msg']}") for err in e.errors()]) from None
    except RequestRejected as e:
        raise RequestRejected(e.message, [FieldError("message", f"{d.field}: {d.reason}") for d in e.details]) from None
    workload = out.workload.model_dump(mode="json", exclude_defaults=True)
    assumptions = [CopilotAssumption(field=f"workload ({a.name})", value=a.value, source=a.source,
                                     override=f"assist/workload {a.override}")
                   for a in out.assumptions if not a.stated]
    return {"workload": workload, "assumptions": assumptions}


def _respond(intent, backend, built: Built, slots: CopilotSlots, assumptions, warn: WarningCollector,
             ctx: CopilotContext | None = None) -> CopilotResponse:
    result, request, questions = None, built.request, list(built.questions)
    if request is not None:
        try:
            result, request = run(intent, request)
        except RequestRejected as e:
            questions += [CopilotQuestion(slot=d.field, question=d.reason, examples=[], suggestions=[])
                          for d in e.details] or [CopilotQuestion(slot="request", question=e.message)]
            result = request = None
    if intent == CopilotIntent.EXPLAIN and ctx is not None:
        context = ctx  # an explanation does not change what is being planned: the next turn refines the plan
    else:
        context = CopilotContext(intent=intent, slots=slots,
                                 request=request if request is not None else (ctx.request if ctx else None))
    return CopilotResponse(intent=intent, backend=backend, answer=answer(intent, request, result, questions),
                           endpoint=ENDPOINTS.get(intent) if request is not None else None, request=request,
                           result=result, assumptions=assumptions, questions=questions, slots=slots,
                           context=context, warnings=warn.result())
