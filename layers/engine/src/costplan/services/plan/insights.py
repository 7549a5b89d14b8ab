"""insights/quality-price: every scored offering priced for this workload, the exact Pareto frontier,
annotations, and a Vega-Lite v5 chart the UI renders as is (``costplan.reports.charts.quality_price_chart``)."""

from dataclasses import replace

import numpy as np

from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.quality import profile_quality
from costplan.catalog.universe import get_universe
from costplan.core.quality import pareto_frontier
from costplan.core.ranking import Constraints, Reason, rank_configs
from costplan.reports.charts import quality_price_chart
from costplan.services.plan.candidates import combine
from costplan.services.plan.domain import workload_of
from costplan.services.plan.fallback import provider_masks
from costplan.services.plan.hosted import hosted_block
from costplan.services.plan.rows import money, sig
from costplan.services.warnings import WarningCollector
from costplan_contracts.common import Provenance
from costplan_contracts.enums import AnnotationKind, Severity, WarningCode
from costplan_contracts.insights import Annotation, QualityPoint, QualityPriceRequest, QualityPriceResponse, exclusions_of
from costplan_contracts.plan_llm import IoMix

THRESHOLDS = (50.0, 60.0, 70.0, 80.0, 90.0)


def quality_price(req: QualityPriceRequest) -> QualityPriceResponse:
    warn = WarningCollector()
    catalog = get_llm_catalog()
    universe = get_universe(False)
    w = req.workload
    if w.input_tokens_per_month + w.output_tokens_per_month <= 0:
        from costplan.services.errors import FieldError, RequestRejected

        raise RequestRejected("Nothing to price", [FieldError("workload", "input and output tokens are both 0")])
    wl = workload_of(w)
    cs = combine(catalog, universe, hosted_block(catalog, np.arange(len(catalog)), wl), None, None)
    scores = profile_quality(req.workload_profile.value)
    models = [catalog.canonical[i] for i in cs.hosted.idx]
    floor = req.min_quality_coverage
    quality = np.array([scores[m].index if m in scores and scores[m].coverage >= floor else np.nan for m in models])
    candidates = replace(cs.candidates, quality=quality)
    allowed, excluded = provider_masks(universe.providers, req.constraints.providers, [], warn)
    budget_usd = req.constraints.monthly_budget_usd
    budget = budget_usd if budget_usd is not None else float("inf")
    workload = wl.volumes()
    result = rank_configs(candidates, workload, Constraints(
        budget_usd=budget, allowed_providers=allowed, excluded_providers=excluded, needs_quality=True,
        min_quality=req.min_quality or 0.0), top_k=len(candidates))
    total_tokens = wl.total_tokens
    points = []
    for j in result.order.tolist():
        i = int(cs.hosted.idx[j])
        q = scores[models[j]]
        cost = float(result.cost[j])
        points.append(QualityPoint(
            model=models[j], provider=catalog.providers[catalog.provider_code[i]], offering=catalog.model[i],
            monthly_cost_usd=money(cost), effective_price_per_1m=sig(cost / total_tokens * 1e6) if total_tokens else 0.0,
            quality_index=round(q.index, 4), coverage=round(q.coverage, 4), estimated=q.estimated,
            price_provenance=Provenance(source=catalog.source, as_of=catalog.as_of, url=catalog.url_of[i]),
            quality_sources=[Provenance(source=s, as_of=a) for s, a in q.sources]))
    cost = np.array([p.monthly_cost_usd for p in points])
    qual = np.array([p.quality_index for p in points])
    frontier = [points[k] for k in pareto_frontier(cost, qual)] if points else []
    annotations = []
    for t in THRESHOLDS:
        at = [p for p in points if p.quality_index >= t]  # points are in cost order already
        annotations.append(Annotation(kind=AnnotationKind.CHEAPEST_AT_OR_ABOVE, threshold=t, point=at[0] if at else None))
    if budget_usd is not None:
        under = [p for p in points if p.monthly_cost_usd <= budget_usd]
        best = max(under, key=lambda p: (p.quality_index, -p.monthly_cost_usd), default=None)
        annotations.append(Annotation(kind=AnnotationKind.BEST_QUALITY_UNDER_BUDGET, threshold=budget_usd, point=best))
    counts = np.bincount(result.reason.astype(np.int64), minlength=len(Reason))
    excluded_counts = {Reason(r).name: int(counts[r]) for r in np.flatnonzero(counts[1:]) + 1}
    if excluded_counts.get("QUALITY_UNKNOWN"):
        warn.add(WarningCode.QUALITY_UNKNOWN, "workload_profile",
                 f"{excluded_counts['QUALITY_UNKNOWN']} offerings have no benchmark scores for this profile; they are "
                 "left out, never scored as 0.", "See catalog/data/quality_scores.csv for the models covered.",
                 Severity.INFO)
    if not points:
        warn.add(WarningCode.NO_CANDIDATES, None, "No scored offering meets these constraints.",
                 "Widen the providers or the budget, or lower min_quality.", Severity.ERROR)
    m = IoMix(input_share=round(w.input_tokens_per_month / total_tokens, 6) if total_tokens else 0.0,
              output_share=round(w.output_tokens_per_month / total_tokens, 6) if total_tokens else 0.0,
              cached_share_of_input=w.cached_input_share,
              label=f"priced at this workload's mix: {w.input_tokens_per_month / max(total_tokens, 1):.1%} input / "
                    f"{w.output_tokens_per_month / max(total_tokens, 1):.1%} output tokens")
    chart = quality_price_chart(points, frontier, req.workload_profile.value)
    return QualityPriceResponse(workload_profile=req.workload_profile, io_mix=m, points=points, pareto_frontier=frontier,
                                annotations=annotations, vega_lite=chart, exclusions=exclusions_of(excluded_counts),
                                warnings=warn.result())
