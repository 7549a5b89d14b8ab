"""Benchmark plan/llm against its peer, genai-prices' calc_price, in one run. Not a test.

Prints, all measured in the same run:
1. warm p50 / p99 of POST /api/v1/plan/llm through the Lambda handler (Mangum + FastAPI), full hosted catalog;
2. the engine alone (the service, ``plan_llm(request)`` on an already validated request), full hosted catalog,
   and at 100k synthetic hosted candidates (the bundled catalog's offerings repeated under new model ids);
3. the time genai_prices.calc_price takes to price the same workload for the same offerings, one call per
   offering, with the peer's lookup caches warmed first (one full pass, then the median of 5), and the ratios;
4. cold start: fresh interpreters import the handler and serve the first invocation, interleaved with fresh
   interpreters doing the same for a bare FastAPI + Mangum + Powertools app (numpy and pydantic imported, one
   pydantic-validated POST route, the same decorators); CostPlan's own share is the difference of the medians.

Targets (issue 13) on the dev machine (2 cores): engine p50 <= 0.3 ms full catalog, <= 5 ms at 100k candidates,
handler p50 <= 0.8 ms, >= 150x the warmed calc_price loop (against the handler p50), CostPlan's own cold share
<= 100 ms.
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
t0, c0 = time.perf_counter(), time.process_time()
sys.path.insert(0, {root!r})  # the repo root: functions/ resolve as in the layer
import importlib.util
spec = importlib.util.spec_from_file_location("app", {app!r})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
t1 = time.perf_counter()
r = m.handler(json.loads({event!r}), __import__("types").SimpleNamespace(function_name="b", memory_limit_in_mb=1024,
    aws_request_id="b", invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:b"))
t2 = time.perf_counter()
assert r["statusCode"] == 200, r
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3, "cpu_ms": (time.process_time() - c0) * 1e3}}))
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


class Timings(list):
    """Wall-clock ms per call, with ``cpu``: the thread's CPU ms per call (what a call costs when the shared VM
    preempts it: CPU time does not count the time other processes ran)."""

    cpu: list[float]


def _timed(call, n: int) -> Timings:
    out, cpu = Timings(), []
    for _ in range(n):
        t, c = time.perf_counter(), time.thread_time()
        call()
        cpu.append((time.thread_time() - c) * 1e3)
        out.append((time.perf_counter() - t) * 1e3)
    out.cpu = cpu
    return out


def warm(n: int = 2000, body: dict = BODY) -> Timings:
    from tools.template import load_function_module

    handler = load_function_module("functions/plan_llm").handler
    ev = event(body)
    with _StdoutToDevnull():
        for _ in range(50):
            assert handler(ev, CTX)["statusCode"] == 200
        return _timed(lambda: handler(ev, CTX), n)


def engine(n: int = 2000, catalog=None) -> Timings:
    """plan_llm on an already validated request: the service alone, no HTTP adapter, no logging."""
    from costplan.services.plan import plan_llm
    from costplan_contracts.plan_llm import PlanLlmRequest

    req = PlanLlmRequest.model_validate(BODY)
    for _ in range(20):
        plan_llm(req, catalog)
    return _timed(lambda: plan_llm(req, catalog), n)


def breakdown(n: int = 1000) -> dict[str, float]:
    """Where a warm handler call goes, in CPU ms (median per call): the layers measured interleaved, call by call,
    so the shared VM's load drifts over all of them alike. ``handler`` is the Lambda entry; ``adapter`` the same
    app through a plain Mangum adapter (no Powertools decorators, no EMF flush); ``engine`` the service;
    ``log_line`` the one warnings log line and its metric; ``to_json`` pydantic-core serializing the response."""
    from mangum import Mangum

    from costplan.adapters.observability import log_warnings, metrics
    from costplan.services.plan import plan_llm
    from costplan_contracts.plan_llm import PlanLlmRequest
    from tools.template import load_function_module

    module = load_function_module("functions/plan_llm")
    adapter, ev = Mangum(module.app, lifespan="off"), event()
    req = PlanLlmRequest.model_validate(BODY)
    result = plan_llm(req)

    def bare() -> None:
        adapter(ev, CTX)
        metrics.metric_set.clear()  # what the decorator's flush would have emptied

    def log_line() -> None:
        log_warnings(module.ROUTE, result.warnings)
        metrics.metric_set.clear()

    layers = {"handler": lambda: module.handler(ev, CTX), "adapter": bare, "engine": lambda: plan_llm(req),
              "log_line": log_line, "to_json": lambda: result.__pydantic_serializer__.to_json(result, by_alias=True)}
    cpu: dict[str, list[float]] = {k: [] for k in layers}
    with _StdoutToDevnull():
        for call in layers.values():
            for _ in range(50):
                call()
        for _ in range(n):
            for k, call in layers.items():
                c = time.thread_time()
                call()
                cpu[k].append((time.thread_time() - c) * 1e3)
    return {k: statistics.median(v) for k, v in cpu.items()}


def synthetic_catalog(size: int = 100_000):
    """The bundled offerings repeated under new model ids (``<model>~s<k>``) until ``size`` candidates."""
    from costplan.catalog.llm import bundled_document, from_document

    doc = bundled_document()
    base, offerings = doc["offerings"], []
    for k in range(-(-size // len(base))):
        for o in base:
            offerings.append({**o, "model": f"{o['model']}~s{k}", "canonical": f"{o['canonical']}~s{k}",
                              "aliases": []})
    return from_document({**doc, "offerings": offerings[:size]})


def calc_price_loop() -> tuple[float, float, int]:
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
    times = _timed(one_pass, 5)
    return statistics.median(times), statistics.median(times.cpu), priced


FLOOR = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy  # noqa: F401 - every CostPlan function imports numpy; the floor counts it
from aws_lambda_powertools import Logger, Metrics
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

class Body(BaseModel):
    workload: dict
    top_k: int = 5

class Out(BaseModel):
    rows: list[dict]

app = FastAPI(title="floor", docs_url=None, redoc_url=None)

@app.post("/api/v1/plan/llm", response_model=Out)
async def route(body: Body) -> Out:
    return Out(rows=[body.workload])

logger, metrics = Logger(service="floor"), Metrics(namespace="floor", service="floor")
adapter = Mangum(app, lifespan="off")

@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return adapter(event, context)

t1 = time.perf_counter()
r = handler(json.loads({event!r}), __import__("types").SimpleNamespace(function_name="b", memory_limit_in_mb=1024,
    aws_request_id="b", invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:b"))
t2 = time.perf_counter()
assert r["statusCode"] == 200, r
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3, "cpu_ms": (time.process_time() - c0) * 1e3}}))
"""

PEER = r"""
import json, time
t0 = time.perf_counter()
from genai_prices import Usage, calc_price
t1 = time.perf_counter()
calc_price(Usage(input_tokens=2_000_000_000, output_tokens=500_000_000), "gpt-4o", provider_id="openai")
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_ms": (time.perf_counter() - t1) * 1e3}))
"""


def _env() -> dict:
    # Bytecode is cached under a private prefix (as the layer ships .pyc); the catalog binary under a private
    # cache (as the layer ships it); no refreshed-snapshot bucket.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": "/tmp/costplan-bench-pycache",
           "COSTPLAN_CACHE_DIR": "/tmp/costplan-bench-cache"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CATALOG_BUCKET", None)
    return env


def _once(code: str) -> dict:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    wall = (time.perf_counter() - t) * 1e3
    return {**json.loads(p.stdout.strip().splitlines()[-1]), "process_ms": wall}


def _fresh(code: str, runs: int) -> list[dict]:
    """Run ``code`` in fresh interpreters, after one discarded run that writes the bytecode and catalog caches."""
    _once(code)
    return [_once(code) for _ in range(runs)]


def cold_pair(runs: int = 9) -> tuple[list[dict], list[dict]]:
    """(CostPlan's plan/llm, the bare app), each in fresh interpreters, interleaved so both see the same load."""
    app = str(ROOT / "functions" / "plan_llm" / "app.py")
    ours = COLD.format(root=str(ROOT), app=app, event=json.dumps(event()))
    floor = FLOOR.format(event=json.dumps(event()))
    _once(ours), _once(floor)
    a, b = [], []
    for _ in range(runs):
        a.append(_once(ours))
        b.append(_once(floor))
    return a, b


def _median_total(rows: list[dict]) -> float:
    return statistics.median(r["import_ms"] + r["first_ms"] for r in rows)


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[q - 1]


def _line(label: str, t: Timings) -> str:
    return (f"{label}: p50 {statistics.median(t):.3f} ms  p99 {pct(t, 99):.3f} ms  (n={len(t)}); "
            f"CPU p50 {statistics.median(t.cpu):.3f} ms")


def main() -> None:
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f}")
    from costplan.catalog.llm import get_llm_catalog

    w = warm()
    print(_line("plan/llm warm via Lambda handler, full catalog", w))
    e = engine()
    print(_line(f"plan/llm engine (service on a validated request), full catalog ({len(get_llm_catalog())} "
                f"offerings)", e))
    syn = synthetic_catalog()
    big = engine(200, syn)
    print(_line(f"plan/llm engine at {len(syn):,} synthetic hosted candidates", big))
    b = breakdown()
    print(f"warm handler, CPU ms per call (medians, interleaved): handler {b['handler']:.3f} = engine "
          f"{b['engine']:.3f} + warnings log line and its metric {b['log_line']:.3f} + FastAPI, Starlette and "
          f"Mangum {b['adapter'] - b['engine'] - b['log_line']:.3f} (of which pydantic-core serializing the response "
          f"{b['to_json']:.3f}) + Powertools decorators and the EMF flush {b['handler'] - b['adapter']:.3f}")
    del syn
    both = warm(1000, BOTH_BODY)
    from costplan.catalog.selfhosted import get_selfhosted_catalog

    configs = int(get_selfhosted_catalog().grid.model.size)
    print(_line(f"plan/llm warm, hosted + self-hosted (deployment=both, all models, {configs} self-hosted "
                f"configurations before precision filters)", both))
    loop_ms, loop_cpu, priced = calc_price_loop()
    print(f"genai_prices.calc_price loop over the same offerings, lookup caches warmed first: {loop_ms:.1f} ms "
          f"(CPU {loop_cpu:.1f} ms; {priced} priced)")
    p50, e50 = statistics.median(w), statistics.median(e)
    print(f"ratio: the plan/llm handler is {loop_ms / p50:.0f}x faster than the warmed calc_price loop (p50; CPU "
          f"{loop_cpu / statistics.median(w.cpu):.0f}x); the engine alone {loop_ms / e50:.0f}x (CPU "
          f"{loop_cpu / statistics.median(e.cpu):.0f}x)")
    ours, floor = cold_pair()
    first, base = _median_total(ours), _median_total(floor)
    cpu, cpu_base = statistics.median(r["cpu_ms"] for r in ours), statistics.median(r["cpu_ms"] for r in floor)
    print(f"cold start (import handler + first invocation), median of {len(ours)}: {first:.0f} ms "
          f"[import {statistics.median(r['import_ms'] for r in ours):.0f} ms, first call "
          f"{statistics.median(r['first_ms'] for r in ours):.0f} ms; CPU {cpu:.0f} ms; whole process incl. "
          f"interpreter {statistics.median(r['process_ms'] for r in ours):.0f} ms]")
    print(f"  bare FastAPI + Mangum + Powertools app (numpy, pydantic, one POST route, first invocation), "
          f"median of {len(floor)}, interleaved: {base:.0f} ms (CPU {cpu_base:.0f} ms); CostPlan's own cold share: "
          f"{first - base:.0f} ms (CPU {cpu - cpu_base:.0f} ms; target <= 100 ms)")
    peer = _median_total(_fresh(PEER, 7))
    print(f"peer cold start (import genai_prices + first calc_price), median of 7: {peer:.0f} ms; "
          f"ratio {peer / first:.2f}x")


if __name__ == "__main__":
    main()
