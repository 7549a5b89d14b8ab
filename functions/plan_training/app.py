"""POST /api/v1/plan/training: what training or fine-tuning a model costs, how long it takes, and its lifecycle."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.training.estimate import plan_training
from costplan_contracts.plan_training import PlanTrainingRequest, PlanTrainingResponse

ROUTE = "/api/v1/plan/training"
app = create_app("plan/training")


@app.post(ROUTE, response_model=PlanTrainingResponse, tags=["plan"],
          summary="Cost, time and lifecycle of training or fine-tuning a model, self-run or managed")
async def post_plan_training(request: PlanTrainingRequest) -> PlanTrainingResponse:
    result = plan_training(request)
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="TrainingOptionsReturned", unit=MetricUnit.Count, value=len(result.options))
    return result


handler = lambda_handler(app)
