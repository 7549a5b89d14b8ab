"""What a report says, independent of its format."""

from dataclasses import dataclass, field

from costplan.reports.text import money, short_label
from costplan_contracts.invoice import AnalyzeResponse
from costplan_contracts.plan_llm import PlanLlmResponse
from costplan_contracts.plan_scaling import PlanScalingResponse
from costplan_contracts.rank_catalog import RankCatalogResponse

Cell = str | float | int | None


@dataclass(frozen=True)
class ReportContent:
    title: str
    kind: str
    as_of: str | None
    summary: list[str]
    columns: list[str]
    rows: list[list[Cell]]
    chart: list[tuple[str, float]]  # (option label, monthly USD), in rank order
    steps: list[tuple[str, str, str]]  # (step, status, note)
    exclusions: list[tuple[str, int, str]]  # (reason code, count, examples)
    warnings: list[tuple[str, str, str, str, str]]  # (code, severity, field, message, action)
    provenance: list[tuple[str, str]]  # (source, as_of)
    # Labels: a plan ranks options; an invoice report lists opportunities, findings and spend (its own words).
    table_title: str = "Ranked options"
    chart_title: str = "Monthly cost per option"
    chart_item: str = "Option"  # what one bar is
    chart_axis: str = "Monthly cost (USD)"
    sections: list[tuple[str, list[str], list[list[Cell]]]] = field(default_factory=list)  # (title, columns, rows)
    exclusions_title: str | None = "Exclusions"  # None: the kind has no exclusions section


def _savings(costs: list[float], baseline: float | None, what: str) -> str:
    best = costs[0]
    if baseline is not None:
        ref, against = baseline, "your baseline"
    else:
        ref, against = max(costs), f"the most expensive {what} shown"
    if ref <= 0:
        return f"Savings against {against}: none (it costs $0/month)."
    diff = ref - best
    return (f"Savings against {against} ({money(ref)}/month): {money(diff)}/month ({diff / ref:.1%})."
            if diff >= 0 else f"The best option costs {money(-diff)}/month more than {against} ({money(ref)}/month).")


def _common(result) -> dict:
    steps = [(s.step.value, s.status.value, s.note) for s in result.fallback_steps] if hasattr(result, "fallback_steps") else []
    exclusions = [(code.value, g.count, "; ".join(f"{e.provider}/{e.model} ({e.detail})" for e in g.examples))
                  for code, g in result.exclusions.by_reason.items()]
    warnings = [(w.code.value, w.severity.value, w.field or "", w.message, w.action) for w in result.warnings]
    return {"steps": steps, "exclusions": exclusions, "warnings": warnings}


def _label(provider: str, model: str) -> str:
    return short_label(f"{provider}/{model}")


def from_plan_llm(r: PlanLlmResponse, title: str, as_of: str | None, baseline: float | None) -> ReportContent:
    rows = [[x.rank, x.provider, x.model, x.deployment.value, x.monthly_cost_usd, x.cost_breakdown.input_usd,
             x.cost_breakdown.output_usd, x.cost_breakdown.cached_input_usd, x.cost_breakdown.request_usd,
             x.cost_breakdown.compute_usd, x.effective_price_per_1m, "yes" if x.estimated else "no"] for x in r.rows]
    summary = []
    if r.rows:
        best = r.rows[0]
        summary.append(f"Best option: {best.provider}/{best.model} at {money(best.monthly_cost_usd)}/month "
                       f"({best.effective_price_per_1m:.4g} USD per 1M tokens, {best.effective_price_io_mix.label}).")
        summary.append(_savings([x.monthly_cost_usd for x in r.rows], baseline, "option"))
    else:
        summary.append("No option could serve this workload under its constraints; see the exclusions.")
    produced = next((s for s in r.fallback_steps if s.status.value == "produced_results"), None)
    m = r.io_mix
    summary.append(f"Workload mix: {m.input_share:.1%} input / {m.output_share:.1%} output tokens, "
                   f"{m.cached_share_of_input:.1%} of input served from cache (every blended price uses this mix).")
    if produced:
        summary.append(f"Ranked at fallback step '{produced.step.value}': {produced.note}.")
    sources = {(x.provenance.source, x.provenance.as_of) for x in r.rows} | {(r.catalog.source, r.catalog.as_of)}
    return ReportContent(
        title=title, kind="plan_llm", as_of=as_of, summary=summary,
        columns=["Rank", "Provider", "Model", "Deployment", "Monthly USD", "Input USD", "Output USD",
                 "Cached input USD", "Request fees USD", "Compute USD", "Effective USD per 1M tokens", "Estimated"],
        rows=rows, chart=[(_label(x.provider, x.model), x.monthly_cost_usd) for x in r.rows],
        provenance=sorted(sources), **_common(r))


def from_rank_catalog(r: RankCatalogResponse, title: str, as_of: str | None, baseline: float | None) -> ReportContent:
    rows = [[x.rank, x.provider, x.offering, x.tier or "", x.native_unit.value, x.native_price_usd,
             x.normalised_unit.value, x.normalised_price_usd, x.monthly_cost_usd,
             "" if x.conversion is None else f"{x.conversion.factor.value}={x.conversion.value:g}",
             "yes" if x.estimated else "no"] for x in r.rows]
    summary = []
    if r.rows:
        best = r.rows[0]
        summary.append(f"Best option: {best.provider}/{best.offering} at {money(best.monthly_cost_usd)}/month "
                       f"({best.normalised_price_usd:.4g} USD {best.normalised_unit.value}).")
        summary.append(_savings([x.monthly_cost_usd for x in r.rows], baseline, "offering"))
        summary.append(f"Workload: {r.rows[0].workload_type.value}.")
    else:
        summary.append("No offering could serve this workload under its constraints; see the exclusions.")
    sources = {(x.provenance.source, x.provenance.as_of) for x in r.rows}
    return ReportContent(
        title=title, kind="rank_catalog", as_of=as_of, summary=summary,
        columns=["Rank", "Provider", "Offering", "Tier", "Native unit", "Native USD", "Normalised unit",
                 "Normalised USD", "Monthly USD", "Conversion", "Estimated"],
        rows=rows, chart=[(_label(x.provider, x.offering), x.monthly_cost_usd) for x in r.rows],
        provenance=sorted(sources), **_common(r))


def from_plan_scaling(r: PlanScalingResponse, title: str, as_of: str | None, baseline: float | None) -> ReportContent:
    rows = [[c.rank, c.provider, c.instance_type, c.gpus_per_replica, c.precision.value,
             c.replicas_by_load.min, c.replicas_by_load.avg, c.replicas_by_load.peak, c.instances, c.monthly_cost_usd,
             c.monthly_cost_autoscaled_usd, c.effective_price_per_1m] for c in r.configurations]
    summary = []
    if r.configurations:
        best = r.configurations[0]
        summary.append(f"Best configuration for {r.model}: {best.replicas_by_load.peak} replica(s) of "
                       f"{best.gpus_per_replica} GPU(s) on {best.instance_type} ({best.precision.value}) at "
                       f"{money(best.monthly_cost_usd)}/month.")
        summary.append(_savings([c.monthly_cost_usd for c in r.configurations], baseline, "configuration"))
        summary += [f"Step: {line}" for line in r.rationale]
    else:
        summary.append(f"No configuration can serve {r.model} at this load; see the exclusions.")
    sources = {(c.price_provenance.source, c.price_provenance.as_of) for c in r.configurations}
    return ReportContent(
        title=title, kind="plan_scaling", as_of=as_of, summary=summary,
        columns=["Rank", "Provider", "Instance", "GPUs per replica", "Precision", "Replicas min", "Replicas avg",
                 "Replicas peak", "Instances at peak", "Monthly USD", "Autoscaled monthly USD", "USD per 1M tokens"],
        rows=rows, chart=[(_label(c.provider, f"{c.instance_type} x{c.instances}"), c.monthly_cost_usd)
                          for c in r.configurations],
        provenance=sorted(sources), **_common(r))


def _spend(groups) -> list[list[Cell]]:
    return [[g.key, g.currency, g.billed_cost, g.effective_cost, g.lines] for g in groups]


def _per_currency(values: dict[str, float]) -> str:
    return ", ".join(money(v, c) for c, v in sorted(values.items())) or "none"


def _reconciliation(rec) -> list[list[Cell]]:
    rows: list[list[Cell]] = [["Input rows", "", rec.input_rows], ["Recognised AI rows", "", rec.recognised_rows],
                              ["Other rows (not AI usage)", "", rec.unrecognised_rows],
                              ["Rejected rows", "", rec.rejected_rows],
                              ["Rejected rows without a cost", "", rec.rejected_rows_without_cost]]
    for label, values in (("Billed, all rows", rec.input_billed_cost_total),
                          ("Billed, recognised AI rows", rec.recognised_billed_cost),
                          ("Billed, other rows", rec.unrecognised_billed_cost),
                          ("Billed, rejected rows", rec.rejected_billed_cost),
                          ("Credits, refunds and adjustments", rec.credits_and_adjustments_billed_cost)):
        rows += [[label, currency, money(value, currency)] for currency, value in sorted(values.items())]
    return rows


def from_invoice(r: AnalyzeResponse, title: str, as_of: str | None, baseline: float | None) -> ReportContent:
    rec = r.reconciliation
    rows = [[i, o.finding_type.value, o.title, o.estimated_monthly_savings_usd, o.confidence.value,
             "; ".join(o.assumptions)] for i, o in enumerate(r.opportunities, start=1)]
    total = sum(o.estimated_monthly_savings_usd for o in r.opportunities)
    summary = [
        f"Billed: {_per_currency(rec.input_billed_cost_total)} over {rec.input_rows} rows ({rec.recognised_rows} "
        f"recognised AI lines, {rec.unrecognised_rows} other, {rec.rejected_rows} rejected).",
        f"Credits, refunds and adjustments, kept apart: {_per_currency(rec.credits_and_adjustments_billed_cost)}.",
        f"{len(r.findings)} findings; {len(r.opportunities)} opportunities, estimated at {money(total)}/month "
        f"together (they can overlap).",
    ]
    if r.opportunities:
        best = r.opportunities[0]
        summary.append(f"Largest: {best.title} ({money(best.estimated_monthly_savings_usd)}/month, "
                       f"{best.confidence.value} confidence).")
    findings = [[i, f.type.value, f.title, f.evidence.provider, f.evidence.model,
                 f.evidence.usage_kind.value if f.evidence.usage_kind else "", f.evidence.quantity,
                 f.evidence.observed_unit_price, f.evidence.catalog_unit_price, f.evidence.unit,
                 f.estimated_monthly_savings_usd] for i, f in enumerate(r.findings, start=1)]
    spend_columns = ["Key", "Currency", "Billed", "Effective", "Lines"]
    sections = [
        ("Findings", ["#", "Finding", "What we saw", "Provider", "Model", "Usage kind", "Quantity",
                      "Billed unit price", "Catalog unit price", "Unit", "Monthly savings USD"], findings),
        ("Reconciliation", ["Measure", "Currency", "Value"], _reconciliation(rec)),
        ("Spend by provider", ["Provider", *spend_columns[1:]], _spend(r.breakdowns.by_provider)),
        ("Spend by model", ["Model", *spend_columns[1:]], _spend(r.breakdowns.by_model)),
        ("Spend by usage kind", ["Usage kind", *spend_columns[1:]], _spend(r.breakdowns.by_usage_kind)),
    ]
    sources = {(f.evidence.catalog_provenance.source, f.evidence.catalog_provenance.as_of)
               for f in r.findings if f.evidence.catalog_provenance}
    return ReportContent(
        title=title, kind="invoice_analyze", as_of=as_of, summary=summary,
        columns=["Rank", "Finding", "Opportunity", "Monthly savings USD", "Confidence", "Assumptions"], rows=rows,
        chart=[(short_label(o.title), o.estimated_monthly_savings_usd) for o in r.opportunities[:15]],
        steps=[], exclusions=[], provenance=sorted(sources),
        warnings=[(w.code.value, w.severity.value, w.field or "", w.message, w.action) for w in r.warnings],
        table_title="Opportunities", chart_title="Estimated monthly savings per opportunity",
        chart_item="Opportunity", chart_axis="Estimated monthly savings (USD)", sections=sections,
        exclusions_title=None)
