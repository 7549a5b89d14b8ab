"""Benchmark invoice analysis end to end on synthetic FOCUS 1.2 exports, beside bare read + group-by baselines.

Not a test. Data: realistic cardinality (accounts, sub-accounts, resources, SKUs, regions, hourly charge
periods over a month), AI usage (tokens for several providers and models, GPU instance-hours) mixed with
ordinary cloud spend, credits and purchases. Files go to /tmp (never into git), as CSV, gzip CSV and Parquet.

Every measurement runs in its own subprocess, so peak RSS (ru_maxrss) is that run's alone:

- ``costplan``: ``analyze_dataset`` over the file (the export-prefix path: streamed record batches, the
  rule set in DuckDB, then findings): validation, classification, reconciliation, breakdowns, pricing.
- ``polars``: ``scan_csv`` / ``scan_parquet`` + group_by(ProviderName, ServiceName, period, currency) sums.
- ``duckdb``: ``read_csv`` / ``read_parquet`` + the same GROUP BY.
- ``pandas``: ``read_csv`` / ``read_parquet`` + the same groupby (100k and 1M rows only).

Usage: python benchmarks/invoice.py [--rows 100000,1000000] [--formats csv,csv.gz,parquet] [--full] [--repeats 3]
``--full`` adds 10M rows (several minutes and ~4 GB of /tmp on a 2-core machine).
Requirements: requirements-bench.txt (pandas, polars) on top of requirements-dev.txt.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("COSTPLAN_BENCH_DIR", "/tmp/costplan-bench"))
GROUP = ["ProviderName", "ServiceName", "period", "BillingCurrency"]
BASELINE_MAX_ROWS = {"pandas": 1_000_000}

# (provider, service, x_Model, meter, unit, price per unit)
AI_SKUS = [
    ("Anthropic", "Claude API", "claude-sonnet-4-5", "Input Tokens", "Tokens", 3e-6),
    ("Anthropic", "Claude API", "claude-sonnet-4-5", "Output Tokens", "Tokens", 15e-6),
    ("Anthropic", "Claude API", "claude-haiku-4-5", "Input Tokens", "Tokens", 1e-6),
    ("OpenAI", "OpenAI API", "gpt-4o", "Input Tokens", "Tokens", 2.5e-6),
    ("OpenAI", "OpenAI API", "gpt-4o", "Output Tokens", "Tokens", 10e-6),
    ("OpenAI", "OpenAI API", "gpt-4o-mini", "Input Tokens", "Tokens", 0.15e-6),
    ("AWS", "Amazon Bedrock", "llama-3.1-70b-instruct", "Input Tokens", "1K Tokens", 0.72e-3),
    ("AWS", "Amazon Bedrock", "llama-3.1-70b-instruct", "Output Tokens", "1K Tokens", 0.72e-3),
    ("AWS", "Amazon Elastic Compute Cloud", "p5.48xlarge", "BoxUsage:p5.48xlarge", "Hours", 55.04),
    ("AWS", "Amazon Elastic Compute Cloud", "g5.4xlarge", "BoxUsage:g5.4xlarge", "Hours", 1.624),
]
OTHER_SERVICES = ["Amazon Simple Storage Service", "Amazon Elastic Compute Cloud", "Amazon Relational Database Service",
                  "AWS Lambda", "Amazon CloudWatch", "Amazon DynamoDB", "Amazon Virtual Private Cloud",
                  "Azure Storage", "Virtual Machines", "Cloud Storage", "Compute Engine", "BigQuery"]
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1",
           "eastus", "westeurope", "us-central1"]


def generate(rows: int, path: Path, fmt: str, seed: int = 7) -> Path:
    """A synthetic FOCUS 1.2 export of ``rows`` rows: 400 accounts, 40,000 resources, ~2,500 SKUs, 720 hours."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "layers" / "engine" / "src"))
    from costplan.catalog.billing import focus_columns

    rng = np.random.default_rng(seed)
    skus = []  # (provider, service, model, meter, unit, price, description, category)
    for region in REGIONS:
        for p, s, m, meter, unit, price in AI_SKUS:
            skus.append((p, s, m, meter, unit, price, f"{m} {meter.lower()} in {region}", "Usage"))
        for i in range(240):
            svc = OTHER_SERVICES[i % len(OTHER_SERVICES)]
            prov = ("AWS" if svc.startswith(("Amazon", "AWS"))
                    else "Microsoft" if svc in ("Azure Storage", "Virtual Machines") else "Google")
            skus.append((prov, svc, "", f"{region}-Meter{i:03d}", "GB-Mo" if i % 3 else "Hrs", 0.01 + i * 1e-3,
                         f"{svc} meter {i} in {region}", "Usage"))
    skus.append(("AWS", "AWS Credits", "", "", "", -1.0, "Promotional credit", "Credit"))
    skus.append(("AWS", "Amazon Elastic Compute Cloud", "", "", "", 1.0, "Savings Plan upfront fee", "Purchase"))
    n_sku = len(skus)
    weights = np.ones(n_sku)
    weights[[i for i, s in enumerate(skus) if s[2]]] = 20.0  # AI SKUs are common rows
    weights[-2:] = 0.05
    sku = rng.choice(n_sku, size=rows, p=weights / weights.sum())

    def col(i):
        return np.array([s[i] for s in skus], dtype=object)[sku]

    qty = np.round(rng.gamma(2.0, 5e5, rows), 3)
    qty = np.where(np.char.find(col(4).astype(str), "Hours") >= 0, np.round(rng.uniform(0.1, 1.0, rows), 4), qty)
    qty = np.where(col(4).astype(str) == "1K Tokens", np.round(qty / 1000, 3), qty)
    price = col(5).astype(float)
    billed = np.round(qty * price, 10)
    category = col(7)
    billed = np.where(category == "Credit", -np.round(rng.uniform(1, 50, rows), 2), billed)
    billed = np.where(category == "Purchase", np.round(rng.uniform(100, 1000, rows), 2), billed)
    qty_text = np.where(category == "Usage", qty.astype(str), "")
    hours = rng.integers(0, 720, rows)
    starts = np.datetime64("2026-10-01T00:00:00") + hours.astype("timedelta64[h]")
    start_text = np.char.add(np.datetime_as_string(starts, unit="s").astype(str), "Z")
    end_text = np.char.add(np.datetime_as_string(starts + np.timedelta64(1, "h"), unit="s").astype(str), "Z")
    account = rng.integers(0, 400, rows)
    resource = rng.integers(0, 40_000, rows)
    data = {c: None for c in focus_columns("1.2")}
    data.update({
        "BilledCost": billed, "EffectiveCost": billed, "ListCost": billed, "ContractedCost": billed,
        "BillingAccountId": np.char.add("acct-", (account // 20).astype(str)), "BillingAccountName": "Example Co",
        "BillingCurrency": "USD", "BillingPeriodStart": "2026-10-01T00:00:00Z", "BillingPeriodEnd": "2026-11-01T00:00:00Z",
        "ChargeCategory": category, "ChargeDescription": col(6), "ChargePeriodStart": start_text,
        "ChargePeriodEnd": end_text, "ConsumedQuantity": qty_text, "ConsumedUnit": col(4),
        "InvoiceIssuerName": col(0), "PricingQuantity": qty_text, "PricingUnit": col(4), "ProviderName": col(0),
        "PublisherName": col(0), "RegionId": np.array(REGIONS, dtype=object)[sku % len(REGIONS)],
        "ResourceId": np.char.add("res-", resource.astype(str)), "ServiceCategory": "Compute",
        "ServiceName": col(1), "SkuId": np.char.add("sku-", sku.astype(str)), "SkuMeter": col(3),
        "SubAccountId": np.char.add("sub-", account.astype(str)), "x_Model": col(2),
    })
    arrays = {}
    for name, value in data.items():
        if value is None:
            arrays[name] = pa.array([""] * rows if fmt != "parquet" else [None] * rows, pa.string())
        elif isinstance(value, str):
            arrays[name] = pa.array(np.full(rows, value, dtype=object), pa.string())
        elif value.dtype == float:
            arrays[name] = pa.array(value, pa.float64())
        else:
            arrays[name] = pa.array(value.astype(str) if value.dtype != object else value, pa.string())
    table = pa.table(arrays)
    if fmt == "parquet":
        for name in ("ConsumedQuantity", "PricingQuantity"):
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, pa.array(np.where(category == "Usage", qty, np.nan), pa.float64(),
                                                       from_pandas=True))
        i = table.schema.get_field_index("ChargePeriodStart")
        table = table.set_column(i, "ChargePeriodStart", pa.array(starts.astype("datetime64[s]"), pa.timestamp("s")))
        pq.write_table(table, path, compression="snappy", row_group_size=256_000)
    elif fmt == "csv.gz":
        with pa.CompressedOutputStream(str(path), "gzip") as out:
            pacsv.write_csv(table, out)
    else:
        pacsv.write_csv(table, path)
    return path


def data_file(rows: int, fmt: str) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"focus_{rows}.{fmt}"
    if not path.exists():
        generate(rows, path.with_suffix(path.suffix + ".tmp"), fmt).rename(path)
    return path


def peak_rss_mib() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: after fork + exec Linux carries the parent's high-water mark
    into ru_maxrss, so a child would report at least the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one(engine: str, path: str, fmt: str) -> int:
    """One run in this process: prints JSON {seconds, rows, rss_mib}."""
    t = time.perf_counter()
    if engine == "costplan":
        sys.path.insert(0, str(ROOT / "layers" / "engine" / "src"))
        sys.path.insert(0, str(ROOT / "contracts" / "src"))
        import pyarrow.dataset as ds

        from costplan.services.invoice import analyze_dataset
        from costplan_contracts.enums import InvoiceFormat

        t = time.perf_counter()
        out = analyze_dataset(ds.dataset(path, format="parquet" if fmt == "parquet" else "csv"), InvoiceFormat.FOCUS)
        n = out.reconciliation.input_rows
        assert out.reconciliation.rejected_rows == 0 and out.line_groups, "the synthetic export must analyse cleanly"
    elif engine == "polars":
        import polars as pl

        lf = pl.scan_parquet(path) if fmt == "parquet" else pl.scan_csv(path, infer_schema_length=10_000)
        lf = lf.with_columns(pl.col("ChargePeriodStart").cast(pl.String).str.slice(0, 7).alias("period"))
        df = lf.group_by(GROUP).agg(pl.col("BilledCost").sum(), pl.col("EffectiveCost").sum(), pl.len().alias("n")).collect()
        n = int(df["n"].sum())
    elif engine == "duckdb":
        import duckdb

        reader = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
        n = sum(r[-1] for r in duckdb.sql(
            f"SELECT ProviderName, ServiceName, substr(CAST(ChargePeriodStart AS VARCHAR), 1, 7) AS period, "
            f"BillingCurrency, sum(BilledCost), sum(EffectiveCost), count(*) FROM {reader} GROUP BY ALL").fetchall())
    else:
        import pandas as pd

        df = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, low_memory=False)
        df["period"] = df["ChargePeriodStart"].astype(str).str.slice(0, 7)
        n = int(df.groupby(GROUP)[["BilledCost", "EffectiveCost"]].sum().shape[0] and len(df))
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "rows": n, "rss_mib": peak_rss_mib()}))
    return 0


def measure(engine: str, path: Path, fmt: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--one", engine, str(path), fmt], capture_output=True,
                              text=True, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    seconds = statistics.median(r["seconds"] for r in runs)
    return {"seconds": seconds, "rows_per_s": runs[0]["rows"] / seconds, "rss_mib": max(r["rss_mib"] for r in runs)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="100000,1000000")
    ap.add_argument("--formats", default="csv,csv.gz,parquet")
    ap.add_argument("--engines", default="polars,duckdb,pandas,costplan")
    ap.add_argument("--full", action="store_true", help="add 10M rows")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--one", nargs=3, metavar=("ENGINE", "PATH", "FORMAT"))
    args = ap.parse_args()
    if args.one:
        return _one(*args.one)
    sizes = [int(x) for x in args.rows.split(",")] + ([10_000_000] if args.full else [])
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}; synthetic FOCUS 1.2, {len(AI_SKUS) * len(REGIONS) + 240 * len(REGIONS) + 2} SKUs")
    print(f"{'rows':>10} {'format':8} {'engine':9} {'ms':>9} {'rows/s':>12} {'peak RSS':>10} {'vs polars':>10}")
    for rows in sizes:
        for fmt in args.formats.split(","):
            path = data_file(rows, fmt)
            results = {}
            for engine in args.engines.split(","):
                if rows > BASELINE_MAX_ROWS.get(engine, rows):
                    continue
                results[engine] = r = measure(engine, path, fmt, args.repeats if rows < 10_000_000 else 1)
                ratio = (results["polars"]["seconds"] / r["seconds"]) if "polars" in results else None
                print(f"{rows:>10,} {fmt:8} {engine:9} {r['seconds'] * 1e3:>9,.0f} {r['rows_per_s']:>12,.0f} "
                      f"{r['rss_mib']:>7,.0f} MiB {'' if ratio is None else f'{ratio:>9.2f}x'}", flush=True)
            if "costplan" in results and "polars" in results:
                print(f"{'':>10} {fmt:8} costplan / polars-lazy speed: "
                      f"{results['polars']['seconds'] / results['costplan']['seconds']:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
