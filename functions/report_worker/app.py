"""SQS worker: generates report files, stores them in S3 and updates the job; partial batch failures."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from costplan.adapters.backends import ports
from costplan.adapters.observability import logger, metrics
from costplan.services.report import handle_message

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)  # report per item, always


def record_handler(record) -> None:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    handle_message(json.loads(record.body), receive_count, ports())


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
