"""Benchmark plan/llm against its peer, genai-prices' calc_price, in one run. Not a test.

Prints:
1. warm p50 / p99 latency of POST /api/v1/plan/llm through the Lambda handler (Mangum + FastAPI),
   over the full catalog (no model filter);
2. the time genai_prices.calc_price takes to price the same workload for the same offerings,
   one call per offering, warmed (one full pass first, then the median of 5), and the ratio of the two;
3. cold start: a fresh interpreter imports the handler and serves the first invocation (median of 7).

Targets on the dev machine (2 cores): warm p50 <= 2 ms, >= 50x faster than the calc_price loop,
cold start <= 400 ms.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKLOAD = {"input_tokens_per_month": 2_000_000_000, "output_tokens_per_month": 500_000_000, "cached_input_share": 0.25}
BODY = {"workload": WORKLOAD, "top_k": 10}
# Hosted APIs and every self-hosted configuration (all open-weight models x instances x GPUs per replica x precision).
BOTH_BODY = {"workload": {**WORKLOAD, "requests_per_month": 1_000_000}, "deployment": "both", "top_k": 10}
CTX = SimpleNamespace(function_name="bench", memory_limit_in_mb=1024, aws_request_id="bench",
                      invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench")

COLD = r"""
import json, sys, time, os
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import importlib.util
spec = importlib.util.spec_from_file_location("app", {app!r})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
t1 = time.perf_counter()
r = m.handler(json.loads({event!r}), __import__("types").SimpleNamespace(function_name="b", memory_limit_in_mb=1024,
    aws_request_id="b", invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:b"))
t2 = time.perf_counter()
assert r["statusCode"] == 200, r
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3}}))
"""


def event(body: dict = BODY) -> dict:
    e = json.loads((ROOT / "events" / "plan_llm.json").read_text())
    e["body"] = json.dumps(body)
    return e


class _StdoutToDevnull:
    """The handler logs warnings and flushes EMF metrics to stdout, as in Lambda; keep them off the screen."""

    def __enter__(self):
        sys.stdout.flush()
        self.saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)

    def __exit__(self, *exc):
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)


def warm(n: int = 2000, body: dict = BODY) -> list[float]:
    from tools.template import load_function_module

    handler = load_function_module("functions/plan_llm").handler
    ev = event(body)
    out = []
    with _StdoutToDevnull():
        for _ in range(50):
            handler(ev, CTX)
        for _ in range(n):
            t = time.perf_counter()
            r = handler(ev, CTX)
            out.append((time.perf_counter() - t) * 1e3)
    assert r["statusCode"] == 200
    return out


def calc_price_loop() -> tuple[float, int]:
    """The peer: price the same workload for each catalog offering with genai_prices.calc_price."""
    from genai_prices import Usage, calc_price

    from costplan.catalog.llm import get_llm_catalog

    cat = get_llm_catalog()
    cached = int(WORKLOAD["input_tokens_per_month"] * WORKLOAD["cached_input_share"])
    usage = Usage(input_tokens=int(WORKLOAD["input_tokens_per_month"]), cache_read_tokens=cached,
                  output_tokens=int(WORKLOAD["output_tokens_per_month"]))
    pairs = [(cat.providers[cat.provider_code[i]], cat.model[i]) for i in range(len(cat))]

    def one_pass() -> int:
        priced = 0
        for provider, model in pairs:
            try:
                calc_price(usage, model, provider_id=provider)
                priced += 1
            except Exception:  # noqa: BLE001 - the peer raises for offerings it cannot price
                pass
        return priced

    priced = one_pass()  # warm the peer as fairly as ourselves: its data load and every lookup cache
    times = []
    for _ in range(5):
        t = time.perf_counter()
        one_pass()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), priced


FLOOR = r"""
import json, time
t0 = time.perf_counter()
import numpy, pydantic, fastapi, mangum, aws_lambda_powertools
print(json.dumps({"import_ms": (time.perf_counter() - t0) * 1e3, "first_ms": 0.0}))
"""

PEER = r"""
import json, time
t0 = time.perf_counter()
from genai_prices import Usage, calc_price
t1 = time.perf_counter()
calc_price(Usage(input_tokens=2_000_000_000, output_tokens=500_000_000), "gpt-4o", provider_id="openai")
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_ms": (time.perf_counter() - t1) * 1e3}))
"""


def _fresh(code: str, runs: int) -> list[dict]:
    """Run ``code`` in fresh interpreters. Bytecode is cached under a private prefix (as the layer ships .pyc)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": "/tmp/costplan-bench-pycache"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = []
    for i in range(runs + 1):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        wall = (time.perf_counter() - t) * 1e3
        if i:  # the first run writes the bytecode cache
            out.append({**json.loads(p.stdout.strip().splitlines()[-1]), "process_ms": wall})
    return out


def cold(runs: int = 7) -> list[dict]:
    app = str(ROOT / "functions" / "plan_llm" / "app.py")
    return _fresh(COLD.format(root=str(ROOT), app=app, event=json.dumps(event())), runs)


def _median_total(rows: list[dict]) -> float:
    return statistics.median(r["import_ms"] + r["first_ms"] for r in rows)


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[q - 1]


def main() -> None:
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    w = warm()
    p50, p99 = statistics.median(w), pct(w, 99)
    print(f"plan/llm warm via Lambda handler, full catalog: p50 {p50:.3f} ms  p99 {p99:.3f} ms  (n={len(w)})")
    both = warm(1000, BOTH_BODY)
    from costplan.catalog.selfhosted import get_selfhosted_catalog

    configs = int(get_selfhosted_catalog().grid.model.size)
    print(f"plan/llm warm, hosted + self-hosted (deployment=both, all models, {configs} self-hosted configurations "
          f"before precision filters): p50 {statistics.median(both):.3f} ms  p99 {pct(both, 99):.3f} ms  (n={len(both)})")
    loop_ms, priced = calc_price_loop()
    print(f"genai_prices.calc_price loop over the same offerings: {loop_ms:.1f} ms ({priced} priced)")
    print(f"ratio: plan/llm is {loop_ms / p50:.0f}x faster than the calc_price loop (p50)")
    c = cold()
    first = _median_total(c)
    print(f"cold start (import handler + first invocation), median of {len(c)}: {first:.0f} ms "
          f"[import {statistics.median(r['import_ms'] for r in c):.0f} ms, first call "
          f"{statistics.median(r['first_ms'] for r in c):.0f} ms; whole process incl. interpreter "
          f"{statistics.median(r['process_ms'] for r in c):.0f} ms]")
    floor = _median_total(_fresh(FLOOR, 7))
    print(f"  of which the framework floor (import numpy, pydantic, fastapi, mangum, powertools): {floor:.0f} ms; "
          f"CostPlan's own share: {first - floor:.0f} ms")
    peer = _median_total(_fresh(PEER, 7))
    print(f"peer cold start (import genai_prices + first calc_price), median of 7: {peer:.0f} ms; "
          f"ratio {peer / first:.2f}x")


if __name__ == "__main__":
    main()
