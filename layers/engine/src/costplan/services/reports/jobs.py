"""The async report job lifecycle, over ports (a job store, an object store, the queue and its DLQ).

The invariant: every accepted job ends ``succeeded``, or ``failed`` with an error code and a safe
message, and no payload lives in the job store. The request (with any invoice inside it) is an
object at ``jobs/<report_id>/request.json``; the job holds that key.

The states and who moves a job between them. Every move is a conditional write on the state the
mover saw (status, and ``updated_at`` or ``attempts`` where two movers could race); a lost race is
not an error, somebody else moved the job on first.

    queued  --worker claims-->                  running   (attempts + 1)
    running --worker, files stored-->           succeeded
    running --worker, fault, budget left-->     queued    (the message is redelivered)
    running --worker, fault on the last try-->  failed    (the message then goes to the DLQ)
    running --worker, invalid request-->        failed    INVALID_REQUEST (message sent to the DLQ at once)
    queued|running, stale --sweeper-->          queued    (re-sent), or failed STRANDED/TIMEOUT once over budget
    queued|running --DLQ handler-->             failed    DEAD_LETTERED
    failed (not INVALID_REQUEST) --a message (a DLQ redrive)--> running, with a fresh attempts budget

This module never imports boto3 or anything from Lambda: the worker passes its deadline in as a
plain ``time.monotonic()`` value and its alarm raises :class:`JobTimeout`.
"""

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from costplan.reports.render import CONTENT_TYPES
from costplan.services.errors import RequestRejected
from costplan.services.reports.dispatch import render, report_id
from costplan.services.reports.events import INVOICES_PREFIX, s3_keys
from costplan.services.reports.requests import invoice_report_request
from costplan.services.reports.urls import file_key, request_key
from costplan_contracts.bounds import REPORT_MAX_RECEIVES
from costplan_contracts.enums import JobErrorCode, JobStatus
from costplan_contracts.report import ReportRequest

STRANDED_AFTER_S = 360  # = ReportQueue VisibilityTimeout (asserted in tests/contract/test_template_jobs.py)
UNSENT_AFTER_S = 60  # a queued job whose send failed is sent by the sweeper once it is this old
MAX_SWEEPS = 3  # re-sends by the sweeper before a job is failed (STRANDED, or TIMEOUT if it was running)
DEADLINE_MARGIN_S = 5.0  # the worker stops this long before Lambda's deadline, to record the outcome
TERMINAL = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)
OPEN = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)

SAFE_MESSAGES = {
    JobErrorCode.INVALID_REQUEST: "The report request is not valid",
    JobErrorCode.RENDER_FAILED: "The report could not be rendered",
    JobErrorCode.STORAGE_FAILED: "The report's request or files could not be read or stored",
    JobErrorCode.TIMEOUT: "The report did not finish within the worker's time limit",
    JobErrorCode.STRANDED: "No worker picked the job up in time",
    JobErrorCode.DEAD_LETTERED: "The job's message was moved to the dead-letter queue",
}
_SECRETS = re.compile(r"arn:[\w-]+:[^\s'\"]*|\b\d{12}\b")  # ARNs and account ids never reach a caller
_MAX_DETAIL = 400


# ---------------------------------------------------------------- ports


class JobStore(Protocol):
    def create_if_absent(self, job: dict) -> tuple[dict, bool]: ...
    def get(self, report_id: str) -> dict | None: ...

    def update(self, report_id: str, fields: dict, when: dict | None = None) -> dict | None:
        """Set ``fields`` (a None value removes the attribute) if the job exists and, for each name in
        ``when``, its value is one of the given ones. The updated job, or None if the condition failed."""

    def pending(self, status: str, updated_before: str, limit: int) -> list[dict]:
        """Jobs still in ``status`` (queued or running) last updated before the ISO time (an index, not a scan)."""


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def url(self, key: str) -> str: ...


class Queue(Protocol):
    def send(self, message: dict) -> None: ...


@dataclass(frozen=True)
class DeadLetter:
    body: str
    attributes: dict[str, str]
    receive_count: int


class DeadLetters(Protocol):
    def send(self, body: str, attributes: dict[str, str]) -> None:
        """Put a message on the dead-letter queue as it was received, with why (report_id, error_code)."""

    def peek(self, max_messages: int) -> list[DeadLetter]:
        """Read messages without deleting them: they stay on the queue for a redrive."""


def _no_log(event: str, **fields) -> None:
    return None


@dataclass(frozen=True)
class Ports:
    jobs: JobStore
    store: ObjectStore
    queue: Queue
    now: Callable[[], str]  # ISO timestamp; job metadata only, never in a report body
    dead_letters: DeadLetters | None = None
    log: Callable[..., None] = field(default=_no_log)  # log(event, report_id=, error_code=, exc=): server side only
    # The worker's invoice.exports.ExportAccess (it reads S3 export sources), built on first use: the API functions
    # sharing these ports (report status, generate, sweeper, DLQ) never import the invoice engine for it.
    exports: Callable[[], object | None] = field(default=lambda: None)


# ---------------------------------------------------------------- errors


class JobTimeout(Exception):
    """The worker must stop now: raised by the worker's alarm or by a deadline check between steps."""


class PoisonMessage(Exception):
    """A message that can never succeed: its job (if any) is failed and the message goes to the DLQ."""

    def __init__(self, code: JobErrorCode, message: str, rid: str | None = None) -> None:
        super().__init__(message)
        self.code, self.report_id = code, rid


class AttemptFailed(Exception):
    """This delivery failed; the job records why. Raised so the queue redelivers the message."""

    def __init__(self, rid: str, code: JobErrorCode, final: bool) -> None:
        super().__init__(f"report {rid}: {code.value}{' (final)' if final else ''}")
        self.report_id, self.code, self.final = rid, code, final


def safe_message(code: JobErrorCode, detail: str | None = None) -> str:
    """The code's fixed message, plus an optional detail from our own domain errors (never exception
    text from a library), with anything that looks like an ARN or an account id removed."""
    text = SAFE_MESSAGES[code] + (f": {detail}" if detail else "")
    return _SECRETS.sub("[redacted]", text)[:_MAX_DETAIL]


def _rejection_detail(e: Exception) -> str:
    if isinstance(e, RequestRejected):
        fields = "; ".join(f"{d.field}: {d.reason}" for d in e.details)
        return e.message + (f" ({fields})" if fields else "")
    if isinstance(e, ValidationError):  # field paths and pydantic's reason only, never the input values
        return "; ".join(".".join(str(p) for p in err["loc"]) + ": " + err["msg"] for err in e.errors()[:5])
    return ""


# ---------------------------------------------------------------- submit (API and S3 drops)


def _new_job(rid: str, req: ReportRequest, stamp: str, sent: bool) -> dict:
    return {"report_id": rid, "status": JobStatus.QUEUED.value, "progress": 0.0, "attempts": 0, "sweeps": 0,
            "request_key": request_key(rid), "formats": [f.value for f in req.formats], "files": {},
            "error": None, "error_code": None, "created_at": stamp, "updated_at": stamp,
            **({"sent_at": stamp} if sent else {})}


def record(req: ReportRequest, ports: Ports, *, sent: bool) -> tuple[dict, bool]:
    """Store the request in the object store, then record the job (a conditional put: no duplicates).
    ``sent`` says the job's message is already on the queue (an S3 notification). Returns (job, created)."""
    rid = report_id(req)
    job = ports.jobs.get(rid)
    if job is not None:
        return job, False
    ports.store.put(request_key(rid), req.model_dump_json().encode("utf-8"), "application/json")
    return ports.jobs.create_if_absent(_new_job(rid, req, ports.now(), sent))


def submit(req: ReportRequest, ports: Ports) -> tuple[dict, bool]:
    """Record the job and enqueue it. A failed send does not fail the call: the job stays queued without
    ``sent_at``, and the client's resubmit or the sweeper sends it. Returns (job, created)."""
    job, created = record(req, ports, sent=False)
    if job["status"] == JobStatus.QUEUED.value and not job.get("sent_at"):
        job = _send(job, ports)
    return job, created


def _send(job: dict, ports: Ports) -> dict:
    rid = job["report_id"]
    try:
        ports.queue.send({"report_id": rid})
    except Exception as e:  # noqa: BLE001 - recovered by the resubmit or the sweeper; logged, never raised
        ports.log("job_send_failed", report_id=rid, exc=e)
        return job
    try:
        return ports.jobs.update(rid, {"sent_at": ports.now()}, when={"status": OPEN}) or job
    except Exception as e:  # noqa: BLE001 - the message is out; a missing marker only costs a duplicate send
        ports.log("job_sent_marker_failed", report_id=rid, exc=e)
        return job


# ---------------------------------------------------------------- the worker


def handle_record(body: str, receive_count: int, ports: Ports, deadline: float | None = None) -> str:
    """One queue message: ``{"report_id": ...}`` from the API or the sweeper, or an S3 notification for a
    request under ``requests/`` or an export under ``invoices/``. Returns what happened; raises
    AttemptFailed (or JobTimeout) to ask for redelivery. A poison message is sent to the DLQ with its
    reason and acknowledged."""
    try:
        try:
            message = json.loads(body)
        except ValueError:
            raise PoisonMessage(JobErrorCode.INVALID_REQUEST, "the message is not JSON") from None
        if not isinstance(message, dict):
            raise PoisonMessage(JobErrorCode.INVALID_REQUEST, "the message is not a JSON object")
        if "report_id" in message:
            return process(str(message["report_id"]), ports, receive_count, deadline)
        outcome = "ignored"
        for key in s3_keys(message):
            req = _dropped_request(key, ports)
            job, _ = record(req, ports, sent=True)
            outcome = process(job["report_id"], ports, receive_count, deadline, req)
        return outcome
    except PoisonMessage as e:
        ports.log("job_message_dead_lettered", report_id=e.report_id, error_code=e.code.value, exc=e)
        if ports.dead_letters is None:
            raise
        ports.dead_letters.send(body, {"error_code": e.code.value, **({"report_id": e.report_id} if e.report_id
                                                                         else {})})
        return "dead_lettered"


def _dropped_request(key: str, ports: Ports) -> ReportRequest:
    """A request dropped under requests/ (read now), or an export dropped under invoices/ (read by the
    worker through the export adapters, as a ``source.s3_prefix`` of the report bucket)."""
    try:
        if key.startswith(INVOICES_PREFIX):
            exports = ports.exports()
            bucket = exports.places.report_bucket if exports is not None else None
            if not bucket:
                raise PoisonMessage(JobErrorCode.INVALID_REQUEST, safe_message(
                    JobErrorCode.INVALID_REQUEST, f"{key}: this worker has no export access configured"))
            return invoice_report_request({"s3_prefix": f"s3://{bucket}/{key}"}, key)
        raw = ports.store.get(key)  # a fault here is retried: the notification is redelivered
        return ReportRequest.model_validate_json(raw)
    except ValidationError as e:
        raise PoisonMessage(JobErrorCode.INVALID_REQUEST, safe_message(JobErrorCode.INVALID_REQUEST,
                                                                       f"{key}: {_rejection_detail(e)}")) from None


def _age_s(stamp: str, now: str) -> float:
    return (dt.datetime.fromisoformat(now) - dt.datetime.fromisoformat(stamp)).total_seconds()


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise JobTimeout("the worker's deadline passed")


def _claim(job: dict, ports: Ports, receive_count: int) -> dict | None:
    """Move the job to running for this delivery (attempts + 1), or None when there is nothing to do."""
    rid, status, now = job["report_id"], job["status"], ports.now()
    fields = {"status": JobStatus.RUNNING.value, "attempts": int(job.get("attempts", 0)) + 1, "updated_at": now,
              "progress": 0.1}
    if status == JobStatus.SUCCEEDED.value:
        return None  # a redelivery after success
    if status == JobStatus.FAILED.value:
        if job.get("error_code") == JobErrorCode.INVALID_REQUEST.value:
            raise PoisonMessage(JobErrorCode.INVALID_REQUEST, job.get("error") or "invalid request", rid)
        # a message for a job that failed for a transient reason: a DLQ redrive. Run it again, fresh budget.
        fields.update(attempts=1, sweeps=0, redrives=int(job.get("redrives", 0)) + 1)
    if status == JobStatus.RUNNING.value and _age_s(job["updated_at"], now) < STRANDED_AFTER_S:
        raise AttemptFailed(rid, JobErrorCode.TIMEOUT, final=False)  # another worker holds it; ask again later
    return ports.jobs.update(rid, fields, when={"status": (status,), "updated_at": (job["updated_at"],)})


def process(rid: str, ports: Ports, receive_count: int = 1, deadline: float | None = None,
            req: ReportRequest | None = None) -> str:
    """Generate and store every format of job ``rid``; the worker calls this once per delivery.
    Returns "succeeded", "skipped" (nothing to do) or "lost_race"; raises AttemptFailed after recording
    the fault (retry, or failed on the last attempt) and PoisonMessage for a request that can never succeed."""
    try:
        job = ports.jobs.get(rid)
        if job is None:
            raise PoisonMessage(JobErrorCode.INVALID_REQUEST, "no such job", rid)
        running = _claim(job, ports, receive_count)
    except (PoisonMessage, AttemptFailed):
        raise
    except Exception as e:  # noqa: BLE001 - e.g. a throttled claim: the message is redelivered, then dead-lettered
        ports.log("job_claim_failed", report_id=rid, error_code=JobErrorCode.STORAGE_FAILED.value, exc=e)
        raise AttemptFailed(rid, JobErrorCode.STORAGE_FAILED, receive_count >= REPORT_MAX_RECEIVES) from e
    if running is None:
        return "skipped"
    attempt = int(running["attempts"])
    code = JobErrorCode.STORAGE_FAILED
    try:
        _check(deadline)
        if req is None:
            req = ReportRequest.model_validate_json(ports.store.get(running["request_key"]))
        code = JobErrorCode.RENDER_FAILED
        _check(deadline)
        files = render(req, ports.exports())
        code = JobErrorCode.STORAGE_FAILED
        stored = {}
        for n, (fmt, data) in enumerate(sorted(files.items()), start=1):
            _check(deadline)
            key = file_key(rid, fmt)
            ports.store.put(key, data, CONTENT_TYPES[fmt.value])
            stored[fmt.value] = {"key": key, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            ports.jobs.update(rid, {"progress": round(0.1 + 0.9 * n / len(files), 4), "updated_at": ports.now()},
                              when={"status": (JobStatus.RUNNING.value,)})
        _check(deadline)
        done = ports.jobs.update(rid, {"status": JobStatus.SUCCEEDED.value, "progress": 1.0, "files": stored,
                                       "error": None, "error_code": None, "updated_at": ports.now()},
                                 when={"status": (JobStatus.RUNNING.value,)})
    except (RequestRejected, ValidationError) as e:
        reason = safe_message(JobErrorCode.INVALID_REQUEST, _rejection_detail(e))
        _record(ports, rid, {"status": JobStatus.FAILED.value, "error": reason,
                             "error_code": JobErrorCode.INVALID_REQUEST.value})
        raise PoisonMessage(JobErrorCode.INVALID_REQUEST, reason, rid) from None
    except JobTimeout as e:
        _retry_or_fail(ports, rid, attempt, receive_count, JobErrorCode.TIMEOUT, e)
    except Exception as e:  # noqa: BLE001 - any other fault: retry, then fail with the code
        _retry_or_fail(ports, rid, attempt, receive_count, code, e)
    return "succeeded" if done is not None else "lost_race"


def _record(ports: Ports, rid: str, fields: dict, expect: tuple = (JobStatus.RUNNING.value,)) -> dict | None:
    """A conditional outcome write that a late alarm cannot interrupt (the alarm fires once)."""
    fields = {**fields, "updated_at": ports.now()}
    try:
        return ports.jobs.update(rid, fields, when={"status": expect})
    except JobTimeout:
        return ports.jobs.update(rid, fields, when={"status": expect})


def _retry_or_fail(ports: Ports, rid: str, attempt: int, receive_count: int, code: JobErrorCode,
                   e: BaseException) -> None:
    """Back to queued for the next delivery, or failed with the code on the last one; then raise
    AttemptFailed. If even this write fails, the message is redelivered, then dead-lettered."""
    final = attempt >= REPORT_MAX_RECEIVES or receive_count >= REPORT_MAX_RECEIVES
    fields = ({"status": JobStatus.FAILED.value, "error": safe_message(code, f"after {attempt} attempts")} if final
              else {"status": JobStatus.QUEUED.value,
                    "error": safe_message(code, f"attempt {attempt} of {REPORT_MAX_RECEIVES}; retrying")})
    try:
        _record(ports, rid, {**fields, "error_code": code.value})
    except Exception as write_error:  # noqa: BLE001 - the DLQ handler or the sweeper finishes it
        ports.log("job_outcome_write_failed", report_id=rid, error_code=code.value, exc=write_error)
    ports.log("job_attempt_failed", report_id=rid, error_code=code.value, exc=e)  # after the write: see _record
    raise AttemptFailed(rid, code, final) from e


# ---------------------------------------------------------------- the sweeper and the DLQ handler


@dataclass
class Tally:
    """What a sweeper or DLQ-handler run did (returned, logged, asserted by tests)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _iso_before(now: str, seconds: float) -> str:
    return (dt.datetime.fromisoformat(now) - dt.timedelta(seconds=seconds)).isoformat(timespec="seconds")


def sweep(ports: Ports, limit: int = 200) -> dict[str, int]:
    """Find open jobs nobody is moving on and send them again, or fail them once over budget.

    - queued, never sent (the API's send failed), older than UNSENT_AFTER_S: sent;
    - queued or running, not updated for STRANDED_AFTER_S (the message was lost, or the worker was
      killed): re-queued and re-sent, at most MAX_SWEEPS times, and never past REPORT_MAX_RECEIVES
      attempts; then failed STRANDED (queued) or TIMEOUT (running)."""
    tally, now = Tally(), ports.now()
    for status in OPEN:
        for job in ports.jobs.pending(status, _iso_before(now, UNSENT_AFTER_S), limit):
            try:
                tally.add(_sweep_one(job, ports, now))
            except Exception as e:  # noqa: BLE001 - one job's fault must not stop the sweep; next run retries
                ports.log("sweep_failed", report_id=job.get("report_id"), exc=e)
                tally.add("errors")
    return tally.counts


def _sweep_one(job: dict, ports: Ports, now: str) -> str:
    rid, status = job["report_id"], job["status"]
    when = {"status": (status,), "updated_at": (job["updated_at"],)}
    unsent = status == JobStatus.QUEUED.value and not job.get("sent_at")
    if not unsent and _age_s(job["updated_at"], now) < STRANDED_AFTER_S:
        return "fresh"
    spent = int(job.get("sweeps", 0)) >= MAX_SWEEPS or int(job.get("attempts", 0)) >= REPORT_MAX_RECEIVES
    if spent:
        code = JobErrorCode.TIMEOUT if status == JobStatus.RUNNING.value else JobErrorCode.STRANDED
        failed = ports.jobs.update(rid, {"status": JobStatus.FAILED.value, "error_code": code.value,
                                         "error": safe_message(code, f"after {job.get('attempts', 0)} attempts"),
                                         "updated_at": now}, when=when)
        return f"failed_{code.value}" if failed else "lost_race"
    claimed = ports.jobs.update(rid, {"status": JobStatus.QUEUED.value, "sweeps": int(job.get("sweeps", 0)) + 1,
                                      "sent_at": None, "updated_at": now}, when=when)
    if claimed is None:
        return "lost_race"
    return "resent" if _send(claimed, ports).get("sent_at") else "send_failed"


def report_ids_of(body: str, ports: Ports) -> list[str]:
    """The jobs a queue message is about: its report_id, or the job an S3 drop became."""
    try:
        message = json.loads(body)
    except ValueError:
        return []
    if not isinstance(message, dict):
        return []
    if "report_id" in message:
        return [str(message["report_id"])]
    rids = []
    for key in s3_keys(message):
        try:
            rids.append(report_id(_dropped_request(key, ports)))
        except PoisonMessage:
            continue  # never became a job
    return rids


def drain_dead_letters(ports: Ports, max_messages: int = 100) -> dict[str, int]:
    """Fail every open job whose message is on the DLQ (DEAD_LETTERED), and keep the messages there,
    so an operator can redrive them after a fix. Jobs already terminal keep their outcome."""
    tally = Tally()
    for letter in ports.dead_letters.peek(max_messages):
        tally.add("messages")
        try:
            # A poison message carries its job as an attribute: no re-read of a dropped file on every run.
            rid = letter.attributes.get("report_id")
            rids = [rid] if rid else report_ids_of(letter.body, ports)
        except Exception as e:  # noqa: BLE001 - e.g. the dropped object is unreadable: the next run retries
            ports.log("dead_letter_unreadable", exc=e)
            tally.add("errors")
            continue
        for rid in rids:
            job = ports.jobs.get(rid)
            if job is None or job["status"] in TERMINAL:
                tally.add("already_terminal" if job else "no_job")
                continue
            reason = safe_message(JobErrorCode.DEAD_LETTERED)
            failed = ports.jobs.update(rid, {"status": JobStatus.FAILED.value, "error": reason, "updated_at": ports.now(),
                                             "error_code": JobErrorCode.DEAD_LETTERED.value},
                                       when={"status": (job["status"],), "updated_at": (job["updated_at"],)})
            tally.add("failed" if failed else "lost_race")
            if failed:
                ports.log("job_dead_lettered", report_id=rid, error_code=JobErrorCode.DEAD_LETTERED.value)
    return tally.counts
