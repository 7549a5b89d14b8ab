"""Invoice fixtures built from the FOCUS column spec (catalog/data/focus_columns.csv), not copied from anywhere."""

import csv
import io

from costplan.catalog.billing import focus_columns

# (provider, service, x_Model, SkuMeter, ConsumedUnit, ConsumedQuantity, BilledCost, EffectiveCost, ChargeCategory,
#  ChargeClass, ChargePeriodStart, ChargeDescription)
FOCUS_LINES = [
    ("Anthropic", "Claude API", "claude-sonnet-4-5", "Input Tokens", "Tokens", "400000000", "1200", "1200", "Usage", "",
     "2026-10-01T00:00:00Z", "Claude Sonnet 4.5 input tokens"),
    ("Anthropic", "Claude API", "claude-sonnet-4-5", "Output Tokens", "Tokens", "20000000", "300", "300", "Usage", "",
     "2026-10-01T00:00:00Z", "Claude Sonnet 4.5 output tokens"),
    ("OpenAI", "OpenAI API", "gpt-4o", "Input Tokens", "Tokens", "100000000", "300", "300", "Usage", "",
     "2026-10-01T00:00:00Z", "gpt-4o input tokens"),
    ("OpenAI", "OpenAI API", "gpt-4o", "Output Tokens", "Tokens", "10000000", "100", "100", "Usage", "",
     "2026-10-01T00:00:00Z", "gpt-4o output tokens"),
    ("AWS", "Amazon Bedrock", "llama-3.1-70b-instruct", "Input Tokens", "1K Tokens", "50000", "36", "36", "Usage", "",
     "2026-10-01T00:00:00Z", "Meta Llama 3.1 70B input tokens"),
    ("AWS", "Amazon Bedrock", "llama-3.1-70b-instruct", "Output Tokens", "1K Tokens", "10000", "7.2", "7.2", "Usage", "",
     "2026-10-01T00:00:00Z", "Meta Llama 3.1 70B output tokens"),
    ("AWS", "Amazon Elastic Compute Cloud", "p5.48xlarge", "BoxUsage:p5.48xlarge", "Hours", "720", "39628.8",
     "39628.8", "Usage", "", "2026-10-01T00:00:00Z", "p5.48xlarge on-demand Linux"),
    ("AWS", "Amazon Simple Storage Service", "", "TimedStorage-ByteHrs", "GB-Mo", "5000", "115", "115", "Usage", "",
     "2026-10-01T00:00:00Z", "S3 standard storage"),
    ("AWS", "AWS Credits", "", "", "", "", "-500", "-500", "Credit", "", "2026-10-01T00:00:00Z", "Promotional credit"),
    ("AWS", "Amazon Elastic Compute Cloud", "", "", "", "", "1000", "0", "Purchase", "", "2026-10-01T00:00:00Z",
     "Savings Plan upfront fee"),
    ("OpenAI", "OpenAI API", "", "", "", "", "-20", "-20", "Adjustment", "Correction", "2026-10-01T00:00:00Z",
     "Billing correction"),
]
EXTRA_COLUMNS = ("x_Model", "SkuMeter", "ConsumedUnit", "ConsumedQuantity")


def focus_csv(version: str, lines=FOCUS_LINES, bad_rows: tuple[tuple[int, str, str], ...] = (),
              extra_unknown: bool = False) -> str:
    """A FOCUS CSV with every column the version defines (mandatory first), plus the x_Model extension."""
    spec = focus_columns(version)
    columns = sorted(c for c, lvl in spec.items() if lvl == "Mandatory") + sorted(
        c for c in spec if spec[c] != "Mandatory")
    columns += ["x_Model"] + (["MysteryColumn"] if extra_unknown else [])
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for n, (prov, svc, model, meter, unit, qty, billed, eff, cat, cls, start, desc) in enumerate(lines, start=1):
        row = {c: "" for c in columns}
        row.update({
            "BilledCost": billed, "EffectiveCost": eff, "ListCost": billed, "ContractedCost": billed,
            "BillingAccountId": "acct-1", "BillingAccountName": "Example Co", "BillingCurrency": "USD",
            "BillingPeriodStart": "2026-10-01T00:00:00Z", "BillingPeriodEnd": "2026-11-01T00:00:00Z",
            "ChargeCategory": cat, "ChargeClass": cls, "ChargeDescription": desc, "ChargePeriodStart": start,
            "ChargePeriodEnd": "2026-11-01T00:00:00Z", "InvoiceIssuerName": prov, "PricingQuantity": qty,
            "PricingUnit": unit, "ProviderName": prov, "PublisherName": prov, "ServiceCategory": "AI and Machine Learning",
            "ServiceName": svc, "x_Model": model,
        })
        for col in ("SkuMeter", "ConsumedUnit", "ConsumedQuantity"):
            if col in row:
                row[col] = {"SkuMeter": meter, "ConsumedUnit": unit, "ConsumedQuantity": qty}[col]
        for bad_row, col, value in bad_rows:
            if bad_row == n:
                row[col] = value
        w.writerow(row)
    return out.getvalue()


def five_mb_focus_csv() -> str:
    """The sample FOCUS export (tests/data), its rows repeated past 5 MB: Lambda takes 6 MB, the old local server 256 KiB."""
    from pathlib import Path

    header, *rows = (Path(__file__).parent / "data" / "sample_focus_1_2.csv").read_text().splitlines(keepends=True)
    block = "".join(rows)
    return header + block * (5 * 1024 * 1024 // len(block) + 1)
