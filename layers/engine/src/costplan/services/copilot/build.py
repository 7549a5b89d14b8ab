"""Slots -> the exact request of the target endpoint, the assumptions made, and questions for what is missing.

Nothing here guesses a required value: a missing one becomes a question. Optional values left unstated keep the
endpoint's own defaults (they are not written into the request), except the few the copilot sets, each listed as
an assumption with how to override it.
"""

from dataclasses import dataclass, field

from costplan.catalog.llm import get_llm_catalog
from costplan.services.copilot.names import registry, vendor_of
from costplan_contracts import bounds as B
from costplan_contracts.copilot import CopilotAssumption, CopilotQuestion, CopilotSlots
from costplan_contracts.enums import CopilotIntent, Deployment, ScenarioAction, UsageKind

COPILOT_TOP_K = 5  # the copilot's answer is short; the request says top_k so a replay gives the same rows
INVOICE_MONTH = "2026-01-01"  # the nominal billing month of an invoice built from a stated monthly spend
INVOICE_OUTPUT_SHARE = 0.2  # output share of tokens assumed when pricing a stated spend (plan/llm's README mix)
ENDPOINTS = {CopilotIntent.PLAN_LLM: "/api/v1/plan/llm", CopilotIntent.RANK_CATALOG: "/api/v1/rank/catalog",
             CopilotIntent.PLAN_SCALING: "/api/v1/plan/scaling", CopilotIntent.PLAN_TRAINING: "/api/v1/plan/training",
             CopilotIntent.INVOICE_SIMULATE: "/api/v1/invoice/simulate",
             CopilotIntent.EXPLAIN: "/api/v1/assist/explain"}
SECONDS_PER_MONTH = B.HOURS_PER_MONTH * 3600


@dataclass
class Built:
    request: dict | None
    assumptions: list[CopilotAssumption] = field(default_factory=list)
    questions: list[CopilotQuestion] = field(default_factory=list)


def _q(slot: str, question: str, examples: list[str], suggestions=()) -> CopilotQuestion:
    return CopilotQuestion(slot=slot, question=question, examples=examples, suggestions=list(suggestions))


def _a(path: str, value, source: str, override: str) -> CopilotAssumption:
    return CopilotAssumption(field=path, value=value, source=source, override=override)


def _top_k(s: CopilotSlots, out: dict, built: Built) -> None:
    out["top_k"] = s.top_k or COPILOT_TOP_K
    if s.top_k is None:
        built.assumptions.append(_a("top_k", COPILOT_TOP_K, "the copilot shows the best 5", "say 'top 10'"))


def _slo(s: CopilotSlots) -> dict:
    return {k: v for k, v in (("ttft_ms", s.ttft_ms), ("tpot_ms", s.tpot_ms)) if v}


def build(intent: CopilotIntent, s: CopilotSlots, workload_estimate=None, previous: dict | None = None) -> Built:
    return {CopilotIntent.PLAN_LLM: lambda: plan_llm(s, workload_estimate),
            CopilotIntent.RANK_CATALOG: lambda: rank_catalog(s),
            CopilotIntent.PLAN_SCALING: lambda: plan_scaling(s),
            CopilotIntent.PLAN_TRAINING: lambda: plan_training(s),
            CopilotIntent.INVOICE_SIMULATE: lambda: invoice_simulate(s),
            CopilotIntent.EXPLAIN: lambda: explain(previous)}[intent]()


# Optional workload fields copied from the slots when stated: (slot, plan/llm workload field).
_WORKLOAD_EXTRAS = (("requests_per_month", "requests_per_month"), ("avg_input_tokens", "avg_input_tokens_per_request"),
                    ("avg_output_tokens", "avg_output_tokens_per_request"), ("cached_share", "cached_input_share"),
                    ("max_context_tokens", "max_context_tokens"))


def _split_total(s: CopilotSlots, built: Built) -> dict | None:
    """One side or a total, plus the output share: both sides, or None (with a question) when they do not say."""
    total = s.tokens_per_month
    if total is None and s.output_share is None:
        built.questions.append(_q("output_tokens_per_month" if s.input_tokens_per_month is not None
                                  else "input_tokens_per_month", "How many tokens go the other way each month?",
                                  ["200M output tokens a month", "20% output"]))
        return None
    if total is None:  # one side and the output share: the other side follows
        if s.input_tokens_per_month is not None:
            side, part = s.input_tokens_per_month, 1 - s.output_share
        else:
            side, part = s.output_tokens_per_month, s.output_share
        if part <= 0:
            built.questions.append(_q("output_share", "That output share leaves no tokens on the stated side; "
                                                      "how many tokens go each way?", ["200M output tokens a month"]))
            return None
        total = side / part
    if s.output_share is None:
        built.questions.append(_q("output_share", "What share of those tokens is output (the model's answers)?",
                                  ["20% output", "300 output tokens per request"]))
        return None
    return {"input_tokens_per_month": total * (1 - s.output_share), "output_tokens_per_month": total * s.output_share}


def workload_of(s: CopilotSlots, built: Built) -> dict | None:
    """input/output tokens per month from the slots, or None (with a question) when they do not say."""
    one_side = (s.input_tokens_per_month is not None) != (s.output_tokens_per_month is not None)
    if s.input_tokens_per_month is not None and s.output_tokens_per_month is not None:
        w = {"input_tokens_per_month": s.input_tokens_per_month, "output_tokens_per_month": s.output_tokens_per_month}
    elif s.tokens_per_month is not None or one_side:
        w = _split_total(s, built)
        if w is None:
            return None
    elif s.requests_per_month is not None and s.avg_input_tokens is not None and s.avg_output_tokens is not None:
        w = {"input_tokens_per_month": s.requests_per_month * s.avg_input_tokens,
             "output_tokens_per_month": s.requests_per_month * s.avg_output_tokens}
    else:
        return None
    w.update({name: getattr(s, slot) for slot, name in _WORKLOAD_EXTRAS if getattr(s, slot) is not None})
    return w


def assist_workload_request(s: CopilotSlots) -> dict | None:
    """An assist/workload request when the slots describe an application (a use case and its scale)."""
    if s.use_case is None:
        return None
    scale = ({"daily_active_users": s.daily_users} if s.daily_users else
             {"requests_per_day": s.requests_per_month * 24 / B.HOURS_PER_MONTH} if s.requests_per_month else None)
    if scale is None:
        return None
    req: dict = {"use_case": s.use_case.value, "scale": scale}
    content = {k: {"value": v, "unit": "tokens"} for k, v in (("prompt", s.avg_input_tokens),
                                                             ("answer", s.avg_output_tokens)) if v}
    if content:
        req["content"] = content
    if s.cached_share is not None:
        req["cached_input_share"] = s.cached_share
    return req


def plan_llm(s: CopilotSlots, workload_estimate=None) -> Built:
    built = Built(None)
    w = workload_of(s, built)
    if w is None and not built.questions and workload_estimate is not None:
        w = workload_estimate["workload"]
        built.assumptions += workload_estimate["assumptions"]
    if w is None:
        if not built.questions:
            built.questions.append(_q("workload", "How much traffic: tokens per month, requests with their sizes, or "
                                                  "a use case with its daily users?",
                                      ["5M tokens/day with 20% output", "2k requests an hour, 1500 input and 300 "
                                       "output tokens per request", "a support chatbot for 20k daily users"]))
        return built
    out: dict = {"workload": w}
    if s.model:
        out["model"] = s.model
    constraints = {k: v for k, v in (("monthly_budget_usd", s.monthly_budget_usd), ("providers", s.providers),
                                     ("exclude_providers", s.exclude_providers)) if v is not None}
    if constraints:
        out["constraints"] = constraints
    _top_k(s, out, built)
    if s.deployment and s.deployment != Deployment.HOSTED_API:
        out["deployment"] = s.deployment.value
    if _slo(s):
        out["slo"] = _slo(s)
    if s.workload_profile:
        out["workload_profile"] = s.workload_profile.value
    if s.pricing_model and s.deployment in (Deployment.SELF_HOSTED, Deployment.BOTH):
        out["self_hosted"] = {"pricing_model": s.pricing_model.value}
    built.request = out
    return built


def rank_catalog(s: CopilotSlots) -> Built:
    built = Built(None)
    if s.workload_type is None:
        built.questions.append(_q("workload_type", "Which kind of service: embeddings, speech to text, text to speech, "
                                                   "images, rerank or GPU hours?", ["transcribe 10k hours of audio"]))
    if s.quantity is None or s.quantity_unit is None:
        built.questions.append(_q("quantity", "How much per month, with its unit?",
                                  ["10,000 hours of audio a month", "2k images a month", "500M tokens a month"]))
    if built.questions:
        return built
    out = {"workload_type": s.workload_type.value, "quantity": {"value": s.quantity, "unit": s.quantity_unit.value}}
    if s.monthly_budget_usd is not None or s.providers or s.exclude_providers:
        out["constraints"] = {k: v for k, v in (("monthly_budget_usd", s.monthly_budget_usd),
                                                ("providers", s.providers),
                                                ("exclude_providers", s.exclude_providers)) if v is not None}
    _top_k(s, out, built)
    built.request = out
    return built


def plan_scaling(s: CopilotSlots) -> Built:
    built = Built(None)
    reg = registry()
    model = reg.within(s.model, reg.open_weight) if s.model else None
    if model is None:
        hint = sorted(reg.open_weight)[:3] if s.model is None else [
            m for m, _ in reg.closest(s.model, tuple(sorted(reg.open_weight)))]
        built.questions.append(_q("model", "Which open-weight model should be served?" if s.model is None else
                                  f"{s.model} has no open-weight spec to size; which open-weight model?",
                                  ["llama 3.3 70b", "qwen3 32b"], hint))
    rps = s.requests_per_month / SECONDS_PER_MONTH if s.requests_per_month else None
    if rps is None:
        built.questions.append(_q("requests", "How many requests, on average (per second, hour or day)?",
                                  ["20 requests per second", "2k requests an hour"]))
    for slot, label in (("avg_input_tokens", "input"), ("avg_output_tokens", "output")):
        if getattr(s, slot) is None:
            built.questions.append(_q(slot, f"How many {label} tokens does one request have?",
                                      [f"1500 {label} tokens per request"]))
    if built.questions:
        return built
    peak = s.peak_requests_per_second
    if peak is None:
        peak = rps * B.PEAK_TO_AVERAGE_DEFAULT
        built.assumptions.append(_a("peak_requests_per_second", peak, f"the average x {B.PEAK_TO_AVERAGE_DEFAULT:g} "
                                    "(plan/llm's default peak-to-average ratio)", "say 'peaks at 50 rps'"))
    out = {"model": model, "peak_requests_per_second": max(peak, rps), "avg_requests_per_second": rps,
           "avg_input_tokens_per_request": s.avg_input_tokens, "avg_output_tokens_per_request": s.avg_output_tokens}
    if _slo(s):
        out["slo"] = _slo(s)
    if s.pricing_model:
        out["pricing_model"] = s.pricing_model.value
    _top_k(s, out, built)
    built.request = out
    return built


def plan_training(s: CopilotSlots) -> Built:
    built = Built(None)
    reg = registry()
    if s.model is None:
        built.questions.append(_q("model", "Which model should be trained or fine-tuned?",
                                  ["llama 3.1 8b", "qwen3 32b"], sorted(reg.training)[:3]))
    if s.training_method is None:
        built.questions.append(_q("training_method", "Which method: LoRA, QLoRA, a full fine-tune or pre-training?",
                                  ["with qlora", "full fine-tune"]))
    if s.dataset_tokens is None:
        built.questions.append(_q("dataset_tokens", "How many tokens are in the training set?",
                                  ["on 50M tokens", "a 3 billion token dataset"]))
    if built.questions:
        return built
    out: dict = {"model": reg.within(s.model, reg.training) or s.model,
                 "method": s.training_method.value, "dataset_tokens": s.dataset_tokens}
    if s.epochs is not None:
        out["epochs"] = s.epochs
    if s.monthly_budget_usd is not None:
        out["budget_usd"] = s.monthly_budget_usd
    if s.deadline_hours is not None:
        out["deadline_hours"] = s.deadline_hours
    if s.pricing_model:
        out["pricing_model"] = s.pricing_model.value
    _top_k(s, out, built)
    built.request = out
    return built


def _list_price(provider: str, model: str) -> tuple[float, float] | None:
    """The catalog's base input and output price (USD per 1M tokens) of one offering, or None."""
    cat = get_llm_catalog()
    for i in sorted(cat.canonical_offerings.get(model, ()), key=lambda i: cat.model[i]):
        if cat.providers[cat.provider_code[i]] == provider and not cat.deprecated[i]:
            pin, pout = float(cat.tiers["input"].prices[i, 0]), float(cat.tiers["output"].prices[i, 0])
            if pin == pin and pout == pout:
                return pin, pout
    return None


def _invoice_questions(s: CopilotSlots) -> list:
    """What invoice/simulate needs before anything else: the spend, its model and what should change."""
    questions = []
    if s.monthly_spend_usd is None or s.monthly_spend_usd <= 0:
        questions.append(_q("monthly_spend_usd", "How much do you spend a month today?", ["we spend $40k a month"]))
    if s.model is None:
        questions.append(_q("model", "On which model is that spend?", ["on gpt-4o"]))
    if s.scenario is None:
        questions.append(_q("scenario", "What should change: a model, a provider, a cache hit rate, a batch "
                                        "share or growth?", ["move half to llama 3.3 70b", "40% cache hits",
                                                             "if usage grows 25%"]))
    return questions


def _spend_lines(s: CopilotSlots, provider: str, price: tuple[float, float], share: float) -> list[dict]:
    """The stated monthly spend as one month of input and output token line items at list price."""
    per_token = ((1 - share) * price[0] + share * price[1]) / 1e6
    total = s.monthly_spend_usd / per_token
    lines = []
    for kind, part, unit_price in ((UsageKind.INPUT_TOKENS, 1 - share, price[0]),
                                   (UsageKind.OUTPUT_TOKENS, share, price[1])):
        q = round(total * part)
        if q:
            lines.append({"provider": provider, "model": s.model, "usage_kind": kind.value, "quantity": q,
                          "unit": "tokens", "billed_cost": round(q * unit_price / 1e6, 6),
                          "period_start": INVOICE_MONTH})
    return lines


_SHARED_SCENARIOS = (ScenarioAction.SWITCH_MODEL, ScenarioAction.SWITCH_PROVIDER, ScenarioAction.BATCH_SHARE)


def _scenario(s: CopilotSlots, provider: str, built: Built) -> dict | None:
    """The one scenario the slots describe, or None (with a question) when a parameter is missing."""
    scenario = s.scenario
    if scenario == ScenarioAction.SWITCH_MODEL and s.target_model is None:
        built.questions.append(_q("target_model", "Which model should the traffic move to?", ["to llama 3.3 70b"]))
        return None
    params = {ScenarioAction.SWITCH_MODEL: {"from": s.model, "to": s.target_model},
              ScenarioAction.SWITCH_PROVIDER: {"from": provider, "to": s.target_provider},
              ScenarioAction.CACHE_HIT_RATE: {"rate": s.cache_hit_rate},
              ScenarioAction.VOLUME_GROWTH: {"pct": s.growth_pct},
              ScenarioAction.MOVE_TO_SELF_HOSTED: {"model": s.model}}.get(scenario, {})
    sc: dict = {"action": scenario.value, **params}
    if scenario in _SHARED_SCENARIOS:
        if s.share is None:
            built.questions.append(_q("share", "How much of it: all, half, or a percentage?", ["half", "30%"]))
            return None
        sc["share"] = s.share
    return sc


def invoice_simulate(s: CopilotSlots) -> Built:
    built = Built(None)
    built.questions.extend(_invoice_questions(s))
    if built.questions:
        return built
    provider = (s.providers or [None])[0] if s.scenario != ScenarioAction.SWITCH_PROVIDER else None
    provider = provider or vendor_of(s.model)
    price = _list_price(provider, s.model) if provider else None
    if price is None:
        built.questions.append(_q("providers", f"Which provider bills your {s.model} usage?", ["on azure"]))
        return built
    share = s.output_share if s.output_share is not None else INVOICE_OUTPUT_SHARE
    if s.output_share is None:
        built.assumptions.append(_a("invoice.data[].quantity", share, "output share of tokens assumed to split the "
                                    "stated spend into input and output tokens at list price", "say '30% output'"))
    built.assumptions.append(_a("invoice.data", f"{provider}/{s.model}", "the stated monthly spend, priced at the "
                                "catalog's list prices as one month of input and output tokens",
                                "send an invoice to /api/v1/invoice/simulate instead"))
    lines = _spend_lines(s, provider, price, share)
    sc = _scenario(s, provider, built)
    if sc is not None:
        built.request = {"invoice": {"format": "line_items", "data": lines}, "scenarios": [sc]}
    return built


def explain(previous: dict | None) -> Built:
    built = Built(None)
    if not previous or previous.get("intent") not in (CopilotIntent.PLAN_LLM.value, CopilotIntent.RANK_CATALOG.value,
                                                      CopilotIntent.PLAN_SCALING.value):
        built.questions.append(_q("context", "Explain what? Ask for a plan first (or send the context of one).",
                                  ["cheapest for 5M tokens/day, 20% output"]))
        return built
    built.request = {previous["intent"]: previous["request"]}
    return built
