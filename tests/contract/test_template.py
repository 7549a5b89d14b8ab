"""template.yaml is the source of truth: every route has a function, an event file and a local route."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.local_api import build_app
from tools.template import ROOT, http_routes, load_template, resolve

TEMPLATE = load_template()
ROUTES = http_routes(TEMPLATE)


def test_template_declares_http_routes():
    assert {(r.method, r.path) for r in ROUTES} >= {("POST", "/api/v1/plan/llm"), ("GET", "/api/v1/meta/bounds")}


EVENT_ROUTES = {json.loads(p.read_text()).get("routeKey"): p.name for p in sorted((ROOT / "events").glob("*.json"))}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_has_a_function_and_an_event_file(route):
    assert (ROOT / route.code_uri / "app.py").exists()
    assert route.handler == "app.handler"
    name = EVENT_ROUTES.get(f"{route.method} {route.path}")
    assert name and name.startswith(Path(route.code_uri).name), f"no events/ file for {route.method} {route.path}"


def test_every_function_in_the_template_has_an_app_and_an_event_file():
    for name, res in TEMPLATE["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            code = Path(res["Properties"]["CodeUri"]).name
            assert (ROOT / "functions" / code / "app.py").exists(), name
            assert (ROOT / "events" / f"{code}.json").exists(), name


def test_the_report_queue_is_built_for_partial_batch_failures_and_a_dlq():
    res = TEMPLATE["Resources"]
    worker = res["ReportWorkerFunction"]["Properties"]
    sqs = next(e["Properties"] for e in worker["Events"].values() if e["Type"] == "SQS")
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = res["ReportQueue"]["Properties"]
    assert queue["VisibilityTimeout"] == 6 * worker["Timeout"]
    from costplan_contracts.bounds import REPORT_MAX_RECEIVES

    assert queue["RedrivePolicy"]["maxReceiveCount"] == REPORT_MAX_RECEIVES


def test_the_bucket_blocks_public_access_encrypts_and_refuses_plain_http():
    res = TEMPLATE["Resources"]
    bucket = res["ReportBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    deny = res["ReportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_local_server_serves_exactly_the_template_routes():
    app = build_app()
    local = {(m, r.path) for r in app.router.routes if getattr(r, "endpoint", None) is not None
             and r.path.startswith("/api/") for m in (r.methods or ()) if m != "HEAD"}
    assert local == {(r.method, r.path) for r in ROUTES}


def test_runtime_and_powertools_environment_come_from_globals():
    fn = TEMPLATE["Globals"]["Function"]
    assert fn["Runtime"] == "python3.13"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"} <= set(fn["Environment"]["Variables"])


@pytest.mark.integration
def test_cfn_lint_is_clean():
    out = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "template.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------- deploy hardening (issue 10)

RES = TEMPLATE["Resources"]
PARAMS = TEMPLATE["Parameters"]
FUNCTIONS = {n: r for n, r in RES.items() if r["Type"] == "AWS::Serverless::Function"}
API_FUNCTIONS = {n: r for n, r in FUNCTIONS.items()
                 if any(e["Type"] == "HttpApi" for e in (r["Properties"].get("Events") or {}).values())}
TEMPLATE_TEXT = (ROOT / "template.yaml").read_text(encoding="utf-8")

# Actions AWS offers no resource-level permission for: the only ones allowed on Resource "*",
# each with a WILDCARD-OK comment beside it in template.yaml.
WILDCARD_RESOURCE_OK = {"ce:GetCostAndUsage": "Cost Explorer has no resource-level permissions"}
BROAD_SAM_POLICIES = {"DynamoDBCrudPolicy", "S3CrudPolicy", "CostExplorerReadOnlyPolicy", "S3FullAccessPolicy",
                      "SQSPollerPolicy", "AmazonDynamoDBFullAccess", "AWSLambdaExecute"}




ALL_OFF = {name: False for name in TEMPLATE["Conditions"]}


def _statements(props: dict, conditions: dict) -> list[dict]:
    out = []
    for policy in resolve(props.get("Policies") or [], conditions):
        assert isinstance(policy, dict) and "Statement" in policy, f"not an explicit statement list: {policy}"
        out += policy["Statement"]
    return out


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v]


@pytest.mark.parametrize("mode", ["IAM", "JWT"])
def test_every_route_sits_behind_an_authorizer_in_both_auth_modes(mode):
    api = RES["CostPlanHttpApi"]["Properties"]
    auth = resolve(api["Auth"], {**ALL_OFF, "UseJwtAuth": mode == "JWT"})
    if mode == "IAM":
        assert auth["DefaultAuthorizer"] == "AWS_IAM" and auth["EnableIamAuthorizer"] is True
    else:
        jwt = auth["Authorizers"][auth["DefaultAuthorizer"]]
        assert jwt["JwtConfiguration"] == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}
        assert jwt["IdentitySource"] == "$request.header.Authorization"
    for route in ROUTES:
        events = RES[route.function]["Properties"]["Events"].values()
        for e in (e for e in events if e["Type"] == "HttpApi"):
            assert e["Properties"]["ApiId"] == {"Ref": "CostPlanHttpApi"}  # never SAM's implicit, unauthenticated API
            assert "Auth" not in e["Properties"], f"{route.path} overrides the default authorizer"


def test_iam_is_the_default_auth_mode_and_jwt_needs_issuer_and_audience():
    assert PARAMS["AuthMode"]["Default"] == "IAM"
    assert TEMPLATE["Conditions"]["UseJwtAuth"] == {"Fn::Equals": [{"Ref": "AuthMode"}, "JWT"]}
    rule = TEMPLATE["Rules"]["JwtModeNeedsIssuerAndAudience"]
    asserted = str([a["Assert"] for a in rule["Assertions"]])
    assert "'Ref': 'JwtIssuer'" in asserted and "'Ref': 'JwtAudience'" in asserted
    assert "AWS::LanguageExtensions" in TEMPLATE["Transform"]  # resolves the Auth Fn::If before SAM runs


def test_cost_explorer_is_off_by_default_and_its_permission_is_conditional():
    assert PARAMS["CostExplorerEnabled"]["Default"] == "false"
    assert TEMPLATE["Conditions"]["CostExplorerOn"] == {"Fn::Equals": [{"Ref": "CostExplorerEnabled"}, "true"]}
    holders = []
    for name, fn in FUNCTIONS.items():
        props = fn["Properties"]
        off = [a for s in _statements(props, ALL_OFF) for a in _as_list(s["Action"]) if a.startswith("ce:")]
        assert off == [], f"{name} holds {off} with Cost Explorer off"
        on = [a for s in _statements(props, {**ALL_OFF, "CostExplorerOn": True}) for a in _as_list(s["Action"])
              if a.startswith("ce:")]
        if on:
            assert on == ["ce:GetCostAndUsage"], name
            assert props["Environment"]["Variables"]["COSTPLAN_CE_ENABLED"] == {"Ref": "CostExplorerEnabled"}
            holders.append(name)
    assert sorted(holders) == ["InvoiceAnalyzeFunction", "InvoiceSimulateFunction"]


@pytest.mark.parametrize("ce_on", [False, True], ids=["ce-off", "ce-on"])
def test_function_policies_name_explicit_actions_on_exact_resources(ce_on):
    conditions = {**ALL_OFF, "CostExplorerOn": ce_on}
    for name, fn in FUNCTIONS.items():
        for policy in fn["Properties"].get("Policies") or []:
            assert not (isinstance(policy, dict) and set(policy) & BROAD_SAM_POLICIES), f"{name}: broad {policy}"
        for s in _statements(fn["Properties"], conditions):
            actions = _as_list(s["Action"])
            assert s["Effect"] == "Allow" and "NotAction" not in s and "NotResource" not in s, name
            assert all("*" not in a for a in actions), f"{name}: wildcard action in {actions}"
            if "*" in _as_list(s["Resource"]):
                assert set(actions) <= set(WILDCARD_RESOURCE_OK), f"{name}: Resource * for {actions}"
            for r in _as_list(s["Resource"]):
                if isinstance(r, dict) and "Fn::Sub" in r:
                    assert r["Fn::Sub"].count("*") <= 1 and not r["Fn::Sub"].endswith("}/*"), \
                        f"{name}: object access must name a prefix, got {r}"


def test_every_wildcard_resource_is_commented_in_the_template():
    lines = TEMPLATE_TEXT.splitlines()
    for i, line in enumerate(lines):
        if line.strip() in ('Resource: "*"', "Resource: '*'", "Resource: *"):
            window = "\n".join(lines[max(0, i - 8):i])
            action = next(a for a in WILDCARD_RESOURCE_OK if f"Action: {a}" in window)
            assert f"WILDCARD-OK {action}" in window and "no resource-level permissions" in window


def test_every_function_runs_python313_and_every_api_function_uses_snapstart():
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.13"
    for name, fn in FUNCTIONS.items():
        assert fn["Properties"].get("Runtime", "python3.13") == "python3.13", name
    for name in ("ContractsLayer", "EngineLayer"):
        assert RES[name]["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert len(API_FUNCTIONS) >= 9
    for name, fn in API_FUNCTIONS.items():
        assert fn["Properties"]["AutoPublishAlias"] == "live", name
        assert fn["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name


def test_throttling_reserved_concurrency_cors_and_access_logs():
    api = RES["CostPlanHttpApi"]["Properties"]
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    route_keys = {f"{r.method} {r.path}" for r in ROUTES}
    assert set(api["RouteSettings"]) <= route_keys and "POST /api/v1/invoice/analyze" in api["RouteSettings"]
    assert TEMPLATE["Globals"]["Function"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    cors = resolve(api["CorsConfiguration"], {**ALL_OFF, "HasCorsOrigins": True})
    assert cors["AllowOrigins"] == {"Ref": "CorsAllowOrigins"} and "x-correlation-id" in cors["ExposeHeaders"]
    assert resolve({"c": api["CorsConfiguration"]}, ALL_OFF) == {}  # no origins configured: no CORS at all
    logs = api["AccessLogSettings"]
    assert logs["DestinationArn"] == {"Fn::GetAtt": "ApiAccessLogGroup.Arn"}
    assert RES["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "$context.requestId" in logs["Format"] and "body" not in logs["Format"].lower()
    assert RES["FunctionLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_dropped_files_expire_and_the_bucket_is_versioned():
    bucket = RES["ReportBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = bucket["LifecycleConfiguration"]["Rules"]
    by_prefix = {r.get("Prefix"): r for r in rules if r["Status"] == "Enabled"}
    for prefix in ("requests/", "invoices/", "reports/"):
        assert by_prefix[prefix]["ExpirationInDays"] > 0, prefix
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for r in rules)


def test_an_alarm_fires_when_anything_reaches_the_dead_letter_queue():
    alarms = [r["Properties"] for r in RES.values() if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"]["Dimensions"] == [{"Name": "QueueName",
                                                     "Value": {"Fn::GetAtt": "ReportDeadLetterQueue.QueueName"}}]]
    assert len(alarms) == 1
    a = alarms[0]
    assert (a["Namespace"], a["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert (a["ComparisonOperator"], a["Threshold"]) == ("GreaterThanThreshold", 0)
    assert a["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert RES["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    # CloudWatch cannot publish to a topic under the AWS-managed aws/sns key: the alarm would never notify.
    assert RES["AlarmTopic"]["Properties"].get("KmsMasterKeyId") != "alias/aws/sns"


def test_every_checkov_skip_names_a_check_and_a_reason():
    skips = 0
    for name, res in RES.items():
        for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            assert skip["id"].startswith("CKV_") and len(skip["comment"]) > 30, name
            skips += 1
    assert skips > 0


def test_make_run_binds_to_loopback_only():
    import argparse

    from tools.local_api import loopback_host

    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert loopback_host(host) == host
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.com"):
        with pytest.raises(argparse.ArgumentTypeError):
            loopback_host(host)
    run = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "tools.local_api" in line)
    assert "--host" not in run  # the default, 127.0.0.1


def test_the_report_worker_never_polls_past_its_reserved_concurrency():
    worker = RES["ReportWorkerFunction"]["Properties"]
    sqs = next(e["Properties"] for e in worker["Events"].values() if e["Type"] == "SQS")
    on = resolve(sqs["ScalingConfig"], {**ALL_OFF, "HasReservedConcurrency": True})
    assert on == {"MaximumConcurrency": {"Ref": "ReservedConcurrency"}}
    assert resolve({"s": sqs["ScalingConfig"]}, ALL_OFF) == {}
    rule = str(TEMPLATE["Rules"]["ReservedConcurrencyIsUsable"]["Assertions"])
    assert "'Ref': 'ReservedConcurrency'}, 0]" in rule and "'Ref': 'ReservedConcurrency'}, 1]" in rule
