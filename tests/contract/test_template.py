"""template.yaml is the source of truth: every route has a function, an event file and a local route."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.local_api import build_app
from tools.template import ROOT, http_routes, load_template

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


def test_function_policies_are_scoped_sam_policy_templates():
    scoped = 0
    for res in TEMPLATE["Resources"].values():
        for policy in res.get("Properties", {}).get("Policies", []) or []:
            (name, args), = policy.items()  # a SAM policy template, never an inline statement with "*"
            assert name.endswith("Policy") and isinstance(args, dict) and all(v != "*" for v in args.values())
            scoped += 1
    assert scoped >= 6


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
