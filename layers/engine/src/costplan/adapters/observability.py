"""One Logger and one Metrics for the whole process (aws-lambda-powertools).

Service name, log level and metrics namespace come from the Powertools environment
variables set in template.yaml Globals (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_METRICS_NAMESPACE); the defaults below apply to local runs.
"""

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "costplan")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CostPlan")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def log_warnings(endpoint: str, warnings) -> None:
    """Every warning returned to a caller is also one structured log line."""
    for w in warnings:
        logger.warning(w.message, extra={"endpoint": endpoint, "warning": w.model_dump(mode="json")})
    metrics.add_metric(name="WarningsReturned", unit=MetricUnit.Count, value=len(warnings))
