"""The report endpoints' entry points: POST /report/generate, GET /report/{id} and its files.

The async job lifecycle (ports, worker, sweeper, DLQ handler) is ``reports.jobs``; ``costplan.adapters.backends``
provides its ports as DynamoDB/S3/SQS in AWS or local disk and an in-process queue for ``make run``. This module
never imports boto3.
"""

import re

from costplan.reports.render import CONTENT_TYPES
from costplan.services.errors import FieldError, NotFound, RequestRejected
from costplan.services.reports.dispatch import describe, kind_models, render, report_id, validated
from costplan.services.reports.jobs import submit
from costplan.services.reports.urls import status_url
from costplan_contracts.bounds import REPORT_ID_PATTERN
from costplan_contracts.enums import JobStatus, ReportFormat, ReportMode
from costplan_contracts.report import ReportFile, ReportJob, ReportRequest


def to_contract(job: dict, ports, url: str) -> ReportJob:
    files = []
    if job["status"] == JobStatus.SUCCEEDED.value:
        for fmt in sorted(job["files"]):
            f = job["files"][fmt]
            files.append(ReportFile(format=ReportFormat(fmt), content_type=CONTENT_TYPES[fmt], bytes=int(f["bytes"]),
                                    sha256=f["sha256"], download_url=ports.store.url(f["key"])))
    return ReportJob(report_id=job["report_id"], status=JobStatus(job["status"]), progress=float(job["progress"]),
                     status_url=url, files=files, error=job.get("error"), error_code=job.get("error_code"),
                     attempts=int(job.get("attempts", 0)),
                     created_at=job.get("created_at"), updated_at=job.get("updated_at"))


def _known_shape(rid: str) -> bool:
    return re.fullmatch(REPORT_ID_PATTERN, rid) is not None  # the path parameter's own rule (no over-long file names)


def generate(req: ReportRequest, ports_factory) -> tuple[ReportJob, bool]:
    """POST /report/generate. Sync: render inline. Async: record + enqueue (idempotent). Returns (job, accepted)."""
    rid = report_id(req)
    if req.mode == ReportMode.SYNC and req.source.request is not None and req.source.request.get("source"):
        raise RequestRejected("An export in S3 is analysed as a job", [
            FieldError("mode", "source.request.source (an S3 export) needs mode async")])
    if req.mode == ReportMode.SYNC:
        files = render(req)
        return ReportJob(report_id=rid, status=JobStatus.SUCCEEDED, progress=1.0, status_url=status_url(rid),
                         files=[describe(f, files[f], inline=True) for f in req.formats]), False
    request_model, response_model = kind_models(req.source.kind)
    if req.source.request is not None:  # reject a malformed source now, not in the worker
        validated(request_model, req.source.request, "source.request")
    else:
        validated(response_model, req.source.result, "source.result")
    ports = ports_factory()
    job, created = submit(req, ports)
    return to_contract(job, ports, status_url(rid)), True


def job_status(rid: str, ports) -> ReportJob:
    job = ports.jobs.get(rid) if _known_shape(rid) else None
    if job is None:
        raise NotFound(f"No report {rid}")
    return to_contract(job, ports, status_url(rid))


def file_for(rid: str, fmt: ReportFormat, ports) -> tuple[str, dict]:
    """(storage key, job) of a finished report file, or NotFound."""
    job = ports.jobs.get(rid) if _known_shape(rid) else None
    if job is None or job["status"] != JobStatus.SUCCEEDED.value or fmt.value not in job["files"]:
        raise NotFound(f"No {fmt.value} file for report {rid}")
    return job["files"][fmt.value]["key"], job
