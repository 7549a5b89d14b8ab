"""Cold start: a hosted-only plan/llm request imports nothing it does not need (a fresh interpreter, as Lambda's)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib.util, json, sys, types
sys.path.insert(0, {root!r})
spec = importlib.util.spec_from_file_location("app", {app!r})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
ctx = types.SimpleNamespace(function_name="t", memory_limit_in_mb=1024, aws_request_id="t",
                            invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:t")
event = json.loads(open({event!r}).read())
event["body"] = json.dumps(json.loads(sys.argv[1]))
status = m.handler(event, ctx)["statusCode"]
print(json.dumps({{"status": status, "modules": sorted(sys.modules)}}))
"""

# Each is needed only by self-hosted rows, an unknown model or provider, or a refreshed-snapshot bucket.
NOT_ON_THE_HOSTED_PATH = ("costplan.catalog.selfhosted", "costplan.core.throughput", "costplan.services.plan.selfhosted",
                          "costplan.services.plan.llm_selfhosted", "costplan.catalog.canonical", "difflib",
                          "numpy.ma", "csv", "boto3",
                          "opentelemetry.sdk")


def loaded(body: dict, tmp_path) -> tuple[int, set[str]]:
    code = PROBE.format(root=str(ROOT), app=str(ROOT / "functions" / "plan_llm" / "app.py"),
                        event=str(ROOT / "events" / "plan_llm.json"))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(body)], capture_output=True, text=True, env=env,
                         check=True, timeout=120).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["status"], set(result["modules"])


def test_a_hosted_only_request_never_imports_the_self_hosted_model_or_the_fallbacks_it_does_not_use(tmp_path):
    status, modules = loaded({"workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8},
                              "model": "llama-3.1-70b-instruct", "top_k": 5}, tmp_path)
    assert status == 200
    assert sorted(m for m in NOT_ON_THE_HOSTED_PATH if m in modules) == []


def test_a_self_hosted_request_loads_the_self_hosted_half(tmp_path):
    status, modules = loaded({"workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8,
                                           "requests_per_month": 1e6}, "deployment": "both", "top_k": 3}, tmp_path)
    assert status == 200
    assert {"costplan.services.plan.llm_selfhosted", "costplan.core.throughput"} <= modules
