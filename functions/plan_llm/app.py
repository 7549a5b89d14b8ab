"""POST /api/v1/plan/llm: where is this LLM workload cheapest, and why."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.plan.llm import plan_llm
from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse

ROUTE = "/api/v1/plan/llm"
app = create_app("plan/llm")


@app.post(ROUTE, response_model=PlanLlmResponse, tags=["plan"], summary="Rank hosted LLM offerings for a workload")
async def post_plan_llm(request: PlanLlmRequest) -> PlanLlmResponse:
    result = plan_llm(request)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="PlanRowsReturned", unit=MetricUnit.Count, value=len(result.rows))
    return result


handler = lambda_handler(app)
