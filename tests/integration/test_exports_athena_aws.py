"""The export adapters against moto: S3 listing (Data Exports layout, manifests, several files), pyarrow's own
S3 client streaming the files from a moto server, and the Athena call sequence (start, poll, results,
failure, timeout) through moto and botocore's Stubber."""

import datetime as dt
import gzip
import io
import json
from decimal import Decimal

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.server import ThreadedMotoServer

from costplan.adapters.athena import AthenaQueryRunner
from costplan.adapters.exports import ArrowExportReader, LocalExportLister, S3ExportLister, s3_filesystem
from costplan.services.invoice.export_ports import (
    EXPORT_EMPTY,
    EXPORT_MIXED_FORMATS,
    EXPORT_UNREADABLE,
    QUERY_CANCELLED,
    QUERY_FAILED,
    QUERY_TIMEOUT,
    ExportError,
    ExportFileFormat,
    QueryError,
)

pytestmark = pytest.mark.integration
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
         "AWS_DEFAULT_REGION": "us-east-1"}
EXPORT = "cur/focus-ai/data"
HEADER = "BilledCost,ChargeCategory,ServiceName\n"


def _csv(rows: int, start: int = 0) -> bytes:
    return (HEADER + "".join(f"{i}.5,Usage,Amazon Bedrock\n" for i in range(start, start + rows))).encode()


def _parquet(rows: int) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"BilledCost": [float(i) for i in range(rows)], "ChargeCategory": ["Usage"] * rows}), buf)
    return buf.getvalue()


def _client(name):
    return boto3.client(name, region_name="us-east-1")


@pytest.fixture
def aws(monkeypatch):
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        s3 = _client("s3")
        s3.create_bucket(Bucket="exports")
        yield s3


def _manifest(files: list[str], **extra) -> bytes:
    return json.dumps({"executionId": "e1", "exportArn": "arn:aws:bcm-data-exports:us-east-1:123456789012:export/x",
                       "dataFiles": [f"s3://exports/{k}" for k in files], **extra}).encode()


# ---------------------------------------------------------------- listing


def test_several_gzip_csv_files_per_billing_period_are_listed_sorted_with_sizes(aws):
    keys = [f"{EXPORT}/BILLING_PERIOD=2026-0{m}/focus-ai-0000{n}.csv.gz" for m in (1, 2) for n in (2, 1)]
    for k in keys:
        aws.put_object(Bucket="exports", Key=k, Body=gzip.compress(_csv(3)))
    aws.put_object(Bucket="exports", Key=f"{EXPORT}/_SUCCESS", Body=b"")  # not a data file
    listing = S3ExportLister(_client).list("s3://exports/cur/")
    assert [o.uri for o in listing.objects] == sorted(f"s3://exports/{k}" for k in keys)
    assert listing.file_format == ExportFileFormat.CSV_GZ and not listing.manifest and listing.row_estimate is None
    assert listing.total_bytes == sum(o.size for o in listing.objects) > 0


def test_a_manifest_chooses_the_files_of_the_latest_delivery_and_gives_the_row_estimate(aws):
    period = f"{EXPORT}/BILLING_PERIOD=2026-01"
    for name in ("old-00001.snappy.parquet", "focus-ai-00001.snappy.parquet", "focus-ai-00002.snappy.parquet"):
        aws.put_object(Bucket="exports", Key=f"{period}/{name}", Body=_parquet(4))
    current = [f"{period}/focus-ai-00001.snappy.parquet", f"{period}/focus-ai-00002.snappy.parquet"]
    aws.put_object(Bucket="exports", Key="cur/focus-ai/metadata/BILLING_PERIOD=2026-01/focus-ai-Manifest.json",
                   Body=_manifest(current, numberOfRecords=8))
    listing = S3ExportLister(_client).list("s3://exports/cur/focus-ai/")
    assert [o.uri.rsplit("/", 1)[1] for o in listing.objects] == ["focus-ai-00001.snappy.parquet",
                                                                   "focus-ai-00002.snappy.parquet"]
    assert listing.manifest and listing.row_estimate == 8 and listing.file_format == ExportFileFormat.PARQUET


def test_a_manifest_without_a_row_count_gives_no_estimate(aws):
    key = f"{EXPORT}/BILLING_PERIOD=2026-01/a.csv.gz"
    aws.put_object(Bucket="exports", Key=key, Body=gzip.compress(_csv(1)))
    aws.put_object(Bucket="exports", Key="cur/focus-ai/metadata/x-Manifest.json", Body=_manifest([key]))
    assert S3ExportLister(_client).list("s3://exports/cur/").row_estimate is None


def test_an_empty_prefix_a_mixed_prefix_and_a_missing_bucket_are_refused_with_codes(aws):
    with pytest.raises(ExportError) as e:
        S3ExportLister(_client).list("s3://exports/nothing/")
    assert e.value.code == EXPORT_EMPTY
    aws.put_object(Bucket="exports", Key="mixed/a.csv", Body=_csv(1))
    aws.put_object(Bucket="exports", Key="mixed/b.parquet", Body=_parquet(1))
    with pytest.raises(ExportError) as e:
        S3ExportLister(_client).list("s3://exports/mixed/")
    assert e.value.code == EXPORT_MIXED_FORMATS
    with pytest.raises(ExportError) as e:
        S3ExportLister(_client).list("s3://no-such-bucket/x/")
    assert e.value.code == EXPORT_UNREADABLE and "NoSuchBucket" in str(e.value) and "arn:" not in str(e.value)


def test_a_local_folder_maps_s3_uris_and_refuses_escapes(tmp_path):
    (tmp_path / "invoices" / "jan").mkdir(parents=True)
    (tmp_path / "invoices" / "jan" / "a.csv").write_bytes(_csv(2))
    lister = LocalExportLister({"costplan-local": tmp_path})
    listing = lister.list("s3://costplan-local/invoices/jan/")
    assert listing.file_format == ExportFileFormat.CSV and len(listing.objects) == 1
    with pytest.raises(ExportError):
        lister.list("s3://costplan-local/../../etc/")
    with pytest.raises(ExportError):
        lister.list("s3://other-bucket/invoices/")


# ---------------------------------------------------------------- streaming reads through pyarrow's S3 client


@pytest.fixture
def moto_server(monkeypatch):
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    yield f"http://{host}:{port}"
    server.stop()


def test_pyarrow_streams_csv_gz_and_parquet_exports_from_s3(moto_server):
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server)
    s3.create_bucket(Bucket="exports")
    for n in range(3):
        s3.put_object(Bucket="exports", Key=f"gz/BILLING_PERIOD=2026-01/part-{n}.csv.gz",
                      Body=gzip.compress(_csv(1000, start=n * 1000)))
        s3.put_object(Bucket="exports", Key=f"pq/BILLING_PERIOD=2026-01/part-{n}.parquet", Body=_parquet(500))

    def client(name):
        return boto3.client(name, region_name="us-east-1", endpoint_url=moto_server)

    reader = ArrowExportReader()
    gz = reader.dataset(S3ExportLister(client).list("s3://exports/gz/"))
    assert gz.schema.field("BilledCost").type == pa.string()  # CSV columns are text, in every file alike
    batches = list(gz.to_batches(columns=["BilledCost"]))
    assert sum(b.num_rows for b in batches) == 3000
    assert sorted(float(v) for b in batches for v in b.column(0).to_pylist())[-1] == 2999.5
    pq_rows = reader.dataset(S3ExportLister(client).list("s3://exports/pq/")).count_rows()
    assert pq_rows == 1500


def test_the_s3_filesystem_takes_region_and_endpoint_from_the_environment():
    fs = s3_filesystem({"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"})
    assert fs.region == "eu-west-1"
    assert s3_filesystem({"AWS_DEFAULT_REGION": "ap-south-1"}).region == "ap-south-1"


# ---------------------------------------------------------------- Athena


COLUMNS = [{"Name": "provider", "Type": "varchar"}, {"Name": "rows", "Type": "bigint"},
           {"Name": "billed", "Type": "decimal(38,6)"}, {"Name": "share", "Type": "double"},
           {"Name": "period", "Type": "date"}, {"Name": "batch", "Type": "boolean"}]


def _row(*cells):
    return {"Data": [{} if c is None else {"VarCharValue": c} for c in cells]}


class FakeClock:
    def __init__(self) -> None:
        self.t, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


@pytest.fixture
def athena(monkeypatch):
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        client = _client("athena")
        client.create_work_group(Name="costplan", Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://results/athena-results/"},
            "EnforceWorkGroupConfiguration": True})
        yield client


def test_moto_runs_the_call_sequence_and_rows_come_back_typed(athena):
    from moto.athena.models import QueryResults, athena_backends

    athena_backends["123456789012"]["us-east-1"].query_results_queue.append(QueryResults(
        column_info=COLUMNS,
        rows=[_row("provider", "rows", "billed", "share", "period", "batch"),
              _row("aws", "12", "1520.125000", "0.5", "2026-01-01", "false"),
              _row("openai", "3", "-520.000000", None, "2026-02-01", "true")]))
    clock = FakeClock()
    runner = AthenaQueryRunner("costplan", lambda name: athena, database="costplan_exports", clock=clock,
                               sleep=clock.sleep)
    rows = runner.run("SELECT 1")
    assert rows == [
        {"provider": "aws", "rows": 12, "billed": Decimal("1520.125"), "share": 0.5,
         "period": dt.date(2026, 1, 1), "batch": False},
        {"provider": "openai", "rows": 3, "billed": Decimal("-520"), "share": None,
         "period": dt.date(2026, 2, 1), "batch": True}]
    executions = athena.list_query_executions(WorkGroup="costplan")["QueryExecutionIds"]
    assert len(executions) == 1
    started = athena.get_query_execution(QueryExecutionId=executions[0])["QueryExecution"]
    assert started["Query"] == "SELECT 1" and started["WorkGroup"] == "costplan"
    assert started["QueryExecutionContext"]["Database"] == "costplan_exports"


def _stubbed(states: list[str], *, error_category: int | None = None, results: list[dict] | None = None,
             stop: bool = False):
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                      {"QueryString": "SELECT 2", "WorkGroup": "costplan"})
    for state in states:
        status = {"State": state, **({"AthenaError": {"ErrorCategory": error_category, "ErrorType": 1000}}
                                     if state == "FAILED" and error_category else {})}
        stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}},
                          {"QueryExecutionId": "q-1"})
    if stop:
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    for page in results or []:
        stub.add_response("get_query_results", page)
    stub.activate()
    return client, stub


def test_polling_backs_off_until_the_query_succeeds_and_pages_are_joined(athena):
    pages = [{"ResultSet": {"ResultSetMetadata": {"ColumnInfo": COLUMNS[:2]},
                            "Rows": [_row("provider", "rows"), _row("aws", "1")]}, "NextToken": "t"},
             {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": COLUMNS[:2]}, "Rows": [_row("gcp", "2")]}}]
    client, stub = _stubbed(["QUEUED", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"], results=pages)
    clock = FakeClock()
    rows = AthenaQueryRunner("costplan", lambda name: client, clock=clock, sleep=clock.sleep).run("SELECT 2")
    assert rows == [{"provider": "aws", "rows": 1}, {"provider": "gcp", "rows": 2}]
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0]  # bounded exponential backoff
    stub.assert_no_pending_responses()


def test_a_failed_or_cancelled_query_is_a_safe_error_code():
    client, _ = _stubbed(["RUNNING", "FAILED"], error_category=2)
    clock = FakeClock()
    with pytest.raises(QueryError) as e:
        AthenaQueryRunner("costplan", lambda name: client, clock=clock, sleep=clock.sleep).run("SELECT 2")
    assert e.value.code == QUERY_FAILED and str(e.value) == "the Athena query failed (user error)"
    client, _ = _stubbed(["CANCELLED"])
    with pytest.raises(QueryError) as e:
        AthenaQueryRunner("costplan", lambda name: client, clock=clock, sleep=clock.sleep).run("SELECT 2")
    assert e.value.code == QUERY_CANCELLED


def test_a_query_past_the_deadline_is_stopped_and_reported_as_a_timeout():
    client, stub = _stubbed(["RUNNING"] * 6, stop=True)
    clock = FakeClock()
    runner = AthenaQueryRunner("costplan", lambda name: client, timeout_s=5.0, clock=clock, sleep=clock.sleep)
    with pytest.raises(QueryError) as e:
        runner.run("SELECT 2")
    assert e.value.code == QUERY_TIMEOUT
    assert clock.t == 5.0 and clock.sleeps == [0.25, 0.5, 1.0, 2.0, 1.25]  # never sleeps past the deadline
    stub.assert_no_pending_responses()  # stop_query_execution was called


def test_a_refused_start_is_a_query_error_not_a_client_error(athena):
    clock = FakeClock()
    with pytest.raises(QueryError) as e:
        AthenaQueryRunner("no-such-workgroup", lambda name: athena, clock=clock, sleep=clock.sleep).run("SELECT 1")
    assert e.value.code == QUERY_FAILED
