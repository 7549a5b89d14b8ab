"""POST /api/v1/copilot: a plain-language question in; a replayable structured request, its result and a short
answer out. Only the extracted intent (never the message) is logged."""

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import Request

from costplan.adapters.bedrock import backend_from_env
from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, logger, metrics
from costplan.adapters.snapstart import PRIMING_REQUEST_ID
from costplan.services.copilot import copilot
from costplan_contracts.copilot import CopilotRequest, CopilotResponse

ROUTE = "/api/v1/copilot"
app = create_app("copilot")


@app.post(ROUTE, response_model=CopilotResponse, tags=["copilot"],
          summary="Plain language to a replayable structured request, its result and a short answer")
async def post_copilot(request: CopilotRequest, http: Request) -> CopilotResponse:
    priming = http.scope.get("aws.event", {}).get("requestContext", {}).get("requestId") == PRIMING_REQUEST_ID
    result = copilot(request, backend=None if priming else backend_from_env())  # no Bedrock call while priming
    logger.info("copilot understood", extra={"intent": result.intent, "backend": result.backend,
                                              "slots": result.slots.model_dump(mode="json", exclude_none=True),
                                              "questions": [q.slot for q in result.questions]})
    log_warnings(ROUTE, result.warnings)
    metrics.add_metric(name="CopilotQuestionsAsked", unit=MetricUnit.Count, value=len(result.questions))
    return result


handler = lambda_handler(app)
