"""assist/workload: an application description -> a plan/llm workload, an SLO, a profile, and every assumption.

Unstated figures come from the use case's cited defaults (``costplan.catalog.assist``); the session arithmetic is
``costplan.core.workload``. The volume range recomputes the month with every unstated figure at its low end, then
at its high end; stated figures are exact.
"""

import math
from dataclasses import dataclass

from costplan.catalog.assist import Figure, UseCaseDefaults, use_case_defaults
from costplan.core.workload import Conversation, SessionTokens, call_input, grown, session_tokens
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.warnings import WarningCollector
from costplan_contracts import bounds as B
from costplan_contracts.assist import (
    AssistWorkloadRequest,
    AssistWorkloadResponse,
    Assumption,
    GrowthProjection,
    Size,
    VolumeRange,
    Volumes,
)
from costplan_contracts.enums import Severity, SizeUnit, WarningCode, WorkloadProfile
from costplan_contracts.plan_llm import PlanLlmRequest, Slo, Workload

DAYS_PER_MONTH = B.HOURS_PER_MONTH / 24.0  # 30.42: the month plan/llm prices (730 h)
SECONDS_PER_MONTH = B.HOURS_PER_MONTH * 3600.0
ENDS = ("value", "low", "high")

# figure -> (the request field that overrides it, its unit)
FIELDS = {
    "sessions_per_user_per_day": ("scale.sessions_per_user_per_day", "sessions/user/day"),
    "turns_per_session": ("scale.turns_per_session", "turns"),
    "system_prompt_tokens": ("content.system_prompt", "tokens"),
    "prompt_tokens": ("content.prompt", "tokens"),
    "context_tokens": ("content.context", "tokens"),
    "rag_chunks": ("rag.chunks", "chunks"),
    "chunk_tokens": ("rag.chunk_size", "tokens"),
    "answer_tokens": ("content.answer", "tokens"),
    "history_turns": ("history.retained_turns", "turns"),
    "steps_per_turn": ("agent.steps_per_turn", "calls"),
    "tool_result_tokens": ("agent.tool_result", "tokens"),
    "peak_to_average_ratio": ("peak_to_average_ratio", "x"),
    "slo_ttft_ms": ("slo.ttft_ms", "ms"),
    "slo_tpot_ms": ("slo.tpot_ms", "ms"),
}
CONVERSION_FIELDS = {"tokens_per_word": ("conversions.tokens_per_word", "tokens/word"),
                     "characters_per_token": ("conversions.characters_per_token", "characters/token"),
                     "words_per_page": ("conversions.words_per_page", "words/page"),
                     "cache_min_prefix_tokens": ("cached_input_share", "tokens")}


@dataclass(frozen=True)
class Resolved:
    """One figure at its three ends, and where it came from."""

    value: float | None
    low: float | None
    high: float | None
    stated: bool
    source: str
    note: str

    def at(self, end: str) -> float | None:
        return getattr(self, end)


def _stated(value: float | None, note: str) -> Resolved:
    return Resolved(value, value, value, True, "request", note)


def _default(f: Figure) -> Resolved:
    return Resolved(f.value, f.low, f.high, False, f.source, f.note)


def _conversions(req: AssistWorkloadRequest, d: UseCaseDefaults) -> dict[str, Resolved]:
    out = {}
    for name, fig in d.conversions.items():
        given = getattr(req.conversions, name, None)
        out[name] = _stated(given, "stated in the request") if given is not None else _default(fig)
    return out


def _tokens(size: Size, conv: dict[str, Resolved]) -> tuple[Resolved, str]:
    """A stated size in tokens (three ends: a page count spans the words-per-page range), and how it converted."""
    v, unit = size.value, size.unit
    tpw, cpt, wpp = conv["tokens_per_word"], conv["characters_per_token"], conv["words_per_page"]
    if unit == SizeUnit.TOKENS:
        return _stated(v, "stated in tokens"), ""
    if unit == SizeUnit.WORDS:
        how = f"{v:,g} words x {tpw.value:.4g} tokens/word"
        return _stated(v * tpw.value, how), how
    if unit == SizeUnit.CHARACTERS:
        how = f"{v:,g} characters / {cpt.value:.4g} characters/token"
        return _stated(v / cpt.value, how), how
    ends = [v * wpp.at(e) * tpw.at(e) for e in ENDS]
    how = f"{v:,g} pages x {wpp.value:,g} words/page x {tpw.value:.4g} tokens/word"
    if not wpp.stated:
        how += f" (range {wpp.low:,g}-{wpp.high:,g} words/page)"
    return Resolved(*ends, stated=True, source="request", note=how), how


def _resolve(req: AssistWorkloadRequest, d: UseCaseDefaults) -> tuple[dict[str, Resolved], dict[str, Resolved], list[str]]:
    conv = _conversions(req, d)
    figs = {name: _default(f) for name, f in d.figures[req.use_case.value].items()}
    converted: list[str] = []
    sizes = {"system_prompt_tokens": req.content.system_prompt, "prompt_tokens": req.content.prompt,
             "context_tokens": req.content.context, "answer_tokens": req.content.answer,
             "chunk_tokens": req.rag.chunk_size, "tool_result_tokens": req.agent.tool_result}
    for name, size in sizes.items():
        if size is not None:
            figs[name], how = _tokens(size, conv)
            if how:
                converted.append(f"{FIELDS[name][0]}: {how} = {figs[name].value:,.1f} tokens")
    plain = {"sessions_per_user_per_day": req.scale.sessions_per_user_per_day,
             "turns_per_session": req.scale.turns_per_session, "rag_chunks": req.rag.chunks,
             "history_turns": req.history.retained_turns, "steps_per_turn": req.agent.steps_per_turn,
             "peak_to_average_ratio": req.peak_to_average_ratio}
    if req.slo is not None:
        plain.update(slo_ttft_ms=req.slo.ttft_ms, slo_tpot_ms=req.slo.tpot_ms)
        for name in ("slo_ttft_ms", "slo_tpot_ms"):
            if plain[name] is None:  # an SLO object overrides both targets: an absent one is no target
                figs[name] = _stated(None, "no target stated")
    for name, v in plain.items():
        if v is not None:
            figs[name] = _stated(v, "stated in the request")
    return figs, conv, converted


def _conversation(figs: dict[str, Resolved], conv: dict[str, Resolved], end: str) -> Conversation:
    g = lambda n: figs[n].at(end)  # noqa: E731
    hist = g("history_turns")
    return Conversation(system=g("system_prompt_tokens"), prompt=g("prompt_tokens"), context=g("context_tokens"),
                        chunks=g("rag_chunks"), chunk=g("chunk_tokens"), answer=g("answer_tokens"),
                        turns=int(g("turns_per_session")), history=None if hist is None else int(hist),
                        steps=int(g("steps_per_turn")), tool=g("tool_result_tokens"),
                        cache_min=conv["cache_min_prefix_tokens"].value)


def _calls_per_month(req: AssistWorkloadRequest, figs: dict[str, Resolved], s: SessionTokens, end: str) -> tuple[float, str]:
    sc = req.scale
    if sc.requests_per_second is not None:
        return sc.requests_per_second * SECONDS_PER_MONTH, (
            f"model calls/month = {sc.requests_per_second:,g}/s x {SECONDS_PER_MONTH:,.0f} s")
    if sc.requests_per_day is not None:
        return sc.requests_per_day * DAYS_PER_MONTH, (
            f"model calls/month = {sc.requests_per_day:,g}/day x {DAYS_PER_MONTH:.4g} days")
    spd = figs["sessions_per_user_per_day"].at(end)
    sessions = sc.daily_active_users * spd * DAYS_PER_MONTH
    return sessions * s.calls, (f"sessions/month = {sc.daily_active_users:,g} DAU x {spd:g} sessions/day x "
                                f"{DAYS_PER_MONTH:.4g} days = {sessions:,.0f}; model calls/month = sessions x "
                                f"{s.calls} calls/session = {sessions * s.calls:,.0f}")


def _month(req, figs, conv, end: str) -> tuple[Volumes, SessionTokens, float, str]:
    s = session_tokens(_conversation(figs, conv, end))
    calls, how = _calls_per_month(req, figs, s, end)
    per_call = calls / s.calls
    vol = Volumes(input_tokens_per_month=float(round(s.input * per_call)),
                  output_tokens_per_month=float(round(s.output * per_call)), requests_per_month=float(round(calls)))
    return vol, s, calls, how


def _check(vol: Volumes, s: SessionTokens) -> None:
    errors = []
    if s.max_prompt > B.CONTEXT_TOKENS_MAX:
        errors.append(FieldError("content", f"the largest prompt would be {s.max_prompt:,.0f} tokens, over "
                                            f"{B.CONTEXT_TOKENS_MAX:,}"))
    if max(vol.input_tokens_per_month, vol.output_tokens_per_month) > B.TOKENS_PER_MONTH_MAX:
        errors.append(FieldError("scale", f"over {B.TOKENS_PER_MONTH_MAX:g} tokens a month"))
    if vol.requests_per_month > B.REQUESTS_PER_MONTH_MAX:
        errors.append(FieldError("scale", f"over {B.REQUESTS_PER_MONTH_MAX:g} requests a month"))
    if vol.requests_per_month < 1:
        errors.append(FieldError("scale", "less than one model call a month"))
    if vol.input_tokens_per_month + vol.output_tokens_per_month <= 0:
        errors.append(FieldError("content", "every size is 0: nothing to price"))
    if errors:
        raise RequestRejected("The described application is outside what plan/llm can price", errors)


def _assumptions(figs, conv, req: AssistWorkloadRequest, d: UseCaseDefaults) -> list[Assumption]:
    out = []
    used = dict(FIELDS)
    if req.scale.daily_active_users is None:
        used.pop("sessions_per_user_per_day")
    if req.cached_input_share is not None:
        conv = {k: v for k, v in conv.items() if k != "cache_min_prefix_tokens"}
    for name, (field, unit) in [*used.items(), *CONVERSION_FIELDS.items()]:
        r = figs.get(name) or conv.get(name)
        if r is None:
            continue
        src = d.sources.get(r.source)
        out.append(Assumption(
            name=name, value=r.value, unit=unit, stated=r.stated, low=r.low, high=r.high,
            source=src.title if src else "request", note=r.note,
            url=src.url if src else None, as_of=src.as_of if src else None, override=field))
    return out


def estimate_workload(req: AssistWorkloadRequest) -> AssistWorkloadResponse:
    """The plan/llm workload for an application, with its SLO, profile, range and every assumption behind it."""
    if req.scale.sessions_per_user_per_day is not None and req.scale.daily_active_users is None:
        raise RequestRejected("sessions_per_user_per_day needs daily_active_users", [FieldError(
            "scale.sessions_per_user_per_day", "applies only with daily_active_users; a request rate counts model calls")])
    d = use_case_defaults()
    warn = WarningCollector()
    figs, conv, converted = _resolve(req, d)
    vol, s, calls, how = _month(req, figs, conv, "value")
    _check(vol, s)
    low, high = _month(req, figs, conv, "low")[0], _month(req, figs, conv, "high")[0]
    cached_share = req.cached_input_share if req.cached_input_share is not None else (
        round(s.cached / s.input, 6) if s.input else 0.0)
    avg_in, avg_out = s.input / s.calls, s.output / s.calls
    ttft, tpot = figs["slo_ttft_ms"].value, figs["slo_tpot_ms"].value
    slo = Slo(ttft_ms=ttft, tpot_ms=tpot)
    profile = req.workload_profile or WorkloadProfile(d.profiles[req.use_case.value])
    workload = Workload(
        input_tokens_per_month=vol.input_tokens_per_month, output_tokens_per_month=vol.output_tokens_per_month,
        cached_input_share=cached_share, requests_per_month=vol.requests_per_month,
        max_context_tokens=max(1, math.ceil(s.max_prompt)),
        avg_input_tokens_per_request=round(avg_in, 1) if avg_in >= B.TOKENS_PER_REQUEST_MIN else None,
        avg_output_tokens_per_request=round(avg_out, 1) if avg_out >= B.TOKENS_PER_REQUEST_MIN else None,
        peak_to_average_ratio=figs["peak_to_average_ratio"].value)
    c = _conversation(figs, conv, "value")
    derivation = [*converted, how,
                  f"per session: {c.turns} turn(s) x {c.steps} call(s) = {s.calls} calls; input {s.input:,.1f}, "
                  f"output {s.output:,.1f}, cache-read {s.cached:,.1f} tokens "
                  f"(first call {call_input(c, 1, 0):,.1f} input tokens, last {s.max_prompt:,.1f})",
                  f"input tokens/month = {calls:,.0f} calls x {avg_in:,.2f} = {vol.input_tokens_per_month:,.0f}; "
                  f"output = {calls:,.0f} x {avg_out:,.2f} = {vol.output_tokens_per_month:,.0f}",
                  f"max_context_tokens = the last call's prompt, {workload.max_context_tokens:,}"]
    if req.cached_input_share is None:
        derivation.append(f"cached_input_share = repeated prefixes of at least {c.cache_min:,.0f} tokens / input = "
                          f"{s.cached:,.1f} / {s.input:,.1f} = {cached_share:.4f}")
        warn.add(WarningCode.PROMPT_CACHE_MODELLED, "cached_input_share",
                 f"The cached share ({cached_share:.1%}) is modelled: each call's prompt repeats the previous one's "
                 f"prefix (system prompt, kept history, an agent's trajectory) and prefixes under "
                 f"{c.cache_min:,.0f} tokens are not cached; it assumes calls arrive within the cache's lifetime "
                 "and a provider that caches.", "Set cached_input_share from your provider's usage report.",
                 Severity.INFO)
    defaulted = [n for n in FIELDS if not figs[n].stated
                 and not (n == "sessions_per_user_per_day" and req.scale.daily_active_users is None)]
    if defaulted:
        warn.add(WarningCode.WORKLOAD_DEFAULTS_USED, None,
                 f"{len(defaulted)} figures are the {req.use_case.value} use case's defaults ({', '.join(defaulted)}); "
                 f"the volumes span {low.input_tokens_per_month:,.0f}-{high.input_tokens_per_month:,.0f} input tokens "
                 "a month across their ranges.", "State the figures you know (see assumptions[].override).",
                 Severity.INFO)
    growth = None
    if req.growth is not None:
        g, m = req.growth.monthly_rate, req.growth.horizon_months
        growth = GrowthProjection(
            monthly_rate=g, horizon_months=m, multiplier=grown(1.0, g, m),
            at_horizon=Volumes(**{k: float(round(grown(v, g, m))) for k, v in vol.model_dump().items()}))
        derivation.append(f"growth: x (1 + {g:g})^{m - 1} = x {growth.multiplier:.4g} by month {m}")
    return AssistWorkloadResponse(
        workload=workload, slo=slo, workload_profile=profile,
        plan_llm_request=PlanLlmRequest(workload=workload, slo=slo, workload_profile=profile),
        range=VolumeRange(low=low, high=high), growth=growth, assumptions=_assumptions(figs, conv, req, d),
        derivation=derivation, warnings=warn.result())

