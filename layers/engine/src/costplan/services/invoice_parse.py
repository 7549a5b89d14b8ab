"""Billing exports -> normalised invoice lines: FOCUS 1.0/1.1/1.2, AWS CUR 2.0, the OpenAI usage and
costs export, CostPlan line items, and AWS Cost Explorer results.

Malformed rows are reported (row, column, reason) and kept as rejected lines; every other row is
still analysed. Missing mandatory columns are a 422 that lists them.
"""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from costplan.catalog.billing import FOCUS_VERSIONS, cur_patterns, focus_columns, focus_known, focus_mandatory
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.invoice_lines import Columns, Lines, RawLine, classify, columns_from_raw, finite
from costplan_contracts.enums import InvoiceFormat
from costplan_contracts.invoice import InvoiceInput, LineItem

_PERIOD = re.compile(r"^\d{4}-\d{2}")
FOCUS_MODEL_COLUMNS = ("x_Model", "x_ModelId", "x_model", "x_InstanceType", "SkuMeter", "ChargeDescription",
                       "ResourceName", "ResourceId", "SkuPriceDetails")
FOCUS_USAGE_COLUMNS = ("x_UsageKind", "ConsumedUnit", "PricingUnit", "SkuMeter", "ChargeDescription")
CUR_REQUIRED = ("line_item_usage_type", "line_item_usage_amount", "line_item_unblended_cost",
                "line_item_usage_start_date")


@dataclass(frozen=True)
class Parsed:
    lines: Lines
    errors: list[tuple[int, str, str]]
    focus_version: str | None
    unknown_columns: list[str]
    estimated_costs: int = 0


def _floats(col, name: str, errors: list, rows: np.ndarray, required: bool) -> tuple[np.ndarray, np.ndarray]:
    """A float column and the mask of rows where it failed to parse (fast path for clean columns)."""
    try:
        out = np.asarray(col, dtype=float)
        if not np.isfinite(out).all():
            raise ValueError("non-finite")  # "nan", "inf", "1e999": named row by row below
        return out, np.zeros(len(col), bool)
    except ValueError:
        out = np.full(len(col), np.nan)
        bad = np.zeros(len(col), bool)
        for i, v in enumerate(col):
            v = v.strip()
            if not v:
                if required:
                    bad[i] = True
                    errors.append((int(rows[i]), name, "empty"))
                continue
            try:
                out[i] = finite(v)
            except ValueError:
                bad[i] = True
                errors.append((int(rows[i]), name, f"not a finite number: {v[:40]!r}"))
        return out, bad


def _periods(col, name: str, errors: list, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    memo: dict[str, str | None] = {}
    out, bad = [], np.zeros(len(col), bool)
    for i, v in enumerate(col):
        p = memo.get(v, "")
        if p == "":
            p = memo[v] = v[:7] if _PERIOD.match(v.strip()) else None
        if p is None:
            bad[i] = True
            errors.append((int(rows[i]), name, f"not an ISO date: {v[:40]!r}"))
            out.append("")
        else:
            out.append(p)
    return out, bad


def _unparsable(e: csv.Error, line: int) -> RequestRejected:
    return RequestRejected("The invoice CSV does not parse", [FieldError("invoice.csv", f"line {line}: {e}")])


def _csv_reader(text: str):
    """csv.reader over the text, newline='' as the csv module asks (a bare CR is a line end, not an error)."""
    return csv.reader(io.StringIO(text, newline=""))


def _read_csv(text: str) -> tuple[list[str], list[list[str]], list[tuple[int, str, str]], np.ndarray]:
    reader = _csv_reader(text)
    try:
        return _read_rows(reader)
    except csv.Error as e:
        raise _unparsable(e, reader.line_num) from None


def _read_rows(reader) -> tuple[list[str], list[list[str]], list[tuple[int, str, str]], np.ndarray]:
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise RequestRejected("The invoice CSV is empty", [FieldError("invoice.csv", "no header row")]) from None
    rows, errors, bad = [], [], []
    width = len(header)
    for n, r in enumerate(reader, start=1):
        if len(r) != width:
            errors.append((n, "*", f"{len(r)} fields, the header has {width}"))
            r = (r + [""] * width)[:width]
            bad.append(True)
        else:
            bad.append(False)
        rows.append(r)
    return header, rows, errors, np.array(bad, dtype=bool)


def _zip(header: list[str], rows: list[list[str]]):
    n = len(rows)
    cols = list(zip(*rows)) if rows else [()] * len(header)
    index = {h: i for i, h in enumerate(header)}
    return lambda name: cols[index[name]] if name in index else ("",) * n


def _focus_version(header: set[str], requested: str | None) -> str:
    if requested:
        missing = sorted(focus_mandatory(requested) - header)
        if missing:
            raise RequestRejected(f"Missing mandatory FOCUS {requested} columns",
                                  [FieldError("invoice.csv", f"missing mandatory FOCUS {requested} column {m}")
                                   for m in missing])
        return requested
    fits = [v for v in FOCUS_VERSIONS if focus_mandatory(v) <= header]
    if not fits:
        missing = sorted(focus_mandatory(FOCUS_VERSIONS[0]) - header)
        raise RequestRejected("Missing mandatory FOCUS columns",
                              [FieldError("invoice.csv", f"missing mandatory FOCUS 1.0 column {m}") for m in missing])
    # The oldest version that defines every FOCUS column present: a 1.2-only column means a 1.2 file.
    present = header & focus_known()
    return next((v for v in fits if present <= set(focus_columns(v))), fits[-1])


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise RequestRejected("The invoice is not valid UTF-8 text",
                              [FieldError("invoice.csv", f"invalid character at offset {e.start}")]) from None


def detect_csv_format(text: str) -> InvoiceFormat:
    """FOCUS or CUR, told apart by the header row: BilledCost is a mandatory FOCUS column and no CUR column.

    The one rule for every CSV that arrives without a format (a text/csv body, a file dropped under invoices/)."""
    header = text[:65536].split("\n", 1)[0]
    return InvoiceFormat.FOCUS if "BilledCost" in header else InvoiceFormat.CUR


LINE_ITEM_NUMBERS = ("quantity", "billed_cost", "effective_cost")


def line_items_from_csv(text: str) -> list[dict]:
    """CostPlan line items given as CSV columns (the LineItem field names): one dict per row, for parse_line_items.

    Empty cells are left out (the field's default applies); numeric cells become numbers where they parse, and
    otherwise stay text, so that row is reported as a row error like any other bad line item."""
    rows, reader = [], csv.DictReader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            item = {k.strip().lstrip("\ufeff"): v.strip() for k, v in record.items()
                    if k is not None and isinstance(v, str) and v.strip() != ""}
            for name in LINE_ITEM_NUMBERS:
                try:
                    item[name] = float(item[name])
                except (KeyError, ValueError):
                    pass
            rows.append(item)
    except csv.Error as e:
        raise _unparsable(e, reader.line_num) from None
    return rows


def _header(text: str) -> list[str]:
    try:
        return [h.strip().lstrip("\ufeff") for h in next(_csv_reader(text[:65536]))]
    except csv.Error as e:
        raise _unparsable(e, 1) from None
    except StopIteration:
        raise RequestRejected("The invoice CSV is empty", [FieldError("invoice.csv", "no header row")]) from None


def _parse_focus_arrow(text: str, header: list[str], v: str, unknown: list[str]) -> Parsed | None:
    from costplan.services import invoice_arrow as A

    qty = "ConsumedQuantity" if "ConsumedQuantity" in header else "PricingQuantity"
    unit = "ConsumedUnit" if "ConsumedUnit" in header else "PricingUnit"
    model_cols = [c for c in FOCUS_MODEL_COLUMNS if c in header]
    usage_cols = [c for c in FOCUS_USAGE_COLUMNS if c in header]
    wanted = sorted({"BilledCost", "EffectiveCost", "ChargePeriodStart", "ProviderName", "ServiceName",
                     "BillingCurrency", "ChargeCategory", "ChargeClass", "ChargeDescription", qty, unit,
                     *model_cols, *usage_cols} & set(header))
    cols = A.read(_utf8(text), header, wanted)
    if cols is None:
        return None  # some row has the wrong width: the exact path names it
    errors: list = []
    billed, bad_b = A.floats(cols["BilledCost"], "BilledCost", errors, required=True)
    effective, bad_e = A.floats(cols["EffectiveCost"], "EffectiveCost", errors, required=False)
    quantity, bad_q = A.floats(cols[qty], "ConsumedQuantity", errors, required=False)
    period, bad_p = A.periods(cols["ChargePeriodStart"], "ChargePeriodStart", errors)
    lines = A.lines(cols, model_cols, usage_cols, qty, unit, bad_b | bad_e | bad_q | bad_p, billed, effective,
                    quantity, period)
    return Parsed(lines, sorted(errors), v, unknown)


def parse_focus(text: str, version: str | None) -> Parsed:
    header = _header(text)
    v = _focus_version(set(header), version)
    unknown = [h for h in header if h not in focus_known() and not h.lower().startswith("x_")]
    fast = _parse_focus_arrow(text, header, v, unknown)
    if fast is not None:
        return fast
    header, rows, errors, bad = _read_csv(text)
    get = _zip(header, rows)
    n = len(rows)
    row = np.arange(1, n + 1)
    billed, bad_b = _floats(get("BilledCost"), "BilledCost", errors, row, required=True)
    effective, bad_e = _floats(get("EffectiveCost"), "EffectiveCost", errors, row, required=False)
    qty_col = get("ConsumedQuantity") if "ConsumedQuantity" in header else get("PricingQuantity")
    quantity, bad_q = _floats(qty_col, "ConsumedQuantity", errors, row, required=False)
    period, bad_p = _periods(get("ChargePeriodStart"), "ChargePeriodStart", errors, row)
    model_cols = [get(c) for c in FOCUS_MODEL_COLUMNS if c in header]
    usage_cols = [get(c) for c in FOCUS_USAGE_COLUMNS if c in header]
    desc = [d.lower() for d in get("ChargeDescription")]
    cols = Columns(
        row=row, provider=list(get("ProviderName")), service=list(get("ServiceName")),
        model_text=list(zip(*model_cols)) if model_cols else [()] * n,
        usage_text=list(zip(*usage_cols)) if usage_cols else [()] * n,
        quantity=quantity, unit=list(get("ConsumedUnit") if "ConsumedUnit" in header else get("PricingUnit")),
        billed=billed, effective=effective, currency=list(get("BillingCurrency")),
        category=[f"{a} {b}" for a, b in zip(get("ChargeCategory"), get("ChargeClass"))], period=period,
        batch=np.array(["batch" in d for d in desc], dtype=bool), kind=None,
        rejected=bad | bad_b | bad_e | bad_q | bad_p,
    )
    return Parsed(classify(cols), sorted(errors), v, unknown)


def _cur_name(name: str) -> str:
    """'lineItem/UsageType' (legacy CUR) -> 'line_item_usage_type' (CUR 2.0)."""
    name = name.strip().replace("/", "_")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def parse_cur(text: str) -> Parsed:
    _utf8(text)
    header, rows, errors, bad = _read_csv(text)
    header = [_cur_name(h) for h in header]
    missing = [c for c in CUR_REQUIRED if c not in header]
    if missing:
        raise RequestRejected("Missing CUR columns", [FieldError("invoice.csv", f"missing CUR 2.0 column {m}")
                                                      for m in missing])
    get = _zip(header, rows)
    n = len(rows)
    row = np.arange(1, n + 1)
    billed, bad_b = _floats(get("line_item_unblended_cost"), "line_item_unblended_cost", errors, row, required=True)
    effective, bad_e = _floats(get("line_item_net_unblended_cost"), "line_item_net_unblended_cost", errors, row,
                               required=False)
    quantity, bad_q = _floats(get("line_item_usage_amount"), "line_item_usage_amount", errors, row, required=False)
    period, bad_p = _periods(get("line_item_usage_start_date"), "line_item_usage_start_date", errors, row)
    patterns = cur_patterns()
    memo: dict[str, tuple[str, str]] = {}

    def pattern(usage_type: str) -> tuple[str, str]:
        hit = memo.get(usage_type)
        if hit is None:
            p = next((p for p in patterns if p.pattern.search(usage_type)), None)
            hit = memo[usage_type] = (p.usage_kind, p.unit) if p else ("", "")
        return hit

    usage = get("line_item_usage_type")
    kinds = [pattern(u) for u in usage]
    model_cols = [get(c) for c in ("product_model", "product_instance_type", "line_item_line_item_description",
                                   "line_item_usage_type", "line_item_resource_id") if c in header]
    cols = Columns(
        row=row, provider=["aws"] * n, service=list(get("line_item_product_code")),
        model_text=list(zip(*model_cols)), usage_text=[(u, d) for u, d in zip(usage, get("line_item_line_item_description"))],
        quantity=quantity, unit=[p or k[1] for k, p in zip(kinds, get("pricing_unit"))], billed=billed,
        effective=effective, currency=list(get("line_item_currency_code")),
        category=list(get("line_item_line_item_type")), period=period,
        batch=np.array(["batch" in u.lower() for u in usage], dtype=bool),
        kind=[k[0] if k[0] != "other" else "" for k in kinds], rejected=bad | bad_b | bad_e | bad_q | bad_p,
    )
    return Parsed(classify(cols), sorted(errors), None, [])


def _period_of(ts) -> str:
    if isinstance(ts, (int, float)):
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m")
    return str(ts)[:7]


def _openai_kind(line_item: str) -> str:
    """'gpt-4o-2024-08-06, cached input' -> cached_input_tokens (the costs export names the direction)."""
    tail = line_item.rsplit(",", 1)[-1].strip().lower() if "," in line_item else ""
    return {"input": "input_tokens", "output": "output_tokens", "cached input": "cached_input_tokens",
            "cached_input": "cached_input_tokens"}.get(tail, "")


def _number(value) -> float | None:
    """A finite JSON number (bools are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def parse_openai(data) -> Parsed:
    """The OpenAI organisation usage (completions) and costs exports: ``{"usage": page, "costs": page}`` or one page.

    Anything of the wrong type is a row error (or, for the overall shape, a 422); nothing raises."""
    if isinstance(data, dict) and ("usage" in data or "costs" in data):
        pages = data
    elif isinstance(data, dict):
        pages = {"page": data}
    else:
        raise RequestRejected("The OpenAI export must be an object",
                              [FieldError("invoice.data", "expected {\"data\": [...]} or {\"usage\": ..., \"costs\": ...}")])
    raw: list[RawLine] = []
    usage: dict[tuple[str, str, str], float] = {}
    n = 0
    for page in pages.values():
        for bucket in _list(page.get("data") if isinstance(page, dict) else None):
            if not isinstance(bucket, dict):
                continue
            start = _number(bucket.get("start_time"))
            period = _period_of(start) if start is not None and 0 <= start < 4e9 else ""
            for res in _list(bucket.get("results")):
                n += 1
                if not isinstance(res, dict):
                    raw.append(RawLine(row=n, errors=[("results", "not an object")]))
                    continue
                kind = str(res.get("object", ""))
                if kind.endswith("costs.result"):
                    amount = res.get("amount") if isinstance(res.get("amount"), dict) else {}
                    value = _number(amount.get("value"))
                    item = str(res.get("line_item") or "")
                    line = RawLine(row=n, provider="openai", service="OpenAI API", model_text=(item.split(",")[0], item),
                                   usage_text=(item,), billed=float("nan") if value is None else value,
                                   currency=str(amount.get("currency", "usd")), category="usage", period=period,
                                   batch="batch" in item.lower(), kind=_openai_kind(item))
                    if value is None:
                        line.errors.append(("amount.value", "missing or not a finite number"))
                    if not period:
                        line.errors.append(("start_time", "missing or not a unix timestamp"))
                    raw.append(line)
                elif kind.endswith("usage.completions.result"):
                    model = str(res.get("model") or "")
                    for key, k in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                                   ("input_cached_tokens", "cached_input_tokens")):
                        q = _number(res.get(key))
                        if q:  # absent or zero: no line (a zero cached line is not "caching in use")
                            usage[(period, model.lower(), k)] = usage.get((period, model.lower(), k), 0.0) + q
    from costplan.services.invoice_lines import resolve_model, usage_kind_of

    if raw:  # costs carry the money; usage supplies the quantities
        by_key: dict[tuple[str, str, str], float] = {}
        for (period, model, k), q in usage.items():
            key = (period, resolve_model(model), k)
            by_key[key] = by_key.get(key, 0.0) + q
        for line in raw:
            key = (line.period, resolve_model(line.model_text[0]), line.kind or usage_kind_of(line.usage_text[0]))
            if key in by_key:
                line.quantity, line.unit = by_key.pop(key), "tokens"
        c, errors = columns_from_raw(raw)
        return Parsed(classify(c), errors, None, [])
    estimated = []  # usage only: price it at the catalog list price, and say so
    for n, ((period, model, k), q) in enumerate(sorted(usage.items()), start=1):
        estimated.append(RawLine(row=n, provider="openai", service="OpenAI API", model_text=(model,), usage_text=(k,),
                                 quantity=q, unit="tokens", billed=float("nan"), currency="USD", category="usage",
                                 period=period, kind=k))
    c, errors = columns_from_raw(estimated)
    lines = classify(c)
    from costplan.services.invoice.prices import list_prices

    price = list_prices(lines)
    billed = lines.quantity / 1e6 * price
    lines = Lines(**{**lines.__dict__, "billed": billed, "effective": billed})
    return Parsed(lines, errors, None, [], estimated_costs=int(np.count_nonzero(~np.isnan(billed))))


def parse_line_items(data) -> Parsed:
    if not isinstance(data, list):
        raise RequestRejected("line_items must be a JSON list", [FieldError("invoice.data", "expected a list")])
    raw = []
    for n, item in enumerate(data, start=1):
        try:
            li = LineItem.model_validate(item)
        except ValidationError as e:  # the row is reported and set apart; the others are analysed
            first = e.errors()[0]
            raw.append(RawLine(row=n, errors=[(".".join(str(p) for p in first["loc"]) or "*", first["msg"])]))
            continue
        raw.append(RawLine(row=n, provider=li.provider, service=li.service, model_text=(li.model or "",),
                           usage_text=(li.usage_kind.value,), quantity=li.quantity, unit=li.unit,
                           billed=li.billed_cost, effective=li.effective_cost if li.effective_cost is not None
                           else float("nan"), currency=li.currency, category=li.charge_category.value,
                           period=li.period_start.isoformat()[:7], kind=li.usage_kind.value))
    c, errors = columns_from_raw(raw)
    return Parsed(classify(c), errors, None, [])


def parse_cost_explorer(groups: list[dict]) -> Parsed:
    """Cost Explorer ``ResultsByTime`` grouped by SERVICE and USAGE_TYPE (see adapters.cost_explorer)."""
    patterns = cur_patterns()
    raw = []
    for n, g in enumerate(groups, start=1):
        service, usage_type = g["keys"]
        p = next((p for p in patterns if p.pattern.search(usage_type)), None)
        raw.append(RawLine(row=n, provider="aws", service=service, model_text=(usage_type,), usage_text=(usage_type,),
                           quantity=float(g["quantity"]), unit=p.unit if p else g.get("unit", ""),
                           billed=float(g["cost"]), currency=g.get("currency", "USD"), category="usage",
                           period=g["period"], kind=p.usage_kind if p and p.usage_kind != "other" else ""))
    c, errors = columns_from_raw(raw)
    return Parsed(classify(c), errors, None, [])


def parse(inv: InvoiceInput, cost_explorer=None) -> Parsed:
    if inv.format == InvoiceFormat.FOCUS:
        return parse_focus(inv.csv, inv.focus_version)
    if inv.format == InvoiceFormat.CUR:
        return parse_cur(inv.csv)
    if inv.format == InvoiceFormat.OPENAI:
        return parse_openai(inv.data)
    if inv.format == InvoiceFormat.LINE_ITEMS:
        return parse_line_items(inv.data)
    if cost_explorer is None:  # e.g. a report job: only the invoice functions may call Cost Explorer
        raise RequestRejected("Cost Explorer pull mode is not available here", [FieldError(
            "invoice.cost_explorer", "Cost Explorer data can only be pulled by POST /api/v1/invoice/analyze "
                                     "or /invoice/simulate; pass its analysis as the report source instead")])
    return parse_cost_explorer(cost_explorer(inv.cost_explorer))
