"""POST /api/v1/assist/workload: a plan/llm workload, SLO and profile from an application description."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.assist import estimate_workload
from costplan_contracts.assist import AssistWorkloadRequest, AssistWorkloadResponse

ROUTE = "/api/v1/assist/workload"
app = create_app("assist/workload")


@app.post(ROUTE, response_model=AssistWorkloadResponse, tags=["assist"],
          summary="Estimate a plan/llm workload (volumes, cached share, shape, SLO) from a use case and its scale")
async def post_assist_workload(request: AssistWorkloadRequest) -> AssistWorkloadResponse:
    result = estimate_workload(request)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="AssumptionsDefaulted", unit=MetricUnit.Count,
                       value=sum(not a.stated for a in result.assumptions))
    return result


handler = lambda_handler(app)
