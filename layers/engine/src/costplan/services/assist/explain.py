"""assist/explain: why a ranking came out as it did.

For plan/llm, rank/catalog and plan/scaling (a request, which is run, or a result): the components that separate
#1 from #2 in dollars, what drove the exclusions, the smallest relaxation of each constraint that admits N more
options (found on a run with the constraint dropped, then checked by running the changed request), the exact
break-evens (``costplan.services.assist.breakevens``) and how far each constraint is from binding.
"""

from costplan.services.assist.breakevens import (
    plan_llm_break_evens,
    rank_catalog_output_share,
    result_only_break_evens,
)
from costplan.services.assist.relax import plan_llm_constraints, rank_catalog_constraints
from costplan.services.warnings import WarningCollector
from costplan_contracts.assist import (
    AssistExplainRequest,
    AssistExplainResponse,
    BreakEven,
    CostComponent,
    ExclusionDriver,
    RankedOption,
    Winner,
)
from costplan_contracts.enums import (
    BreakEvenStatus,
    BreakEvenVariable,
    ConstraintKind,
    ExplainKind,
    Objective,
    ReasonCode,
    Severity,
    WarningCode,
    WorkloadType,
)
from costplan_contracts.ranking import Exclusions

_C = ConstraintKind
# reason -> (the constraint behind it, what it means)
REASONS: dict[ReasonCode, tuple[ConstraintKind | None, str]] = {
    ReasonCode.OVER_BUDGET: (_C.BUDGET, "costs more than constraints.monthly_budget_usd"),
    ReasonCode.PROVIDER_EXCLUDED: (_C.PROVIDERS, "its provider is in constraints.exclude_providers"),
    ReasonCode.PROVIDER_NOT_ALLOWED: (_C.PROVIDERS, "its provider is not in constraints.providers"),
    ReasonCode.PROVIDER_WORKLOAD_UNSUPPORTED: (_C.PROVIDERS, "an allowed provider offers nothing of this type"),
    ReasonCode.CONTEXT_WINDOW_TOO_SMALL: (_C.CONTEXT, "its context window is below workload.max_context_tokens or "
                                                      "constraints.min_context_window"),
    ReasonCode.CONTEXT_WINDOW_UNKNOWN: (_C.CONTEXT, "no published context window while min_context_window is set"),
    ReasonCode.BELOW_MIN_QUALITY: (_C.QUALITY, "its quality index is below min_quality"),
    ReasonCode.QUALITY_UNKNOWN: (_C.QUALITY, "no quality index, which min_quality or the objective needs"),
    ReasonCode.MODEL_DEPRECATED: (None, "deprecated (constraints.include_deprecated admits it)"),
    ReasonCode.PRICE_MISSING_INPUT: (None, "no published input price, and the workload sends input"),
    ReasonCode.PRICE_MISSING_OUTPUT: (None, "no published output price, and the workload asks for output"),
    ReasonCode.PRICE_MISSING_CACHE_READ: (None, "no cache-read price for the cached share"),
    ReasonCode.REQUESTS_REQUIRED: (None, "charges per request or sizes by request rate, and the workload states no "
                                         "requests_per_month"),
    ReasonCode.UNIT_MISMATCH: (None, "priced in another unit than the one asked for"),
    ReasonCode.UNIT_INCOMPATIBLE: (None, "priced in a unit the quantity does not convert to without a factor"),
    ReasonCode.ATTRIBUTE_MISMATCH: (None, "an attribute differs from constraints.attributes"),
    ReasonCode.SLO_UNREACHABLE: (None, "cannot meet the TTFT/TPOT targets at any batch size"),
    ReasonCode.MODEL_DOES_NOT_FIT: (None, "the weights do not fit the replica's GPU memory"),
    ReasonCode.CONTEXT_DOES_NOT_FIT: (None, "one sequence's KV cache does not fit beside the weights"),
}
COMPARE = 10  # options listed per relaxation


def _label(provider: str, model: str, self_hosted: bool = False) -> str:
    return f"{provider} / {model}" + (" (self-hosted)" if self_hosted else "")


def _components(pairs: list[tuple[str, float, float]]) -> list[CostComponent]:
    out = [CostComponent(name=n, first_usd=round(a, 6), second_usd=round(b, 6), difference_usd=round(b - a, 6))
           for n, a, b in pairs]
    return sorted(out, key=lambda c: (-abs(c.difference_usd), c.name))


def _winner(first: RankedOption, second: RankedOption | None, parts: list[tuple[str, float, float]],
            how: str) -> Winner:
    if second is None:
        return Winner(first=first, second=None, margin_usd=None, components=[],
                      summary=f"{first.label} is the only option ranked ({how}).")
    comps = _components(parts)
    margin = round(second.monthly_cost_usd - first.monthly_cost_usd, 6)
    top = comps[0] if comps else None
    word = "cheaper" if margin >= 0 else "dearer"
    summary = f"{first.label} ranks first ({how}), ${abs(margin):,.2f}/month {word} than {second.label}"
    if top is not None and top.difference_usd:
        summary += (f"; the largest difference is {top.name}: ${top.first_usd:,.2f} against ${top.second_usd:,.2f}")
    return Winner(first=first, second=second, margin_usd=margin, components=comps, summary=summary + ".")


def _drivers(ex: Exclusions) -> list[ExclusionDriver]:
    total = ex.total or 1
    out = []
    for code, group in sorted(ex.by_reason.items(), key=lambda kv: (-kv[1].count, kv[0].value)):
        constraint, meaning = REASONS.get(code, (None, code.value.lower().replace("_", " ")))
        out.append(ExclusionDriver(reason=code, count=group.count, share=round(group.count / total, 6),
                                   constraint=constraint, explanation=f"{group.count} excluded: {meaning}",
                                   examples=[f"{e.provider} / {e.model}: {e.detail}" for e in group.examples]))
    return out


def _declined(variable: BreakEvenVariable, why: str) -> BreakEven:
    return BreakEven(variable=variable, status=BreakEvenStatus.DECLINED, current=None, value=None, first_cheaper=None,
                     first_cost_usd=None, second_cost_usd=None, checked=False, explanation=why)


def _plan_llm(req: AssistExplainRequest, warn: WarningCollector) -> AssistExplainResponse:
    from costplan.services.plan import plan_llm  # lazy: cold start, an explanation imports only its endpoint's domain

    request = req.plan_llm
    result = plan_llm(request) if request is not None else req.plan_llm_result
    rows = result.rows
    first = second = winner = None
    if rows:
        opt = [RankedOption(rank=r.rank, label=_label(r.provider, r.model, r.self_hosted is not None),
                            monthly_cost_usd=r.monthly_cost_usd) for r in rows[:2]]
        first, second = opt[0], opt[1] if len(opt) > 1 else None
        objective = request.objective if request is not None else Objective.MIN_COST
        how = "lowest monthly cost" if objective == Objective.MIN_COST else f"objective {objective.value}"
        parts = []
        if second is not None:
            a, b = rows[0].cost_breakdown, rows[1].cost_breakdown
            parts = [(name, getattr(a, f), getattr(b, f)) for name, f in (
                ("uncached input", "input_usd"), ("output", "output_usd"), ("cached input", "cached_input_usd"),
                ("per-request fees", "request_usd"), ("self-hosted compute", "compute_usd"))]
        winner = _winner(first, second, parts, how)
    if request is None:
        return AssistExplainResponse(kind=ExplainKind.PLAN_LLM, ranked=len(rows), winner=winner,
                                     exclusions=_drivers(result.exclusions), relaxations=[],
                                     break_evens=result_only_break_evens(), constraints=[],
                                     warnings=warn.result())
    relaxations, constraints = plan_llm_constraints(request, result, req.more_options)
    return AssistExplainResponse(kind=ExplainKind.PLAN_LLM, ranked=len(rows), winner=winner,
                                 exclusions=_drivers(result.exclusions), relaxations=relaxations,
                                 break_evens=plan_llm_break_evens(request, result, warn), constraints=constraints,
                                 warnings=warn.result())


def _rank_catalog(req: AssistExplainRequest, warn: WarningCollector) -> AssistExplainResponse:
    from costplan.services.catalog_rank import rank_catalog  # lazy: as _plan_llm

    request = req.rank_catalog
    result = rank_catalog(request) if request is not None else req.rank_catalog_result
    rows = result.rows
    winner = None
    if rows:
        opt = [RankedOption(rank=r.rank, label=_label(r.provider, r.offering), monthly_cost_usd=r.monthly_cost_usd)
               for r in rows[:2]]
        parts = []
        if len(rows) > 1:
            a, b = rows[0], rows[1]
            # cost = quantity x price: split the difference into a price effect and a quantity (conversion) effect
            price = a.quantity_in_native_units * (b.native_price_usd - a.native_price_usd)
            parts = [("native price", 0.0, price),
                     ("quantity in native units (unit conversion)", 0.0, b.monthly_cost_usd - a.monthly_cost_usd - price)]
        winner = _winner(opt[0], opt[1] if len(opt) > 1 else None, parts, "lowest monthly cost")
    evens = [BreakEven(variable=BreakEvenVariable.MONTHLY_VOLUME, status=BreakEvenStatus.NONE_IN_RANGE, current=1.0,
                       value=None, first_cheaper=None, first_cost_usd=None, second_cost_usd=None, checked=False,
                       explanation="Every catalog cost is quantity x price with no fixed term: scaling the quantity "
                                   "scales both costs alike, so #1 stays first at every volume.")] if len(rows) > 1 else []
    if len(rows) > 1 and request is not None and request.workload_type == WorkloadType.LLM_TOKENS:
        evens.append(rank_catalog_output_share(request, result))
    elif len(rows) > 1 and request is None and rows[0].workload_type == WorkloadType.LLM_TOKENS:
        evens.append(_declined(BreakEvenVariable.OUTPUT_SHARE, "A result alone does not carry the quantity's "
                                                               "output share exactly: send rank_catalog."))
    relaxations, constraints = ([], []) if request is None else rank_catalog_constraints(request, result,
                                                                                         req.more_options)
    return AssistExplainResponse(kind=ExplainKind.RANK_CATALOG, ranked=len(rows), winner=winner,
                                 exclusions=_drivers(result.exclusions), relaxations=relaxations, break_evens=evens,
                                 constraints=constraints, warnings=warn.result())


def _plan_scaling(req: AssistExplainRequest, warn: WarningCollector) -> AssistExplainResponse:
    from costplan.services.plan import plan_scaling  # lazy: as _plan_llm

    request = req.plan_scaling
    result = plan_scaling(request) if request is not None else req.plan_scaling_result
    rows = result.configurations
    winner = None
    if rows:
        opt = [RankedOption(rank=c.rank, label=_label(c.provider, f"{c.instance_type} {c.precision.value} "
                                                                  f"x{c.gpus_per_replica}"),
                            monthly_cost_usd=c.monthly_cost_usd) for c in rows[:2]]
        parts = []
        if len(rows) > 1:
            a, b = rows[0], rows[1]
            hours = a.monthly_cost_usd / (a.instances * a.instance_usd_per_hour) if a.instance_usd_per_hour \
                and a.instances else 0.0
            price = a.instances * (b.instance_usd_per_hour - a.instance_usd_per_hour) * hours
            parts = [("hourly instance price", 0.0, price),
                     ("instances at peak", 0.0, b.monthly_cost_usd - a.monthly_cost_usd - price)]
        winner = _winner(opt[0], opt[1] if len(opt) > 1 else None, parts, "lowest monthly cost provisioned for the peak")
    evens = []
    if len(rows) > 1:
        top = rows[0]
        evens.append(_declined(BreakEvenVariable.MONTHLY_VOLUME, (
            "Self-hosted cost is instances x hourly price x 730 h, with instances = ceil(replicas / replicas per "
            "instance) and replicas = ceil(peak / (capacity x target utilisation)): a step function of the load, "
            f"with no linear crossing. #1 keeps its {top.instances} instance(s) until the peak grows by its "
            f"headroom, {top.headroom:.1%}; re-run plan/scaling at the new load to compare.")))
    return AssistExplainResponse(kind=ExplainKind.PLAN_SCALING, ranked=len(rows), winner=winner,
                                 exclusions=_drivers(result.exclusions), relaxations=[], break_evens=evens,
                                 constraints=[], warnings=warn.result())


def explain(req: AssistExplainRequest) -> AssistExplainResponse:
    """Explain one plan/llm, rank/catalog or plan/scaling ranking (run from its request, or read from its result)."""
    warn = WarningCollector()
    kind = req.kind
    if getattr(req, kind.value) is None:
        warn.add(WarningCode.EXPLAIN_FROM_RESULT, kind.value,
                 "Only a result was given: relaxations, break-evens and constraint slack need the request, which is "
                 "run again to check them.", f"Send {kind.value} (the request) as well.", Severity.INFO)
    out = {ExplainKind.PLAN_LLM: _plan_llm, ExplainKind.RANK_CATALOG: _rank_catalog,
           ExplainKind.PLAN_SCALING: _plan_scaling}[kind](req, warn)
    if out.ranked < 2:
        extra = WarningCollector()
        extra.add(WarningCode.EXPLAIN_TOO_FEW_ROWS, "top_k" if getattr(req, kind.value) is not None else None,
                  f"The ranking has {out.ranked} row(s): there is no #2 to compare with or break even against.",
                  "Raise top_k, or relax the constraints (see relaxations).", Severity.INFO)
        out = out.model_copy(update={"warnings": [*out.warnings, *extra.result()]})
    return out
