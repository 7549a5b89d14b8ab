"""How the CLI shows a response: a table (Rich, or CSV / Markdown), or the response's JSON.

JSON is the response exactly as the API serialises it (the contract model dumped by alias), so ``--format json``
is the same document over every transport. The table views pick the columns a person compares; warnings follow
the table (code, field, message, action), and nothing is dropped from JSON.
"""

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from costplan_client.options import OutputFormat
from costplan_contracts.copilot import CopilotResponse
from costplan_contracts.enums import ReportFormat
from costplan_contracts.invoice import AnalyzeResponse, SimulateResponse
from costplan_contracts.plan_llm import PlanLlmResponse
from costplan_contracts.plan_scaling import PlanScalingResponse
from costplan_contracts.plan_training import PlanTrainingResponse
from costplan_contracts.rank_catalog import RankCatalogResponse
from costplan_contracts.report import ReportJob

EXTENSIONS = {ReportFormat.JSON: "json", ReportFormat.CSV: "csv", ReportFormat.MARKDOWN: "md", ReportFormat.HTML: "html"}


@dataclass
class View:
    title: str
    columns: list[str]
    rows: list[list]
    notes: list[str] = field(default_factory=list)  # summary lines under the title
    warnings: list[str] = field(default_factory=list)


class Money(float):
    """A dollar amount: ``$1,410.00`` in a table or Markdown, the plain number in CSV (csv writes floats by repr)."""

    def __str__(self) -> str:
        return f"-${-self:,.2f}" if self < 0 else f"${self:,.2f}"


def usd(x: float | None) -> Money | str:
    return "" if x is None else Money(x)


def _warnings(items) -> list[str]:
    return [f"{w.code.value} {w.field or ''}: {w.message} ({w.action})".replace(" :", ":") for w in items]


def _plan_llm(r: PlanLlmResponse) -> View:
    rows = [[x.rank, x.provider, x.model, x.deployment.value, usd(x.monthly_cost_usd),
             "" if x.effective_price_per_1m is None else x.effective_price_per_1m,
             "" if not x.over_budget_usd else usd(x.over_budget_usd), "yes" if x.estimated else "no"]
            for x in r.rows]
    step = next((s for s in r.fallback_steps if s.status.value == "produced_results"), None)
    notes = [f"fallback step: {step.step.value} ({step.note})"] if step else []
    notes.append(f"excluded: {r.exclusions.total}")
    return View("plan/llm", ["rank", "provider", "model", "deployment", "monthly", "usd/1M tok", "over budget",
                             "estimated"], rows, notes, _warnings(r.warnings))


def _plan_scaling(r: PlanScalingResponse) -> View:
    rows = [[c.rank, c.provider, c.instance_type, c.region, c.precision.value, c.gpus_per_replica,
             f"{c.replicas_by_load.min}/{c.replicas_by_load.avg}/{c.replicas_by_load.peak}", c.instances,
             usd(c.monthly_cost_usd),
             usd(c.monthly_cost_autoscaled_usd), c.throughput_basis.value] for c in r.configurations]
    return View(f"plan/scaling: {r.model}", ["rank", "provider", "instance", "region", "precision", "gpus/replica",
                                             "replicas min/avg/peak", "instances", "monthly (peak)",
                                             "monthly (autoscaled)", "throughput"],
                rows, [f"configurations considered: {r.configurations_considered}"], _warnings(r.warnings))


def _rank_catalog(r: RankCatalogResponse) -> View:
    rows = [[x.rank, x.provider, x.service, x.offering, x.tier or "",
             x.normalised_price_usd, x.normalised_unit.value, usd(x.monthly_cost_usd),
             "yes" if x.estimated else "no"] for x in r.rows]
    return View("rank/catalog", ["rank", "provider", "service", "offering", "tier", "price usd", "per", "monthly",
                                 "estimated"],
                rows, [f"offerings considered: {r.catalog.offerings_considered} of {r.catalog.offerings_total}"],
                _warnings(r.warnings))


def _training(r: PlanTrainingResponse) -> View:
    opts = [*r.options, *([r.reference] if r.reference else [])]
    rows = [[o.rank if o.rank is not None else "ref", o.kind.value, o.provider, o.label, usd(o.training_cost_usd),
             "" if o.wall_clock_hours is None else f"{o.wall_clock_hours:,.1f}",
             usd(o.lifecycle.total_usd) if o.lifecycle else ""] for o in opts]
    return View(f"plan/training: {r.model.model} ({r.method.value})",
                ["rank", "kind", "provider", "option", "training run", "hours", "lifecycle total"], rows,
                [f"options considered: {r.options_considered}"], _warnings(r.warnings))


def _analysis(r: AnalyzeResponse) -> View:
    rec = r.reconciliation
    totals = ", ".join(f"{usd(v)} {k}" for k, v in sorted(rec.input_billed_cost_total.items()))
    notes = [f"format: {r.format.value}" + (f" {r.focus_version}" if r.focus_version else "") + f", months: {r.months}",
             f"rows: {rec.input_rows} ({rec.recognised_rows} recognised, {rec.unrecognised_rows} unrecognised, "
             f"{rec.rejected_rows} rejected); billed: {totals or '-'}"]
    rows = [[o.finding_type.value, o.title, usd(o.estimated_monthly_savings_usd), o.confidence.value]
            for o in r.opportunities]
    return View("invoice/analyze: opportunities", ["finding", "title", "savings/month", "confidence"], rows, notes,
                _warnings(r.warnings))


def _simulate(r: SimulateResponse) -> View:
    rows = [[s.action.value, "yes" if s.applied else "no", usd(s.delta), s.note] for s in r.steps]
    pct = "" if r.delta_pct is None else f" ({r.delta_pct:+.1f}%)"
    notes = [f"{r.currency}: baseline {usd(r.baseline_monthly)}/month, scenario {usd(r.scenario_monthly)}/month, "
             f"delta {usd(r.delta)}{pct}"]
    return View("invoice/simulate", ["action", "applied", "delta/month", "note"], rows, notes, _warnings(r.warnings))


def _copilot(r: CopilotResponse) -> View:
    rows = [[a.field, json.dumps(a.value), a.source] for a in r.assumptions]
    notes = [r.answer, *(f"question ({q.slot}): {q.question}" for q in r.questions)]
    if r.endpoint:
        notes.append(f"replay: POST {r.endpoint}")
    return View("copilot", ["assumption", "value", "source"], rows, notes, _warnings(r.warnings))


def _report(r: ReportJob) -> View:
    rows = [[f.format.value, f.content_type, f.bytes, f.download_url or ("inline" if f.content else "")]
            for f in r.files]
    notes = [f"report {r.report_id}: {r.status.value}, progress {r.progress:.0%}"]
    if r.error:
        notes.append(f"error {r.error_code}: {r.error}")
    return View("report", ["format", "content type", "bytes", "where"], rows, notes, _warnings(r.warnings))


VIEWS: dict[type, Callable[[BaseModel], View]] = {
    PlanLlmResponse: _plan_llm, PlanScalingResponse: _plan_scaling, RankCatalogResponse: _rank_catalog,
    PlanTrainingResponse: _training, AnalyzeResponse: _analysis, SimulateResponse: _simulate,
    CopilotResponse: _copilot, ReportJob: _report,
}


def as_json(model: BaseModel) -> str:
    """The response as the API serialises it (FastAPI dumps the response model by alias)."""
    return json.dumps(model.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)


def view_of(model: BaseModel) -> View:
    return VIEWS[type(model)](model)


def as_csv(view: View) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(view.columns)
    w.writerows([float(v) if isinstance(v, Money) else v for v in row] for row in view.rows)
    return buf.getvalue()


def _md(value) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def as_markdown(view: View) -> str:
    lines = [f"### {_md(view.title)}", "", *(f"{_md(n)}  " for n in view.notes)]
    if view.notes:
        lines.append("")
    lines += ["| " + " | ".join(_md(c) for c in view.columns) + " |", "|" + "---|" * len(view.columns)]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in view.rows]
    if view.warnings:
        lines += ["", *(f"- warning {_md(w)}" for w in view.warnings)]
    return "\n".join(lines) + "\n"


def print_table(view: View, console) -> None:
    from rich.table import Table

    table = Table(title=view.title, title_justify="left")
    for c in view.columns:
        table.add_column(c, overflow="fold")
    for row in view.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    for n in view.notes:
        console.print(n, markup=False, highlight=False)
    for w in view.warnings:
        console.print(f"warning {w}", style="yellow", markup=False, highlight=False)


# The copilot's result is the replayed endpoint's response: shown with that endpoint's view under the answer.
COPILOT_RESULTS = {"/api/v1/plan/llm": PlanLlmResponse, "/api/v1/plan/scaling": PlanScalingResponse,
                   "/api/v1/rank/catalog": RankCatalogResponse, "/api/v1/plan/training": PlanTrainingResponse,
                   "/api/v1/invoice/simulate": SimulateResponse}


def views_of(model: BaseModel) -> list[View]:
    views = [view_of(model)]
    if isinstance(model, CopilotResponse) and model.result and model.endpoint in COPILOT_RESULTS:
        views.append(view_of(COPILOT_RESULTS[model.endpoint].model_validate(model.result)))
    return views


def report_view(doc: dict) -> View:
    """A finished report's main table and summary, from its JSON file (what the job produced)."""
    table = doc.get("table") or {}
    warnings = [f"{w.get('code')} {w.get('field') or ''}: {w.get('message')}".replace(" :", ":")
                for w in doc.get("warnings") or []]
    return View(f"{doc.get('title', 'report')}: {table.get('title', '')}", list(table.get("columns") or []),
                [list(r) for r in table.get("rows") or []], list(doc.get("summary") or []), warnings)


def render(model: BaseModel, fmt: OutputFormat, console, extra: list[View] = ()) -> None:
    """The response: JSON as the API gave it; otherwise its view(s), then ``extra`` (e.g. the report's table)."""
    if fmt is OutputFormat.JSON:
        console.file.write(as_json(model) + "\n")
        return
    views = [*views_of(model), *extra]
    if fmt is OutputFormat.CSV:  # one table: the answer's own rows (the replayed result for the copilot)
        console.file.write(as_csv(views[-1]))
        return
    for i, view in enumerate(views):
        if fmt is OutputFormat.MARKDOWN:
            console.file.write(("\n" if i else "") + as_markdown(view))
        else:
            print_table(view, console)
