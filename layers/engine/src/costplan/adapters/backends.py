"""Choose the report backends by configuration: AWS (S3, DynamoDB, SQS) or embedded local defaults.

Environment (read on first use, never at import time):
- ``COSTPLAN_STORAGE``: ``aws`` or ``local`` (default ``local``: no AWS account needed).
- AWS: ``REPORT_BUCKET``, ``JOBS_TABLE``, ``REPORT_QUEUE_URL``, ``REPORT_URL_EXPIRY_SECONDS`` (default 900).
- local: ``COSTPLAN_LOCAL_DIR`` (default ``.local-data``, git-ignored) and ``COSTPLAN_PUBLIC_URL``
  (default ``http://127.0.0.1:3000``) for download links.
"""

import datetime as dt
import os
from functools import cache
from pathlib import Path

from costplan.services.report import Ports
from costplan_contracts.bounds import REPORT_MAX_RECEIVES, REPORT_URL_EXPIRY_SECONDS

STATUS_PATH = "/api/v1/report/{report_id}"
FILE_PATH = "/api/v1/report/{report_id}/files/{format}"
AWS, LOCAL = "aws", "local"


def mode() -> str:
    return os.environ.get("COSTPLAN_STORAGE", LOCAL)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@cache
def _boto3():
    import boto3  # only AWS mode pays for this import

    return boto3


def _client(name: str):
    if name == "s3":  # SigV4 presigned URLs (X-Amz-Expires), valid in every region
        from botocore.config import Config

        return _boto3().client(name, config=Config(signature_version="s3v4"))
    return _boto3().client(name)


def _resource(name: str):
    return _boto3().resource(name)


def _local_url(key: str) -> str:
    # key: reports/<report_id>/report.<ext>
    from costplan.services.report import EXTENSIONS

    _, rid, filename = key.split("/")
    ext = filename.rsplit(".", 1)[1]
    fmt = next(f.value for f, e in EXTENSIONS.items() if e == ext)
    base = os.environ.get("COSTPLAN_PUBLIC_URL", "http://127.0.0.1:3000").rstrip("/")
    return base + FILE_PATH.format(report_id=rid, format=fmt)


@cache
def ports() -> Ports:
    from costplan.adapters.jobs import DynamoJobStore, LocalJobStore
    from costplan.adapters.queue import InProcessQueue, SqsQueue
    from costplan.adapters.storage import LocalDiskStore, S3Store

    if mode() == AWS:
        env = os.environ
        return Ports(
            jobs=DynamoJobStore(env["JOBS_TABLE"], _resource),
            store=S3Store(env["REPORT_BUCKET"], int(env.get("REPORT_URL_EXPIRY_SECONDS", REPORT_URL_EXPIRY_SECONDS)),
                          _client),
            queue=SqsQueue(env["REPORT_QUEUE_URL"], _client), now=now)
    root = Path(os.environ.get("COSTPLAN_LOCAL_DIR", ".local-data"))
    holder: dict = {}

    def worker(message: dict, receive_count: int) -> None:
        from costplan.services.report import process

        process(message["report_id"], holder["ports"], receive_count)

    p = Ports(jobs=LocalJobStore(root), store=LocalDiskStore(root, _local_url),
              queue=InProcessQueue(worker, REPORT_MAX_RECEIVES), now=now)
    holder["ports"] = p
    return p
