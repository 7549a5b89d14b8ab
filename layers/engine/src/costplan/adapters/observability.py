"""One Logger and one Metrics for the whole process (aws-lambda-powertools).

Service name, log level and metrics namespace come from the Powertools environment
variables set in template.yaml Globals (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_METRICS_NAMESPACE); the defaults below apply to local runs.
"""

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from costplan_contracts.enums import Severity

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "costplan")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CostPlan")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


WARNINGS_LOG_MESSAGE = "warnings returned"


def log_warnings(endpoint: str, warnings) -> None:
    """The warnings returned to a caller, as ONE structured log line per request, at INFO when every one is severity
    info, else WARNING: ``warning_codes`` (each code once, sorted) to filter on, and ``warnings`` (every one, as
    returned). One line, not one per warning: a Powertools line costs tens of microseconds, which was 12% of a warm
    plan/llm call."""
    if warnings:
        # at the level of the most severe one: a response carrying only info notes is not a WARNING line
        log = logger.info if all(w.severity == Severity.INFO for w in warnings) else logger.warning
        log(WARNINGS_LOG_MESSAGE, extra={
            "endpoint": endpoint,
            "warning_codes": sorted({w.code.value for w in warnings}),
            "warnings": [w.model_dump(mode="json") for w in warnings],
        })
    metrics.add_metric(name="WarningsReturned", unit=MetricUnit.Count, value=len(warnings))
