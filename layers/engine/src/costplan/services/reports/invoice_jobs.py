"""An invoice export in S3, named in POST /invoice/analyze, analysed as a report job (kind invoice_analyze)."""

from costplan.services.invoice.exports import ExportPlaces, check_prefix
from costplan.services.reports.api import generate
from costplan.services.reports.requests import invoice_report_request
from costplan_contracts.invoice import AnalyzeRequest
from costplan_contracts.report import ReportJob


def submit_export_analysis(req: AnalyzeRequest, places: ExportPlaces, ports_factory) -> ReportJob:
    """POST /invoice/analyze with a source: refuse a prefix this deployment may not read (422), else record
    and enqueue the report job. Returns the ReportJob (202)."""
    check_prefix(req.source.s3_prefix, places)
    source = req.source.model_dump(mode="json", exclude_none=True)
    job, _ = generate(invoice_report_request(source, req.source.s3_prefix), ports_factory)
    return job
