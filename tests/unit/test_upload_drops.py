"""The report worker and S3 drops under the upload folders: a file uploaded for an export analysis
(invoices/uploads/) starts no job of its own (the client's one invoice/analyze call does); a report request
uploaded under requests/uploads/ starts its job like any drop; other drops are unchanged."""

import json

from costplan.services.reports.events import s3_keys
from costplan.services.reports.jobs import handle_record


def notification(*keys: str) -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "b"}, "object": {"key": k, "size": 10}}} for k in keys]}


def test_uploaded_export_files_are_left_to_the_clients_one_analysis():
    upload = "invoices/uploads/0123456789abcdef0123456789abcdef/focus-00001.csv"
    assert s3_keys(notification(upload)) == []
    assert s3_keys(notification("invoices/uploads/0123456789abcdef0123456789abcdef/part%3D1.csv")) == []


def test_other_drops_still_start_their_jobs():
    keys = ["invoices/october/focus.csv", "invoices/uploads.csv", "requests/uploads/0123456789abcdef0123456789abcdef/r.json",
            "requests/r.json"]
    assert s3_keys(notification(*keys)) == keys


def test_a_notification_of_uploads_only_is_acknowledged_without_a_job():
    class NoPorts:  # any storage, job or queue call would fail the test
        def __getattr__(self, name):
            raise AssertionError(f"the worker touched {name}")

    body = json.dumps(notification("invoices/uploads/0123456789abcdef0123456789abcdef/a.csv",
                                   "invoices/uploads/0123456789abcdef0123456789abcdef/b.csv"))
    assert handle_record(body, 1, NoPorts()) == "ignored"
