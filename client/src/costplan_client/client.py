"""CostPlanClient: every endpoint, typed on costplan_contracts, over the local or the http transport.

    from costplan_client import CostPlanClient
    from costplan_contracts.plan_llm import PlanLlmRequest

    client = CostPlanClient()                                   # local: the engine in-process, no server, no AWS
    client = CostPlanClient("https://abc.execute-api.eu-west-1.amazonaws.com/", auth="iam")   # SigV4
    plan = client.plan_llm(PlanLlmRequest(workload={...}, model="llama-3.1-70b-instruct"))   # a PlanLlmResponse

    job = client.submit_report(report_request)                  # submit -> wait(progress_callback) -> files
    job.wait(progress_callback=print)
    job.download("./reports")

Errors are CostPlanError (ApiError for the envelope: code, details[field, reason], correlation_id). Calls that
cannot start a job twice (every GET, and the POSTs that only compute) are retried with exponential backoff and
jitter on 429, 5xx and connection errors; report/generate, invoice/analyze with a source and uploads are not.
"""

import hashlib
import ipaddress
import json as _json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from costplan_client.errors import ApiError, CostPlanError, ErrorDetail, JobFailed, validation_error
from costplan_client.options import Auth
from costplan_client.transport import LOCAL_BASE_URL, LocalTransport
from costplan_contracts.assist import (
    AssistExplainRequest,
    AssistExplainResponse,
    AssistWorkloadRequest,
    AssistWorkloadResponse,
)
from costplan_contracts.copilot import CopilotRequest, CopilotResponse
from costplan_contracts.enums import JobStatus, ReportFormat
from costplan_contracts.insights import QualityPriceRequest, QualityPriceResponse
from costplan_contracts.invoice import AnalyzeRequest, AnalyzeResponse, SimulateRequest, SimulateResponse
from costplan_contracts.meta import BoundsResponse
from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse
from costplan_contracts.plan_scaling import PlanScalingRequest, PlanScalingResponse
from costplan_contracts.plan_training import PlanTrainingRequest, PlanTrainingResponse
from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse
from costplan_contracts.report import ReportJob, ReportRequest

ENDPOINT_ENV = "COSTPLAN_ENDPOINT"
CORRELATION_HEADER = "x-correlation-id"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_S = 8.0
STATUS_PATH = "/api/v1/report/{report_id}"
FILE_PATH = "/api/v1/report/{report_id}/files/{format}"
TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED)

ProgressCallback = Callable[[float], None]


def _loopback(url: str) -> bool:
    host = httpx.URL(url).host
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_error(response: httpx.Response) -> ApiError:
    """The error envelope as an exception; a body that is not one (API Gateway's own 403, a proxy's 502) keeps
    its status as the code."""
    cid = response.headers.get(CORRELATION_HEADER) or response.headers.get("apigw-requestid")
    try:
        doc = response.json()
        err = doc["error"]
        return ApiError(code=err["code"], message=err["message"], status=response.status_code,
                        details=[ErrorDetail(d["field"], d["reason"]) for d in err.get("details", [])],
                        correlation_id=doc.get("correlation_id") or cid)
    except (ValueError, KeyError, TypeError):
        text = response.text[:300].strip() or response.reason_phrase
        return ApiError(code=f"HTTP_{response.status_code}", message=text, status=response.status_code,
                        correlation_id=cid)


def as_model[M: BaseModel](model: type[M], value: M | dict) -> M:
    """A request given as the contract model or as a plain dict; refused here (no call) when it is invalid."""
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise validation_error(e) from None


def parse[M: BaseModel](model: type[M], content: bytes) -> M:
    """A response as its contract model. Fields this client does not know yet (a newer server: contract changes are
    additive) are dropped, not fatal; any other mismatch is an UNEXPECTED_RESPONSE error."""
    try:
        return model.model_validate_json(content)
    except ValidationError as e:
        errors = e.errors()
        if not errors or any(err["type"] != "extra_forbidden" for err in errors):
            raise CostPlanError("UNEXPECTED_RESPONSE", f"the response is not a {model.__name__}",
                                [ErrorDetail(".".join(map(str, err["loc"])), err["msg"]) for err in errors[:5]]) from None
        doc = _json.loads(content)
        for err in errors:
            *parents, last = err["loc"]
            node = doc
            for key in parents:
                node = node[key]
            node.pop(last, None)
        return model.model_validate(doc)


def body_of(request: BaseModel) -> dict:
    """What goes on the wire: the fields the caller set, in the contract's JSON spelling."""
    return request.model_dump(mode="json", by_alias=True, exclude_unset=True)


class CostPlanClient:
    def __init__(self, endpoint: str | None = None, *, auth: Auth | str | None = None, token: str | None = None,
                 region: str | None = None, profile: str | None = None, root: Path | None = None,
                 retries: int = 3, backoff_s: float = 0.5, timeout_s: float = 120.0,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None,
                 presigned_transport: httpx.BaseTransport | None = None) -> None:
        """``endpoint`` None (and no COSTPLAN_ENDPOINT) picks the local transport. ``auth`` None picks ``none`` for
        a loopback endpoint (make run) and ``iam`` otherwise. ``transport`` replaces the network to the API (tests),
        and to presigned S3 URLs too unless ``presigned_transport`` is given."""
        self.endpoint = endpoint.rstrip("/") + "/" if endpoint else None
        self.retries, self.backoff_s, self._sleep = retries, backoff_s, sleep
        self.notes: list = []  # warnings from steps that are not the final response (upload grants)
        self.local: LocalTransport | None = None
        if self.endpoint is None:
            self.auth = Auth.NONE
            self.local = LocalTransport(root)
            self._http = httpx.Client(base_url=LOCAL_BASE_URL, transport=transport or self.local, timeout=timeout_s)
        else:
            self.auth = Auth(auth) if auth else (Auth.NONE if _loopback(self.endpoint) else Auth.IAM)
            self._http = httpx.Client(base_url=self.endpoint, auth=self._signer(token, region, profile),
                                      timeout=timeout_s, transport=transport)
        # Presigned URLs carry their own signature: never our Authorization or x-amz-* headers.
        self._plain = httpx.Client(timeout=timeout_s, transport=presigned_transport or transport)

    @classmethod
    def from_env(cls, **kwargs) -> "CostPlanClient":
        return cls(os.environ.get(ENDPOINT_ENV) or None, **kwargs)

    @property
    def mode(self) -> str:
        return "local" if self.local is not None else "http"

    def _signer(self, token, region, profile) -> httpx.Auth | None:
        from costplan_client import auth as signing

        if self.auth is Auth.IAM:
            return signing.sigv4_from_chain(self.endpoint, region, profile)
        if self.auth is Auth.JWT:
            return signing.bearer_from_env(token)
        return None

    def close(self) -> None:
        self._http.close()
        self._plain.close()

    def __enter__(self) -> "CostPlanClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ the wire

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), MAX_BACKOFF_S * 4))
        return delay

    def send(self, method: str, path: str, *, idempotent: bool, json: Any = None, content: Any = None,
             headers: dict | None = None, params: dict | None = None, client: httpx.Client | None = None,
             follow_redirects: bool = False) -> httpx.Response:
        """One call; raises ApiError for a 4xx/5xx. Retried (429, 5xx, connection errors) only when idempotent."""
        client = client or self._http
        attempt = 0
        while True:
            try:
                response = client.request(method, path, json=json, content=content, headers=headers, params=params,
                                          follow_redirects=follow_redirects)
            except httpx.TransportError as e:
                if idempotent and attempt < self.retries:
                    self._sleep(self._delay(attempt, None))
                    attempt += 1
                    continue
                raise CostPlanError("TRANSPORT_ERROR", f"{type(e).__name__}: {e}") from e
            if response.status_code in RETRY_STATUSES and idempotent and attempt < self.retries:
                self._sleep(self._delay(attempt, response))
                attempt += 1
                continue
            if response.status_code >= 400:
                raise api_error(response)
            return response

    def call[R: BaseModel](self, path: str, request: BaseModel, response_model: type[R], *,
                           idempotent: bool = True) -> R:
        response = self.send("POST", path, json=body_of(request), idempotent=idempotent)
        return parse(response_model, response.content)

    # ------------------------------------------------------------------ endpoints

    def plan_llm(self, request: PlanLlmRequest | dict) -> PlanLlmResponse:
        return self.call("/api/v1/plan/llm", as_model(PlanLlmRequest, request), PlanLlmResponse)

    def plan_scaling(self, request: PlanScalingRequest | dict) -> PlanScalingResponse:
        return self.call("/api/v1/plan/scaling", as_model(PlanScalingRequest, request), PlanScalingResponse)

    def plan_training(self, request: PlanTrainingRequest | dict) -> PlanTrainingResponse:
        return self.call("/api/v1/plan/training", as_model(PlanTrainingRequest, request), PlanTrainingResponse)

    def rank_catalog(self, request: RankCatalogRequest | dict) -> RankCatalogResponse:
        return self.call("/api/v1/rank/catalog", as_model(RankCatalogRequest, request), RankCatalogResponse)

    def quality_price(self, request: QualityPriceRequest | dict) -> QualityPriceResponse:
        return self.call("/api/v1/insights/quality-price", as_model(QualityPriceRequest, request), QualityPriceResponse)

    def invoice_simulate(self, request: SimulateRequest | dict) -> SimulateResponse:
        return self.call("/api/v1/invoice/simulate", as_model(SimulateRequest, request), SimulateResponse)

    def assist_workload(self, request: AssistWorkloadRequest | dict) -> AssistWorkloadResponse:
        return self.call("/api/v1/assist/workload", as_model(AssistWorkloadRequest, request), AssistWorkloadResponse)

    def assist_explain(self, request: AssistExplainRequest | dict) -> AssistExplainResponse:
        return self.call("/api/v1/assist/explain", as_model(AssistExplainRequest, request), AssistExplainResponse)

    def copilot(self, request: CopilotRequest | dict) -> CopilotResponse:
        return self.call("/api/v1/copilot", as_model(CopilotRequest, request), CopilotResponse)

    def bounds(self) -> BoundsResponse:
        return parse(BoundsResponse, self.send("GET", "/api/v1/meta/bounds", idempotent=True).content)

    def invoice_analyze(self, request: AnalyzeRequest | dict) -> "AnalyzeResponse | Job":
        """An inline invoice is analysed at once (AnalyzeResponse); a ``source`` becomes a report Job (202)."""
        request = as_model(AnalyzeRequest, request)
        response = self.send("POST", "/api/v1/invoice/analyze", json=body_of(request),
                             idempotent=request.source is None)
        return self._analysis_or_job(response)

    def invoice_analyze_body(self, content: bytes, content_type: str, *, gzip: bool = False,
                             invoice_format: str | None = None, focus_version: str | None = None) -> AnalyzeResponse:
        """The export itself as the body (text/csv, optionally gzip-encoded, or Parquet), as the API takes it."""
        headers = {"content-type": content_type, **({"content-encoding": "gzip"} if gzip else {})}
        params = {k: v for k, v in (("invoice_format", invoice_format), ("focus_version", focus_version)) if v}
        response = self.send("POST", "/api/v1/invoice/analyze", content=content, headers=headers, params=params,
                             idempotent=True)
        return parse(AnalyzeResponse, response.content)

    def _analysis_or_job(self, response: httpx.Response) -> "AnalyzeResponse | Job":
        if response.status_code == 202:
            return Job(self, parse(ReportJob, response.content))
        return parse(AnalyzeResponse, response.content)

    def analyze_export(self, path: str | Path, *, invoice_format: str | None = None,
                       focus_version: str | None = None,
                       upload_progress: Callable[[int, int], None] | None = None) -> "AnalyzeResponse | Job":
        """A local export file, or every file of an export folder: see costplan_client.uploads."""
        from costplan_client.uploads import analyze_export

        return analyze_export(self, Path(path), invoice_format=invoice_format, focus_version=focus_version,
                              upload_progress=upload_progress)

    # ------------------------------------------------------------------ report jobs

    def generate_report(self, request: ReportRequest | dict) -> "Job":
        """POST /report/generate: sync answers carry the files inline; async ones are a job to wait for.
        Not retried: a lost answer is recovered by sending again (the report id is a hash of the request)."""
        request = as_model(ReportRequest, request)
        response = self.send("POST", "/api/v1/report/generate", json=body_of(request), idempotent=False)
        return Job(self, parse(ReportJob, response.content))

    submit_report = generate_report

    def report_status(self, report_id: str) -> ReportJob:
        response = self.send("GET", STATUS_PATH.format(report_id=report_id), idempotent=True)
        return parse(ReportJob, response.content)

    def report_file(self, job: ReportJob, fmt: ReportFormat | str) -> bytes:
        """One file of a finished job: inline content, else through the API (local/make run) or the presigned URL."""
        fmt = ReportFormat(fmt)
        entry = next((f for f in job.files if f.format == fmt), None)
        if entry is None:
            raise CostPlanError("NO_SUCH_FILE", f"report {job.report_id} has no {fmt.value} file",
                                details=[ErrorDetail("formats", f"the job holds {[f.format.value for f in job.files]}")])
        if entry.content is not None:
            data = entry.content.encode("utf-8")
        else:
            url, path = entry.download_url or "", FILE_PATH.format(report_id=job.report_id, format=fmt.value)
            if self.local is None and url and httpx.URL(url).path != path:
                data = self.send("GET", url, idempotent=True, client=self._plain).content  # presigned S3
            else:  # the API's own file route (local, make run): through this transport, with its auth
                data = self.send("GET", path, idempotent=True).content
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise CostPlanError("CHECKSUM_MISMATCH", f"the downloaded {fmt.value} file is not the one the job stored",
                                [ErrorDetail("sha256", f"expected {entry.sha256}")])
        return data


class Job:
    """An accepted report job: ``wait(progress_callback)`` until it ends, then ``files()`` or ``download(dir)``."""

    def __init__(self, client: CostPlanClient, job: ReportJob) -> None:
        self.client, self.job = client, job

    @property
    def report_id(self) -> str:
        return self.job.report_id

    @property
    def done(self) -> bool:
        return self.job.status in TERMINAL

    def wait(self, progress_callback: ProgressCallback | None = None, *, poll_s: float = 0.25,
             max_poll_s: float = 2.0, timeout_s: float = 900.0) -> ReportJob:
        """Poll until succeeded (returned) or failed (JobFailed with its error_code and reason). The callback sees
        progress that never goes back (a retried job restarts at 0 server side) and ends with exactly 1.0."""
        shown = -1.0
        deadline = time.monotonic() + timeout_s
        delay = poll_s
        while True:
            progress = 1.0 if self.job.status is JobStatus.SUCCEEDED else min(self.job.progress, 1.0)
            if progress_callback is not None and progress > shown and self.job.status is not JobStatus.FAILED:
                shown = progress
                progress_callback(progress)
            if self.job.status is JobStatus.FAILED:
                raise JobFailed(code=str(self.job.error_code or "FAILED"), message=self.job.error or "the job failed",
                                details=[ErrorDetail("report_id", self.job.report_id)])
            if self.job.status is JobStatus.SUCCEEDED:
                return self.job
            if time.monotonic() > deadline:
                raise CostPlanError("TIMEOUT", f"report {self.report_id} still {self.job.status.value} after "
                                               f"{timeout_s:.0f} s; poll it again later")
            self.client._sleep(delay)
            delay = min(max_poll_s, delay * 1.5)
            self.job = self.client.report_status(self.report_id)

    def files(self, formats=None) -> dict[ReportFormat, bytes]:
        if not self.done:
            self.wait()
        wanted = [ReportFormat(f) for f in formats] if formats else [f.format for f in self.job.files]
        return {fmt: self.client.report_file(self.job, fmt) for fmt in wanted}

    def download(self, out_dir: str | Path, formats=None) -> list[Path]:
        """Write each file as ``<out_dir>/<report_id>.<ext>``; returns the paths."""
        from costplan_client.output import EXTENSIONS

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for fmt, data in self.files(formats).items():
            path = out / f"{self.report_id}.{EXTENSIONS[fmt]}"
            path.write_bytes(data)
            written.append(path)
        return written
