"""Aggregate rows (from DuckDB or Athena, the same query) -> the analysis: reconciliation, breakdowns, findings.

Everything after the GROUP BY lives here, so both engines share it. The rows carry the columns of
``rules.aggregate_sql``; model names resolve against the catalog once per distinct model text.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from costplan.services.invoice.findings import CATALOG_CURRENCY, findings
from costplan.services.invoice.models import first_model, gpu_instances
from costplan.services.invoice.rules import EVIDENCE_ROWS, MODEL_COLUMNS
from costplan.services.plan import money, sig
from costplan.services.warnings import WarningCollector
from costplan_contracts.bounds import ROW_ERRORS_MAX
from costplan_contracts.enums import ChargeCategory, InvoiceFormat, LineStatus, Severity, UsageKind, WarningCode
from costplan_contracts.invoice import (
    UNRECOGNISED_GROUPS_MAX,
    AnalyzeResponse,
    Breakdowns,
    LineGroup,
    Reconciliation,
    RowError,
    SpendGroup,
    UnrecognisedGroup,
)

APART = {ChargeCategory.CREDIT.value, ChargeCategory.REFUND.value, ChargeCategory.ADJUSTMENT.value}
RECOGNISED, UNRECOGNISED, REJECTED = LineStatus.RECOGNISED, LineStatus.UNRECOGNISED, LineStatus.REJECTED


@dataclass
class Agg:
    """One aggregate row, classified."""

    status: LineStatus
    provider: str
    service: str
    model: str
    description: str
    kind: str
    currency: str
    category: str
    period: str
    batch: bool
    rows: int
    billed: float | None
    effective: float
    quantity: float
    without_cost: int
    evidence: list[int]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def _ints(value) -> list[int]:
    """Evidence rows as DuckDB (a list) or Athena (a list, or its text "[1, 2]") returns them; NULLs dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        return [int(x) for x in re.findall(r"-?\d+", value)]
    return [int(x) for x in value if x is not None]


def _float(value) -> float | None:
    return None if value is None or value == "" else float(value)


def _bool(value) -> bool:
    return value is True or str(value).lower() == "true"


def classify(row: Mapping) -> Agg:
    texts = tuple(str(row.get(f"m{i}") or "") for i in range(len(MODEL_COLUMNS)))
    kind = str(row.get("kind") or "")
    model = first_model(texts) if kind else ""  # no usage kind: never recognised, so no catalog lookup either
    if kind == UsageKind.INSTANCE_HOURS.value and model in gpu_instances():
        kind = UsageKind.GPU_HOURS.value
    if _bool(row.get("rejected")):
        status = REJECTED
    elif kind and model:
        status = RECOGNISED
    else:
        status = UNRECOGNISED
    billed = _float(row.get("billed_cost"))
    return Agg(status=status, provider=_slug(str(row.get("provider") or "")), service=str(row.get("service") or ""),
               model=model, description=next((t for t in texts if t), ""), kind=kind,
               currency=str(row.get("currency") or "USD"), category=str(row.get("category") or ""),
               period=str(row.get("period") or ""), batch=_bool(row.get("batch")), rows=int(row.get("row_count") or 0),
               billed=billed, effective=_float(row.get("effective_cost")) or 0.0,
               quantity=_float(row.get("quantity")) or 0.0, without_cost=int(row.get("rows_without_cost") or 0),
               evidence=_ints(row.get("evidence_rows")))


def _sums(aggs: Iterable[Agg]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for a in aggs:
        if a.billed is not None:
            out[a.currency] += a.billed
    return {c: money(v) for c, v in sorted(out.items())}


def _group(aggs: list[Agg], key) -> list[SpendGroup]:
    acc: dict[tuple[str, str], list] = {}
    for a in aggs:
        if a.billed is None:
            continue
        g = acc.setdefault((key(a) or "(unknown)", a.currency), [0.0, 0.0, 0])
        g[0] += a.billed
        g[1] += a.effective
        g[2] += a.rows - a.without_cost
    out = [SpendGroup(key=k, currency=c, billed_cost=money(b), effective_cost=money(e), lines=n)
           for (k, c), (b, e, n) in acc.items()]
    return sorted(out, key=lambda g: (g.currency, -g.billed_cost, g.key))


def _line_groups(aggs: list[Agg]) -> tuple[list[LineGroup], dict[tuple, list[int]]]:
    acc: dict[tuple, list] = {}
    for a in aggs:
        if a.status != RECOGNISED or a.category != ChargeCategory.USAGE.value or a.billed is None:
            continue
        g = acc.setdefault((a.provider, a.model, a.kind, a.currency), [0.0, 0.0, 0.0, 0, False, []])
        g[0] += a.quantity
        g[1] += a.billed
        g[2] += a.effective
        g[3] += a.rows
        g[4] |= a.batch
        g[5].extend(a.evidence)
    groups, rows = [], {}
    for (p, m, k, c), (q, b, e, n, batch, ev) in sorted(acc.items()):
        groups.append(LineGroup(provider=p, model=m, usage_kind=UsageKind(k), currency=c, quantity=sig(q),
                                billed_cost=money(b), effective_cost=money(e), rows=n, batch=batch))
        rows[(p, m, k, c)] = sorted(ev)[:EVIDENCE_ROWS]
    return groups, rows


def _unrecognised(aggs: list[Agg]) -> list[UnrecognisedGroup]:
    acc: dict[tuple, list] = {}
    for a in aggs:
        if a.status != UNRECOGNISED:
            continue
        g = acc.setdefault((a.provider, a.service, a.description, a.category, a.currency), [0.0, 0.0, 0])
        g[0] += a.billed or 0.0
        g[1] += a.effective
        g[2] += a.rows
    out = [UnrecognisedGroup(provider=p, service=s, description=d[:200], charge_category=cat, currency=c,
                             billed_cost=money(b), effective_cost=money(e), rows=n)
           for (p, s, d, cat, c), (b, e, n) in acc.items()]
    return sorted(out, key=lambda g: (g.currency, -abs(g.billed_cost), g.provider, g.service, g.description,
                                      g.charge_category))


def analyze_aggregates(rows: Iterable[Mapping], *, fmt: InvoiceFormat, focus_version: str | None = None,
                       unknown_columns: Iterable[str] = (), row_errors: Iterable[tuple[int | None, str, str]] = (),
                       row_errors_total: int | None = None, estimated_costs: int = 0) -> AnalyzeResponse:
    """The AnalyzeResponse from the aggregate rows of ``rules.aggregate_sql`` / ``export_sql`` (DuckDB or Athena).

    ``row_errors`` are the first (row, column, reason) of rejected rows (``rules.errors_sql``), and
    ``row_errors_total`` how many there are in all (default: as many as given)."""
    # Sorted first: the engines return groups in any order, and float sums must not depend on it.
    aggs = sorted((classify(r) for r in rows), key=lambda a: (a.status, a.provider, a.service, a.model, a.kind,
                                                              a.currency, a.category, a.period, a.description,
                                                              a.batch, a.rows, a.billed or 0.0, a.effective))
    row_errors = list(row_errors)
    warn = WarningCollector()
    by = {s: [a for a in aggs if a.status == s] for s in (RECOGNISED, UNRECOGNISED, REJECTED)}
    kept = by[RECOGNISED] + by[UNRECOGNISED]  # rejected rows are set apart: each row counted in one place
    apart = [a for a in kept if a.category in APART]
    months = max(1, len({a.period for a in by[RECOGNISED] if a.category == ChargeCategory.USAGE.value} - {""}))
    rec = Reconciliation(
        input_rows=sum(a.rows for a in aggs), recognised_rows=sum(a.rows for a in by[RECOGNISED]),
        unrecognised_rows=sum(a.rows for a in by[UNRECOGNISED]), rejected_rows=sum(a.rows for a in by[REJECTED]),
        input_billed_cost_total=_sums(aggs), recognised_billed_cost=_sums(by[RECOGNISED]),
        unrecognised_billed_cost=_sums(by[UNRECOGNISED]), rejected_billed_cost=_sums(by[REJECTED]),
        rejected_rows_without_cost=sum(a.without_cost for a in by[REJECTED]),
        credits_and_adjustments_billed_cost=_sums(apart))
    groups, evidence = _line_groups(aggs)
    pairs = findings(groups, evidence, months)
    breakdowns = Breakdowns(
        by_provider=_group(kept, lambda a: a.provider), by_model=_group(kept, lambda a: a.model or a.service),
        by_usage_kind=_group(kept, lambda a: a.kind or "unclassified"), by_period=_group(kept, lambda a: a.period),
        by_charge_category=_group(kept, lambda a: a.category))
    currencies = sorted({a.currency for a in aggs if a.billed is not None})
    unknown = list(unknown_columns)
    if unknown:
        warn.add(WarningCode.UNKNOWN_COLUMNS, "invoice.csv",
                 f"Columns that are not in FOCUS {focus_version} and not x_ extensions were ignored: "
                 f"{', '.join(unknown[:10])}.", "Prefix provider-specific columns with x_.", Severity.INFO)
    if rec.rejected_rows:
        warn.add(WarningCode.ROWS_REJECTED, "invoice", f"{rec.rejected_rows} rows could not be read and were set apart "
                 "(see row_errors); every other row was analysed.", "Fix the listed cells and analyse again.")
    if len(currencies) > 1:
        warn.add(WarningCode.MIXED_CURRENCIES, "invoice",
                 f"The invoice mixes currencies ({', '.join(currencies)}); totals are per currency, never summed.",
                 "Convert to one currency upstream to compare across them.")
    if other := sorted(c for c in currencies if c != CATALOG_CURRENCY):
        warn.add(WarningCode.MIXED_CURRENCIES, "invoice.currency",
                 f"Lines in {', '.join(other)} were not compared with catalog prices, which are in USD; findings "
                 "cover USD lines only.", "Convert the invoice to USD to get findings for every line.")
    if rec.unrecognised_rows:
        warn.add(WarningCode.UNRECOGNISED_LINES, "invoice",
                 f"{rec.unrecognised_rows} rows are not AI usage CostPlan can price (e.g. storage, support); they are "
                 "counted in the totals but not in findings (see unrecognised).", "Nothing to do unless they are AI "
                 "usage: then add x_Model or a SkuMeter that names the model.", Severity.INFO)
    if apart:
        warn.add(WarningCode.CREDITS_KEPT_APART, "invoice",
                 f"{sum(a.rows for a in apart)} credit, refund or adjustment rows are reported apart and not netted "
                 "into usage.", "See reconciliation.credits_and_adjustments_billed_cost.", Severity.INFO)
    if estimated_costs:
        warn.add(WarningCode.COSTS_ESTIMATED_FROM_CATALOG, "invoice.data",
                 f"The export has usage but no costs; {estimated_costs} lines were priced at the catalog list "
                 "price.", "Include the costs export for billed amounts.")
    errors = [RowError(row=r or 0, column=c, reason=m) for r, c, m in row_errors[:ROW_ERRORS_MAX]]
    unrecognised = _unrecognised(aggs)
    return AnalyzeResponse(
        format=fmt, focus_version=focus_version, currencies=currencies, months=months, line_groups=groups,
        reconciliation=rec, breakdowns=breakdowns, findings=[f for f, _ in pairs], opportunities=[o for _, o in pairs],
        row_errors=errors, row_errors_total=len(row_errors) if row_errors_total is None else row_errors_total,
        warnings=warn.result(), unrecognised=unrecognised[:UNRECOGNISED_GROUPS_MAX],
        unrecognised_groups_total=len(unrecognised))
