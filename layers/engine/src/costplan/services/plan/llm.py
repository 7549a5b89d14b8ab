"""plan_llm: rank hosted LLM APIs and self-hosted GPU configurations for a workload.

The fallback chain runs strict -> relax_unit -> relax_budget -> relax_provider, stops at the
first step that produces rows, and records what every step did.
"""

from dataclasses import replace

import numpy as np

from costplan.catalog.llm import NATIVE_UNIT, LlmCatalog, get_llm_catalog
from costplan.catalog.universe import get_universe
from costplan.core.ranking import Constraints, Reason, Workload
from costplan.core.ranking import Objective as CoreObjective
from costplan.core.throughput import Shape
from costplan.core.units import UNITS, convertible
from costplan.services.plan.candidates import SELF_HOSTED_UNIT, CandidateSet, combine
from costplan.services.plan.fallback import (
    ChainSpec,
    budget_zero_warning,
    exclusions,
    no_candidates_warning,
    provider_masks,
    relaxed_warnings,
    run_chain,
)
from costplan.services.plan.hosted import hosted_block, resolve_model
from costplan.services.plan.quality import quality_relaxed_warning, quality_rows
from costplan.services.plan.rows import build_rows
from costplan.services.plan.selfhosted import (
    DEFAULT_SHAPE_PROFILE,
    DEFAULT_SHAPES,
    SECONDS_PER_MONTH,
    Measured,
    Traffic,
    scope_rows,
    size,
    slo_details,
)
from costplan.services.plan.warnings import (
    catalog_snapshot_warning,
    price_age_warnings,
    row_warnings,
    self_hosted_warnings,
    unit_warning,
)
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import (
    Deployment,
    FallbackStep,
    Objective,
    PricingUnit,
    ReasonCode,
    Severity,
    WarningCode,
    WorkloadProfile,
)
from costplan_contracts.plan_llm import (
    CatalogInfo,
    IoMix,
    PlanLlmRequest,
    PlanLlmResponse,
    ResolvedModel,
)

EXCLUSION_EXAMPLES = 5
_REASON_CODE = {int(r): ReasonCode[r.name] for r in Reason if r != Reason.ADMITTED}
_REASON_DETAIL = {int(r): r.name.lower().replace("_", " ") for r in Reason}
_OVER_BUDGET = int(Reason.OVER_BUDGET)


def _traffic(req: PlanLlmRequest) -> Traffic | None:
    """Request rate and shape for self-hosted sizing, or None when the workload cannot give one.

    With token volumes only, the workload profile's default shape (``DEFAULT_SHAPES``, chat when no
    profile is set) fixes the request count: its prompt length divides the input volume (its output
    length the output volume when there is no input); the other side follows from the volumes."""
    w = req.workload
    requests = w.requests_per_month
    if requests is None and w.avg_input_tokens_per_request:
        requests = w.input_tokens_per_month / w.avg_input_tokens_per_request
    if requests is None and w.avg_output_tokens_per_request:
        requests = w.output_tokens_per_month / w.avg_output_tokens_per_request
    assumed, source = False, "workload"
    if requests is None:
        profile = req.workload_profile.value if req.workload_profile else DEFAULT_SHAPE_PROFILE
        avg_in, avg_out = DEFAULT_SHAPES[profile]
        requests = (w.input_tokens_per_month / avg_in if w.input_tokens_per_month
                    else w.output_tokens_per_month / avg_out)
        assumed = True
        source = (f"assumed: the {profile} profile's default shape ({avg_in:,.0f} input / {avg_out:,.0f} output tokens"
                  f" per request) sets the request count, {requests:,.0f}/month; the tokens per request follow "
                  f"from the stated volumes")
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
    return Traffic(avg_requests_per_s=avg, peak_requests_per_s=avg * w.peak_to_average_ratio, shape=shape,
                   shape_assumed=assumed, shape_source=source)


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


_OBJECTIVE = {Objective.MIN_COST: CoreObjective.MIN_COST,
              Objective.MAX_QUALITY_PER_DOLLAR: CoreObjective.MAX_QUALITY_PER_DOLLAR,
              Objective.BALANCED: CoreObjective.BALANCED}


def _needs_quality(req: PlanLlmRequest) -> bool:
    return req.min_quality is not None or req.objective != Objective.MIN_COST


def _with_quality(req: PlanLlmRequest, cs: CandidateSet, warn: WarningCollector) -> tuple[CandidateSet, str | None]:
    """Attach each candidate's quality index under the request's profile (NaN when unscored)."""
    profile = req.workload_profile
    if profile is None and _needs_quality(req):
        profile = WorkloadProfile.CHAT
        warn.add(WarningCode.QUALITY_PROFILE_DEFAULTED, "workload_profile",
                 "Quality was needed but no workload_profile was given; the chat profile's weights were used.",
                 "Set workload_profile (chat, coding, rag_long_context, summarization, extraction, reasoning, agentic).",
                 Severity.INFO)
    if profile is None:
        return cs, None
    from costplan.catalog.quality import profile_quality

    scores = profile_quality(profile.value)
    models = [cs.model_id(j) for j in range(len(cs))]
    floor = req.min_quality_coverage
    quality = np.array([scores[m].index if m in scores and scores[m].coverage >= floor else np.nan for m in models],
                       dtype=float)
    return replace(cs, candidates=replace(cs.candidates, quality=quality)), profile.value


def _chain_spec(req: PlanLlmRequest, cs: CandidateSet, allowed, excluded) -> ChainSpec:
    c = req.constraints
    requested = c.pricing_unit.value
    token_request = convertible(requested, NATIVE_UNIT)
    # Asking for deployment=both is asking for hourly configurations beside per-token APIs.
    opted_in = {SELF_HOSTED_UNIT} if req.deployment == Deployment.BOTH and token_request else set()
    through_model = {SELF_HOSTED_UNIT} if len(cs) > cs.n_hosted and token_request else set()
    noop = f"no offering in scope is priced in a unit that converts to {requested}"
    if requested == PricingUnit.PER_GPU_HOUR:
        noop += "; per-token API prices do not convert to GPU-hours"
    return ChainSpec(
        strict=Constraints(
            budget_usd=c.monthly_budget_usd if c.monthly_budget_usd is not None else float("inf"),
            min_context=float(max(c.min_context_window or 0, req.workload.max_context_tokens or 0)),
            unknown_context_ok=c.min_context_window is None,
            admitted_units=np.array([u == requested or u in opted_in for u in UNITS]),
            allowed_providers=allowed, excluded_providers=excluded,
            ignore_blocked=frozenset({Reason.MODEL_DEPRECATED}) if c.include_deprecated else frozenset(),
            needs_quality=_needs_quality(req), min_quality=req.min_quality or 0.0,
            objective=_OBJECTIVE[req.objective], balance_weight=req.balance_weight,
        ),
        relaxed_units=np.array([convertible(u, requested) or u in through_model for u in UNITS]),
        requested_unit=requested,
        relax_unit_note=f"admit units that convert to {requested}"
                        + (" (self-hosted hourly prices through the throughput model)" if through_model else ""),
        unit_noop_note=noop,
        budget_usd=c.monthly_budget_usd,
    )


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
    budget_zero_warning(c.monthly_budget_usd, warn)
    if want_hosted and not want_sh and UNITS[c.pricing_unit.value].dimension != UNITS[NATIVE_UNIT].dimension:
        warn.add(WarningCode.UNIT_NOT_NATIVE, "constraints.pricing_unit",
                 f"Hosted LLM APIs price per token; none converts to {c.pricing_unit.value}.",
                 f"Use {PricingUnit.PER_1M_TOKENS.value}, or deployment self_hosted for GPU-hour pricing.")
    sh, sizing = _self_hosted(req, canonical, warn) if want_sh else (None, None)
    cs = combine(catalog, universe, hosted_block(catalog, idx, req), sh, sizing)
    cs, profile = _with_quality(req, cs, warn)
    allowed, excluded = provider_masks(universe.providers, c.providers, c.exclude_providers, warn)
    if canonical is not None:
        providers = sorted({cs.label(j)[0] for j in range(len(cs))})
        resolved = ResolvedModel(requested=req.model, canonical_model=canonical, providers=providers)
    outcome = run_chain(cs.candidates, _workload(req), _chain_spec(req, cs, allowed, excluded), universe.providers,
                        req.top_k)
    result, final_step = outcome.result, outcome.final_step
    io_mix = _io_mix(req)
    rows = build_rows(cs, result, req, io_mix)
    if profile is not None:
        rows = quality_rows(rows, cs, result, profile, warn)
    if rows and final_step == FallbackStep.RELAX_QUALITY:
        quality_relaxed_warning(req, rows, cs, result, warn)
    elif rows and final_step == FallbackStep.RELAX_UNIT:
        unit_warning(req, rows, warn)
    elif rows and final_step != FallbackStep.STRICT:
        relaxed_warnings(final_step, rows, c.monthly_budget_usd, outcome.strict_providers, warn)
    if not rows:
        no_candidates_warning(len(cs), warn)
    row_warnings(rows, req, warn)
    price_age_warnings(rows, req, catalog.built_on, warn)
    catalog_snapshot_warning(catalog, warn)
    if sh is not None:
        self_hosted_warnings(cs, result, rows, req, warn)
    return PlanLlmResponse(
        rows=rows, fallback_steps=outcome.steps,
        exclusions=exclusions(result, cs.in_name_order, cs.label, final_step,
                              detail=slo_details(cs.sizing, cs.n_hosted) if sh is not None else None),
        warnings=warn.result(),
        catalog=CatalogInfo(offerings_total=len(catalog), offerings_considered=len(cs),
                            providers=len(universe.providers), source=catalog.source, as_of=catalog.as_of,
                            url=catalog.url, built_on=catalog.built_on, sources=list(catalog.sources),
                            snapshot=catalog.snapshot),
        resolved_model=resolved, io_mix=io_mix,
    )
