"""POST /api/v1/invoice/analyze: reconcile an AI bill, break it down, and say what to change and what it saves.

The body is the JSON request, or the billing export itself as text/csv (optionally gzip-encoded)."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.cost_explorer import fetch
from costplan.adapters.http import TextBody, create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.invoice import analyze, csv_request
from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES
from costplan_contracts.invoice import CSV_MEDIA_TYPE, AnalyzeRequest, AnalyzeResponse, CsvQuery

ROUTE = "/api/v1/invoice/analyze"
CSV_BODY = TextBody(CSV_MEDIA_TYPE, "invoice.csv", csv_request, CsvQuery,
                    "A FOCUS, CUR 2.0 or line-items CSV export as the whole body")
app = create_app("invoice/analyze", max_body=INVOICE_BODY_MAX_BYTES, text_bodies=(CSV_BODY,))


@app.post(ROUTE, response_model=AnalyzeResponse, tags=["invoice"], summary="Analyse an AI invoice",
          openapi_extra=CSV_BODY.openapi_extra())
async def post_analyze(request: AnalyzeRequest) -> AnalyzeResponse:
    result = analyze(request, cost_explorer=fetch)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="InvoiceRowsAnalysed", unit=MetricUnit.Count, value=result.reconciliation.input_rows)
    return result


handler = lambda_handler(app)
