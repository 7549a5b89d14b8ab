"""Reports: run or accept a plan, render every format, and run the async job lifecycle.

The job lifecycle talks to three ports -- a job store, an object store and a queue -- that
``costplan.adapters.backends`` provides as DynamoDB/S3/SQS in AWS or local disk and an
in-process queue for ``make run``. This module never imports boto3.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote_plus

from pydantic import BaseModel, ValidationError

from costplan.reports import content as C
from costplan.reports.render import CONTENT_TYPES, RENDERERS
from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.bounds import REPORT_MAX_RECEIVES, REPORT_TITLE_MAX
from costplan_contracts.enums import JobStatus, ReportFormat, ReportKind
from costplan_contracts.report import ReportFile, ReportJob, ReportRequest

EXTENSIONS = {ReportFormat.JSON: "json", ReportFormat.CSV: "csv", ReportFormat.MARKDOWN: "md",
              ReportFormat.HTML: "html"}


def _source(kind: ReportKind):
    """(request model, response model, service, content builder) for each report kind."""
    if kind == ReportKind.PLAN_LLM:
        from costplan.services.plan_llm import plan_llm
        from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse

        return PlanLlmRequest, PlanLlmResponse, plan_llm, C.from_plan_llm
    if kind == ReportKind.RANK_CATALOG:
        from costplan.services.rank_catalog import rank_catalog
        from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

        return RankCatalogRequest, RankCatalogResponse, rank_catalog, C.from_rank_catalog
    if kind == ReportKind.INVOICE_ANALYZE:
        from costplan.services.invoice import analyze
        from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse

        return AnalyzeRequest, AnalyzeResponse, analyze, C.from_invoice
    from costplan.services.plan_scaling import plan_scaling
    from costplan_contracts.plan_scaling import PlanScalingRequest, PlanScalingResponse

    return PlanScalingRequest, PlanScalingResponse, plan_scaling, C.from_plan_scaling


def _validated(model: type[BaseModel], data: dict, prefix: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        details = [FieldError(".".join([prefix, *(str(p) for p in err["loc"])]), err["msg"]) for err in e.errors()]
        raise RequestRejected(f"{prefix} is not a valid {model.__name__}", details) from None


def report_id(req: ReportRequest) -> str:
    """A hash of the normalised request and its formats: resubmitting the same report gives the same id."""
    doc = {"source": req.source.model_dump(mode="json"), "formats": sorted(f.value for f in req.formats),
           "title": req.title, "as_of": req.as_of.isoformat() if req.as_of else None,
           "baseline_monthly_usd": req.baseline_monthly_usd}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def render(req: ReportRequest) -> dict[ReportFormat, bytes]:
    """Every requested format, byte-identical for the same request."""
    request_model, response_model, service, build = _source(req.source.kind)
    if req.source.request is not None:
        result = service(_validated(request_model, req.source.request, "source.request"))
    else:
        result = _validated(response_model, req.source.result, "source.result")
    body = build(result, req.title, req.as_of.isoformat() if req.as_of else None, req.baseline_monthly_usd)
    return {f: RENDERERS[f.value](body) for f in req.formats}


def describe(fmt: ReportFormat, data: bytes, *, inline: bool, url: str | None = None) -> ReportFile:
    return ReportFile(format=fmt, content_type=CONTENT_TYPES[fmt.value], bytes=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), content=data.decode("utf-8") if inline else None,
                      download_url=url)


def file_key(rid: str, fmt: ReportFormat) -> str:
    return f"reports/{rid}/report.{EXTENSIONS[fmt]}"


# ---------------------------------------------------------------- the async job lifecycle


class JobStore(Protocol):
    def create_if_absent(self, job: dict) -> tuple[dict, bool]: ...
    def get(self, report_id: str) -> dict | None: ...
    def update(self, report_id: str, **fields) -> dict: ...


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def url(self, key: str) -> str: ...


class Queue(Protocol):
    def send(self, message: dict) -> None: ...


@dataclass(frozen=True)
class Ports:
    jobs: JobStore
    store: ObjectStore
    queue: Queue
    now: object  # () -> ISO timestamp string; job metadata only


class PermanentFailure(Exception):
    """A message that can never succeed (a poison message): the job fails at once, with the reason."""


def submit(req: ReportRequest, ports: Ports) -> tuple[dict, bool]:
    """Record the job (a conditional put: no duplicates) and enqueue it. Returns (job, created)."""
    job, created = submit_direct(req, ports)
    if created or _stranded(job, ports):
        ports.queue.send({"report_id": job["report_id"]})
    return job, created


STRANDED_AFTER_S = 360  # the queue's visibility timeout: by then any delivered message has been tried


def _stranded(job: dict, ports: Ports) -> bool:
    """A job still queued, never attempted, long after it was created: its first send must have failed.
    Resubmitting sends it again (the worker is idempotent, so a late duplicate is harmless)."""
    import datetime as dt

    if job["status"] != JobStatus.QUEUED.value or int(job.get("attempts", 0)):
        return False
    age = dt.datetime.fromisoformat(ports.now()) - dt.datetime.fromisoformat(job["created_at"])
    return age.total_seconds() > STRANDED_AFTER_S


def process(rid: str, ports: Ports, receive_count: int = 1, request_json: str | None = None) -> dict:
    """Generate and store every format of job ``rid``; the worker calls this once per delivery.

    A bad request fails the job at once (PermanentFailure). Any other fault leaves it queued
    for the next delivery, and fails it with the reason on the last one: no accepted job is
    left without a terminal state.
    """
    job = ports.jobs.get(rid)
    if job is None:
        raise PermanentFailure(f"no job {rid}")
    if job["status"] in (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value):
        return job  # a redelivery after the terminal state: nothing to do
    ports.jobs.update(rid, status=JobStatus.RUNNING.value, progress=0.1, attempts=receive_count,
                      updated_at=ports.now())
    try:
        req = ReportRequest.model_validate_json(request_json or job["request"])
        files = render(req)
    except (RequestRejected, ValidationError) as e:
        reason = f"invalid report request: {e}"
        ports.jobs.update(rid, status=JobStatus.FAILED.value, error=reason, updated_at=ports.now())
        raise PermanentFailure(reason) from e
    except Exception as e:  # noqa: BLE001 - an unexpected fault while rendering: retry, then fail with it
        _retry_or_fail(rid, ports, receive_count, e)
        raise
    try:
        stored = {}
        for n, (fmt, data) in enumerate(sorted(files.items()), start=1):
            key = file_key(rid, fmt)
            ports.store.put(key, data, CONTENT_TYPES[fmt.value])
            stored[fmt.value] = {"key": key, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            ports.jobs.update(rid, progress=round(0.1 + 0.9 * n / len(files), 4), updated_at=ports.now())
    except Exception as e:  # noqa: BLE001 - any storage fault: retry, then fail with the reason
        _retry_or_fail(rid, ports, receive_count, e)
        raise
    return ports.jobs.update(rid, status=JobStatus.SUCCEEDED.value, progress=1.0, files=stored, error=None,
                             updated_at=ports.now())


def _retry_or_fail(rid: str, ports: Ports, receive_count: int, e: Exception) -> None:
    """Back to queued for the next delivery, or failed with the reason on the last one."""
    final = receive_count >= REPORT_MAX_RECEIVES
    reason = f"{type(e).__name__}: {e}"
    ports.jobs.update(rid, status=JobStatus.FAILED.value if final else JobStatus.QUEUED.value,
                      error=reason if final else f"attempt {receive_count} failed: {reason}", updated_at=ports.now())


def fail(rid: str, ports: Ports, reason: str) -> None:
    """Mark a job failed (used when its message could not even be processed)."""
    if ports.jobs.get(rid) is not None:
        ports.jobs.update(rid, status=JobStatus.FAILED.value, error=reason, updated_at=ports.now())


def to_contract(job: dict, ports: Ports, status_url: str) -> ReportJob:
    files = []
    if job["status"] == JobStatus.SUCCEEDED.value:
        for fmt in sorted(job["files"]):
            f = job["files"][fmt]
            files.append(ReportFile(format=ReportFormat(fmt), content_type=CONTENT_TYPES[fmt], bytes=int(f["bytes"]),
                                    sha256=f["sha256"], download_url=ports.store.url(f["key"])))
    return ReportJob(report_id=job["report_id"], status=JobStatus(job["status"]), progress=float(job["progress"]),
                     status_url=status_url, files=files, error=job.get("error"), attempts=int(job.get("attempts", 0)),
                     created_at=job.get("created_at"), updated_at=job.get("updated_at"))


# ---------------------------------------------------------------- entry points for the functions


def status_url(rid: str) -> str:
    return f"/api/v1/report/{rid}"


def generate(req: ReportRequest, ports_factory) -> tuple[ReportJob, bool]:
    """POST /report/generate. Sync: render inline. Async: record + enqueue (idempotent). Returns (job, accepted)."""
    from costplan_contracts.enums import ReportMode

    rid = report_id(req)
    if req.mode == ReportMode.SYNC:
        files = render(req)
        return ReportJob(report_id=rid, status=JobStatus.SUCCEEDED, progress=1.0, status_url=status_url(rid),
                         files=[describe(f, files[f], inline=True) for f in req.formats]), False
    request_model, response_model, _, _ = _source(req.source.kind)
    if req.source.request is not None:  # reject a malformed source now, not in the worker
        _validated(request_model, req.source.request, "source.request")
    else:
        _validated(response_model, req.source.result, "source.result")
    ports = ports_factory()
    job, created = submit(req, ports)
    return to_contract(job, ports, status_url(rid)), True


def job_status(rid: str, ports: Ports) -> ReportJob:
    from costplan.services.errors import NotFound

    job = ports.jobs.get(rid) if rid.isalnum() else None
    if job is None:
        raise NotFound(f"No report {rid}")
    return to_contract(job, ports, status_url(rid))


def file_for(rid: str, fmt: ReportFormat, ports: Ports) -> tuple[str, dict]:
    """(storage key, job) of a finished report file, or NotFound."""
    from costplan.services.errors import NotFound

    job = ports.jobs.get(rid) if rid.isalnum() else None
    if job is None or job["status"] != JobStatus.SUCCEEDED.value or fmt.value not in job["files"]:
        raise NotFound(f"No {fmt.value} file for report {rid}")
    return job["files"][fmt.value]["key"], job


REQUESTS_PREFIX = "requests/"
INVOICES_PREFIX = "invoices/"  # billing exports too large for the API; analysed into a report


def handle_message(body: dict, receive_count: int, ports: Ports) -> None:
    """One queue message: an API-submitted job ({"report_id": ...}) or an S3 notification for a request
    JSON dropped under ``requests/``. Raises to ask for redelivery; the job records why."""
    if "report_id" in body:
        process(body["report_id"], ports, receive_count)
        return
    for record in body.get("Records", []):  # S3 event notification (s3:TestEvent has none)
        key = unquote_plus(record["s3"]["object"]["key"])  # S3 notifications URL-encode keys
        if not key.startswith((REQUESTS_PREFIX, INVOICES_PREFIX)):
            continue
        raw = ports.store.get(key)
        try:
            req = (ReportRequest.model_validate_json(raw) if key.startswith(REQUESTS_PREFIX)
                   else invoice_report_request(key, raw.decode("utf-8")))
        except (ValidationError, UnicodeDecodeError) as e:
            raise PermanentFailure(f"{key} is not a valid report request: {e}") from e
        job, _ = submit_direct(req, ports)
        process(job["report_id"], ports, receive_count)


def submit_direct(req: ReportRequest, ports: Ports) -> tuple[dict, bool]:
    """Record a job without enqueuing it (the event is already on the queue)."""
    rid = report_id(req)
    stamp = ports.now()
    return ports.jobs.create_if_absent({
        "report_id": rid, "status": JobStatus.QUEUED.value, "progress": 0.0, "attempts": 0,
        "request": req.model_dump_json(), "formats": [f.value for f in req.formats], "files": {}, "error": None,
        "created_at": stamp, "updated_at": stamp})


def invoice_report_request(key: str, text: str) -> ReportRequest:
    """A report request for a billing export dropped under invoices/: FOCUS or CUR, told apart by the header."""
    header = text.split("\n", 1)[0]
    fmt = "focus" if "BilledCost" in header else "cur"
    return ReportRequest.model_validate({
        "source": {"kind": ReportKind.INVOICE_ANALYZE.value, "request": {"invoice": {"format": fmt, "csv": text}}},
        "formats": [f.value for f in ReportFormat], "title": f"Invoice analysis: {key}"[:REPORT_TITLE_MAX]})
