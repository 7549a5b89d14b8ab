"""POST /api/v1/assist/explain: why a plan/llm, rank/catalog or plan/scaling ranking came out as it did."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.assist import explain
from costplan_contracts.assist import AssistExplainRequest, AssistExplainResponse
from costplan_contracts.enums import BreakEvenStatus

ROUTE = "/api/v1/assist/explain"
app = create_app("assist/explain")


@app.post(ROUTE, response_model=AssistExplainResponse, tags=["assist"],
          summary="Explain a ranking: #1 against #2 in dollars, exclusions, smallest relaxations, exact break-evens")
async def post_assist_explain(request: AssistExplainRequest) -> AssistExplainResponse:
    result = explain(request)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="BreakEvensFound", unit=MetricUnit.Count,
                       value=sum(b.status == BreakEvenStatus.FOUND for b in result.break_evens))
    return result


handler = lambda_handler(app)
