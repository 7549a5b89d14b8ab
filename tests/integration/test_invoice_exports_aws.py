"""invoice/analyze with ``source.s3_prefix``: the API records a report job (202), the worker lists the export in S3
(several CSV, gzip CSV or Parquet files, a Data Exports manifest) and streams it through the invoice engine with
pyarrow's own S3 client (a moto server), or sends the engine's query to Athena above the size threshold.
Access to account data is off until configured: prefixes outside the allowed places are a 422 naming the field."""

import gzip
import io
import json

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import load_event
from invoice_data import FOCUS_LINES, focus_csv
from report_aws import BUCKET, moto_reports, sqs_records

from costplan.services.invoice import exports as invoice_exports
from tools.template import load_function_module

pytestmark = pytest.mark.integration
analyze_fn = load_function_module("functions/invoice_analyze")
worker = load_function_module("functions/report_worker")
EXPORT_BUCKET = "billing-exports-example"
WHOLE = focus_csv("1.2")
HALVES = [focus_csv("1.2", lines=FOCUS_LINES[:5]), focus_csv("1.2", lines=FOCUS_LINES[5:])]


@pytest.fixture
def aws(monkeypatch, lambda_context):
    with moto_reports(monkeypatch, lambda_context) as env:
        yield env


def _analyze(aws, body: dict) -> tuple[int, dict]:
    event = load_event("invoice_analyze_source")
    event["body"] = json.dumps(body)
    r = analyze_fn.handler(event, aws["ctx"])
    return r["statusCode"], json.loads(r["body"])


def _deliver(aws) -> dict:
    got = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10,
                                     AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    return worker.handler({"Records": sqs_records(got, load_event("report_worker")["Records"][0])}, aws["ctx"])


def _job(aws, rid: str) -> dict:
    item = aws["ddb"].get_item(TableName="jobs", Key={"report_id": {"S": rid}})["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def _report(aws, rid: str) -> dict:
    return json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{rid}/report.json")["Body"].read())


def _parquet(text: str) -> bytes:
    """Typed columns, as Data Exports writes them (doubles, timestamps), one schema for every file of the export."""
    schema = pacsv.read_csv(io.BytesIO(WHOLE.encode())).schema
    table = pacsv.read_csv(io.BytesIO(text.encode()), convert_options=pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema}))
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _put_export(aws, kind: str, prefix: str) -> None:
    """The FOCUS sample split across two files of one billing period, in the given format."""
    data = f"{prefix}data/BILLING_PERIOD=2026-10/"
    names = []
    for n, half in enumerate(HALVES, start=1):
        name, body = {"csv": (f"focus-0000{n}.csv", half.encode()),
                      "csv.gz": (f"focus-0000{n}.csv.gz", gzip.compress(half.encode())),
                      "parquet": (f"focus-0000{n}.snappy.parquet", _parquet(half))}[kind]
        aws["s3"].put_object(Bucket=BUCKET if prefix.startswith("invoices/") else EXPORT_BUCKET, Key=data + name,
                             Body=body)
        names.append(data + name)
    if kind == "csv.gz":  # a Data Exports manifest naming the delivered files
        bucket = BUCKET if prefix.startswith("invoices/") else EXPORT_BUCKET
        aws["s3"].put_object(Bucket=bucket, Key=f"{prefix}metadata/BILLING_PERIOD=2026-10/focus-Manifest.json",
                             Body=json.dumps({"dataFiles": [f"s3://{bucket}/{k}" for k in names]}).encode())


def _expected_summary() -> list[str]:
    from costplan.services.reports.dispatch import render
    from costplan_contracts.report import ReportRequest

    req = ReportRequest.model_validate({"source": {"kind": "invoice_analyze", "request": {
        "invoice": {"format": "focus", "csv": WHOLE}}}, "formats": ["json"]})
    return json.loads(next(iter(render(req).values())))["summary"][:2]


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "parquet"])
def test_an_export_prefix_of_several_files_becomes_a_report_through_the_worker(aws, kind):
    prefix = f"invoices/focus-{kind.replace('.', '-')}/"
    _put_export(aws, kind, prefix)
    code, job = _analyze(aws, {"source": {"s3_prefix": f"s3://{BUCKET}/{prefix}"}})
    assert code == 202 and job["status"] == "queued" and job["status_url"] == f"/api/v1/report/{job['report_id']}"
    assert _deliver(aws) == {"batchItemFailures": []}
    state = _job(aws, job["report_id"])
    assert state["status"] == "succeeded", state.get("error")
    doc = _report(aws, job["report_id"])
    assert doc["title"] == f"Invoice analysis: s3://{BUCKET}/{prefix}"
    assert doc["summary"][:2] == _expected_summary()  # the two files add up to the whole sample, credits apart
    assert "Credits, refunds and adjustments, kept apart: -$520.00." in doc["summary"]
    assert [s["title"] for s in doc["sections"]][:2] == ["Findings", "Reconciliation"]


def test_resubmitting_the_same_prefix_returns_the_same_job(aws):
    _put_export(aws, "csv", "invoices/again/")
    body = {"source": {"s3_prefix": f"s3://{BUCKET}/invoices/again/"}}
    (c1, j1), (c2, j2) = _analyze(aws, body), _analyze(aws, body)
    assert c1 == c2 == 202 and j1["report_id"] == j2["report_id"]


def _refusal(aws, body: dict) -> dict[str, str]:
    code, out = _analyze(aws, body)
    assert code == 422, out
    return {d["field"]: d["reason"] for d in out["error"]["details"]}


def test_account_data_is_off_until_configured(aws):
    reasons = _refusal(aws, {"source": {"s3_prefix": f"s3://{EXPORT_BUCKET}/cur/focus/"}})
    assert "export access is off" in reasons["source.s3_prefix"] and "ExportBucketName" in reasons["source.s3_prefix"]
    assert "123456789012" not in json.dumps(reasons)  # bucket names (with the account id) are never echoed
    assert aws["ddb"].scan(TableName="jobs")["Count"] == 0  # no job, nothing queued


def test_the_report_bucket_is_readable_only_under_invoices(aws):
    for key in ("reports/x/", "jobs/", "catalog/"):
        reasons = _refusal(aws, {"source": {"s3_prefix": f"s3://{BUCKET}/{key}"}})
        assert "only prefixes under invoices/" in reasons["source.s3_prefix"]


def test_a_configured_export_bucket_is_readable_under_its_prefix_only(aws, monkeypatch):
    monkeypatch.setenv("COSTPLAN_EXPORT_BUCKET", EXPORT_BUCKET)
    monkeypatch.setenv("COSTPLAN_EXPORT_PREFIX", "cur")
    from costplan.adapters import backends

    backends.export_places.cache_clear()
    backends.ports.cache_clear()
    aws["s3"].create_bucket(Bucket=EXPORT_BUCKET)
    reasons = _refusal(aws, {"source": {"s3_prefix": f"s3://{EXPORT_BUCKET}/curious/"}})
    assert "outside the export prefix" in reasons["source.s3_prefix"]
    assert "neither" in _refusal(aws, {"source": {"s3_prefix": "s3://somebody-elses-bucket/cur/"}})["source.s3_prefix"]
    _put_export(aws, "parquet", "cur/focus/")
    code, job = _analyze(aws, {"source": {"s3_prefix": f"s3://{EXPORT_BUCKET}/cur/focus/", "format": "focus"}})
    assert code == 202
    assert _deliver(aws) == {"batchItemFailures": []}
    assert _report(aws, job["report_id"])["summary"][:2] == _expected_summary()


@pytest.mark.parametrize("prefix", ["s3://bucket-name/a'b/", "s3://bucket-name/a/../b/", "https://bucket-name/x/",
                                    "s3://BUCKET/x/"])
def test_a_malformed_prefix_is_refused_naming_the_field(aws, prefix):
    assert "source.s3_prefix" in _refusal(aws, {"source": {"s3_prefix": prefix}})


def test_invoice_and_source_together_are_refused(aws):
    code, out = _analyze(aws, {"invoice": {"format": "focus", "csv": WHOLE}, "source": {
        "s3_prefix": f"s3://{BUCKET}/invoices/x/"}})
    assert code == 422 and "exactly one of invoice and source" in json.dumps(out)


def test_an_empty_prefix_fails_the_job_with_the_reason_not_a_retry(aws):
    code, job = _analyze(aws, {"source": {"s3_prefix": f"s3://{BUCKET}/invoices/nothing-here/"}})
    assert code == 202
    assert _deliver(aws) == {"batchItemFailures": []}  # poison: failed at once and dead-lettered, not redelivered
    state = _job(aws, job["report_id"])
    assert state["status"] == "failed" and state["error_code"] == "INVALID_REQUEST"
    assert "source.s3_prefix" in state["error"] and "EXPORT_EMPTY" in state["error"]


def test_a_parquet_file_dropped_under_invoices_goes_through_the_same_engine(aws):
    aws["s3"].put_object(Bucket=BUCKET, Key="invoices/october.parquet", Body=_parquet(WHOLE))
    event = load_event("report_worker_s3")
    note = json.loads(event["Records"][0]["body"])
    note["Records"][0]["s3"]["object"]["key"] = "invoices/october.parquet"
    event["Records"][0]["body"] = json.dumps(note)
    assert worker.handler(event, aws["ctx"]) == {"batchItemFailures": []}
    rid = aws["ddb"].scan(TableName="jobs")["Items"][0]["report_id"]["S"]
    doc = _report(aws, rid)
    assert doc["title"] == "Invoice analysis: invoices/october.parquet"
    assert doc["summary"][:2] == _expected_summary()


# ---------------------------------------------------------------- Athena above the threshold


def test_a_large_export_runs_the_engines_trino_query_on_athena(aws, monkeypatch):
    """Over the size threshold the worker sends the engine's generated SQL to the Athena workgroup over the
    Glue table, narrowed to the prefix by "$path"; the query's rows become the analysis."""
    monkeypatch.setenv("COSTPLAN_EXPORT_BUCKET", EXPORT_BUCKET)
    monkeypatch.setenv("COSTPLAN_EXPORT_PREFIX", "cur")
    monkeypatch.setenv("COSTPLAN_ATHENA_WORKGROUP", "costplan-invoices")
    monkeypatch.setenv("COSTPLAN_ATHENA_DATABASE", "costplan_exports")
    monkeypatch.setenv("COSTPLAN_ATHENA_TABLE", "focus")
    monkeypatch.setenv("COSTPLAN_ATHENA_MIN_BYTES", "1")
    from costplan.adapters import backends

    backends.export_places.cache_clear()
    backends.ports.cache_clear()
    import boto3

    athena = boto3.client("athena")
    athena.create_work_group(Name="costplan-invoices", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/athena-results/"},
        "EnforceWorkGroupConfiguration": True})
    aws["s3"].create_bucket(Bucket=EXPORT_BUCKET)
    _put_export(aws, "parquet", "cur/focus/")
    seen = {}
    from costplan.services.invoice import analyze
    from costplan_contracts.invoice import AnalyzeRequest

    whole = analyze(AnalyzeRequest.model_validate({"invoice": {"format": "focus", "csv": WHOLE}}))

    def engine_sql(relation, dialect="duckdb", fmt="focus", columns=None):
        seen.update(relation=relation, dialect=dialect, fmt=fmt)
        return "SELECT 1"

    def engine_rows(rows, *, fmt, **_):
        seen["rows"] = rows
        return whole

    # the engine's query builder and its reader of the rows, as the export analysis uses them
    monkeypatch.setattr(invoice_exports, "export_sql", engine_sql)
    monkeypatch.setattr(invoice_exports, "analyze_aggregates", engine_rows)
    code, job = _analyze(aws, {"source": {"s3_prefix": f"s3://{EXPORT_BUCKET}/cur/focus/"}})
    assert code == 202
    assert _deliver(aws) == {"batchItemFailures": []}
    assert _job(aws, job["report_id"])["status"] == "succeeded"
    assert seen["dialect"] == "trino" and seen["fmt"] == "focus"
    assert seen["relation"] == ('(SELECT * FROM "costplan_exports"."focus" WHERE "$path" LIKE '
                                f"'s3://{EXPORT_BUCKET}/cur/focus/%' ESCAPE '\\')")
    started = athena.list_query_executions(WorkGroup="costplan-invoices")["QueryExecutionIds"]
    assert len(started) == 1
    assert athena.get_query_execution(QueryExecutionId=started[0])["QueryExecution"]["Query"] == "SELECT 1"
    assert seen["rows"] == []  # moto runs nothing: the rows it was fed (none here) reach the engine unchanged


def test_small_exports_and_the_report_bucket_stay_in_the_function():
    from costplan.services.invoice.export_ports import ExportFileFormat, ExportListing

    places = invoice_exports.ExportPlaces(report_bucket="reports-b", export_bucket="exports-b")
    access = invoice_exports.ExportAccess(places=places, lister=None, reader=None, runner=object(),
                                          athena_table='"d"."t"', athena_min_bytes=100, athena_min_rows=10)

    def listing(uri, size, rows=None):
        return ExportListing(uri, (), size, ExportFileFormat.PARQUET, rows, rows is not None)

    assert invoice_exports.runs_on_athena(listing("s3://exports-b/cur/", 100), access)
    assert invoice_exports.runs_on_athena(listing("s3://exports-b/cur/", 1, rows=10), access)  # manifest estimate
    assert not invoice_exports.runs_on_athena(listing("s3://exports-b/cur/", 99, rows=9), access)
    assert not invoice_exports.runs_on_athena(listing("s3://reports-b/invoices/", 10**12), access)  # no Glue table


def test_the_athena_query_over_a_prefix_is_valid_trino_and_keeps_the_prefix_filter():
    import sqlglot

    from costplan.services.invoice import export_sql

    relation = invoice_exports.athena_relation('"costplan_exports"."focus"', "s3://exports-b/cur/focus_1/")
    sql = export_sql(relation, "trino", "focus", invoice_exports.athena_columns())
    sqlglot.parse_one(sql, read="trino")  # raises on a syntax error
    assert "\"$path\" LIKE 's3://exports-b/cur/focus\\_1/%' ESCAPE '\\'" in sql  # "_" is literal, not a wildcard
