"""Invoice analysis: one declarative rule set (``rules``), run by DuckDB in the function or by Athena as SQL.

Public:
- ``analyze`` / ``simulate``: the endpoints' entry points (JSON requests: CSV text, OpenAI, line items, Cost Explorer).
- ``analyze_bytes``: an export given as bytes (CSV, gzip CSV or Parquet); ``analyze_dataset``: an export prefix
  (S3 or a local folder) opened by an ``export_ports.ExportReader``, streamed (``invoice_exports`` decides
  between it and Athena).
- ``csv_request`` / ``parquet_request`` / ``detect_csv_format``: text/csv and Parquet bodies, dropped files.
- ``export_sql``: the aggregate query for an export table (DuckDB, or Trino for Athena);
  ``analyze_aggregates``: its rows -> the AnalyzeResponse, whichever engine ran it.
"""

import base64
import binascii
import contextlib
import csv
import io
from collections.abc import Mapping

from pydantic import ValidationError

from costplan.services.errors import FieldError, RequestRejected
from costplan.services.invoice import sources as S
from costplan.services.invoice.aggregates import analyze_aggregates
from costplan.services.invoice.engine import run
from costplan.services.invoice.rules import export_sql
from costplan.services.invoice.simulate import simulate as run_scenarios
from costplan.services.invoice.sources import PARQUET_MAGIC
from costplan_contracts.enums import InvoiceFormat
from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse, CsvQuery, SimulateRequest, SimulateResponse

__all__ = ["analyze", "analyze_aggregates", "analyze_bytes", "analyze_dataset", "csv_request", "detect_csv_format",
           "export_sql", "parquet_request", "simulate"]


def _analyze_source(source, fmt: InvoiceFormat) -> AnalyzeResponse:
    rows, errors, total = run(source)
    return analyze_aggregates(rows, fmt=fmt, focus_version=source.focus_version,
                              unknown_columns=source.unknown_columns, row_errors=errors, row_errors_total=total,
                              estimated_costs=source.estimated_costs)


def analyze(req: AnalyzeRequest, cost_explorer=None) -> AnalyzeResponse:
    inv = req.invoice
    if inv.format in (InvoiceFormat.FOCUS, InvoiceFormat.CUR) and inv.parquet_base64 is not None:
        source = S.from_bytes(_parquet_bytes(inv.parquet_base64), inv.format.value, inv.focus_version)
    elif inv.format in (InvoiceFormat.FOCUS, InvoiceFormat.CUR):
        source = S.from_text(inv.csv, inv.format.value, inv.focus_version)
    elif inv.format == InvoiceFormat.OPENAI:
        source = S.openai(inv.data)
    elif inv.format == InvoiceFormat.LINE_ITEMS:
        source = S.line_items(inv.data)
    elif cost_explorer is None:  # e.g. a report job: only the invoice functions may call Cost Explorer
        raise RequestRejected("Cost Explorer pull mode is not available here", [FieldError(
            "invoice.cost_explorer", "Cost Explorer data can only be pulled by POST /api/v1/invoice/analyze "
                                     "or /invoice/simulate; pass its analysis as the report source instead")])
    else:
        source = S.cost_explorer(cost_explorer(inv.cost_explorer))
    return _analyze_source(source, inv.format)


def analyze_bytes(data: bytes, fmt: InvoiceFormat, focus_version: str | None = None) -> AnalyzeResponse:
    """A FOCUS or CUR 2.0 export as bytes: CSV, gzip CSV or Parquet (told apart by their first bytes)."""
    return _analyze_source(S.from_bytes(data, fmt.value, focus_version), fmt)


def analyze_dataset(dataset, fmt: InvoiceFormat, focus_version: str | None = None) -> AnalyzeResponse:
    """An export prefix as a ``pyarrow.dataset`` (``export_ports.ExportReader.dataset``): scanned in record
    batches by DuckDB, never copied whole into memory. Typed Parquet columns are read as they are."""
    return _analyze_source(S.from_dataset(dataset, fmt.value, focus_version), fmt)


def simulate(req: SimulateRequest, cost_explorer=None) -> SimulateResponse:
    analysis = req.analysis or analyze(AnalyzeRequest(invoice=req.invoice), cost_explorer)
    return run_scenarios(analysis, req.scenarios)


def detect_csv_format(text: str) -> InvoiceFormat:
    """FOCUS or CUR, told apart by the header row: BilledCost is a mandatory FOCUS column and no CUR column.

    The one rule for every CSV that arrives without a format (a text/csv body, a file dropped under invoices/)."""
    header = text[:65536].split("\n", 1)[0]
    return InvoiceFormat.FOCUS if "BilledCost" in header else InvoiceFormat.CUR


LINE_ITEM_NUMBERS = ("quantity", "billed_cost", "effective_cost")


def line_items_from_csv(text: str) -> list[dict]:
    """CostPlan line items given as CSV columns (the LineItem field names): one dict per row.

    Empty cells are left out (the field's default applies); numeric cells become numbers where they parse, and
    otherwise stay text, so that row is reported as a row error like any other bad line item."""
    rows, reader = [], csv.DictReader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            item = {k.strip().lstrip("\ufeff"): v.strip() for k, v in record.items()
                    if k is not None and isinstance(v, str) and v.strip() != ""}
            for name in LINE_ITEM_NUMBERS:
                with contextlib.suppress(KeyError, ValueError):
                    item[name] = float(item[name])
            rows.append(item)
    except csv.Error as e:
        raise RequestRejected("The invoice CSV does not parse",
                              [FieldError("invoice.csv", f"line {reader.line_num}: {e}")]) from None
    return rows


PARQUET_FIELD = "invoice.parquet_base64"


def _parquet_bytes(encoded: str) -> bytes:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RequestRejected("The Parquet invoice is not base64", [FieldError(PARQUET_FIELD, "not base64")]) from None
    return _check_parquet(data)


def _check_parquet(data: bytes) -> bytes:
    if data[:4] != PARQUET_MAGIC or data[-4:] != PARQUET_MAGIC:
        raise RequestRejected("The invoice is not a Parquet file", [FieldError(PARQUET_FIELD, "no PAR1 magic bytes")])
    return data


def parquet_request(data: bytes, query: Mapping[str, str]) -> dict:
    """The JSON analyze request for an application/vnd.apache.parquet body: the format from ?invoice_format=,
    else FOCUS (AWS Data Exports write FOCUS or CUR 2.0 as Parquet; pass invoice_format=cur for CUR)."""
    q = _query(query)
    if q.invoice_format == InvoiceFormat.LINE_ITEMS.value:
        raise RequestRejected("Parquet bodies are FOCUS or CUR 2.0", [FieldError("invoice_format", "use focus or cur")])
    encoded = base64.b64encode(_check_parquet(data)).decode("ascii")
    return {"invoice": {"format": q.invoice_format or InvoiceFormat.FOCUS.value, "parquet_base64": encoded,
                        "focus_version": q.focus_version}}


def _query(query: Mapping[str, str]) -> CsvQuery:
    try:
        return CsvQuery.model_validate({k: v for k, v in query.items() if k in CsvQuery.model_fields})
    except ValidationError as e:
        raise RequestRejected("Query parameters failed validation",
                              [FieldError(".".join(map(str, err["loc"])), err["msg"]) for err in e.errors()]) from None


def csv_request(text: str, query: Mapping[str, str]) -> dict:
    """The JSON analyze request for a text/csv body: the format from ?invoice_format=, else from the header."""
    q = _query(query)
    fmt = InvoiceFormat(q.invoice_format) if q.invoice_format else detect_csv_format(text)
    if fmt == InvoiceFormat.LINE_ITEMS:
        return {"invoice": {"format": fmt.value, "data": line_items_from_csv(text)}}
    return {"invoice": {"format": fmt.value, "csv": text, "focus_version": q.focus_version}}
