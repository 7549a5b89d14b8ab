"""Benchmark invoice analysis on 100,000 FOCUS rows against a pandas read_csv + groupby baseline. Not a test.

Both sides read the same CSV text. The baseline does the aggregation CostPlan's reconciliation and
breakdowns need (BilledCost and EffectiveCost summed per provider, service, period and currency);
CostPlan does that plus validation, model and usage classification, catalog pricing and findings.
Target on the dev machine: at least 200,000 rows/s, and no slower than the pandas baseline.
"""

import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
ROWS = 100_000


def invoice_text(rows: int = ROWS) -> str:
    from invoice_data import FOCUS_LINES, focus_csv

    lines = [FOCUS_LINES[i % len(FOCUS_LINES)] for i in range(rows)]
    return focus_csv("1.2", lines)


def main(repeats: int = 3) -> None:
    import pandas as pd

    from costplan.services.invoice import analyze
    from costplan_contracts.invoice import AnalyzeRequest

    text = invoice_text()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}; {ROWS:,} FOCUS 1.2 rows, {len(text) / 1e6:.1f} MB")
    req = AnalyzeRequest.model_validate({"invoice": {"format": "focus", "csv": text}})
    analyze(req)  # warm the catalogs, as a warm Lambda would have them

    def ours():
        return analyze(req)

    def pandas_baseline():
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        for col in ("BilledCost", "EffectiveCost"):
            df[col] = pd.to_numeric(df[col], errors="coerce")
        df["period"] = df["ChargePeriodStart"].str.slice(0, 7)
        return df.groupby(["ProviderName", "ServiceName", "period", "BillingCurrency"])[
            ["BilledCost", "EffectiveCost"]].sum()

    def timed(fn):
        samples = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    out = ours()
    assert out.reconciliation.input_rows == ROWS
    t_ours, t_pandas = timed(ours), timed(pandas_baseline)
    print(f"CostPlan analyze: {t_ours * 1e3:.0f} ms, {ROWS / t_ours:,.0f} rows/s")
    print(f"pandas read_csv + groupby baseline: {t_pandas * 1e3:.0f} ms, {ROWS / t_pandas:,.0f} rows/s")
    print(f"ratio: CostPlan is {t_pandas / t_ours:.2f}x the baseline's speed")


if __name__ == "__main__":
    main()
