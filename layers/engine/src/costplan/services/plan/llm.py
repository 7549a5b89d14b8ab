"""plan_llm: rank hosted LLM APIs and self-hosted GPU configurations for a workload.

The fallback chain runs strict -> relax_unit -> relax_budget -> relax_provider, stops at the
first step that produces rows, and records what every step did.
"""

from dataclasses import replace

import numpy as np

from costplan.catalog.llm import NATIVE_UNIT, LlmCatalog, get_llm_catalog
from costplan.catalog.universe import universe_for
from costplan.core import ranking
from costplan.core.ranking import Reason
from costplan.core.units import UNITS, convertible
from costplan.services.plan.candidates import SELF_HOSTED_UNIT, CandidateSet, combine
from costplan.services.plan.domain import LlmPlan, plan_of
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
from costplan.services.plan.warnings import (
    catalog_snapshot_warning,
    price_age_warnings,
    row_warnings,
    unit_warning,
)
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import (
    Deployment,
    FallbackStep,
    Objective,
    PricingUnit,
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

_OBJECTIVE = {Objective.MIN_COST: ranking.Objective.MIN_COST,
              Objective.MAX_QUALITY_PER_DOLLAR: ranking.Objective.MAX_QUALITY_PER_DOLLAR,
              Objective.BALANCED: ranking.Objective.BALANCED}


def _needs_quality(p: LlmPlan) -> bool:
    return p.min_quality is not None or p.objective != Objective.MIN_COST


def _with_quality(p: LlmPlan, cs: CandidateSet, warn: WarningCollector) -> tuple[CandidateSet, str | None]:
    """Attach each candidate's quality index under the request's profile (NaN when unscored)."""
    profile = p.workload_profile
    if profile is None and _needs_quality(p):
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
    floor = p.min_quality_coverage
    quality = np.array([scores[m].index if m in scores and scores[m].coverage >= floor else np.nan for m in models],
                       dtype=float)
    return replace(cs, candidates=replace(cs.candidates, quality=quality)), profile.value


def _chain_spec(p: LlmPlan, cs: CandidateSet, allowed, excluded) -> ChainSpec:
    c = p.constraints
    requested = c.pricing_unit.value
    token_request = convertible(requested, NATIVE_UNIT)
    # Asking for deployment=both is asking for hourly configurations beside per-token APIs.
    opted_in = {SELF_HOSTED_UNIT} if p.deployment == Deployment.BOTH and token_request else set()
    through_model = {SELF_HOSTED_UNIT} if len(cs) > cs.n_hosted and token_request else set()
    noop = f"no offering in scope is priced in a unit that converts to {requested}"
    if requested == PricingUnit.PER_GPU_HOUR:
        noop += "; per-token API prices do not convert to GPU-hours"
    return ChainSpec(
        strict=ranking.Constraints(
            budget_usd=c.monthly_budget_usd if c.monthly_budget_usd is not None else float("inf"),
            min_context=float(max(c.min_context_window or 0, p.workload.max_context_tokens or 0)),
            unknown_context_ok=c.min_context_window is None,
            admitted_units=np.array([u == requested or u in opted_in for u in UNITS]),
            allowed_providers=allowed, excluded_providers=excluded,
            ignore_blocked=frozenset({Reason.MODEL_DEPRECATED}) if c.include_deprecated else frozenset(),
            needs_quality=_needs_quality(p), min_quality=p.min_quality or 0.0,
            objective=_OBJECTIVE[p.objective], balance_weight=p.balance_weight,
        ),
        relaxed_units=np.array([convertible(u, requested) or u in through_model for u in UNITS]),
        requested_unit=requested,
        relax_unit_note=f"admit units that convert to {requested}"
                        + (" (self-hosted hourly prices through the throughput model)" if through_model else ""),
        unit_noop_note=noop,
        budget_usd=c.monthly_budget_usd,
    )


def _io_mix(p: LlmPlan) -> IoMix:
    w = p.workload
    total = w.total_tokens
    i, o = w.input_tokens_per_month / total, w.output_tokens_per_month / total
    label = (f"blended at this workload's mix: {i:.1%} input / {o:.1%} output tokens, "
             f"{w.cached_input_share:.1%} of input served from cache")
    return IoMix(input_share=round(i, 6), output_share=round(o, 6), cached_share_of_input=w.cached_input_share,
                 label=label)


def plan_llm(req: PlanLlmRequest, catalog: LlmCatalog | None = None) -> PlanLlmResponse:
    """POST /plan/llm. The entry: the request becomes domain values here, once (``plan_of``)."""
    return plan(plan_of(req), catalog or get_llm_catalog())


def _scope(p: LlmPlan, catalog: LlmCatalog, want_hosted: bool, want_sh: bool) -> tuple[str | None, np.ndarray]:
    """(the canonical model asked for, or None; the hosted offerings in scope)."""
    canonical = None
    if p.model is not None:
        extra = set()
        if want_sh:
            from costplan.catalog.selfhosted import get_selfhosted_catalog

            extra = {m.model_id for m in get_selfhosted_catalog().models}
        canonical = resolve_model(catalog, p.model, extra)
    if not want_hosted:
        return canonical, np.zeros(0, np.int64)
    if canonical is not None:
        return canonical, catalog.canonical_offerings.get(canonical, np.zeros(0, np.int64))
    return canonical, np.arange(len(catalog))


def plan(p: LlmPlan, catalog: LlmCatalog) -> PlanLlmResponse:
    warn = WarningCollector()
    c = p.constraints
    want_hosted = p.deployment in (Deployment.HOSTED_API, Deployment.BOTH)
    want_sh = p.deployment in (Deployment.SELF_HOSTED, Deployment.BOTH)
    universe = universe_for(catalog, want_sh)
    canonical, idx = _scope(p, catalog, want_hosted, want_sh)
    resolved = None
    budget_zero_warning(c.monthly_budget_usd, warn)
    if want_hosted and not want_sh and UNITS[c.pricing_unit.value].dimension != UNITS[NATIVE_UNIT].dimension:
        warn.add(WarningCode.UNIT_NOT_NATIVE, "constraints.pricing_unit",
                 f"Hosted LLM APIs price per token; none converts to {c.pricing_unit.value}.",
                 f"Use {PricingUnit.PER_1M_TOKENS.value}, or deployment self_hosted for GPU-hour pricing.")
    if want_sh:
        # lazy: cold start, a hosted-only request never loads the self-hosted catalog or the throughput model
        from costplan.services.plan import llm_selfhosted

        sh, sizing = llm_selfhosted.self_hosted(p, canonical, warn)
    else:
        sh = sizing = None
    cs = combine(catalog, universe, hosted_block(catalog, idx, p.workload), sh, sizing)
    cs, profile = _with_quality(p, cs, warn)
    allowed, excluded = provider_masks(universe.providers, c.providers, c.exclude_providers, warn)
    if canonical is not None:
        providers = sorted({cs.label(j)[0] for j in range(len(cs))})
        resolved = ResolvedModel(requested=p.model, canonical_model=canonical, providers=providers)
    outcome = run_chain(cs.candidates, p.workload.volumes(), _chain_spec(p, cs, allowed, excluded),
                        universe.providers, p.top_k)
    result, final_step = outcome.result, outcome.final_step
    io_mix = _io_mix(p)
    rows = build_rows(cs, result, p, io_mix)
    if profile is not None:
        rows = quality_rows(rows, cs, result, profile, warn)
    if rows and final_step == FallbackStep.RELAX_QUALITY:
        quality_relaxed_warning(p, rows, cs, result, warn)
    elif rows and final_step == FallbackStep.RELAX_UNIT:
        unit_warning(p, rows, warn)
    elif rows and final_step != FallbackStep.STRICT:
        relaxed_warnings(final_step, rows, c.monthly_budget_usd, outcome.strict_providers, warn)
    if not rows:
        no_candidates_warning(len(cs), warn)
    row_warnings(rows, p, warn)
    price_age_warnings(rows, p, catalog.built_on, warn)
    catalog_snapshot_warning(catalog, warn)
    if sh is not None:
        llm_selfhosted.self_hosted_warnings(cs, result, rows, p, warn)
    return PlanLlmResponse(
        rows=rows, fallback_steps=outcome.steps,
        exclusions=exclusions(result, cs.in_name_order, cs.label, final_step,
                              detail=llm_selfhosted.slo_details(cs.sizing, cs.n_hosted) if sh is not None else None),
        warnings=warn.result(),
        catalog=CatalogInfo(offerings_total=len(catalog), offerings_considered=len(cs),
                            providers=len(universe.providers), source=catalog.source, as_of=catalog.as_of,
                            url=catalog.url, built_on=catalog.built_on, sources=list(catalog.sources),
                            snapshot=catalog.snapshot),
        resolved_model=resolved, io_mix=io_mix,
    )
