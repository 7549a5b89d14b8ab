"""POST /api/v1/invoice/analyze: reconcile an AI bill, break it down, and say what to change and what it saves.

The body is the JSON request, or the billing export itself as text/csv (optionally gzip-encoded). A JSON
``source.s3_prefix`` (an export already in S3) becomes a report job instead: 202 with its status URL."""

from aws_lambda_powertools.metrics import MetricUnit
from fastapi.responses import JSONResponse

from costplan.adapters.backends import export_places, ports
from costplan.adapters.cost_explorer import fetch
from costplan.adapters.http import TextBody, bodies_openapi, create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.invoice import analyze, csv_request, parquet_request
from costplan.services.reports.invoice_jobs import submit_export_analysis
from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES
from costplan_contracts.invoice import CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE, AnalyzeRequest, AnalyzeResponse, CsvQuery
from costplan_contracts.report import ReportJob

ROUTE = "/api/v1/invoice/analyze"
CSV_BODY = TextBody(CSV_MEDIA_TYPE, "invoice.csv", csv_request, CsvQuery,
                    "A FOCUS, CUR 2.0 or line-items CSV export as the whole body")
PARQUET_BODY = TextBody(PARQUET_MEDIA_TYPE, "invoice.parquet_base64", parquet_request, CsvQuery,
                        "A FOCUS or CUR 2.0 Parquet file as the whole body (?invoice_format=cur for CUR)", binary=True)
app = create_app("invoice/analyze", max_body=INVOICE_BODY_MAX_BYTES, text_bodies=(CSV_BODY, PARQUET_BODY))


@app.post(ROUTE, response_model=AnalyzeResponse, tags=["invoice"], summary="Analyse an AI invoice",
          openapi_extra=bodies_openapi(CSV_BODY, PARQUET_BODY),
          responses={202: {"model": ReportJob, "description": "source.s3_prefix: the analysis runs as a report job"}})
async def post_analyze(request: AnalyzeRequest):
    if request.source is not None:
        job = submit_export_analysis(request, export_places(), ports)
        return JSONResponse(job.model_dump(mode="json"), status_code=202)
    result = analyze(request, cost_explorer=fetch)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="InvoiceRowsAnalysed", unit=MetricUnit.Count, value=result.reconciliation.input_rows)
    return result


handler = lambda_handler(app)
