"""Billing exports in template.yaml: access to account data is off until ExportBucketName is set; then Athena
runs in one workgroup (encrypted results in the report bucket, enforced), over one Glue table of the export's
FOCUS columns, and the worker's permissions name exactly that workgroup, catalog, database, table and prefix."""

import csv

import pytest

from costplan.adapters import backends
from costplan.services.invoice import rules
from costplan.services.invoice.exports import GLUE_OMITTED, athena_columns
from costplan.services.reports.events import INVOICES_PREFIX
from tools.template import ROOT, load_template, resolve

TEMPLATE = load_template()
RES, PARAMS = TEMPLATE["Resources"], TEMPLATE["Parameters"]
ALL_OFF = {name: False for name in TEMPLATE["Conditions"]}
EXPORTS_ON = {**ALL_OFF, "ExportAccessOn": True}
EXPORT_RESOURCES = ("InvoiceAthenaWorkGroup", "InvoiceExportDatabase", "InvoiceExportTable")




def statements(fn: str, conditions: dict) -> list[dict]:
    return [s for p in resolve(RES[fn]["Properties"].get("Policies") or [], conditions) for s in p["Statement"]]


def actions(fn: str, conditions: dict) -> set[str]:
    out = set()
    for s in statements(fn, conditions):
        out |= set([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    return out


def test_export_access_is_off_by_default():
    assert PARAMS["ExportBucketName"]["Default"] == "" and PARAMS["ExportPrefix"]["Default"] == ""
    assert TEMPLATE["Conditions"]["ExportAccessOn"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExportBucketName"}, ""]}]}
    for name in EXPORT_RESOURCES:
        assert RES[name]["Condition"] == "ExportAccessOn", name
    for name, r in RES.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        held = actions(name, ALL_OFF)
        assert not {a for a in held if a.startswith(("athena:", "glue:"))}, f"{name} holds {held} with exports off"
        text = str(statements(name, ALL_OFF))
        assert "ExportBucketName" not in text, f"{name} can read the export bucket with exports off"


def test_with_exports_off_the_worker_lists_only_invoices_in_its_own_bucket():
    lists = [s for s in statements("ReportWorkerFunction", ALL_OFF) if s["Action"] == "s3:ListBucket"]
    assert lists == [{"Sid": "ListDroppedInvoices", "Effect": "Allow", "Action": "s3:ListBucket",
                      "Resource": {"Fn::GetAtt": "ReportBucket.Arn"},
                      "Condition": {"StringLike": {"s3:prefix": INVOICES_PREFIX + "*"}}}]


def test_a_bucket_without_a_prefix_is_refused_at_deploy_time():
    rule = TEMPLATE["Rules"]["ExportAccessNeedsAPrefix"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExportBucketName"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExportPrefix"}, ""]}]}


def test_athena_permissions_name_the_workgroup_only():
    athena = [s for s in statements("ReportWorkerFunction", EXPORTS_ON) if str(s["Action"]).startswith("['athena:")]
    assert len(athena) == 1
    assert set(athena[0]["Action"]) == {"athena:StartQueryExecution", "athena:GetQueryExecution",
                                        "athena:GetQueryResults", "athena:StopQueryExecution"}
    assert athena[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:"
                                               "workgroup/${InvoiceAthenaWorkGroup}"}


def test_glue_permissions_name_the_catalog_database_and_table_only():
    glue = next(s for s in statements("ReportWorkerFunction", EXPORTS_ON) if s.get("Sid") == "GlueReadExportTable")
    assert set(glue["Action"]) == {"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"}
    arn = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:"
    assert [r["Fn::Sub"] for r in glue["Resource"]] == [
        arn + "catalog", arn + "database/${InvoiceExportDatabase}",
        arn + "table/${InvoiceExportDatabase}/${InvoiceExportTable}"]


def test_the_export_bucket_is_readable_under_its_prefix_only():
    on = statements("ReportWorkerFunction", EXPORTS_ON)
    read = next(s for s in on if s.get("Sid") == "ReadExportFiles")
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExportBucketName}/${ExportPrefix}/*"}
    listing = next(s for s in on if s.get("Sid") == "ListExportPrefix")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [{"Fn::Sub": "${ExportPrefix}/*"},
                                                                 {"Ref": "ExportPrefix"}]}}
    others = [s for s in on if "ExportBucketName" in str(s["Resource"])]
    assert {s["Sid"] for s in others} == {"ReadExportFiles", "ListExportPrefix", "LocateExportBucket"}
    assert not any("s3:Put" in str(s["Action"]) for s in others)  # never written


def test_the_analyze_function_records_jobs_but_never_reads_an_export():
    held = actions("InvoiceAnalyzeFunction", EXPORTS_ON)
    assert {"dynamodb:PutItem", "sqs:SendMessage", "s3:PutObject"} <= held
    assert not {a for a in held if a.startswith(("athena:", "glue:", "s3:Get", "s3:List"))}
    env = RES["InvoiceAnalyzeFunction"]["Properties"]["Environment"]["Variables"]
    assert env["COSTPLAN_EXPORT_BUCKET"] == {"Ref": "ExportBucketName"}
    assert env["COSTPLAN_EXPORT_PREFIX"] == {"Ref": "ExportPrefix"}


def test_the_workgroup_enforces_encrypted_results_in_the_report_bucket_that_expire():
    config = RES["InvoiceAthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${ReportBucket}/athena-results/"}
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert config["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    rules_ = RES["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(r["Prefix"] == "athena-results/" and r["ExpirationInDays"] <= 7 for r in rules_ if "Prefix" in r)


def test_the_worker_gets_the_athena_names_only_with_exports_on():
    env = RES["ReportWorkerFunction"]["Properties"]["Environment"]["Variables"]
    off, on = resolve(env, ALL_OFF), resolve(env, EXPORTS_ON)
    assert "COSTPLAN_ATHENA_WORKGROUP" not in off
    assert on["COSTPLAN_ATHENA_WORKGROUP"] == {"Ref": "InvoiceAthenaWorkGroup"}
    assert on["COSTPLAN_ATHENA_DATABASE"] == {"Ref": "InvoiceExportDatabase"}
    assert on["COSTPLAN_ATHENA_TABLE"] == {"Ref": "InvoiceExportTable"}
    assert on["COSTPLAN_ATHENA_MIN_BYTES"] == {"Ref": "AthenaMinBytes"}


def test_the_glue_table_holds_the_focus_columns_the_rules_read_with_their_parquet_types():
    table = RES["InvoiceExportTable"]["Properties"]["TableInput"]
    columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    spec = {r["column_id"]: r["data_type"] for r in csv.DictReader(
        (ROOT / "layers/engine/src/costplan/catalog/data/focus_columns.csv").open())}
    kinds = rules.export_columns("focus")
    assert set(columns) == {c for c in kinds if spec[c] != "JSON"} == set(athena_columns())  # what the query names
    assert {c for c in kinds if spec[c] == "JSON"} == set(GLUE_OMITTED)  # Tags, SkuPriceDetails: maps, never read
    glue_type = {"String": "string", "Decimal": "double", "Date/Time": "timestamp"}
    assert all(columns[c] == glue_type[spec[c]] for c in columns)
    assert all(columns[c] == "double" for c, k in kinds.items() if k == "number")
    assert table["Parameters"]["projection.enabled"] == "true"
    assert table["Parameters"]["storage.location.template"] == {
        "Fn::Sub": "s3://${ExportBucketName}/${ExportPrefix}/data/BILLING_PERIOD=${!billing_period}/"}


@pytest.mark.parametrize("name,value", [("ExportBucketName", "my-billing-exports"), ("ExportPrefix", "cur/focus-ai")])
def test_parameter_patterns_accept_data_exports_names(name, value):
    import re

    assert re.fullmatch(PARAMS[name]["AllowedPattern"], value)
    assert re.fullmatch(PARAMS[name]["AllowedPattern"], "")
    assert not re.fullmatch(PARAMS[name]["AllowedPattern"], "a'b")


def test_the_backends_read_the_names_the_template_sets(monkeypatch):
    env = RES["ReportWorkerFunction"]["Properties"]["Environment"]["Variables"]
    for var in ("COSTPLAN_EXPORT_BUCKET", "COSTPLAN_EXPORT_PREFIX", "COSTPLAN_ATHENA_WORKGROUP",
                "COSTPLAN_ATHENA_DATABASE", "COSTPLAN_ATHENA_TABLE", "COSTPLAN_ATHENA_MIN_BYTES"):
        assert var in env
        assert var in backends.__doc__
