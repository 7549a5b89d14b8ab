"""The report backends in moto, built from their definitions in template.yaml (table + index, queue + DLQ,
bucket), so the tests and the template cannot disagree. Shared by the report integration tests."""

import json
from contextlib import contextmanager

import boto3
from moto import mock_aws

from tools.template import load_template

RES = load_template()["Resources"]
BUCKET = "costplan-reports-123456789012-us-east-1"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": "us-east-1", "COSTPLAN_STORAGE": "aws"}


def create_backends(monkeypatch) -> dict:
    """Inside mock_aws: create everything and point the COSTPLAN_* environment at it."""
    table = RES["JobsTable"]["Properties"]
    ddb = boto3.client("dynamodb")
    ddb.create_table(TableName="jobs", AttributeDefinitions=table["AttributeDefinitions"],
                     KeySchema=table["KeySchema"], BillingMode=table["BillingMode"],
                     GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"])
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="reports-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    q = RES["ReportQueue"]["Properties"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(q["RedrivePolicy"]["maxReceiveCount"])}
    url = sqs.create_queue(QueueName="reports", Attributes={
        "VisibilityTimeout": str(q["VisibilityTimeout"]), "RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("JOBS_TABLE", "jobs")
    monkeypatch.setenv("REPORT_BUCKET", BUCKET)
    monkeypatch.setenv("REPORT_QUEUE_URL", url)
    monkeypatch.setenv("REPORT_DLQ_URL", dlq)
    return {"sqs": sqs, "s3": s3, "ddb": ddb, "url": url, "dlq": dlq}


def sqs_records(messages: list[dict], template: dict) -> list[dict]:
    """SQS event records for messages received from the moto queue, as the event source mapping builds them."""
    return [{**template, "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": {**template["attributes"],
                            "ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]}}
            for m in messages]


class Faults:
    """Injects botocore ClientErrors into the backends' own clients with a ``before-call`` hook (outside
    botocore's retry loop, so each one reaches our code): at a seeded ``rate``, and/or on the next calls
    of named operations. Counts everything it injected."""

    CODES = {"s3": ("SlowDown", "InternalError", "ServiceUnavailable"),
             "dynamodb": ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"),
             "sqs": ("ThrottlingException", "InternalError", "ServiceUnavailable")}

    def __init__(self, seed: int = 0, rate: float = 0.0) -> None:
        import random

        self.rng, self.rate = random.Random(seed), rate
        self.scripted: dict[str, list[str]] = {}  # operation -> codes for its next calls
        self.injected: dict[str, int] = {}

    def attach(self, ports) -> None:
        clients = [ports.jobs.table.meta.client, ports.store.client, ports.queue.client]
        if ports.dead_letters is not None:
            clients.append(ports.dead_letters.client)
        for client in clients:
            client.meta.events.register("before-call.*.*", self._hook)

    def next(self, operation: str, *codes: str | None) -> None:
        """The next calls of ``operation`` fail with these codes in turn (None lets that call through)."""
        self.scripted.setdefault(operation, []).extend(codes)

    def _hook(self, model, **kwargs):
        from botocore.exceptions import ClientError

        service = model.service_model.service_name
        code = None
        if self.scripted.get(model.name):
            code = self.scripted[model.name].pop(0)
        elif self.rate and self.rng.random() < self.rate:
            code = self.rng.choice(self.CODES.get(service, ("InternalError",)))
        if code is None:
            return None
        label = f"{service}:{model.name}:{code}"
        self.injected[label] = self.injected.get(label, 0) + 1
        raise ClientError({"Error": {"Code": code, "Message": f"injected for arn:aws:{service}:us-east-1:"
                                                               f"123456789012:thing"}}, model.name)

    @property
    def total(self) -> int:
        return sum(self.injected.values())


class Clock:
    """The jobs' clock (job metadata only), moved by hand: the sweeper's thresholds without waiting."""

    def __init__(self, start: str = "2026-11-28T12:00:00+00:00") -> None:
        import datetime as dt

        self.t = dt.datetime.fromisoformat(start)

    def __call__(self) -> str:
        return self.t.isoformat(timespec="seconds")

    def advance(self, seconds: float) -> None:
        import datetime as dt

        self.t += dt.timedelta(seconds=seconds)


def focus_of_size(target_bytes: int) -> str:
    """A FOCUS 1.2 export of at least ``target_bytes``, built by repeating the spec-built sample lines."""
    from invoice_data import FOCUS_LINES, focus_csv

    one = focus_csv("1.2")
    per_line = (len(one) - len(one.split("\n", 1)[0])) / len(FOCUS_LINES)
    copies = int(target_bytes / per_line / len(FOCUS_LINES)) + 1
    return focus_csv("1.2", lines=FOCUS_LINES * copies)


@contextmanager
def moto_reports(monkeypatch, lambda_context, faults: "Faults | None" = None):
    """The report backends in moto behind the real adapters; with ``faults``, a test clock, short DLQ peeks and
    the fault hook on the backends' own clients. Yields the clients, URLs, context (and clock, faults, ports)."""
    from moto.server import ThreadedMotoServer

    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        env = create_backends(monkeypatch)
        # pyarrow's own S3 client (the export reader) cannot see mock_aws; a moto server in this process
        # serves the same in-memory buckets over HTTP.
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        monkeypatch.setenv("COSTPLAN_ARROW_S3_ENDPOINT", f"http://{host}:{port}")
        from costplan.adapters import backends
        from costplan.adapters import queue as queue_adapter

        backends.ports.cache_clear()
        env["ctx"] = lambda_context
        if faults is not None:
            clock = Clock()
            monkeypatch.setattr(backends, "now", clock)
            monkeypatch.setattr(queue_adapter, "DLQ_PEEK_VISIBILITY_S", 1)  # moto hides peeked messages in real time
            backends.ports.cache_clear()
            faults.attach(backends.ports())
            env.update(clock=clock, faults=faults, ports=backends.ports())
        backends.export_places.cache_clear()
        try:
            yield env
        finally:
            server.stop()
            backends.ports.cache_clear()
            backends.export_places.cache_clear()
