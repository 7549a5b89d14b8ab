"""The job lifecycle over the local adapters (make run): the same conditional writes, sparse pending
search, sweeper and dead letters as in AWS, with no AWS at all."""

import json

import pytest

from costplan.adapters.jobs import LocalJobStore
from costplan.adapters.queue import InProcessQueue, LocalDeadLetters
from costplan.adapters.storage import LocalDiskStore
from costplan.services.reports import jobs as J
from costplan_contracts.report import ReportRequest

BODY = {"source": {"kind": "plan_llm", "request": {
    "workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8}, "top_k": 3}},
    "formats": ["csv"], "title": "Local jobs", "mode": "async"}


class Clock:
    def __init__(self):
        self.s = 0

    def __call__(self):
        return f"2026-11-28T12:{self.s // 60:02d}:{self.s % 60:02d}+00:00"


class FlakyQueue:
    def __init__(self, failures: int):
        self.failures, self.sent = failures, []

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("queue down")
        self.sent.append(message)


@pytest.fixture
def local(tmp_path):
    clock, queue = Clock(), FlakyQueue(failures=1)
    ports = J.Ports(jobs=LocalJobStore(tmp_path), store=LocalDiskStore(tmp_path, lambda k: k), queue=queue,
                    dead_letters=LocalDeadLetters(tmp_path), now=clock)
    return ports, clock, queue


def test_a_failed_send_is_retried_by_the_resubmit_and_the_job_holds_a_pointer_not_the_request(local):
    ports, _, queue = local
    req = ReportRequest.model_validate(BODY)
    job, created = J.submit(req, ports)
    assert created and job["status"] == "queued" and "sent_at" not in job and queue.sent == []
    assert "request" not in job and job["request_key"] == f"jobs/{job['report_id']}/request.json"
    assert ReportRequest.model_validate_json(ports.store.get(job["request_key"])) == req
    again, created = J.submit(req, ports)
    assert not created and again["sent_at"] and queue.sent == [{"report_id": job["report_id"]}]


def test_transitions_are_conditional_and_a_lost_race_returns_none(local):
    ports, _, _ = local
    job, _ = J.submit(ReportRequest.model_validate(BODY), ports)
    rid = job["report_id"]
    assert ports.jobs.update(rid, {"status": "running"}, when={"status": ("queued",)})["pending"] == "running"
    assert ports.jobs.update(rid, {"status": "failed"}, when={"status": ("queued",)}) is None  # lost: it is running
    done = ports.jobs.update(rid, {"status": "succeeded"}, when={"status": ("running",)})
    assert done["status"] == "succeeded" and "pending" not in done  # off the sparse index once terminal
    assert ports.jobs.update("f" * 32, {"status": "failed"}) is None  # no such job


def test_the_sweeper_sends_an_unsent_job_then_fails_a_stranded_one(local):
    ports, clock, queue = local
    job, _ = J.submit(ReportRequest.model_validate(BODY), ports)
    assert J.sweep(ports) == {}  # too fresh
    clock.s += J.UNSENT_AFTER_S + 1
    assert J.sweep(ports) == {"resent": 1} and len(queue.sent) == 1
    for n in range(J.MAX_SWEEPS - 1):  # the message is lost each time: nobody ever claims the job
        clock.s += J.STRANDED_AFTER_S + 1
        assert J.sweep(ports) == {"resent": 1}, n
    clock.s += J.STRANDED_AFTER_S + 1
    assert J.sweep(ports) == {"failed_STRANDED": 1}
    failed = ports.jobs.get(job["report_id"])
    assert failed["status"] == "failed" and failed["error_code"] == "STRANDED" and "pending" not in failed


def test_the_in_process_queue_dead_letters_after_max_receives(local):
    ports, _, _ = local
    seen, dead = [], []

    def worker(message, receive_count):
        seen.append(receive_count)
        raise RuntimeError("always fails")

    q = InProcessQueue(worker, 3, dead.append)
    q.send({"report_id": "x"})
    q.join()
    assert seen == [1, 2, 3] and dead == [{"report_id": "x"}]


def test_a_dead_letter_fails_its_open_job_and_stays(local):
    ports, _, _ = local
    job, _ = J.submit(ReportRequest.model_validate(BODY), ports)
    ports.dead_letters.send(json.dumps({"report_id": job["report_id"]}), {})
    assert J.drain_dead_letters(ports) == {"messages": 1, "failed": 1}
    assert J.drain_dead_letters(ports) == {"messages": 1, "already_terminal": 1}  # kept, and idempotent
    assert ports.jobs.get(job["report_id"])["error_code"] == "DEAD_LETTERED"


def test_an_overlong_report_id_is_not_found_rather_than_a_file_system_error(local):
    from costplan.services.errors import NotFound
    from costplan.services.reports.api import file_for, job_status
    from costplan_contracts.enums import ReportFormat

    ports, _, _ = local
    with pytest.raises(NotFound):
        job_status("a" * 300, ports)
    with pytest.raises(NotFound):
        file_for("a" * 300, ReportFormat.CSV, ports)
