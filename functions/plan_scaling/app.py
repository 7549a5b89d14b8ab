"""POST /api/v1/plan/scaling: replicas and configurations for serving an open-weight model at a load."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.plan.scaling import plan_scaling
from costplan_contracts.plan_scaling import PlanScalingRequest, PlanScalingResponse

ROUTE = "/api/v1/plan/scaling"
app = create_app("plan/scaling")


@app.post(ROUTE, response_model=PlanScalingResponse, tags=["plan"], summary="Size replicas for a self-hosted model")
async def post_plan_scaling(request: PlanScalingRequest) -> PlanScalingResponse:
    result = plan_scaling(request)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="ScalingConfigurationsReturned", unit=MetricUnit.Count, value=len(result.configurations))
    return result


handler = lambda_handler(app)
