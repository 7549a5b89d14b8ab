"""Scheduled (EventBridge, every 5 minutes): read the report DLQ without deleting, and fail each open job
found there (DEAD_LETTERED). The messages stay on the DLQ, so its depth alarm keeps firing and an
operator can redrive them once the cause is fixed (a redriven message re-runs its failed job)."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.backends import ports
from costplan.adapters.observability import logger, metrics
from costplan.services.reports.jobs import drain_dead_letters


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    counts = drain_dead_letters(ports())
    for what, n in sorted(counts.items()):
        metrics.add_metric(name=f"DeadLetters_{what}", unit=MetricUnit.Count, value=n)
    logger.info("dead letters read", extra={"counts": counts})
    return counts
