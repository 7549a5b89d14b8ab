"""Invoice analysis: reconcile, break spend down, price every line against the catalog, and turn the
gaps into findings (with their evidence) and opportunities (with steps, confidence and assumptions)."""

import math
from collections import defaultdict

import numpy as np

from costplan.catalog.billing import batch_discounts
from costplan.services.invoice_lines import HOUR_KINDS, STATUS_CODE, TOKEN_KINDS, Lines
from costplan.services.invoice_parse import Parsed
from costplan.services.invoice.prices import (
    PER_MILLION,
    cheaper_instances,
    cheapest_quote,
    hosted_quote,
    instance_quote,
)
from costplan.services.plan_rows import money, sig
from costplan.services.warnings import WarningCollector
from costplan_contracts.bounds import ROW_ERRORS_MAX
from costplan_contracts.common import Provenance
from costplan_contracts.enums import (
    ChargeCategory,
    Confidence,
    FindingType,
    InvoiceFormat,
    LineStatus,
    Severity,
    UsageKind,
    WarningCode,
)
from costplan_contracts.invoice import (
    AnalyzeResponse,
    Breakdowns,
    Evidence,
    Finding,
    LineGroup,
    Opportunity,
    Reconciliation,
    RowError,
    SpendGroup,
)

RECOGNISED, UNRECOGNISED, REJECTED = (STATUS_CODE[s] for s in LineStatus)
ABOVE_LIST_TOLERANCE = 0.02
CACHEABLE_SHARE = 0.3  # assumed share of input tokens a prompt cache would serve
BATCHABLE_SHARE = 0.3  # assumed share of an offline-looking workload that tolerates batch latency
INPUT_DOMINATES = 0.7
EVIDENCE_ROWS = 20
APART = {ChargeCategory.CREDIT.value, ChargeCategory.REFUND.value, ChargeCategory.ADJUSTMENT.value}


def _sums(mask: np.ndarray, values: np.ndarray, currency: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    sel = mask & ~np.isnan(values)
    for cur in sorted(set(currency[sel].tolist())):
        out[cur] = money(values[sel & (currency == cur)].sum())
    return out


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list]:
    """(codes, distinct values): group by object identity first (rows decoded from one dictionary share
    their string objects), then merge equal values across identities. No per-row string comparisons."""
    if not len(values):
        return np.zeros(0, np.int64), []
    ids = np.fromiter(map(id, values), dtype=np.int64, count=len(values))
    _, first, inv = np.unique(ids, return_index=True, return_inverse=True)
    index: dict = {}
    remap = np.array([index.setdefault(values[i], len(index)) for i in first], dtype=np.int64)
    return remap[inv], list(index)


def _combine(*arrays: np.ndarray, memo: dict | None = None) -> tuple[np.ndarray, list[tuple]]:
    """One integer code per distinct combination of the arrays' values, and the combinations.

    ``memo`` maps (id of array, selection) to its factorisation, so a column grouped several times is
    factorised once."""
    code = np.zeros(len(arrays[0]), np.int64)
    parts = []
    for a in arrays:
        key = id(a)
        if memo is not None and key in memo:
            c, vals = memo[key]
        else:
            c, vals = _factorize(a)
            if memo is not None:
                memo[key] = (c, vals)
        code = code * len(vals) + c if vals else code
        parts.append(vals)
    uniq, inv = np.unique(code, return_inverse=True)
    combos = []
    for u in uniq:
        combo, rest = [], int(u)
        for vals in reversed(parts):
            combo.append(vals[rest % len(vals)])
            rest //= len(vals)
        combos.append(tuple(reversed(combo)))
    return inv, combos


def _group(lines: Lines, keys: np.ndarray, mask: np.ndarray, with_quantity: bool = False,
           memo: dict | None = None) -> list[SpendGroup]:
    sel = mask & ~np.isnan(lines.billed)
    if not sel.any():
        return []
    memo = {} if memo is None else memo
    memo.setdefault(("keep", id(keys)), keys)  # holding the array keeps its id unique while the memo lives
    key_sel = memo.setdefault(("sel", id(keys), sel.tobytes()), keys[sel])
    cur_sel = memo.setdefault(("sel", id(lines.currency), sel.tobytes()), lines.currency[sel])
    inv, combos = _combine(key_sel, cur_sel, memo=memo)
    billed = np.bincount(inv, weights=lines.billed[sel])
    eff = np.bincount(inv, weights=np.nan_to_num(lines.effective[sel], nan=0.0))
    count = np.bincount(inv)
    qty = np.bincount(inv, weights=np.nan_to_num(lines.quantity[sel], nan=0.0)) if with_quantity else None
    out = [SpendGroup(key=str(key) or "(unknown)", currency=cur, billed_cost=money(billed[i]),
                      effective_cost=money(eff[i]), lines=int(count[i]), quantity=None if qty is None else sig(qty[i]))
           for i, (key, cur) in enumerate(combos)]
    return sorted(out, key=lambda g: (g.currency, -g.billed_cost, g.key))


def line_groups(lines: Lines) -> tuple[list[LineGroup], dict[tuple, list[int]]]:
    usage = (lines.status == RECOGNISED) & (lines.category == ChargeCategory.USAGE.value) & ~np.isnan(lines.billed)
    idx = np.flatnonzero(usage)
    if not idx.size:
        return [], {}
    inv, combos = _combine(lines.provider[idx], lines.model[idx], lines.kind[idx], lines.currency[idx])
    qty = np.bincount(inv, weights=np.nan_to_num(lines.quantity[idx], nan=0.0))
    billed = np.bincount(inv, weights=lines.billed[idx])
    eff = np.bincount(inv, weights=np.where(np.isnan(lines.effective[idx]), lines.billed[idx], lines.effective[idx]))
    count = np.bincount(inv)
    batch = np.bincount(inv, weights=lines.batch[idx].astype(float)) > 0
    order = np.argsort(inv, kind="stable")  # rows of each group, in file order
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    groups, rows = [], {}
    for i, (p, m, k, c) in enumerate(combos):
        groups.append(LineGroup(provider=p, model=m, usage_kind=UsageKind(k), currency=c, quantity=sig(qty[i]),
                                billed_cost=money(billed[i]), effective_cost=money(eff[i]), rows=int(count[i]),
                                batch=bool(batch[i])))
        rows[(p, m, k, c)] = lines.row[idx[order[starts[i]:starts[i] + min(count[i], EVIDENCE_ROWS)]]].tolist()
    groups.sort(key=lambda g: (g.provider, g.model, g.usage_kind.value, g.currency))
    return groups, rows


def _evidence(g: LineGroup, rows: list[int], observed: float | None, catalog: float | None, unit: str,
              provenance: Provenance | None) -> Evidence:
    return Evidence(rows=rows, provider=g.provider, model=g.model, usage_kind=g.usage_kind, quantity=g.quantity,
                    observed_unit_price=None if observed is None else sig(observed),
                    catalog_unit_price=None if catalog is None else sig(catalog), unit=unit,
                    catalog_provenance=provenance)


CATALOG_CURRENCY = "USD"  # every catalog price is in USD; other currencies are never compared with it


def _pair(ftype: FindingType, title: str, evidence: Evidence, save: float, steps: list[str], confidence: Confidence,
          assumptions: list[str]) -> tuple[Finding, Opportunity]:
    """A finding and the opportunity it opens: the same title and savings, plus what to do and on what basis."""
    return (Finding(type=ftype, title=title, evidence=evidence, estimated_monthly_savings_usd=money(save)),
            Opportunity(finding_type=ftype, title=title, estimated_monthly_savings_usd=money(save),
                        remediation_steps=steps, confidence=confidence, assumptions=assumptions))


def _unit_price(g: LineGroup, per: float) -> float | None:
    """Effective cost per unit (x ``per``); None when the quantity is too small to give a finite price (5e-324)."""
    if g.quantity <= 0:
        return None
    price = g.effective_cost / g.quantity * per
    return price if math.isfinite(price) else None


def findings(groups: list[LineGroup], rows: dict, months: int) -> list[tuple[Finding, Opportunity]]:
    out: list[tuple[Finding, Opportunity]] = []
    by_model: dict[tuple[str, str, str], dict[str, LineGroup]] = defaultdict(dict)
    groups = [g for g in groups if g.currency == CATALOG_CURRENCY]
    for g in groups:
        by_model[(g.provider, g.model, g.currency)][g.usage_kind.value] = g
    for g in groups:
        key = (g.provider, g.model, g.usage_kind.value, g.currency)
        ev_rows = rows[key]
        kind = g.usage_kind.value
        if kind in TOKEN_KINDS and (observed := _unit_price(g, PER_MILLION)) is not None:
            quote = hosted_quote(g.provider, g.model, kind)
            if quote and observed > quote.price * (1 + ABOVE_LIST_TOLERANCE):
                save = (observed - quote.price) * g.quantity / PER_MILLION / months
                out.append(_pair(FindingType.PRICE_ABOVE_LIST, f"{g.provider}/{g.model} {kind} billed at ${observed:.4g}/1M, above the ${quote.price:.4g}/1M list price",
                                 _evidence(g, ev_rows, observed, quote.price, "USD per 1M tokens", quote.provenance), save,
                                 [f"Compare invoice rows {ev_rows[:5]} with the provider's price list.",
                                       "Ask the provider or reseller for the list rate, or a credit for the difference.",
                                       "Check whether a premium tier, region or priority service level is enabled."],
                                 Confidence.HIGH, [f"list price from {quote.provenance.source} as of {quote.provenance.as_of}"]))
            best = cheapest_quote(g.model, kind)
            if best and best.provider != g.provider and best.price < observed * (1 - ABOVE_LIST_TOLERANCE):
                save = (observed - best.price) * g.quantity / PER_MILLION / months
                out.append(_pair(FindingType.CHEAPER_PROVIDER, f"{g.model} {kind} costs ${best.price:.4g}/1M at {best.provider} vs ${observed:.4g}/1M at {g.provider}",
                                 _evidence(g, ev_rows, observed, best.price, "USD per 1M tokens", best.provenance), save,
                                 [f"Route {g.model} traffic to {best.provider} (model id {best.model}).",
                                       "Run your evaluation set against it first: serving stacks and quantisation differ.",
                                       "Move traffic gradually and compare latency and error rates."],
                                 Confidence.MEDIUM, ["the same canonical model serves your prompts equally well at both providers",
                                 f"price from {best.provenance.source} as of {best.provenance.as_of}"]))
        if kind in HOUR_KINDS and (observed := _unit_price(g, 1.0)) is not None:
            hit = instance_quote(g.model)
            if hit:
                inst, acc = hit
                options = []
                if inst.prices["committed_1y"] == inst.prices["committed_1y"]:
                    options.append(("a 1-year commitment", inst.prices["committed_1y"], inst))
                cheaper = cheaper_instances(g.model)
                if cheaper:
                    options.append((f"{cheaper[0].provider} {cheaper[0].instance_type}", cheaper[0].prices["on_demand"],
                                    cheaper[0]))
                options = [o for o in options if o[1] < observed * (1 - ABOVE_LIST_TOLERANCE)]
                if options:
                    label, price, ref = min(options, key=lambda o: (o[1], o[0]))
                    save = (observed - price) * g.quantity / months
                    prov = Provenance(source=ref.source, as_of=ref.price_as_of)
                    out.append(_pair(FindingType.GPU_COMMITMENT_OR_CHEAPER_INSTANCE, f"{g.quantity:,.0f} {acc.name} instance-hours on {g.model} at ${observed:.4g}/h; {label} is ${price:.4g}/h",
                                     _evidence(g, ev_rows, observed, price, "USD per instance-hour", prov), save,
                                     [f"Check utilisation of the {g.model} fleet over the last 30 days.",
                                           f"If the base load is steady, cover it with {label}.",
                                           "Keep bursts on on-demand capacity."],
                                     Confidence.MEDIUM, ["the hours billed recur every month at this level",
                                     f"price from {prov.source} as of {prov.as_of}"]))
    for (provider, model, currency), kinds in sorted(by_model.items()):
        inp, outp = kinds.get(UsageKind.INPUT_TOKENS.value), kinds.get(UsageKind.OUTPUT_TOKENS.value)
        if not inp or inp.quantity <= 0:
            continue
        total = inp.quantity + (outp.quantity if outp else 0.0)
        cache = hosted_quote(provider, model, UsageKind.CACHED_INPUT_TOKENS.value)
        input_quote = hosted_quote(provider, model, UsageKind.INPUT_TOKENS.value)
        cached = kinds.get(UsageKind.CACHED_INPUT_TOKENS.value)
        if ((cached is None or cached.quantity <= 0) and inp.quantity / total >= INPUT_DOMINATES and cache
                and input_quote and cache.price < input_quote.price):
            save = CACHEABLE_SHARE * inp.quantity * (input_quote.price - cache.price) / PER_MILLION / months
            out.append(_pair(FindingType.PROMPT_CACHING_ABSENT, f"{provider}/{model}: {inp.quantity / total:.0%} of tokens are input and none are cache reads",
                             _evidence(inp, rows[(provider, model, UsageKind.INPUT_TOKENS.value, currency)],
                                           input_quote.price, cache.price, "USD per 1M tokens", cache.provenance), save,
                             ["Put the stable part of each prompt (system prompt, tools, documents) first.",
                                   f"Enable prompt caching for {model} at {provider}.",
                                   "Watch the cached-token share on the next invoice."],
                             Confidence.MEDIUM, [f"{CACHEABLE_SHARE:.0%} of input tokens would be served from cache",
                             f"cache-read price ${cache.price:.4g}/1M from {cache.provenance.source}"]))
        discount = batch_discounts().get(provider)
        batch_used = any(g.batch for g in kinds.values())
        if discount and not batch_used and outp and outp.quantity <= 0.25 * inp.quantity:
            billed = inp.billed_cost + outp.billed_cost
            save = BATCHABLE_SHARE * discount.discount * billed / months
            out.append(_pair(FindingType.BATCH_DISCOUNT_UNUSED, f"{provider}/{model} looks like bulk processing (output {outp.quantity / inp.quantity:.0%} of input) with no batch usage",
                             _evidence(inp, rows[(provider, model, UsageKind.INPUT_TOKENS.value, currency)], None,
                                           None, "USD", Provenance(source=discount.source, as_of=discount.as_of)), save,
                             ["Identify jobs that do not need an answer within seconds (classification, "
                                   "extraction, evaluations, backfills).",
                                   f"Submit them through {provider}'s batch API ({discount.discount:.0%} off).",
                                   "Keep interactive traffic on the synchronous API."],
                             Confidence.LOW, [f"{BATCHABLE_SHARE:.0%} of this traffic tolerates up to 24 h of latency",
                             "a low output:input ratio suggests offline summarisation or extraction"]))
    out.sort(key=lambda fo: (-fo[0].estimated_monthly_savings_usd, fo[0].type.value, fo[0].title))
    return out


def analyze_parsed(parsed: Parsed, fmt: InvoiceFormat) -> AnalyzeResponse:
    lines = parsed.lines
    warn = WarningCollector()
    status, cur = lines.status, lines.currency
    everything = np.ones(len(lines), bool)
    apart = np.isin(lines.category, list(APART))
    usage = (status == RECOGNISED) & (lines.category == ChargeCategory.USAGE.value)
    months = max(1, len(set(lines.period[usage].tolist()) - {""}))
    rec = Reconciliation(
        input_rows=len(lines), recognised_rows=int((status == RECOGNISED).sum()),
        unrecognised_rows=int((status == UNRECOGNISED).sum()), rejected_rows=int((status == REJECTED).sum()),
        input_billed_cost_total=_sums(everything, lines.billed, cur),
        recognised_billed_cost=_sums(status == RECOGNISED, lines.billed, cur),
        unrecognised_billed_cost=_sums(status == UNRECOGNISED, lines.billed, cur),
        rejected_billed_cost=_sums(status == REJECTED, lines.billed, cur),
        rejected_rows_without_cost=int(((status == REJECTED) & np.isnan(lines.billed)).sum()),
        credits_and_adjustments_billed_cost=_sums(apart, lines.billed, cur),
    )
    groups, rows = line_groups(lines)
    pairs = findings(groups, rows, months)
    model_key = np.where(lines.model == "", lines.service, lines.model)
    ok = status != REJECTED
    memo: dict = {}
    breakdowns = Breakdowns(
        by_provider=_group(lines, lines.provider, ok, memo=memo), by_model=_group(lines, model_key, ok, memo=memo),
        by_usage_kind=_group(lines, np.where(lines.kind == "", "unclassified", lines.kind), ok, memo=memo),
        by_period=_group(lines, lines.period, ok, memo=memo),
        by_charge_category=_group(lines, lines.category, ok, memo=memo))
    currencies = sorted(set(cur[~np.isnan(lines.billed)].tolist()))
    if parsed.unknown_columns:
        warn.add(WarningCode.UNKNOWN_COLUMNS, "invoice.csv",
                 f"Columns that are not in FOCUS {parsed.focus_version} and not x_ extensions were ignored: "
                 f"{', '.join(parsed.unknown_columns[:10])}.", "Prefix provider-specific columns with x_.",
                 Severity.INFO)
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
                 "counted in the totals but not in findings.", "Nothing to do unless they are AI usage: then add "
                 "x_Model or a SkuMeter that names the model.", Severity.INFO)
    if apart.any():
        warn.add(WarningCode.CREDITS_KEPT_APART, "invoice",
                 f"{int(apart.sum())} credit, refund or adjustment rows are reported apart and not netted into usage.",
                 "See reconciliation.credits_and_adjustments_billed_cost.", Severity.INFO)
    if parsed.estimated_costs:
        warn.add(WarningCode.COSTS_ESTIMATED_FROM_CATALOG, "invoice.data",
                 f"The export has usage but no costs; {parsed.estimated_costs} lines were priced at the catalog list "
                 "price.", "Include the costs export for billed amounts.")
    errors = [RowError(row=r, column=c, reason=m) for r, c, m in parsed.errors[:ROW_ERRORS_MAX]]
    return AnalyzeResponse(
        format=fmt, focus_version=parsed.focus_version, currencies=currencies, months=months, line_groups=groups,
        reconciliation=rec, breakdowns=breakdowns, findings=[f for f, _ in pairs], opportunities=[o for _, o in pairs],
        row_errors=errors, row_errors_total=len(parsed.errors), warnings=warn.result())
