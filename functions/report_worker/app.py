"""SQS worker: generates report files, stores them in S3 and updates the job; partial batch failures.

Each record runs under a deadline DEADLINE_MARGIN_S before Lambda's own: a render that would outlive
the function is interrupted, and the job is re-queued (or failed TIMEOUT on its last attempt).
A poison message is sent to the DLQ by the service and acknowledged here.
"""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from costplan.adapters.backends import ports
from costplan.adapters.deadline import deadline
from costplan.adapters.observability import logger, metrics
from costplan.services.reports.jobs import handle_record

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)  # report per item, always


def record_handler(record, lambda_context=None) -> str:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    with deadline(lambda_context) as until:
        outcome = handle_record(record.body, receive_count, ports(), until)
    metrics.add_metric(name=f"ReportJob_{outcome}", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
