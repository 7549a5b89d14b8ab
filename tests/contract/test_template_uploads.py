"""POST /api/v1/uploads in template.yaml: the function's role (whose permissions every presigned URL carries) may
put objects in the two upload folders and do nothing else; those folders are the contract's, expire like every
drop, and the invoice one lies under the bucket's drop notification, which the worker must leave to the client's
one analysis (tests/unit/test_upload_drops.py)."""

from costplan_contracts.enums import UploadPurpose
from costplan_contracts.uploads import INVOICE_UPLOADS_PREFIX, UPLOAD_PREFIXES
from tools.template import http_routes, load_template, resolve

TEMPLATE = load_template()
RES = TEMPLATE["Resources"]
FN = RES["UploadsFunction"]["Properties"]
ALL_OFF = {name: False for name in TEMPLATE["Conditions"]}


def test_the_route_is_served_by_the_uploads_function_behind_the_default_authorizer():
    (route,) = [r for r in http_routes(TEMPLATE) if r.path == "/api/v1/uploads"]
    assert (route.method, route.function, route.code_uri) == ("POST", "UploadsFunction", "functions/uploads")
    (event,) = FN["Events"].values()
    assert event["Properties"]["ApiId"] == {"Ref": "CostPlanHttpApi"} and "Auth" not in event["Properties"]


def test_the_route_is_throttled_like_the_expensive_routes():
    settings = RES["CostPlanHttpApi"]["Properties"]["RouteSettings"]["POST /api/v1/uploads"]
    assert settings == {"ThrottlingRateLimit": {"Ref": "HeavyRouteRateLimit"},
                        "ThrottlingBurstLimit": {"Ref": "HeavyRouteBurstLimit"}}


def test_the_role_may_only_put_objects_in_the_upload_folders():
    statements = [s for p in resolve(FN["Policies"], ALL_OFF) for s in p["Statement"]]
    assert [(s["Effect"], s["Action"]) for s in statements] == [("Allow", "s3:PutObject")]
    resources = [r["Fn::Sub"] for r in statements[0]["Resource"]]
    assert resources == [f"${{ReportBucket.Arn}}/{UPLOAD_PREFIXES[p]}*" for p in UploadPurpose]
    assert FN["Environment"]["Variables"] == {"REPORT_BUCKET": {"Ref": "ReportBucket"}}
    assert "InvoiceLayer" not in str(FN.get("Layers"))  # presigning needs no query engine


def test_uploads_expire_with_the_drops_they_sit_among():
    rules = RES["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = {r["Prefix"]: r["ExpirationInDays"] for r in rules if r.get("Prefix") and r["Status"] == "Enabled"}
    for prefix in UPLOAD_PREFIXES.values():
        top = prefix.split("/")[0] + "/"
        assert expiring[top] <= 7, prefix


def test_the_invoice_upload_folder_is_under_the_drop_notification_so_the_worker_must_skip_it():
    """S3 notification filters match a prefix and a suffix only, and two rules for one event may not overlap:
    no rule can leave invoices/uploads/ out, so the worker does (one job per upload, not per file)."""
    queue_rules = RES["ReportBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    prefixes = [r["Value"] for q in queue_rules for r in q["Filter"]["S3Key"]["Rules"] if r["Name"] == "prefix"]
    assert any(INVOICE_UPLOADS_PREFIX.startswith(p) for p in prefixes)
    assert any(UPLOAD_PREFIXES[UploadPurpose.REQUEST].startswith(p) for p in prefixes)  # a request's drop starts it
