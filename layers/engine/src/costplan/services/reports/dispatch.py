"""Reports: run or accept a plan, render every format; the entry points of report/generate and report/status.

The async job lifecycle (ports, worker, sweeper, DLQ handler) is ``costplan.services.reports.jobs``;
``costplan.adapters.backends`` provides its ports as DynamoDB/S3/SQS in AWS or local disk and an
in-process queue for ``make run``. This module never imports boto3.
"""

import hashlib
import json
import re

from pydantic import BaseModel, ValidationError

from costplan.reports import content as C
from costplan.reports.render import CONTENT_TYPES, RENDERERS
from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.bounds import REPORT_ID_PATTERN, REPORT_TITLE_MAX
from costplan_contracts.enums import JobStatus, ReportFormat, ReportKind
from costplan_contracts.report import ReportFile, ReportJob, ReportRequest

EXTENSIONS = {ReportFormat.JSON: "json", ReportFormat.CSV: "csv", ReportFormat.MARKDOWN: "md",
              ReportFormat.HTML: "html"}


def _source(kind: ReportKind):
    """(request model, response model, service, content builder) for each report kind."""
    if kind == ReportKind.PLAN_LLM:
        from costplan.services.plan.llm import plan_llm
        from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse

        return PlanLlmRequest, PlanLlmResponse, plan_llm, C.from_plan_llm
    if kind == ReportKind.RANK_CATALOG:
        from costplan.services.catalog_rank.rank import rank_catalog
        from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

        return RankCatalogRequest, RankCatalogResponse, rank_catalog, C.from_rank_catalog
    if kind == ReportKind.INVOICE_ANALYZE:
        from costplan.services.invoice import analyze
        from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse

        return AnalyzeRequest, AnalyzeResponse, analyze, C.from_invoice
    from costplan.services.plan.scaling import plan_scaling
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


def render(req: ReportRequest, exports=None) -> dict[ReportFormat, bytes]:
    """Every requested format, byte-identical for the same request (and the same export files). ``exports``
    (``invoice_exports.ExportAccess``, the worker's) reads an invoice_analyze request's S3 export source."""
    request_model, response_model, service, build = _source(req.source.kind)
    if req.source.request is not None:
        request = _validated(request_model, req.source.request, "source.request")
        if getattr(request, "source", None) is not None:  # invoice/analyze of an export in S3
            from costplan.services.invoice.exports import analyze_source

            result = analyze_source(request.source, exports)
        else:
            result = service(request)
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


def to_contract(job: dict, ports, status_url: str) -> ReportJob:
    files = []
    if job["status"] == JobStatus.SUCCEEDED.value:
        for fmt in sorted(job["files"]):
            f = job["files"][fmt]
            files.append(ReportFile(format=ReportFormat(fmt), content_type=CONTENT_TYPES[fmt], bytes=int(f["bytes"]),
                                    sha256=f["sha256"], download_url=ports.store.url(f["key"])))
    return ReportJob(report_id=job["report_id"], status=JobStatus(job["status"]), progress=float(job["progress"]),
                     status_url=status_url, files=files, error=job.get("error"), error_code=job.get("error_code"),
                     attempts=int(job.get("attempts", 0)),
                     created_at=job.get("created_at"), updated_at=job.get("updated_at"))


# ---------------------------------------------------------------- entry points for the functions


def _known_shape(rid: str) -> bool:
    return re.fullmatch(REPORT_ID_PATTERN, rid) is not None  # the path parameter's own rule (no over-long file names)


def status_url(rid: str) -> str:
    return f"/api/v1/report/{rid}"


def generate(req: ReportRequest, ports_factory) -> tuple[ReportJob, bool]:
    """POST /report/generate. Sync: render inline. Async: record + enqueue (idempotent). Returns (job, accepted)."""
    from costplan_contracts.enums import ReportMode

    rid = report_id(req)
    if req.mode == ReportMode.SYNC and req.source.request is not None and req.source.request.get("source"):
        raise RequestRejected("An export in S3 is analysed as a job", [
            FieldError("mode", "source.request.source (an S3 export) needs mode async")])
    if req.mode == ReportMode.SYNC:
        files = render(req)
        return ReportJob(report_id=rid, status=JobStatus.SUCCEEDED, progress=1.0, status_url=status_url(rid),
                         files=[describe(f, files[f], inline=True) for f in req.formats]), False
    request_model, response_model, _, _ = _source(req.source.kind)
    if req.source.request is not None:  # reject a malformed source now, not in the worker
        _validated(request_model, req.source.request, "source.request")
    else:
        _validated(response_model, req.source.result, "source.result")
    from costplan.services.reports.jobs import submit

    ports = ports_factory()
    job, created = submit(req, ports)
    return to_contract(job, ports, status_url(rid)), True


def job_status(rid: str, ports) -> ReportJob:
    from costplan.services.errors import NotFound

    job = ports.jobs.get(rid) if _known_shape(rid) else None
    if job is None:
        raise NotFound(f"No report {rid}")
    return to_contract(job, ports, status_url(rid))


def file_for(rid: str, fmt: ReportFormat, ports) -> tuple[str, dict]:
    """(storage key, job) of a finished report file, or NotFound."""
    from costplan.services.errors import NotFound

    job = ports.jobs.get(rid) if _known_shape(rid) else None
    if job is None or job["status"] != JobStatus.SUCCEEDED.value or fmt.value not in job["files"]:
        raise NotFound(f"No {fmt.value} file for report {rid}")
    return job["files"][fmt.value]["key"], job


def invoice_report_request(key: str, bucket: str) -> ReportRequest:
    """A report request for a billing export dropped under invoices/ (CSV, gzip CSV or Parquet; FOCUS or CUR,
    told from the columns): analysed from S3 by the invoice engine like any ``source.s3_prefix``."""
    return ReportRequest.model_validate({
        "source": {"kind": ReportKind.INVOICE_ANALYZE.value, "request": {"source": {"s3_prefix": f"s3://{bucket}/{key}"}}},
        "formats": [f.value for f in ReportFormat], "mode": "async",
        "title": f"Invoice analysis: {key}"[:REPORT_TITLE_MAX]})
