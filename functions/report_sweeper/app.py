"""Scheduled (EventBridge, every 5 minutes): re-send open report jobs nobody is moving on, or fail them
once over budget. Finds them with a Query on the jobs table's sparse PendingJobs index, never a Scan."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.backends import ports
from costplan.adapters.observability import logger, metrics
from costplan.services.reports.jobs import sweep


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    counts = sweep(ports())
    for what, n in sorted(counts.items()):
        metrics.add_metric(name=f"Sweep_{what}", unit=MetricUnit.Count, value=n)
    logger.info("sweep done", extra={"counts": counts})
    return counts
