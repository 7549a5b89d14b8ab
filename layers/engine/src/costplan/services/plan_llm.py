"""plan_llm: rank hosted LLM APIs and self-hosted GPU configurations for a workload.

The fallback chain runs strict -> relax_unit -> relax_budget -> relax_provider, stops at the
first step that produces rows, and records what every step did.
"""

import difflib
from dataclasses import replace

import numpy as np

from costplan.catalog.llm import NATIVE_UNIT, LlmCatalog, get_llm_catalog
from costplan.catalog.universe import get_universe
from costplan.core.ranking import Constraints, RankResult, Reason, Workload, rank_configs
from costplan.core.throughput import Shape
from costplan.core.units import UNITS, convertible
from costplan.services.candidates import SELF_HOSTED_UNIT, CandidateSet, combine
from costplan.services.hosted import hosted_block, resolve_model
from costplan.services.plan_rows import build_rows, money
from costplan.services.plan_warnings import row_warnings, self_hosted_warnings, step_warnings
from costplan.services.selfhosted import SECONDS_PER_MONTH, Measured, Traffic, scope_rows, size
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import Deployment, FallbackStep, PricingUnit, ReasonCode, Severity, StepStatus, WarningCode
from costplan_contracts.plan_llm import (
    CatalogInfo, ExclusionExample, ExclusionGroup, Exclusions, IoMix, PlanLlmRequest, PlanLlmResponse, ResolvedModel,
    StepResult,
)

EXCLUSION_EXAMPLES = 5
_REASON_CODE = {int(r): ReasonCode[r.name] for r in Reason if r != Reason.ADMITTED}
_REASON_DETAIL = {int(r): r.name.lower().replace("_", " ") for r in Reason}
_OVER_BUDGET = int(Reason.OVER_BUDGET)


def _traffic(req: PlanLlmRequest) -> Traffic | None:
    """Request rate and shape for self-hosted sizing, or None when the workload does not say."""
    w = req.workload
    requests = w.requests_per_month
    if requests is None and w.avg_input_tokens_per_request:
        requests = w.input_tokens_per_month / w.avg_input_tokens_per_request
    if requests is None and w.avg_output_tokens_per_request:
        requests = w.output_tokens_per_month / w.avg_output_tokens_per_request
    if not requests:
        return None
    avg_in = w.avg_input_tokens_per_request or w.input_tokens_per_month / requests
    avg_out = w.avg_output_tokens_per_request or w.output_tokens_per_month / requests
    if avg_out <= 0:
        return None
    slo = req.slo
    shape = Shape(avg_in, avg_out, ttft_s=slo.ttft_ms / 1e3 if slo.ttft_ms else float("inf"),
                  tpot_s=slo.tpot_ms / 1e3 if slo.tpot_ms else float("inf"))
    avg = requests / SECONDS_PER_MONTH
    return Traffic(avg_requests_per_s=avg, peak_requests_per_s=avg * w.peak_to_average_ratio, shape=shape)


def _self_hosted(req: PlanLlmRequest, canonical: str | None, warn: WarningCollector):
    from costplan.catalog.selfhosted import get_selfhosted_catalog

    sh = get_selfhosted_catalog()
    opts = req.self_hosted
    if canonical is not None and sh.model_index(canonical) is None:
        warn.add(WarningCode.SELF_HOSTED_MODEL_UNKNOWN, "model",
                 f"No open-weight spec for '{canonical}' in the self-hosted catalog; only hosted APIs can serve it.",
                 "Pick an open-weight model, or set deployment to hosted_api.", Severity.INFO)
    scope = scope_rows(sh, None if canonical is None else {canonical}, [p.value for p in opts.precisions],
                       opts.instance_types)
    traffic = _traffic(req)
    if traffic is None:
        warn.add(WarningCode.SELF_HOSTED_NEEDS_SHAPE, "workload.requests_per_month",
                 "Self-hosted sizing needs the request rate and shape; every self-hosted configuration was excluded.",
                 "Set workload.requests_per_month, or avg_input_tokens_per_request / avg_output_tokens_per_request.")
        traffic = Traffic(0.0, 0.0, Shape(1.0, 1.0))
        sizing = size(sh, scope, traffic, opts.pricing_model.value, opts.target_utilisation)
        sizing = replace(sizing, blocked=np.full(scope.rows.size, Reason.REQUESTS_REQUIRED, np.int8))
        return sh, sizing
    measured = [Measured(m.instance_type, m.precision.value, m.gpus_per_replica, m.output_tokens_per_s)
                for m in opts.measured_throughput]
    return sh, size(sh, scope, traffic, opts.pricing_model.value, opts.target_utilisation, measured)


def _provider_masks(providers: tuple[str, ...], req: PlanLlmRequest, warn: WarningCollector):
    c = req.constraints

    def table(ids: list[str], field: str) -> np.ndarray:
        mask = np.zeros(len(providers), bool)
        for pid in ids:
            p = pid.lower()
            if p in providers:
                mask[providers.index(p)] = True
                continue
            close = difflib.get_close_matches(p, providers, n=3, cutoff=0.6)
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
        names = [providers[i] for i in np.flatnonzero(both)]
        warn.add(WarningCode.PROVIDER_BOTH_ALLOWED_AND_EXCLUDED, "constraints.exclude_providers",
                 f"{', '.join(names)} both allowed and excluded; exclusion wins.",
                 "Remove them from one of the two lists.")
    return allowed, excluded


def _chain(req: PlanLlmRequest, cs: CandidateSet, allowed, excluded):
    """Yield (step, constraints or None for a no-op, note) in the fixed order."""
    c = req.constraints
    requested = c.pricing_unit.value
    has_self_hosted = len(cs) > cs.n_hosted
    token_request = convertible(requested, NATIVE_UNIT)
    # Asking for deployment=both is asking for hourly configurations beside per-token APIs.
    opted_in = {SELF_HOSTED_UNIT} if req.deployment == Deployment.BOTH and token_request else set()
    strict_units = np.array([u == requested or u in opted_in for u in UNITS])
    through_model = {SELF_HOSTED_UNIT} if has_self_hosted and token_request else set()
    relaxed_units = np.array([convertible(u, requested) or u in through_model for u in UNITS])
    ignore = frozenset({Reason.MODEL_DEPRECATED}) if c.include_deprecated else frozenset()
    base = Constraints(
        budget_usd=c.monthly_budget_usd if c.monthly_budget_usd is not None else float("inf"),
        min_context=float(max(c.min_context_window or 0, req.workload.max_context_tokens or 0)),
        unknown_context_ok=c.min_context_window is None,
        admitted_units=strict_units, allowed_providers=allowed, excluded_providers=excluded, ignore_blocked=ignore,
    )
    yield FallbackStep.STRICT, base, f"offerings priced natively in {requested}, within every constraint"
    units_in_scope = np.unique(cs.candidates.unit_code)
    if not (relaxed_units & ~strict_units)[units_in_scope].any():
        why = f"no offering in scope is priced in a unit that converts to {requested}"
        if requested == PricingUnit.PER_GPU_HOUR:
            why += "; per-token API prices do not convert to GPU-hours"
        yield FallbackStep.RELAX_UNIT, None, why
    else:
        base = replace(base, admitted_units=relaxed_units)
        yield FallbackStep.RELAX_UNIT, base, (f"admit units that convert to {requested}"
                                              + (" (self-hosted hourly prices through the throughput model)"
                                                 if through_model else ""))
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
    return Workload(uncached_input_tokens=w.input_tokens_per_month - cached, output_tokens=w.output_tokens_per_month,
                    cached_input_tokens=cached,
                    requests=w.requests_per_month if w.requests_per_month is not None else float("nan"))


def _io_mix(req: PlanLlmRequest) -> IoMix:
    w = req.workload
    total = w.input_tokens_per_month + w.output_tokens_per_month
    i, o = w.input_tokens_per_month / total, w.output_tokens_per_month / total
    label = (f"blended at this workload's mix: {i:.1%} input / {o:.1%} output tokens, "
             f"{w.cached_input_share:.1%} of input served from cache")
    return IoMix(input_share=round(i, 6), output_share=round(o, 6), cached_share_of_input=w.cached_input_share,
                 label=label)


def _exclusions(cs: CandidateSet, result: RankResult, step: FallbackStep | None) -> Exclusions:
    by_reason: dict[ReasonCode, ExclusionGroup] = {}
    counts = np.bincount(result.reason.astype(np.int64), minlength=len(Reason))
    present = [int(r) for r in np.flatnonzero(counts[1:]) + 1]
    order = cs.in_name_order() if present else np.zeros(0, np.int64)
    reasons = result.reason[order]
    for r in present:
        examples = []
        for j in order[np.flatnonzero(reasons == r)[:EXCLUSION_EXAMPLES]]:
            provider, model = cs.label(int(j))
            detail = f"costs ${money(result.cost[j]):,.2f}/month" if r == _OVER_BUDGET else _REASON_DETAIL[r]
            examples.append(ExclusionExample(provider=provider, model=model, detail=detail))
        by_reason[_REASON_CODE[r]] = ExclusionGroup(count=int(counts[r]), examples=examples)
    return Exclusions(total=int(counts[1:].sum()), step=step, by_reason=by_reason)


def plan_llm(req: PlanLlmRequest, catalog: LlmCatalog | None = None) -> PlanLlmResponse:
    catalog = catalog or get_llm_catalog()
    warn = WarningCollector()
    c = req.constraints
    want_hosted = req.deployment in (Deployment.HOSTED_API, Deployment.BOTH)
    want_sh = req.deployment in (Deployment.SELF_HOSTED, Deployment.BOTH)
    universe = get_universe(want_sh)
    canonical = resolved = None
    if req.model is not None:
        extra = set()
        if want_sh:
            from costplan.catalog.selfhosted import get_selfhosted_catalog

            extra = {m.model_id for m in get_selfhosted_catalog().models}
        canonical = resolve_model(catalog, req.model, extra)
    if not want_hosted:
        idx = np.zeros(0, np.int64)
    elif canonical is not None:
        idx = catalog.canonical_offerings.get(canonical, np.zeros(0, np.int64))
    else:
        idx = np.arange(len(catalog))
    if c.monthly_budget_usd == 0:
        warn.add(WarningCode.BUDGET_ZERO, "constraints.monthly_budget_usd",
                 "The budget is $0/month: only offerings listed as free can fit.",
                 "Raise or remove constraints.monthly_budget_usd.")
    if want_hosted and not want_sh and UNITS[c.pricing_unit.value].dimension != UNITS[NATIVE_UNIT].dimension:
        warn.add(WarningCode.UNIT_NOT_NATIVE, "constraints.pricing_unit",
                 f"Hosted LLM APIs price per token; none converts to {c.pricing_unit.value}.",
                 f"Use {PricingUnit.PER_1M_TOKENS.value}, or deployment self_hosted for GPU-hour pricing.")
    sh, sizing = _self_hosted(req, canonical, warn) if want_sh else (None, None)
    cs = combine(catalog, universe, hosted_block(catalog, idx, req), sh, sizing)
    allowed, excluded = _provider_masks(universe.providers, req, warn)
    if canonical is not None:
        providers = sorted({cs.label(j)[0] for j in range(len(cs))})
        resolved = ResolvedModel(requested=req.model, canonical_model=canonical, providers=providers)
    workload = _workload(req)

    steps: list[StepResult] = []
    result = final_step = None
    strict_providers: set[str] = set()
    for step, constraints, note in _chain(req, cs, allowed, excluded):
        if result is not None and result.admitted:
            steps.append(StepResult(step=step, status=StepStatus.NOT_RUN, admitted=0, excluded=0,
                                    note="an earlier step produced results"))
            continue
        if constraints is None:
            steps.append(StepResult(step=step, status=StepStatus.NOOP, admitted=0, excluded=0, note=note))
            continue
        result, final_step = rank_configs(cs.candidates, workload, constraints, top_k=req.top_k), step
        status = StepStatus.PRODUCED_RESULTS if result.admitted else StepStatus.NO_RESULTS
        steps.append(StepResult(step=step, status=status, admitted=result.admitted,
                                excluded=len(cs) - result.admitted, note=note))
        if step == FallbackStep.STRICT:
            codes = cs.candidates.provider_code[result.reason != Reason.PROVIDER_NOT_ALLOWED]
            strict_providers = {universe.providers[p] for p in np.unique(codes)}

    io_mix = _io_mix(req)
    rows = build_rows(cs, result, req, io_mix)
    if rows and final_step != FallbackStep.STRICT:
        step_warnings(final_step, req, rows, strict_providers, warn)
    if not rows:
        warn.add(WarningCode.NO_CANDIDATES, None,
                 f"Every one of {len(cs)} offerings in scope was excluded, after every fallback step; "
                 "see exclusions.by_reason.",
                 "Relax the constraint named by the largest exclusion reason (context window, excluded providers, unit).",
                 Severity.ERROR)
    row_warnings(rows, req, warn)
    if sh is not None:
        self_hosted_warnings(cs, result, rows, req, warn)
    return PlanLlmResponse(
        rows=rows, fallback_steps=steps, exclusions=_exclusions(cs, result, final_step), warnings=warn.result(),
        catalog=CatalogInfo(offerings_total=len(catalog), offerings_considered=len(cs),
                            providers=len(universe.providers), source=catalog.source, as_of=catalog.as_of,
                            url=catalog.url),
        resolved_model=resolved, io_mix=io_mix,
    )
