"""The report requests other entry points turn into jobs: one builder for an invoice analysis of an export in S3."""

from costplan_contracts.bounds import REPORT_TITLE_MAX
from costplan_contracts.enums import ReportFormat, ReportKind, ReportMode
from costplan_contracts.report import ReportRequest

INVOICE_TITLE = "Invoice analysis: {subject}"


def invoice_report_request(source: dict, subject: str) -> ReportRequest:
    """The async report request (every format) of invoice/analyze over ``source``, an invoice/analyze ``source``
    object (``{"s3_prefix": ...}``); ``subject`` names it in the title. Its id is a hash of it, so submitting the same
    export again finds the same job. Used for exports named in POST /invoice/analyze and for files dropped under
    invoices/ (CSV, gzip CSV or Parquet; FOCUS or CUR, told from the columns)."""
    return ReportRequest.model_validate({
        "source": {"kind": ReportKind.INVOICE_ANALYZE.value, "request": {"source": source}},
        "formats": [f.value for f in ReportFormat], "mode": ReportMode.ASYNC.value,
        "title": INVOICE_TITLE.format(subject=subject)[:REPORT_TITLE_MAX]})
