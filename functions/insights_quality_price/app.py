"""POST /api/v1/insights/quality-price: quality against price for a workload, its Pareto frontier, a chart."""

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings
from costplan.services.plan.insights import quality_price
from costplan_contracts.insights import QualityPriceRequest, QualityPriceResponse

ROUTE = "/api/v1/insights/quality-price"
app = create_app("insights/quality-price")


@app.post(ROUTE, response_model=QualityPriceResponse, tags=["insights"],
          summary="Quality vs price for this workload, with the Pareto frontier and a Vega-Lite chart")
async def post_quality_price(request: QualityPriceRequest) -> QualityPriceResponse:
    result = quality_price(request)
    log_warnings(ROUTE, result.warnings)
    return result


handler = lambda_handler(app)
