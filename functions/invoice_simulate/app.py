"""POST /api/v1/invoice/simulate: replay what-if scenarios against an invoice or an analysis."""

from costplan.adapters.cost_explorer import fetch
from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings
from costplan.services.invoice import simulate
from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES
from costplan_contracts.invoice import SimulateRequest, SimulateResponse

ROUTE = "/api/v1/invoice/simulate"
app = create_app("invoice/simulate", max_body=INVOICE_BODY_MAX_BYTES)


@app.post(ROUTE, response_model=SimulateResponse, tags=["invoice"], summary="Simulate remediation scenarios")
async def post_simulate(request: SimulateRequest) -> SimulateResponse:
    result = simulate(request, cost_explorer=fetch)
    log_warnings(ROUTE, result.warnings)
    return result


handler = lambda_handler(app)
