"""plan_llm: rank hosted LLM offerings for a workload, through the fallback chain.

strict -> relax_unit -> relax_budget -> relax_provider. The chain stops at the first step
that produces rows; every step records whether it ran and what it admitted.
"""

import difflib
from dataclasses import dataclass, replace

import numpy as np

from costplan.catalog.llm import NATIVE_UNIT, LlmCatalog, get_llm_catalog
from costplan.core.pricing import select_tier
from costplan.core.ranking import Candidates, Constraints, RankResult, Reason, Workload, rank_configs
from costplan.core.units import UNIT_CODES, UNITS, conversion_factor, convertible
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.warnings import WarningCollector
from costplan_contracts.common import Provenance
from costplan_contracts.enums import FallbackStep, PriceBasis, PricingUnit, ReasonCode, Severity, StepStatus, WarningCode
from costplan_contracts.plan_llm import (
    CatalogInfo, CostBreakdown, ExclusionExample, ExclusionGroup, Exclusions, IoMix, PlanLlmRequest,
    PlanLlmResponse, PlanRow, RequestedUnitPrices, ResolvedModel, StepResult, UnitPrices,
)

EXCLUSION_EXAMPLES = 5
MONEY_DECIMALS = 6


@dataclass(frozen=True)
class _Scope:
    idx: np.ndarray  # catalog indices in scope (the requested model, or everything)
    candidates: Candidates
    tiered: np.ndarray  # bool per scoped row: price came from a context-length tier
    time_of_day: np.ndarray  # bool: ranked at the peak time-of-day rate
    cache_as_input: np.ndarray  # bool: cache reads charged at the input price
    tier_basis: PriceBasis

    def basis(self, j: int) -> list[PriceBasis]:
        out = [self.tier_basis] if self.tiered[j] else []
        if self.time_of_day[j]:
            out.append(PriceBasis.TIME_OF_DAY_PEAK)
        if self.cache_as_input[j]:
            out.append(PriceBasis.CACHE_READ_AS_INPUT)
        return out or [PriceBasis.LIST_PRICE]


def _sig(x: float) -> float:
    return float(f"{x:.12g}")


def _money(x: float) -> float:
    return round(float(x), MONEY_DECIMALS) + 0.0


def resolve_model(catalog: LlmCatalog, requested: str) -> str:
    key = requested.strip().lower()
    if key in catalog.aliases:
        return catalog.aliases[key]
    from costplan.catalog.canonical import canonical_id

    if (guess := canonical_id(key)) in catalog.canonical_offerings:
        return guess
    close = difflib.get_close_matches(key, sorted(catalog.canonical_offerings), n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise RequestRejected(
        f"Unknown model '{requested}'",
        [FieldError("model", f"unknown model '{requested}'{hint}")],
    )


def _prompt_tokens(req: PlanLlmRequest) -> tuple[float, PriceBasis]:
    w = req.workload
    if w.max_context_tokens is not None:
        return float(w.max_context_tokens), PriceBasis.TIER_SELECTED
    if w.requests_per_month:
        return w.input_tokens_per_month / w.requests_per_month, PriceBasis.TIER_FROM_AVERAGE_PROMPT
    return 0.0, PriceBasis.TIER_BASE_ASSUMED


def _scope(catalog: LlmCatalog, idx: np.ndarray, req: PlanLlmRequest) -> _Scope:
    prompt, tier_basis = _prompt_tokens(req)
    tiered, tod = catalog.tiered[idx], catalog.time_of_day[idx]
    t = np.flatnonzero(tiered)
    price = {}
    for d, table in catalog.tiers.items():
        p = table.prices[idx, 0]
        if t.size and prompt > 0:
            p[t] = select_tier(table.starts[idx[t]], table.prices[idx[t]], prompt)
        if tod.any():
            peak = catalog.peak[d][idx]
            p = np.where(tod & ~np.isnan(peak), peak, p)
        price[d] = p
    cache_as_input = np.isnan(price["cache_read"]) & ~np.isnan(price["input"])
    if req.workload.cached_input_share > 0:
        price["cache_read"] = np.where(cache_as_input, price["input"], price["cache_read"])
    else:
        cache_as_input[:] = False
    candidates = Candidates(
        input_per_1m=price["input"], output_per_1m=price["output"], cache_read_per_1m=price["cache_read"],
        request_per_1k=catalog.request_per_1k[idx], context_window=catalog.context_window[idx],
        provider_code=catalog.provider_code[idx], provider_key=catalog.provider_key[idx],
        model_key=catalog.model_key[idx], unit_code=catalog.unit_code[idx], blocked=catalog.blocked[idx],
    )
    return _Scope(idx, candidates, tiered, tod, cache_as_input, tier_basis)


def _provider_masks(catalog: LlmCatalog, req: PlanLlmRequest, warn: WarningCollector):
    known = set(catalog.providers)
    c = req.constraints

    def table(ids: list[str], field: str) -> np.ndarray:
        mask = np.zeros(len(catalog.providers), bool)
        for pid in ids:
            p = pid.lower()
            if p in known:
                mask[catalog.providers.index(p)] = True
                continue
            close = difflib.get_close_matches(p, catalog.providers, n=3, cutoff=0.6)
            warn.add(WarningCode.PROVIDER_UNKNOWN, field, f"Provider '{pid}' is not in the catalog"
                     + (f"; did you mean {', '.join(close)}?" if close else "."),
                     "Use a provider id from the catalog (each row's 'provider' field).")
        return mask

    allowed = table(c.providers, "constraints.providers") if c.providers is not None else None
    excluded = table(c.exclude_providers, "constraints.exclude_providers")
    if allowed is not None and not allowed.any():
        warn.add(WarningCode.PROVIDER_FILTER_MATCHED_NOTHING, "constraints.providers",
                 "No provider in constraints.providers is in the catalog.",
                 "Fix the provider ids or drop the filter; relax_provider will drop it if nothing else matches.")
    if allowed is not None and (both := allowed & excluded).any():
        names = [catalog.providers[i] for i in np.flatnonzero(both)]
        warn.add(WarningCode.PROVIDER_BOTH_ALLOWED_AND_EXCLUDED, "constraints.exclude_providers",
                 f"{', '.join(names)} both allowed and excluded; exclusion wins.",
                 "Remove them from one of the two lists.")
    return allowed, excluded


def _chain(req: PlanLlmRequest, scope: _Scope, allowed, excluded, catalog: LlmCatalog):
    """Yield (step, constraints or None for a no-op, note) in the fixed order."""
    c = req.constraints
    requested = c.pricing_unit.value
    strict_units = np.array([u == requested for u in UNITS])
    relaxed_units = np.array([convertible(u, requested) for u in UNITS])
    ignore = frozenset({Reason.MODEL_DEPRECATED}) if c.include_deprecated else frozenset()
    base = Constraints(
        budget_usd=c.monthly_budget_usd if c.monthly_budget_usd is not None else float("inf"),
        min_context=float(max(c.min_context_window or 0, req.workload.max_context_tokens or 0)),
        unknown_context_ok=c.min_context_window is None,
        admitted_units=strict_units, allowed_providers=allowed, excluded_providers=excluded, ignore_blocked=ignore,
    )
    yield FallbackStep.STRICT, base, f"offerings priced natively in {requested}, within every constraint"
    units_in_scope = np.unique(scope.candidates.unit_code)
    new_units = relaxed_units & ~strict_units
    if not new_units[units_in_scope].any():
        why = (f"no offering in scope is priced in a unit that converts to {requested}"
               + ("; self-hosted hourly GPU candidates arrive in a later release" if requested == PricingUnit.PER_GPU_HOUR else ""))
        yield FallbackStep.RELAX_UNIT, None, why
    else:
        base = replace(base, admitted_units=relaxed_units)
        yield FallbackStep.RELAX_UNIT, base, f"admit units that convert exactly to {requested}"
    if c.monthly_budget_usd is None:
        yield FallbackStep.RELAX_BUDGET, None, "no budget was set"
    else:
        base = replace(base, budget_usd=float("inf"))
        yield FallbackStep.RELAX_BUDGET, base, f"drop the ${c.monthly_budget_usd:g}/month budget cap"
    if allowed is None:
        yield FallbackStep.RELAX_PROVIDER, None, "no provider allow-list was set"
    else:
        base = replace(base, allowed_providers=None)
        yield FallbackStep.RELAX_PROVIDER, base, "drop the provider allow-list (exclude_providers still applies)"


def _workload(req: PlanLlmRequest) -> Workload:
    w = req.workload
    cached = w.input_tokens_per_month * w.cached_input_share
    return Workload(
        uncached_input_tokens=w.input_tokens_per_month - cached,
        output_tokens=w.output_tokens_per_month,
        cached_input_tokens=cached,
        requests=w.requests_per_month if w.requests_per_month is not None else float("nan"),
    )


def _io_mix(req: PlanLlmRequest) -> IoMix:
    w = req.workload
    total = w.input_tokens_per_month + w.output_tokens_per_month
    i, o = w.input_tokens_per_month / total, w.output_tokens_per_month / total
    label = (f"blended at this workload's mix: {i:.1%} input / {o:.1%} output tokens, "
             f"{w.cached_input_share:.1%} of input served from cache")
    return IoMix(input_share=round(i, 6), output_share=round(o, 6),
                 cached_share_of_input=w.cached_input_share, label=label)


def _exclusions(catalog: LlmCatalog, scope: _Scope, result: RankResult, step: FallbackStep | None) -> Exclusions:
    by_reason: dict[ReasonCode, ExclusionGroup] = {}
    excluded = np.flatnonzero(result.reason != Reason.ADMITTED)
    order = excluded[np.argsort(catalog.name_order[scope.idx[excluded]], kind="stable")]
    for r in sorted(set(result.reason[order].tolist())):
        members = order[result.reason[order] == r]
        examples = []
        for j in members[:EXCLUSION_EXAMPLES]:
            i = scope.idx[j]
            detail = Reason(r).name.lower().replace("_", " ")
            if r == Reason.OVER_BUDGET:
                detail = f"costs ${_money(result.cost[j]):,.2f}/month"
            examples.append(ExclusionExample(provider=catalog.providers[catalog.provider_code[i]],
                                             model=catalog.model[i], detail=detail))
        by_reason[ReasonCode[Reason(r).name]] = ExclusionGroup(count=int(members.size), examples=examples)
    return Exclusions(total=int(excluded.size), step=step, by_reason=by_reason)


def _price(a: np.ndarray, j: int) -> float | None:
    return None if np.isnan(a[j]) else float(a[j])


def _row(rank: int, j: int, catalog: LlmCatalog, scope: _Scope, result: RankResult, req: PlanLlmRequest,
         io_mix: IoMix) -> PlanRow:
    """One ranked row of the response."""
    i = int(scope.idx[j])
    cand = scope.candidates
    w = req.workload
    total = float(result.cost[j])
    budget = req.constraints.monthly_budget_usd
    unit = req.constraints.pricing_unit
    prices = (_price(cand.input_per_1m, j), _price(cand.output_per_1m, j), _price(cand.cache_read_per_1m, j))
    requested = None
    if unit.value != NATIVE_UNIT:
        f = conversion_factor(NATIVE_UNIT, unit.value)
        converted = [None if v is None else _sig(v * f) for v in prices]
        requested = RequestedUnitPrices(unit=unit, input=converted[0], output=converted[1],
                                                        cache_read=converted[2])
    basis = scope.basis(j)
    cw = catalog.context_window[i]
    fee = float(cand.request_per_1k[j])
    return PlanRow(
        rank=rank,
        provider=catalog.providers[catalog.provider_code[i]],
        model=catalog.model[i],
        canonical_model=catalog.canonical[i],
        model_name=catalog.name[i],
        monthly_cost_usd=_money(total),
        cost_breakdown=CostBreakdown(
            input_usd=_money(result.input_usd[j]), output_usd=_money(result.output_usd[j]),
            cached_input_usd=_money(result.cached_usd[j]), request_usd=_money(result.request_usd[j])),
        unit_prices=UnitPrices(input_per_1m=prices[0], output_per_1m=prices[1],
                                               cache_read_per_1m=prices[2], request_per_1k=fee or None),
        requested_unit_prices=requested,
        effective_price_per_1m=_sig(total / (w.input_tokens_per_month + w.output_tokens_per_month) * 1e6),
        effective_price_io_mix=io_mix,
        over_budget_usd=None if budget is None else _money(max(0.0, total - budget)),
        context_window=None if np.isnan(cw) else int(cw),
        deprecated=bool(catalog.deprecated[i]),
        estimated=basis != [PriceBasis.LIST_PRICE] and basis != [PriceBasis.TIER_SELECTED],
        price_basis=basis,
        provenance=Provenance(source=catalog.source, as_of=catalog.as_of, url=catalog.url_of[i]),
    )


def _row_warnings(rows: list[PlanRow], req: PlanLlmRequest, warn: WarningCollector) -> None:
    notes = {
        PriceBasis.TIER_BASE_ASSUMED: (WarningCode.PRICE_TIER_BASE_ASSUMED, "workload.max_context_tokens",
            "priced at the base context tier because the prompt size is unknown; longer prompts may pay a higher tier",
            "Set workload.max_context_tokens (or requests_per_month) to select the tier."),
        PriceBasis.TIER_FROM_AVERAGE_PROMPT: (WarningCode.PRICE_TIER_FROM_AVERAGE_PROMPT, "workload.max_context_tokens",
            "context tier chosen from the average prompt (input tokens / requests); prompts above it may pay more",
            "Set workload.max_context_tokens to the largest prompt you send."),
        PriceBasis.CACHE_READ_AS_INPUT: (WarningCode.CACHE_READ_PRICED_AS_INPUT, "workload.cached_input_share",
            "have no cache-read price in the catalog; cached input tokens are charged at the full input price",
            "Treat the cost as an upper bound, or check the provider's caching price."),
        PriceBasis.TIME_OF_DAY_PEAK: (WarningCode.TIME_OF_DAY_PEAK_PRICE, None,
            "price by time of day; ranked at the peak (highest) rate, so off-peak traffic costs less",
            "Treat the cost as an upper bound."),
    }
    for basis, (code, field, text, action) in notes.items():
        hit = [f"{r.provider}/{r.model}" for r in rows if basis in r.price_basis]
        if hit:
            warn.add(code, field, f"{len(hit)} ranked offering(s) ({', '.join(hit[:3])}{', ...' if len(hit) > 3 else ''}) {text}.",
                     action, Severity.INFO)
    if req.workload.max_context_tokens and (unverified := [f"{r.provider}/{r.model}" for r in rows if r.context_window is None]):
        warn.add(WarningCode.CONTEXT_WINDOW_UNVERIFIED, "workload.max_context_tokens",
                 f"{len(unverified)} ranked offering(s) have no published context window in the catalog "
                 f"({', '.join(unverified[:3])}); they may not fit {req.workload.max_context_tokens} tokens.",
                 "Set constraints.min_context_window to exclude offerings whose window is unknown.", Severity.INFO)
    if free := [f"{r.provider}/{r.model}" for r in rows if r.monthly_cost_usd == 0]:
        warn.add(WarningCode.LISTED_FREE, None,
                 f"{len(free)} ranked offering(s) are listed at $0 by the source ({', '.join(free[:3])}); free tiers are rate-limited.",
                 "Check the provider's rate limits before relying on a free tier.", Severity.INFO)
    if req.constraints.include_deprecated and any(r.deprecated for r in rows):
        warn.add(WarningCode.DEPRECATED_INCLUDED, "constraints.include_deprecated",
                 "Some ranked offerings are deprecated by their provider.", "Plan a migration before relying on them.")


def _step_warnings(step: FallbackStep, req: PlanLlmRequest, rows: list[PlanRow], strict_providers: set[str],
                   warn: WarningCollector) -> None:
    c = req.constraints
    if step == FallbackStep.RELAX_UNIT:
        warn.add(WarningCode.UNIT_CONVERTED, "constraints.pricing_unit",
                 f"No offering is priced natively in {c.pricing_unit.value}; prices were converted exactly from {NATIVE_UNIT}.",
                 "See requested_unit_prices on each row.", Severity.INFO)
    elif step == FallbackStep.RELAX_BUDGET:
        warn.add(WarningCode.BUDGET_RELAXED, "constraints.monthly_budget_usd",
                 f"No offering fits ${c.monthly_budget_usd:,.2f}/month; showing the cheapest regardless. "
                 f"The cheapest is ${rows[0].over_budget_usd:,.2f} over.",
                 f"Raise the budget to at least ${rows[0].monthly_cost_usd:,.2f}/month, or reduce the workload.")
    elif step == FallbackStep.RELAX_PROVIDER:
        added = sorted({r.provider for r in rows} - strict_providers)
        warn.add(WarningCode.PROVIDERS_ADDED, "constraints.providers",
                 f"No allowed provider can serve this; added providers outside the allow-list: {', '.join(added)}.",
                 "Add one of them to constraints.providers, or change the model.")


def plan_llm(req: PlanLlmRequest, catalog: LlmCatalog | None = None) -> PlanLlmResponse:
    catalog = catalog or get_llm_catalog()
    warn = WarningCollector()
    c = req.constraints
    resolved = None
    if req.model is not None:
        canonical = resolve_model(catalog, req.model)
        idx = catalog.canonical_offerings[canonical]
        resolved = ResolvedModel(requested=req.model, canonical_model=canonical,
                                 providers=sorted({catalog.providers[catalog.provider_code[i]] for i in idx}))
    else:
        idx = np.arange(len(catalog))
    if c.monthly_budget_usd == 0:
        warn.add(WarningCode.BUDGET_ZERO, "constraints.monthly_budget_usd",
                 "The budget is $0/month: only offerings listed as free can fit.",
                 "Raise or remove constraints.monthly_budget_usd.")
    if not UNITS[c.pricing_unit.value].dimension == UNITS[NATIVE_UNIT].dimension:
        warn.add(WarningCode.UNIT_NOT_NATIVE, "constraints.pricing_unit",
                 f"Hosted LLM APIs price per token; none converts to {c.pricing_unit.value}.",
                 f"Use {PricingUnit.PER_1M_TOKENS.value} (or per_1k_tokens / per_token).")
    allowed, excluded = _provider_masks(catalog, req, warn)
    scope = _scope(catalog, idx, req)
    workload = _workload(req)
    io_mix = _io_mix(req)

    steps: list[StepResult] = []
    result = final_step = None
    strict_providers: set[str] = set()
    for step, constraints, note in _chain(req, scope, allowed, excluded, catalog):
        if result is not None and result.admitted:
            steps.append(StepResult(step=step, status=StepStatus.NOT_RUN, admitted=0, excluded=0,
                                    note="an earlier step produced results"))
            continue
        if constraints is None:
            steps.append(StepResult(step=step, status=StepStatus.NOOP, admitted=0, excluded=0, note=note))
            continue
        result, final_step = rank_configs(scope.candidates, workload, constraints, top_k=req.top_k), step
        status = StepStatus.PRODUCED_RESULTS if result.admitted else StepStatus.NO_RESULTS
        steps.append(StepResult(step=step, status=status, admitted=result.admitted,
                                excluded=len(scope.candidates) - result.admitted, note=note))
        if step == FallbackStep.STRICT:
            codes = scope.candidates.provider_code[(result.reason != Reason.PROVIDER_NOT_ALLOWED)]
            strict_providers = {catalog.providers[p] for p in np.unique(codes)}

    rows = [_row(r, int(j), catalog, scope, result, req, io_mix) for r, j in enumerate(result.order, start=1)]
    if rows and final_step != FallbackStep.STRICT:
        _step_warnings(final_step, req, rows, strict_providers, warn)
    if not rows:
        warn.add(WarningCode.NO_CANDIDATES, None,
                 f"Every one of {len(scope.candidates)} offerings in scope was excluded, after every fallback step; "
                 "see exclusions.by_reason.",
                 "Relax the constraint named by the largest exclusion reason (context window, excluded providers, unit).",
                 Severity.ERROR)
    _row_warnings(rows, req, warn)
    return PlanLlmResponse(
        rows=rows,
        fallback_steps=steps,
        exclusions=_exclusions(catalog, scope, result, final_step),
        warnings=warn.result(),
        catalog=CatalogInfo(offerings_total=len(catalog), offerings_considered=int(idx.size),
                            providers=len(catalog.providers), source=catalog.source, as_of=catalog.as_of,
                            url=catalog.url),
        resolved_model=resolved,
        io_mix=io_mix,
    )
