"""Choose the report backends by configuration: AWS (S3, DynamoDB, SQS) or embedded local defaults.

Environment (read on first use, never at import time):
- ``COSTPLAN_STORAGE``: ``aws`` or ``local`` (default ``local``: no AWS account needed).
- AWS: ``REPORT_BUCKET`` (also where POST /uploads presigns PUTs), ``JOBS_TABLE``, ``REPORT_QUEUE_URL``,
  ``REPORT_DLQ_URL`` (the worker and the DLQ handler), ``REPORT_URL_EXPIRY_SECONDS`` (default 900).
- local: ``COSTPLAN_LOCAL_DIR`` (default ``.local-data``, git-ignored) and ``COSTPLAN_PUBLIC_URL``
  (default ``http://127.0.0.1:3000``) for download links; ``s3://costplan-local/invoices/...`` is that
  folder's ``invoices/``.
- Billing exports (invoice/analyze ``source.s3_prefix``, drops under ``invoices/``): ``COSTPLAN_EXPORT_BUCKET``
  and ``COSTPLAN_EXPORT_PREFIX`` (empty = export access off; template parameters ExportBucketName and
  ExportPrefix), ``COSTPLAN_EXPORT_DIR`` (local: the folder standing in for the export bucket); Athena:
  ``COSTPLAN_ATHENA_WORKGROUP``, ``COSTPLAN_ATHENA_DATABASE``, ``COSTPLAN_ATHENA_TABLE``,
  ``COSTPLAN_ATHENA_TIMEOUT_S`` (default 45), ``COSTPLAN_ATHENA_MIN_BYTES`` / ``COSTPLAN_ATHENA_MIN_ROWS``
  (where an export moves from the function to Athena).
"""

import datetime as dt
import os
from functools import cache, partial
from pathlib import Path

from costplan.services.reports.jobs import Ports
from costplan_contracts.bounds import REPORT_MAX_RECEIVES, REPORT_URL_EXPIRY_SECONDS

# Standard retries (throttles included) with socket timeouts, so no call can hang past the worker's deadline.
CLIENT_RETRIES = {"mode": "standard", "max_attempts": 3}
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 3, 10

LOCAL_BUCKET = "costplan-local"  # make run: the bucket name that stands for COSTPLAN_LOCAL_DIR
ATHENA_TIMEOUT_S = 45.0  # under the worker's 60 s; its alarm interrupts a query that would outlive it
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


def _config(**extra):
    from botocore.config import Config

    return Config(retries=CLIENT_RETRIES, connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S, **extra)


def _client(name: str):
    if name == "s3":  # SigV4 presigned URLs (X-Amz-Expires), valid in every region
        return _boto3().client(name, config=_config(signature_version="s3v4"))
    return _boto3().client(name, config=_config())


def _resource(name: str):
    return _boto3().resource(name, config=_config())


def _local_url(key: str) -> str:
    # key: reports/<report_id>/report.<ext>
    from costplan.services.reports.urls import EXTENSIONS

    _, rid, filename = key.split("/")
    ext = filename.rsplit(".", 1)[1]
    fmt = next(f.value for f, e in EXTENSIONS.items() if e == ext)
    base = os.environ.get("COSTPLAN_PUBLIC_URL", "http://127.0.0.1:3000").rstrip("/")
    return base + FILE_PATH.format(report_id=rid, format=fmt)


def _log(event: str, *, report_id: str | None = None, error_code: str | None = None,
         exc: BaseException | None = None) -> None:
    """Job events, server side: the report id and the code, the exception with its traceback, never a payload."""
    from costplan.adapters.observability import logger

    extra = {"report_id": report_id, "error_code": error_code, "error_type": type(exc).__name__ if exc else None}
    logger.warning(event, extra={k: v for k, v in extra.items() if v is not None}, exc_info=exc)


@cache
def upload_signer():
    """POST /uploads' presigner over the report bucket (AWS mode), or None where there is no bucket (``make run``:
    the endpoint then answers 409 UPLOADS_NOT_CONFIGURED). No AWS call: a presigned URL is signed locally."""
    from costplan.adapters.storage import S3UploadSigner

    bucket = os.environ.get("REPORT_BUCKET") if mode() == AWS else None
    return S3UploadSigner(bucket, presign_client) if bucket else None


def presign_client(name: str):
    """S3 at the bucket's regional virtual-hosted endpoint (``<bucket>.s3.<region>.amazonaws.com``), for every URL
    we presign (upload PUTs, report downloads). botocore's default presigns for the global one, which answers a new
    bucket outside us-east-1 with a 307 redirect until its DNS spreads (up to a day); a PUT does not follow a
    redirect, and a download is redirected to a host its signature does not name. An endpoint override
    (AWS_ENDPOINT_URL_S3: a moto server, MinIO) keeps botocore's default addressing."""
    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
        return _client(name)
    return _boto3().client(name, config=_config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


@cache
def export_places():
    """Where invoice analysis may read exports from (the report bucket's invoices/, and the configured export)."""
    from costplan.services.invoice.exports import ExportPlaces

    env = os.environ
    return ExportPlaces(report_bucket=env.get("REPORT_BUCKET") if mode() == AWS else LOCAL_BUCKET,
                        export_bucket=env.get("COSTPLAN_EXPORT_BUCKET") or None,
                        export_prefix=env.get("COSTPLAN_EXPORT_PREFIX", ""))


def _exports(root: Path | None = None):
    """The worker's export adapters: S3 + Athena in AWS, a local folder for ``make run``."""
    from costplan.adapters.exports import ArrowExportReader, LocalExportLister, S3ExportLister
    from costplan.services.invoice.exports import ATHENA_MIN_BYTES, ATHENA_MIN_ROWS, ExportAccess

    env, places = os.environ, export_places()
    limits = {"athena_min_bytes": int(env.get("COSTPLAN_ATHENA_MIN_BYTES", ATHENA_MIN_BYTES)),
              "athena_min_rows": int(env.get("COSTPLAN_ATHENA_MIN_ROWS", ATHENA_MIN_ROWS))}
    if root is not None:
        roots = {LOCAL_BUCKET: root}
        if places.export_bucket and env.get("COSTPLAN_EXPORT_DIR"):
            roots[places.export_bucket] = Path(env["COSTPLAN_EXPORT_DIR"])
        return ExportAccess(places=places, lister=LocalExportLister(roots), reader=ArrowExportReader(), **limits)
    runner, table = None, None
    workgroup, database = env.get("COSTPLAN_ATHENA_WORKGROUP"), env.get("COSTPLAN_ATHENA_DATABASE")
    if workgroup and database and env.get("COSTPLAN_ATHENA_TABLE"):
        from costplan.adapters.athena import AthenaQueryRunner

        runner = AthenaQueryRunner(workgroup, _client, database=database,
                                   timeout_s=float(env.get("COSTPLAN_ATHENA_TIMEOUT_S", ATHENA_TIMEOUT_S)))
        table = f'"{database}"."{env["COSTPLAN_ATHENA_TABLE"]}"'
    return ExportAccess(places=places, lister=S3ExportLister(_client), reader=ArrowExportReader(), runner=runner,
                        athena_table=table, **limits)


@cache
def ports() -> Ports:
    from costplan.adapters.jobs import DynamoJobStore, LocalJobStore
    from costplan.adapters.queue import InProcessQueue, LocalDeadLetters, SqsDeadLetters, SqsQueue
    from costplan.adapters.storage import LocalDiskStore, S3Store

    if mode() == AWS:
        env = os.environ
        return Ports(
            jobs=DynamoJobStore(env["JOBS_TABLE"], _resource),
            store=S3Store(env["REPORT_BUCKET"], int(env.get("REPORT_URL_EXPIRY_SECONDS", REPORT_URL_EXPIRY_SECONDS)),
                          presign_client),
            queue=SqsQueue(env["REPORT_QUEUE_URL"], _client),
            dead_letters=SqsDeadLetters(env["REPORT_DLQ_URL"], _client) if env.get("REPORT_DLQ_URL") else None,
            now=now, log=_log, exports=cache(_exports))
    root = Path(os.environ.get("COSTPLAN_LOCAL_DIR", ".local-data"))
    holder: dict = {}

    def worker(message: dict, receive_count: int) -> None:
        import json

        from costplan.services.reports.jobs import handle_record

        handle_record(json.dumps(message, sort_keys=True), receive_count, holder["ports"])

    def dead_letter(message: dict) -> None:
        import json

        from costplan.services.reports.jobs import drain_dead_letters

        holder["ports"].dead_letters.send(json.dumps(message, sort_keys=True), {})
        drain_dead_letters(holder["ports"])

    dead = LocalDeadLetters(root)
    p = Ports(jobs=LocalJobStore(root), store=LocalDiskStore(root, _local_url),
              queue=InProcessQueue(worker, REPORT_MAX_RECEIVES, dead_letter), dead_letters=dead, now=now, log=_log,
              exports=cache(partial(_exports, root)))
    holder["ports"] = p
    return p
