"""POST /api/v1/rank/catalog: rank offerings of any AI workload type, with explicit unit normalisation."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.catalog_rank.rank import rank_catalog
from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

ROUTE = "/api/v1/rank/catalog"
app = create_app("rank/catalog")


@app.post(ROUTE, response_model=RankCatalogResponse, tags=["rank"], summary="Rank AI service offerings across units")
async def post_rank_catalog(request: RankCatalogRequest) -> RankCatalogResponse:
    result = rank_catalog(request)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="CatalogRowsReturned", unit=MetricUnit.Count, value=len(result.rows))
    return result


handler = lambda_handler(app)
