"""Benchmark report generation for a 100-row plan in every format. Not a test.

Prints the median time to render each format from a 100-row plan/llm result, and the ratio
against a peer measured in the same run: pydantic's own JSON serialisation of the same result
(``model_dump_json``), the floor for turning that result into any file at all.
"""

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(n: int = 50) -> None:
    from costplan.reports.content import from_plan_llm
    from costplan.reports.render import RENDERERS
    from costplan.services.plan.llm import plan_llm
    from costplan_contracts.plan_llm import PlanLlmRequest

    result = plan_llm(PlanLlmRequest.model_validate({
        "workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8, "cached_input_share": 0.25},
        "top_k": 100}))
    assert len(result.rows) == 100
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")

    def timed(fn) -> float:
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1e3)
        return statistics.median(samples)

    peer = timed(result.model_dump_json)
    content = timed(lambda: from_plan_llm(result, "Benchmark", "2026-11-26", None))
    body = from_plan_llm(result, "Benchmark", "2026-11-26", None)
    print(f"peer: pydantic model_dump_json of the 100-row result: {peer:.3f} ms")
    print(f"report content from the result: {content:.3f} ms")
    total = content
    for name, render in RENDERERS.items():
        ms = timed(lambda r=render: r(body))
        total += ms
        size = len(render(body))
        print(f"  {name:8} {ms:7.3f} ms  {size / 1024:7.1f} KiB  ({ms / peer:.1f}x the peer)")
    print(f"all four formats, content included: {total:.3f} ms ({total / peer:.1f}x the peer)")


if __name__ == "__main__":
    main()
