"""Every input onto FOCUS column names: a table (or a stream of record batches) the rule set can run over.

FOCUS 1.0-1.2 and CUR 2.0 arrive as CSV text, gzip CSV or Parquet bytes, or as an export prefix (many
files, read through ``export_ports``); the OpenAI usage and costs export, CostPlan line items and Cost
Explorer results become small Arrow tables with FOCUS (or CUR 2.0) column names. Nothing here
classifies a row: that is ``rules``.
"""

import csv
import datetime as dt
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pydantic import ValidationError

from costplan.catalog.billing import FOCUS_VERSIONS, focus_columns, focus_known, focus_mandatory
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.invoice import rules as R
from costplan.services.invoice.models import resolve_model
from costplan.services.invoice.prices import hosted_quote
from costplan_contracts.invoice import LineItem

GZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PAR1"


@dataclass
class Source:
    """What the engine scans: ``open()`` gives a fresh Arrow table, dataset or record-batch reader each call."""

    open: Callable[[], object]
    fmt: str  # "focus" or "cur": which mapping onto FOCUS names applies
    columns: dict[str, str]  # column -> value kind (rules.KIND_*)
    focus_version: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    estimated_costs: int = 0


def _pa():
    import pyarrow as pa  # lazy: cold start, only an analysis reads files; pyarrow ships in the invoice layer only

    return pa


def kind_of(arrow_type) -> str:
    pa = _pa()
    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return R.KIND_NUMBER
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return R.KIND_TIME
    return R.KIND_TEXT


def _unparsable(message: str) -> RequestRejected:
    return RequestRejected("The invoice CSV does not parse", [FieldError("invoice.csv", message)])


def _header(data: bytes) -> list[str]:
    head = data[:65536].decode("utf-8", errors="replace")
    try:
        return [h.strip().lstrip("\ufeff") for h in next(csv.reader(io.StringIO(head, newline="")))]
    except csv.Error as e:
        raise _unparsable(f"line 1: {e}") from None
    except StopIteration:
        raise RequestRejected("The invoice CSV is empty", [FieldError("invoice.csv", "no header row")]) from None


def focus_version(header: set[str], requested: str | None) -> str:
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
    present = header & focus_known()  # the oldest version that defines every FOCUS column present
    return next((v for v in fits if present <= set(focus_columns(v))), fits[-1])


def _wanted(fmt: str, names: list[str]) -> list[str]:
    if fmt == "cur":
        used = set(R.CUR_SOURCES.values())
    else:
        used = {n.column for n in R.number_rules()} | {R.PERIOD_COLUMN} | set(R.TEXT_COLUMNS)
        used |= {s for sources in R.FOCUS_SOURCES.values() for s in sources}
    return [n for n in dict.fromkeys(names) if n in used]


def _check(fmt: str, names: list[str], version: str | None) -> tuple[str | None, list[str]]:
    """(FOCUS version, unknown columns) or a 422 naming the missing columns."""
    if fmt == "cur":
        missing = [c for c in R.CUR_REQUIRED if c not in names]
        if missing:
            raise RequestRejected("Missing CUR columns", [FieldError("invoice.csv", f"missing CUR 2.0 column {m}")
                                                          for m in missing])
        return None, []
    v = focus_version(set(names), version)
    return v, [h for h in names if h not in focus_known() and not h.lower().startswith("x_")]


def _read_csv(data: bytes, names: list[str], wanted: list[str]):
    """Arrow's CSV reader over ``data`` (all wanted columns as text), each row numbered as in the file. Rows of the
    wrong width are kept as rejected rows (column "*")."""
    pa = _pa()
    import pyarrow.csv as pacsv  # lazy: cold start, as _pa()

    def read(threads: bool):
        invalid: list = []

        def handler(row):
            invalid.append(row)
            return "skip"

        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(wanted, pa.string()),
                                                 include_columns=wanted, strings_can_be_null=False))
        return table, invalid

    if not data.split(b"\n", 1)[1:] or not data.split(b"\n", 1)[1].strip(b"\r\n"):
        return pa.table({**{c: pa.array([], pa.string()) for c in wanted}, R.ROW: pa.array([], pa.int64())})
    try:
        table, invalid = read(True)
        if invalid and any(r.number is None for r in invalid):
            table, invalid = read(False)  # the same reader, one thread: it numbers the rows it skips
    except (pa.ArrowInvalid, pa.ArrowKeyError, pa.ArrowNotImplementedError) as e:
        raise _unparsable(str(e).split("\n")[0][:200]) from None
    width = len(names)
    bad = {int(r.number) - 1: f"{r.actual_columns} fields, the header has {width}" for r in invalid}
    total = table.num_rows + len(bad)
    if not bad:
        return table.append_column(R.ROW, pa.array(range(1, total + 1), pa.int64()))

    good = np.setdiff1d(np.arange(1, total + 1), np.fromiter(bad, np.int64))
    table = table.append_column(R.ROW, pa.array(good, pa.int64()))
    table = table.append_column(R.ERROR_COLUMN, pa.nulls(table.num_rows, pa.string()))
    table = table.append_column(R.ERROR_REASON, pa.nulls(table.num_rows, pa.string()))
    rows = sorted(bad.items())
    extra = pa.table({**{c: pa.nulls(len(rows), pa.string()) for c in wanted},
                      R.ROW: pa.array([r for r, _ in rows], pa.int64()),
                      R.ERROR_COLUMN: pa.array(["*"] * len(rows), pa.string()),
                      R.ERROR_REASON: pa.array([m for _, m in rows], pa.string())})
    return pa.concat_tables([table, extra.select(table.column_names)])


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise RequestRejected("The invoice is not valid UTF-8 text",
                              [FieldError("invoice.csv", f"invalid character at offset {e.start}")]) from None


def from_bytes(data: bytes, fmt: str, version: str | None = None) -> Source:
    """A FOCUS or CUR export inline: CSV, gzip CSV or Parquet (told apart by their first bytes)."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise RequestRejected("The invoice is not valid gzip", [FieldError("invoice.csv", str(e)[:200])]) from None
    if data[:4] == PARQUET_MAGIC:
        return _parquet(data, fmt, version)
    names = _header(data)
    if fmt == "cur":
        names = [R.cur_name(n) for n in names]
    v, unknown = _check(fmt, names, version)
    table = _read_csv(data, names, _wanted(fmt, names))
    return Source(lambda: table, fmt, {**{c: R.KIND_TEXT for c in table.column_names}, R.ROW: R.KIND_NUMBER},
                  v, unknown)


def from_text(text: str, fmt: str, version: str | None = None) -> Source:
    return from_bytes(_utf8(text), fmt, version)


def _parquet(data: bytes, fmt: str, version: str | None) -> Source:
    pa = _pa()
    import pyarrow.parquet as pq  # lazy: cold start, as _pa()

    try:
        names = pq.read_schema(pa.BufferReader(data)).names
    except (pa.ArrowException, OSError) as e:
        raise RequestRejected("The invoice Parquet does not parse", [FieldError("invoice", str(e)[:200])]) from None
    mapped = {n: R.cur_name(n) for n in names} if fmt == "cur" else {n: n.strip() for n in names}
    v, unknown = _check(fmt, list(mapped.values()), version)
    wanted = set(_wanted(fmt, list(mapped.values())))
    table = pq.read_table(pa.BufferReader(data), columns=[n for n in names if mapped[n] in wanted])
    table = table.rename_columns([mapped[n] for n in table.column_names])
    table = table.append_column(R.ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))
    return Source(lambda: table, fmt, {f.name: kind_of(f.type) for f in table.schema}, v, unknown)


def _dictionary_reads(dataset, text_columns: list[str]):
    """The same files, with the text columns read dictionary-encoded (far less memory, faster GROUP BY): export
    text columns repeat a few thousand distinct values over millions of rows."""
    import pyarrow.dataset as ds  # lazy: cold start, as _pa()

    if not isinstance(dataset, ds.FileSystemDataset) or not text_columns:
        return dataset
    fmt = dataset.format
    if isinstance(fmt, ds.ParquetFileFormat):
        new = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=text_columns))
    elif isinstance(fmt, ds.CsvFileFormat):
        pa = _pa()
        import pyarrow.csv as pacsv  # lazy: cold start, as _pa()

        old = fmt.default_fragment_scan_options.convert_options
        types = {**old.column_types, **dict.fromkeys(text_columns, pa.dictionary(pa.int32(), pa.string()))}
        new = ds.CsvFileFormat(parse_options=fmt.parse_options, read_options=fmt.default_fragment_scan_options.read_options,
                               convert_options=pacsv.ConvertOptions(column_types=types,
                                                                    strings_can_be_null=old.strings_can_be_null))
    else:
        return dataset
    return ds.dataset(dataset.files, format=new, filesystem=dataset.filesystem)


def from_dataset(dataset, fmt: str, version: str | None = None) -> Source:
    """An export prefix (a pyarrow dataset over its files), streamed in record batches and numbered across files."""
    pa = _pa()

    names = dataset.schema.names
    mapped = {n: R.cur_name(n) if fmt == "cur" else n.strip() for n in names}
    v, unknown = _check(fmt, list(mapped.values()), version)
    wanted = set(_wanted(fmt, list(mapped.values())))
    cols = [n for n in names if mapped[n] in wanted]
    text = [n for n in cols if kind_of(dataset.schema.field(n).type) == R.KIND_TEXT]
    dataset = _dictionary_reads(dataset, text)
    schema = pa.schema([pa.field(mapped[n], dataset.schema.field(n).type) for n in cols] + [pa.field(R.ROW, pa.int64())])

    def batches():
        start = 1
        for b in dataset.to_batches(columns=cols):
            yield pa.RecordBatch.from_arrays([*b.columns, pa.array(np.arange(start, start + b.num_rows))], schema=schema)
            start += b.num_rows

    return Source(lambda: pa.RecordBatchReader.from_batches(schema, batches()), fmt,
                  {f.name: kind_of(f.type) for f in schema}, v, unknown)


def _table(rows: list[dict], number_columns=(), fmt: str = "focus", estimated: int = 0) -> Source:
    pa = _pa()
    names = sorted({k for r in rows for k in r} | {R.ROW})
    arrays = {}
    for n in names:
        typ = pa.float64() if n in number_columns else pa.int64() if n == R.ROW else pa.string()
        arrays[n] = pa.array([r.get(n) for r in rows], typ)
    table = pa.table(arrays) if rows else pa.table({R.ROW: pa.array([], pa.int64())})
    return Source(lambda: table, fmt, {f.name: kind_of(f.type) for f in table.schema}, None, [], estimated)


NUMBERS = ("BilledCost", "EffectiveCost", "ConsumedQuantity")


def line_items(data) -> Source:
    if not isinstance(data, list):
        raise RequestRejected("line_items must be a JSON list", [FieldError("invoice.data", "expected a list")])
    rows = []
    for n, item in enumerate(data, start=1):
        try:
            li = LineItem.model_validate(item)
        except ValidationError as e:  # the row is reported and set apart; the others are analysed
            first = e.errors()[0]
            rows.append({R.ROW: n, R.ERROR_COLUMN: ".".join(str(p) for p in first["loc"]) or "*",
                         R.ERROR_REASON: first["msg"]})
            continue
        rows.append({R.ROW: n, "ProviderName": li.provider, "ServiceName": li.service, "x_Model": li.model,
                     "x_UsageKind": li.usage_kind.value, "ConsumedQuantity": li.quantity, "ConsumedUnit": li.unit,
                     "BilledCost": li.billed_cost, "EffectiveCost": li.effective_cost, "BillingCurrency": li.currency,
                     "ChargeCategory": li.charge_category.value, "ChargePeriodStart": li.period_start.isoformat()})
    return _table(rows, NUMBERS)


def cost_explorer(groups: list[dict]) -> Source:
    """Cost Explorer ``ResultsByTime`` grouped by SERVICE and USAGE_TYPE: CUR 2.0 columns (see adapters.cost_explorer)."""
    rows = [{R.ROW: n, "line_item_product_code": g["keys"][0], "line_item_usage_type": g["keys"][1],
             "line_item_usage_amount": float(g["quantity"]), "line_item_unblended_cost": float(g["cost"]),
             "line_item_currency_code": g.get("currency", "USD"), "line_item_usage_start_date": g["period"],
             "line_item_line_item_type": "Usage"} for n, g in enumerate(groups, start=1)]
    return _table(rows, ("line_item_usage_amount", "line_item_unblended_cost"), fmt="cur")


def _number(value) -> float | None:
    """A finite JSON number (bools are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _openai_kind(line_item: str) -> str | None:
    """'gpt-4o-2024-08-06, cached input' -> cached_input_tokens (the costs export names the direction)."""
    tail = line_item.rsplit(",", 1)[-1].strip().lower() if "," in line_item else ""
    return {"input": "input_tokens", "output": "output_tokens", "cached input": "cached_input_tokens",
            "cached_input": "cached_input_tokens"}.get(tail)


def _openai_pages(data) -> dict:
    if isinstance(data, dict) and ("usage" in data or "costs" in data):
        return data
    if isinstance(data, dict):
        return {"page": data}
    raise RequestRejected("The OpenAI export must be an object",
                          [FieldError("invoice.data", "expected {\"data\": [...]} or {\"usage\": ..., \"costs\": ...}")])


def _openai_period(bucket: dict) -> str:
    """The bucket's start_time as YYYY-MM, or "" when it is missing or not a unix timestamp."""
    start = _number(bucket.get("start_time"))
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m") if start is not None and 0 <= start < 4e9 else ""


def _openai_cost_row(n: int, res: dict, period: str) -> dict:
    amount = res.get("amount") if isinstance(res.get("amount"), dict) else {}
    value = _number(amount.get("value"))
    item = str(res.get("line_item") or "")
    row = {R.ROW: n, "ProviderName": "OpenAI", "ServiceName": "OpenAI API",
           "x_Model": item.split(",")[0], "ChargeDescription": item, "x_UsageKind": _openai_kind(item),
           "BilledCost": value, "BillingCurrency": str(amount.get("currency", "usd")),
           "ChargeCategory": "usage", "ChargePeriodStart": period}
    if value is None:
        row.update({R.ERROR_COLUMN: "amount.value", R.ERROR_REASON: "missing or not a finite number"})
    elif not period:
        row.update({R.ERROR_COLUMN: "start_time", R.ERROR_REASON: "missing or not a unix timestamp"})
    return row


_OPENAI_USAGE_KINDS = (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                       ("input_cached_tokens", "cached_input_tokens"))


def _add_openai_usage(usage: dict[tuple[str, str, str], float], res: dict, period: str) -> None:
    model = str(res.get("model") or "")
    for key, k in _OPENAI_USAGE_KINDS:
        q = _number(res.get(key))
        if q:  # absent or zero: no line (a zero cached line is not "caching in use")
            usage[(period, model.lower(), k)] = usage.get((period, model.lower(), k), 0.0) + q


def _attach_usage(costs: list[dict], usage: dict[tuple[str, str, str], float]) -> None:
    """Costs carry the money; each cost row takes its (period, model, kind)'s token quantity from the usage export."""
    by_key: dict[tuple[str, str, str], float] = {}
    for (period, model, k), q in usage.items():
        key = (period, resolve_model(model), k)
        by_key[key] = by_key.get(key, 0.0) + q
    for row in costs:
        key = (row.get("ChargePeriodStart"), resolve_model(row.get("x_Model") or ""), row.get("x_UsageKind"))
        if key in by_key:
            row["ConsumedQuantity"], row["ConsumedUnit"] = by_key.pop(key), "tokens"


def _usage_at_list_price(usage: dict[tuple[str, str, str], float]) -> Source:
    """Usage only: price it at the catalog list price, and say so."""
    rows, priced = [], 0
    for n, ((period, model, k), q) in enumerate(sorted(usage.items()), start=1):
        quote = hosted_quote("openai", resolve_model(model), k)
        row = {R.ROW: n, "ProviderName": "OpenAI", "ServiceName": "OpenAI API", "x_Model": model, "x_UsageKind": k,
               "ConsumedQuantity": q, "ConsumedUnit": "tokens", "BillingCurrency": "USD", "ChargeCategory": "usage",
               "ChargePeriodStart": period}
        if quote:
            row["BilledCost"] = row["EffectiveCost"] = q / 1e6 * quote.price
            priced += 1
        else:
            row.update({R.ERROR_COLUMN: "costs", R.ERROR_REASON: f"no costs export and no catalog price for {model}"})
        rows.append(row)
    return _table(rows, NUMBERS, estimated=priced)


def openai(data) -> Source:
    """The OpenAI organisation usage (completions) and costs exports: ``{"usage": page, "costs": page}`` or one page.

    Costs carry the money and usage the quantities; usage alone is priced at the catalog list price (and says so)."""
    costs: list[dict] = []
    usage: dict[tuple[str, str, str], float] = {}
    n = 0
    for page in _openai_pages(data).values():
        for bucket in _list(page.get("data") if isinstance(page, dict) else None):
            if not isinstance(bucket, dict):
                continue
            period = _openai_period(bucket)
            for res in _list(bucket.get("results")):
                n += 1
                if not isinstance(res, dict):
                    costs.append({R.ROW: n, R.ERROR_COLUMN: "results", R.ERROR_REASON: "not an object"})
                    continue
                kind = str(res.get("object", ""))
                if kind.endswith("costs.result"):
                    costs.append(_openai_cost_row(n, res, period))
                elif kind.endswith("usage.completions.result"):
                    _add_openai_usage(usage, res, period)
    if costs:
        _attach_usage(costs, usage)
        return _table(costs, NUMBERS)
    return _usage_at_list_price(usage)
