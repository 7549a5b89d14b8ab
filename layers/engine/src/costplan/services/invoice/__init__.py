"""Invoice analysis: one declarative rule set (``rules``) run by DuckDB in the function or by Athena as SQL.

Public: ``analyze`` and ``simulate`` (the endpoints), ``csv_request`` and ``detect_csv_format`` (text/csv
bodies and dropped files), ``export_sql`` (the aggregate query for an export table, DuckDB or Trino) and
``analyze_aggregates`` (its rows -> the AnalyzeResponse, whichever engine ran it)."""

from collections.abc import Mapping

from pydantic import ValidationError

from costplan.services.errors import FieldError, RequestRejected
from costplan.services.invoice.aggregates import analyze_aggregates
from costplan.services.invoice.rules import export_sql
from costplan.services.invoice_analyze import analyze_parsed
from costplan.services.invoice_parse import detect_csv_format, line_items_from_csv, parse
from costplan.services.invoice.simulate import simulate as run_scenarios
from costplan_contracts.enums import InvoiceFormat
from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse, CsvQuery, SimulateRequest, SimulateResponse

__all__ = ["analyze", "analyze_aggregates", "csv_request", "detect_csv_format", "export_sql", "simulate"]


def analyze(req: AnalyzeRequest, cost_explorer=None) -> AnalyzeResponse:
    return analyze_parsed(parse(req.invoice, cost_explorer), req.invoice.format)


def simulate(req: SimulateRequest, cost_explorer=None) -> SimulateResponse:
    analysis = req.analysis or analyze(AnalyzeRequest(invoice=req.invoice), cost_explorer)
    return run_scenarios(analysis, req.scenarios)


def csv_request(text: str, query: Mapping[str, str]) -> dict:
    """The JSON analyze request for a text/csv body: the format from ?invoice_format=, else from the header."""
    try:
        q = CsvQuery.model_validate({k: v for k, v in query.items() if k in CsvQuery.model_fields})
    except ValidationError as e:
        raise RequestRejected("Query parameters failed validation",
                              [FieldError(".".join(map(str, err["loc"])), err["msg"]) for err in e.errors()]) from None
    fmt = InvoiceFormat(q.invoice_format) if q.invoice_format else detect_csv_format(text)
    if fmt == InvoiceFormat.LINE_ITEMS:
        return {"invoice": {"format": fmt.value, "data": line_items_from_csv(text)}}
    return {"invoice": {"format": fmt.value, "csv": text, "focus_version": q.focus_version}}
