"""The `costplan` CLI on the same inputs in-process (local transport) and against `make run`'s server (http
transport): the outputs agree, byte for byte; bad input prints the field and the reason and exits 2."""

import json
import re

import pytest
from typer.testing import CliRunner

from costplan.adapters import backends
from costplan_client.cli import app, hoist_global_options
from costplan_client.transport import LOCAL_BASE_URL
from tools.template import ROOT

pytestmark = pytest.mark.integration
SAMPLE = str(ROOT / "tests" / "data" / "sample_focus_1_2.csv")
CID = re.compile(r"correlation id: \S+")

SAME_INPUTS = {
    "plan-llm-json": ["plan", "llm", "--model", "llama-3.1-70b-instruct", "--input", "3e9", "--output", "1 billion",
                      "--budget", "2,000", "--deployment", "both", "--format", "json"],
    "plan-llm-csv": ["plan", "llm", "--model", "llama-3.1-70b-instruct", "--input", "3B", "--output", "1e9",
                     "--format", "csv"],
    "plan-scaling-md": ["plan", "scaling", "--model", "llama-3.1-8b-instruct", "--peak-rps", "20", "--avg-rps", "8",
                        "--input", "1000", "--output", "300", "--format", "markdown"],
    "rank-tts": ["rank", "catalog", "--type", "tts", "--quantity", "2e6", "--format", "json"],
    "training": ["training", "plan", "--model", "llama-3.1-8b-instruct", "--method", "lora", "--dataset-tokens",
                 "100M", "--format", "json"],
    "invoice-analyze": ["invoice", "analyze", SAMPLE, "--format", "json"],
    "invoice-simulate": ["invoice", "simulate", SAMPLE, "--scenario", "cache_hit_rate:rate=0.4", "--scenario",
                         "switch_provider:from=openai,to=openrouter,share=0.5", "--format", "json"],
    "ask": ["ask", "cheapest way to run llama 3.1 70b for 2B input and 500M output tokens a month", "--format",
            "json"],
}


@pytest.fixture
def local_store(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTPLAN_STORAGE", "local")
    monkeypatch.setenv("COSTPLAN_LOCAL_DIR", str(tmp_path / "local-data"))
    monkeypatch.setenv("COSTPLAN_PUBLIC_URL", LOCAL_BASE_URL)  # set here so that it is unset again afterwards
    monkeypatch.delenv("COSTPLAN_ENDPOINT", raising=False)
    backends.ports.cache_clear()
    backends.export_places.cache_clear()
    yield tmp_path
    backends.ports.cache_clear()
    backends.export_places.cache_clear()


def costplan(*args: str, endpoint: str | None = None):
    argv = [*(["--endpoint", endpoint] if endpoint else []), *args]
    return CliRunner().invoke(app, hoist_global_options(argv), catch_exceptions=False)


@pytest.mark.parametrize("name", SAME_INPUTS)
def test_local_and_http_print_the_same_output(name, local_store, local_api):
    local = costplan(*SAME_INPUTS[name])
    http = costplan(*SAME_INPUTS[name], endpoint=local_api.base)
    assert local.exit_code == 0, local.output
    assert http.exit_code == 0, http.output
    assert local.stdout == http.stdout
    if SAME_INPUTS[name][-1] == "json":
        json.loads(local.stdout)  # one JSON document on stdout: nothing else is printed there


def test_report_generate_waits_then_downloads_the_same_files(local_store, local_api):
    plan = local_store / "plan.json"
    plan.write_text(costplan(*SAME_INPUTS["plan-llm-json"]).stdout)  # a plan/llm response as the source
    outs = {}
    for side, endpoint in (("local", None), ("http", local_api.base)):
        out = local_store / side
        result = costplan("report", "generate", "--from", str(plan), "--formats", "html,csv", "--out", str(out),
                          "--title", "CLI parity", "--format", "json", endpoint=endpoint)
        assert result.exit_code == 0, result.output
        job = json.loads(result.stdout)
        assert job["status"] == "succeeded" and job["progress"] == 1.0
        outs[side] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert outs["local"] == outs["http"]
    assert sorted(n.rsplit(".", 1)[1] for n in outs["local"]) == ["csv", "html"]
    assert b"CLI parity" in next(v for k, v in outs["local"].items() if k.endswith(".html"))


@pytest.mark.parametrize(("args", "field", "reason"), [
    (["plan", "llm", "--input", "-3", "--output", "1e9"], "workload.input_tokens_per_month",
     "greater than or equal to 0"),
    (["training", "plan", "--model", "no-such-model-x", "--method", "lora", "--dataset-tokens", "1e8"], "model",
     "neither an open-weight model"),
    (["rank", "catalog", "--type", "tts", "--quantity", "2e6", "--factor", "characters_per_request"], "--factor",
     "write name=value"),
])
def test_bad_input_prints_the_field_and_reason_and_exits_2_on_both_transports(args, field, reason, local_store,
                                                                                local_api):
    outputs = []
    for endpoint in (None, local_api.base):
        result = costplan(*args, endpoint=endpoint)
        assert result.exit_code == 2, result.output
        assert f"{field}: " in result.stderr and reason in result.stderr
        assert result.stdout == ""
        outputs.append(CID.sub("correlation id: *", result.stderr))
    assert outputs[0] == outputs[1]


def test_a_number_the_parser_refuses_is_a_usage_error():
    result = costplan("plan", "llm", "--input", "3 zillion", "--output", "1e9")
    assert result.exit_code == 2
    assert "--input" in result.stderr and "unknown scale 'zillion'" in result.stderr


def test_a_folder_against_a_server_without_uploads_says_what_to_do(local_store, local_api):
    folder = local_store / "export"
    folder.mkdir()
    header, *rows = (ROOT / "tests" / "data" / "sample_focus_1_2.csv").read_text().splitlines()
    (folder / "a.csv").write_text("\n".join([header, *rows[:5]]) + "\n")
    (folder / "b.csv").write_text("\n".join([header, *rows[5:]]) + "\n")
    http = costplan("invoice", "analyze", str(folder), endpoint=local_api.base)
    assert http.exit_code != 0 and "path: analyse it without --endpoint" in http.stderr
    local = costplan("invoice", "analyze", str(folder), "--format", "json")  # in-process: read in place, a job
    assert local.exit_code == 0, local.output
    assert json.loads(local.stdout)["status"] == "succeeded"
