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


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_has_a_function_and_an_event_file(route):
    assert (ROOT / route.code_uri / "app.py").exists()
    assert route.handler == "app.handler"
    name = Path(route.code_uri).name
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    assert event["requestContext"]["http"]["method"] == route.method
    assert event["rawPath"] == route.path


def test_the_local_server_serves_exactly_the_template_routes():
    app = build_app()
    local = {(m, r.path) for r in app.router.routes if getattr(r, "endpoint", None) is not None
             and r.path.startswith("/api/") for m in (r.methods or ()) if m != "HEAD"}
    assert local == {(r.method, r.path) for r in ROUTES}


def test_runtime_and_powertools_environment_come_from_globals():
    fn = TEMPLATE["Globals"]["Function"]
    assert fn["Runtime"] == "python3.11"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"} <= set(fn["Environment"]["Variables"])


@pytest.mark.integration
def test_cfn_lint_is_clean():
    out = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "template.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
