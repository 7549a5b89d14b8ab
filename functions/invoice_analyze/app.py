"""POST /api/v1/invoice/analyze: reconcile an AI bill, break it down, and say what to change and what it saves."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.cost_explorer import fetch
from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.invoice import analyze
from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES
from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse

ROUTE = "/api/v1/invoice/analyze"
app = create_app("invoice/analyze", max_body=INVOICE_BODY_MAX_BYTES)


@app.post(ROUTE, response_model=AnalyzeResponse, tags=["invoice"], summary="Analyse an AI invoice")
async def post_analyze(request: AnalyzeRequest) -> AnalyzeResponse:
    result = analyze(request, cost_explorer=fetch)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="InvoiceRowsAnalysed", unit=MetricUnit.Count, value=result.reconciliation.input_rows)
    return result


handler = lambda_handler(app)
