"""Invoice analysis and simulation: parsers, reconciliation, findings with evidence, scenario arithmetic."""

import io
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from invoice_data import FOCUS_LINES, focus_csv

from costplan.catalog.billing import focus_mandatory
from costplan.services.errors import RequestRejected
from costplan.services.invoice import analyze, simulate
from costplan.services.invoice.aggregates import classify
from costplan.services.invoice.prices import cheapest_quote, hosted_quote
from costplan_contracts.enums import FindingType, LineStatus, WarningCode
from costplan_contracts.invoice import AnalyzeRequest, SimulateRequest


def run(fmt="focus", **inv):
    return analyze(AnalyzeRequest.model_validate({"invoice": {"format": fmt, **inv}}))


def finding(out, ftype, model=None):
    return next(f for f in out.findings if f.type == ftype and (model is None or f.evidence.model == model))


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_focus_files_of_every_version_parse_and_reconcile(version):
    out = run(csv=focus_csv(version), focus_version=version)
    rec = out.reconciliation
    assert out.focus_version == version
    assert rec.input_rows == len(FOCUS_LINES) == rec.recognised_rows + rec.unrecognised_rows + rec.rejected_rows
    total = sum(float(line[6]) for line in FOCUS_LINES)
    parts = [rec.recognised_billed_cost, rec.unrecognised_billed_cost, rec.rejected_billed_cost]
    assert rec.input_billed_cost_total["USD"] == pytest.approx(total)
    assert sum(p.get("USD", 0) for p in parts) == pytest.approx(total)


def test_the_version_is_detected_from_the_columns_present():
    assert run(csv=focus_csv("1.0")).focus_version == "1.0"
    assert run(csv=focus_csv("1.2")).focus_version == "1.2"


def test_missing_mandatory_columns_are_a_422_listing_them():
    header, *rows = focus_csv("1.2").splitlines()
    cols = header.split(",")
    drop = {cols.index("BilledCost"), cols.index("ChargePeriodStart")}
    text = "\n".join(",".join(v for i, v in enumerate(r.split(",")) if i not in drop) for r in [header])
    with pytest.raises(RequestRejected) as e:
        run(csv=text + "\n", focus_version="1.2")
    reasons = {d.reason for d in e.value.details}
    assert reasons == {"missing mandatory FOCUS 1.2 column BilledCost", "missing mandatory FOCUS 1.2 column ChargePeriodStart"}
    assert "BilledCost" in focus_mandatory("1.0")


def test_malformed_rows_are_reported_and_the_rest_still_analysed():
    out = run(csv=focus_csv("1.2", bad_rows=((3, "BilledCost", "12,5x"), (7, "ChargePeriodStart", "yesterday"))))
    assert [(e.row, e.column) for e in out.row_errors] == [(3, "BilledCost"), (7, "ChargePeriodStart")]
    assert out.reconciliation.rejected_rows == 2 and out.reconciliation.rejected_rows_without_cost == 1
    assert out.reconciliation.rejected_billed_cost == {"USD": 39628.8}  # row 7's cost parsed; its date did not
    assert WarningCode.ROWS_REJECTED in {w.code for w in out.warnings}
    assert any(g.model == "claude-sonnet-4.5" for g in out.line_groups)


def test_unknown_columns_warn_and_x_columns_are_kept_quietly():
    out = run(csv=focus_csv("1.2", extra_unknown=True))
    w = next(w for w in out.warnings if w.code == WarningCode.UNKNOWN_COLUMNS)
    assert "MysteryColumn" in w.message and "x_Model" not in w.message


def test_credits_refunds_and_adjustments_are_kept_apart():
    out = run(csv=focus_csv("1.2"))
    assert out.reconciliation.credits_and_adjustments_billed_cost == {"USD": -520.0}
    cats = {g.key: g.billed_cost for g in out.breakdowns.by_charge_category}
    assert cats["credit"] == -500 and cats["adjustment"] == -20 and cats["usage"] > 0
    assert all(g.billed_cost > 0 for g in out.line_groups)  # usage groups never netted with credits


def test_mixed_currencies_are_grouped_never_summed():
    lines = [line[:6] + (line[6], line[7]) + line[8:] for line in FOCUS_LINES[:2]]
    text = focus_csv("1.2", lines)
    text = text.replace(",USD,", ",EUR,", 1)
    out = run(csv=text)
    assert set(out.reconciliation.input_billed_cost_total) == {"EUR", "USD"}
    assert WarningCode.MIXED_CURRENCIES in {w.code for w in out.warnings}


def test_price_above_list_finding_carries_its_evidence():
    out = run(csv=focus_csv("1.2"))
    f = finding(out, FindingType.PRICE_ABOVE_LIST, "gpt-4o")
    quote = hosted_quote("openai", "gpt-4o", "input_tokens")
    assert f.evidence.rows == [3] and f.evidence.observed_unit_price == 3.0
    assert f.evidence.catalog_unit_price == quote.price == 2.5
    assert f.evidence.catalog_provenance.source.startswith("genai-prices")
    assert f.estimated_monthly_savings_usd == pytest.approx((3.0 - 2.5) * 100)  # 100M tokens


def test_cheaper_provider_finding_names_the_cheapest_seller():
    out = run(csv=focus_csv("1.2"))
    f = finding(out, FindingType.CHEAPER_PROVIDER, "llama-3.1-70b-instruct")
    best = cheapest_quote("llama-3.1-70b-instruct", f.evidence.usage_kind.value)
    assert best.provider in f.title and f.evidence.catalog_unit_price == best.price
    observed = f.evidence.observed_unit_price
    assert f.estimated_monthly_savings_usd == pytest.approx((observed - best.price) * f.evidence.quantity / 1e6, rel=1e-6)


def test_prompt_caching_and_batch_findings_state_their_assumptions():
    out = run(csv=focus_csv("1.2"))
    cache = finding(out, FindingType.PROMPT_CACHING_ABSENT, "claude-sonnet-4.5")
    opp = next(o for o in out.opportunities if o.title == cache.title)
    # 30% of 400M input tokens at (3.00 - 0.30) per 1M
    assert cache.estimated_monthly_savings_usd == pytest.approx(0.3 * 400 * (3.0 - 0.3))
    assert any("30% of input tokens" in a for a in opp.assumptions) and opp.remediation_steps
    batch = finding(out, FindingType.BATCH_DISCOUNT_UNUSED, "claude-sonnet-4.5")
    assert batch.estimated_monthly_savings_usd == pytest.approx(0.3 * 0.5 * 1500)
    assert next(o for o in out.opportunities if o.title == batch.title).confidence.value == "low"


def test_gpu_hours_finding_compares_a_commitment_or_a_cheaper_instance():
    out = run(csv=focus_csv("1.2"))
    f = finding(out, FindingType.GPU_COMMITMENT_OR_CHEAPER_INSTANCE, "p5.48xlarge")
    assert f.evidence.observed_unit_price == pytest.approx(39628.8 / 720)
    assert f.estimated_monthly_savings_usd == pytest.approx((55.04 - f.evidence.catalog_unit_price) * 720)


def test_opportunities_are_sorted_by_savings():
    savings = [o.estimated_monthly_savings_usd for o in run(csv=focus_csv("1.2")).opportunities]
    assert savings == sorted(savings, reverse=True) and len(savings) >= 5


CUR = ("identity/LineItemId,lineItem/UsageType,lineItem/UsageAmount,lineItem/UnblendedCost,lineItem/UsageStartDate,"
       "lineItem/ProductCode,lineItem/LineItemType,lineItem/CurrencyCode,lineItem/LineItemDescription,pricing/unit,"
       "product/instanceType\n"
       "1,USE1-Claude3.5Sonnet-input-tokens,200000,600,2026-10-01T00:00:00Z,AmazonBedrock,Usage,USD,"
       "Claude 3.5 Sonnet input tokens,1K tokens,\n"
       "2,USE1-Claude3.5Sonnet-output-tokens,10000,150,2026-10-01T00:00:00Z,AmazonBedrock,Usage,USD,"
       "Claude 3.5 Sonnet output tokens,1K tokens,\n"
       "3,USE1-BoxUsage:p4d.24xlarge,100,2194.6,2026-10-01T00:00:00Z,AmazonEC2,Usage,USD,"
       "$21.946 per On Demand Linux p4d.24xlarge Instance Hour,Hrs,p4d.24xlarge\n"
       "4,USE1-TimedStorage-ByteHrs,100,2.3,2026-10-01T00:00:00Z,AmazonS3,Usage,USD,S3 storage,GB-Mo,\n"
       "5,USE1-Claude3.5Sonnet-input-tokens,oops,1,2026-10-01T00:00:00Z,AmazonBedrock,Usage,USD,bad row,1K tokens,\n"
       "6,,0,-50,2026-10-01T00:00:00Z,AmazonBedrock,Credit,USD,Credit,,\n")


def test_cur_ai_lines_are_classified_from_usage_types():
    out = run("cur", csv=CUR)
    kinds = {(g.model, g.usage_kind.value): g.quantity for g in out.line_groups}
    assert kinds[("claude-3.5-sonnet", "input_tokens")] == 200_000 * 1000  # 1K-token units
    assert kinds[("p4d.24xlarge", "gpu_hours")] == 100
    rec = out.reconciliation
    assert (rec.recognised_rows, rec.unrecognised_rows, rec.rejected_rows) == (3, 2, 1)
    assert out.row_errors[0].row == 5 and out.row_errors[0].column == "line_item_usage_amount"


OPENAI = {
    "costs": {"object": "page", "data": [{"object": "bucket", "start_time": 1790812800, "results": [
        {"object": "organization.costs.result", "amount": {"value": 250.0, "currency": "usd"},
         "line_item": "gpt-4o-2024-08-06, input"},
        {"object": "organization.costs.result", "amount": {"value": 100.0, "currency": "usd"},
         "line_item": "gpt-4o-2024-08-06, output"}]}]},
    "usage": {"object": "page", "data": [{"object": "bucket", "start_time": 1790812800, "results": [
        {"object": "organization.usage.completions.result", "input_tokens": 100_000_000, "output_tokens": 10_000_000,
         "input_cached_tokens": 0, "num_model_requests": 50_000, "model": "gpt-4o-2024-08-06", "batch": False}]}]},
}


def test_openai_costs_and_usage_exports_join_into_priced_lines():
    out = run("openai", data=OPENAI)
    g = {x.usage_kind.value: x for x in out.line_groups}
    assert g["input_tokens"].quantity == 1e8 and g["input_tokens"].billed_cost == 250
    assert g["output_tokens"].quantity == 1e7 and g["output_tokens"].model == "gpt-4o"
    assert out.reconciliation.input_billed_cost_total == {"USD": 350.0}


def test_openai_usage_alone_is_priced_from_the_catalog_and_says_so():
    out = run("openai", data={"usage": OPENAI["usage"]})
    assert WarningCode.COSTS_ESTIMATED_FROM_CATALOG in {w.code for w in out.warnings}
    inp = next(x for x in out.line_groups if x.usage_kind.value == "input_tokens")
    assert inp.billed_cost == pytest.approx(100 * hosted_quote("openai", "gpt-4o", "input_tokens").price)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(FOCUS_LINES))), st.sampled_from(["ok", "cost", "date", "qty"])),
                min_size=1, max_size=25))
def test_reconciliation_always_balances(spec):
    lines, bad = [], []
    for n, (i, fault) in enumerate(spec, start=1):
        lines.append(FOCUS_LINES[i])
        if fault != "ok":
            bad.append((n, {"cost": "BilledCost", "date": "ChargePeriodStart", "qty": "ConsumedQuantity"}[fault], "x?"))
    out = run(csv=focus_csv("1.2", lines, tuple(bad)))
    rec = out.reconciliation
    assert rec.input_rows == len(lines) == rec.recognised_rows + rec.unrecognised_rows + rec.rejected_rows
    parsed = sum(float(FOCUS_LINES[i][6]) for n, (i, f) in enumerate(spec, start=1) if f != "cost")
    groups = sum(g.get("USD", 0.0) for g in (rec.recognised_billed_cost, rec.unrecognised_billed_cost,
                                             rec.rejected_billed_cost))
    assert rec.input_billed_cost_total.get("USD", 0.0) == pytest.approx(parsed) == pytest.approx(groups)
    assert rec.rejected_rows_without_cost == sum(1 for _, f in spec if f == "cost")


def sim(*scenarios, analysis=None):
    body = {"scenarios": list(scenarios)}
    if analysis is None:
        body["invoice"] = {"format": "focus", "csv": focus_csv("1.2")}
    else:
        body["analysis"] = analysis
    return simulate(SimulateRequest.model_validate(body))


def test_volume_growth_scales_every_group_by_hand():
    out = sim({"action": "volume_growth", "pct": 50})
    assert out.baseline_monthly == pytest.approx(41572.0)  # recognised usage, effective cost
    assert out.scenario_monthly == pytest.approx(41572.0 * 1.5) and out.delta_pct == pytest.approx(50.0)


def test_cache_hit_rate_arithmetic_by_hand():
    out = sim({"action": "cache_hit_rate", "rate": 0.4})
    g = {x.key: x for x in out.groups}
    # anthropic claude-sonnet-4.5: 400M input at $3 -> 60% stays ($720) + 160M at $0.30 cache read ($48)
    assert g["anthropic/claude-sonnet-4.5/input_tokens"].scenario_monthly == pytest.approx(720.0)
    assert g["anthropic/claude-sonnet-4.5/cached_input_tokens"].scenario_monthly == pytest.approx(48.0)


def test_switch_provider_moves_the_share_at_the_target_price():
    out = sim({"action": "switch_provider", "from": "openai", "to": "openrouter", "share": 0.5})
    g = {x.key: x for x in out.groups}
    price = hosted_quote("openrouter", "gpt-4o", "input_tokens").price
    assert g["openai/gpt-4o/input_tokens"].scenario_monthly == pytest.approx(150.0)
    assert g["openrouter/gpt-4o/input_tokens"].scenario_monthly == pytest.approx(50 * price)


def test_batch_share_and_commitment_and_self_hosting():
    batch = sim({"action": "batch_share", "share": 0.5})
    # 50% of every batch-eligible provider's token spend at 50% off: anthropic 1500, openai 400, aws 43.2
    assert batch.delta == pytest.approx(-0.25 * (1500 + 400 + 43.2))
    moved = sim({"action": "move_to_self_hosted", "model": "llama-3.1-70b-instruct", "avg_input_tokens": 2000,
                 "avg_output_tokens": 400})
    assert moved.steps[0].applied and any(x.key.startswith("self_hosted/llama-3.1-70b-instruct") for x in moved.groups)
    closed = sim({"action": "move_to_self_hosted", "model": "claude-sonnet-4.5", "avg_input_tokens": 1,
                  "avg_output_tokens": 1})
    assert not closed.steps[0].applied and closed.delta == 0


def test_scenarios_are_replayable_from_an_analysis():
    analysis = run(csv=focus_csv("1.2")).model_dump(mode="json", by_alias=True)
    a = sim({"action": "volume_growth", "pct": 10}, analysis=analysis)
    b = sim({"action": "volume_growth", "pct": 10})
    assert a.scenario_id == b.scenario_id and a.model_dump_json() == b.model_dump_json()
    assert sim({"action": "volume_growth", "pct": 11}).scenario_id != a.scenario_id


def test_strings_from_the_invoice_are_safe_in_reports():
    from costplan.reports.render import csv_cell

    evil = FOCUS_LINES[0][:1] + ("=HYPERLINK(\"http://e.x\")",) + FOCUS_LINES[0][2:]
    out = run(csv=focus_csv("1.2", [evil]))
    service = out.breakdowns.by_provider[0].key
    assert csv_cell('=HYPERLINK("http://e.x")').startswith("'") and service == "anthropic"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_non_finite_costs_are_rejected_rows_never_nulls(value):
    out = run(csv=focus_csv("1.2", bad_rows=((1, "BilledCost", value),)))
    assert out.reconciliation.rejected_rows == 1 and out.row_errors[0].column == "BilledCost"
    assert "finite" in out.row_errors[0].reason
    assert all(math.isfinite(v) for v in out.reconciliation.input_billed_cost_total.values())


def test_nan_in_json_line_items_is_a_rejected_row_naming_the_column_never_a_zero_cost():
    """JSON's NaN (Python's json and pydantic accept it) in a line item's cost rejects that row with the column named;
    the row's spend is not counted as $0 and the other rows still reconcile."""
    def item(cost: str) -> str:
        return ('{"provider": "openai", "usage_kind": "input_tokens", "quantity": 1, "billed_cost": ' + cost
                + ', "period_start": "2026-10-01"}')

    body = '{"invoice": {"format": "line_items", "data": [' + item("NaN") + ", " + item("2.5") + "]}}"
    out = analyze(AnalyzeRequest.model_validate_json(body))
    rec = out.reconciliation
    assert (rec.input_rows, rec.rejected_rows, rec.rejected_rows_without_cost) == (2, 1, 1)
    assert [(e.row, e.column) for e in out.row_errors] == [(1, "billed_cost")]


def test_awkward_but_valid_focus_files_take_the_exact_path_not_a_500():
    text = focus_csv("1.2")
    header, body = text.split("\n", 1)
    spaced = header.replace("BilledCost,", "BilledCost ,") + "\n" + body
    assert run(csv=spaced).reconciliation.input_rows == len(FOCUS_LINES)
    assert run(csv=header).reconciliation.input_rows == 0  # header only, no newline
    blank = header + "\n" + body.replace("\n", "\n\n", 1)
    out = run(csv=blank)
    assert out.reconciliation.rejected_rows == 1 and out.row_errors[0].row == 2  # the blank line is row 2


@pytest.mark.parametrize("data", [[1, 2], {"data": "x"}, {"data": [1, {"results": None}]},
                                  {"costs": {"data": [{"start_time": 1e20, "results": [
                                      {"object": "organization.costs.result", "amount": {"value": "abc"}}]}]}},
                                  {"costs": {"data": [{"start_time": 1790812800, "results": [
                                      {"object": "organization.costs.result", "amount": {"value": True}}]}]}}])
def test_malformed_openai_exports_are_errors_not_500s(data):
    try:
        out = run("openai", data=data)
    except RequestRejected as e:
        assert e.details[0].field == "invoice.data"
        return
    assert out.reconciliation.input_billed_cost_total == {} and out.reconciliation.input_rows == out.reconciliation.rejected_rows


def test_non_usd_lines_are_never_compared_with_usd_catalog_prices():
    eur = [line[:6] + ("5000", "5000") + line[8:] for line in FOCUS_LINES[2:4]]
    out = run(csv=focus_csv("1.2", eur).replace(",USD,", ",EUR,"))
    assert out.findings == [] and out.currencies == ["EUR"]
    assert any(w.field == "invoice.currency" for w in out.warnings)
    sim_out = simulate(SimulateRequest.model_validate({
        "invoice": {"format": "focus", "csv": focus_csv("1.2", eur).replace(",USD,", ",EUR,")},
        "scenarios": [{"action": "switch_provider", "from": "openai", "to": "openrouter"}]}))
    assert not sim_out.steps[0].applied and sim_out.delta == 0


# -- one rule set: correctness on the official FOCUS sample, NULLs, inputs by format --------------------------

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "focus_sample_rows.csv"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_focus_1_2.csv"


def _exact_total(text: str, column: str = "BilledCost"):
    import csv as _csv
    from decimal import Decimal

    return sum(Decimal(r[column]) for r in _csv.DictReader(io.StringIO(text)))


def test_the_official_focus_sample_reconciles_to_the_cent_with_no_rejected_rows():
    if not REFERENCE.exists():
        pytest.skip("../shared/reference/focus_sample_rows.csv is absent (a fresh clone has no reference folder)")
    text = REFERENCE.read_text()
    out = run(csv=text)
    rec = out.reconciliation
    assert rec.rejected_rows == 0 and out.row_errors == [] and rec.input_rows == 13
    assert rec.input_billed_cost_total["USD"] == pytest.approx(float(_exact_total(text)), abs=0.005)
    assert rec.recognised_rows + rec.unrecognised_rows == 13
    parts = rec.recognised_billed_cost.get("USD", 0) + rec.unrecognised_billed_cost.get("USD", 0)
    assert parts == pytest.approx(rec.input_billed_cost_total["USD"], abs=0.005)
    # the Open Source Promotional Credits row (ConsumedQuantity NULL, allowed on a credit) is counted once, as a credit
    credits = {g.key: g.billed_cost for g in out.breakdowns.by_charge_category}
    assert credits["credit"] == pytest.approx(-2.61, abs=0.005)
    assert rec.credits_and_adjustments_billed_cost["USD"] == pytest.approx(-2.6137 + 0.192 + 0.08, abs=0.005)
    assert "source" in next(w.message for w in out.warnings if w.code == WarningCode.UNKNOWN_COLUMNS)
    assert sum(g.rows for g in out.unrecognised) == rec.unrecognised_rows and out.unrecognised_groups_total >= 1


def test_the_repository_sample_reconciles_and_its_gpu_rows_are_recognised():
    out = run(csv=SAMPLE.read_text())
    assert out.reconciliation.rejected_rows == 0
    assert any(g.usage_kind.value == "gpu_hours" for g in out.line_groups)


def test_a_null_billed_cost_is_rejected_with_its_row_but_a_null_quantity_on_a_credit_is_not():
    lines = [FOCUS_LINES[0], FOCUS_LINES[8]]  # usage, credit (no quantity)
    out = run(csv=focus_csv("1.2", lines, bad_rows=((1, "BilledCost", "NULL"), (2, "ConsumedQuantity", "NULL"))))
    assert [(e.row, e.column, e.reason) for e in out.row_errors] == [(1, "BilledCost", "empty")]
    assert out.reconciliation.rejected_rows == 1 and out.reconciliation.rejected_rows_without_cost == 1
    assert out.reconciliation.credits_and_adjustments_billed_cost == {"USD": -500.0}


def test_a_leading_space_in_the_charge_period_is_read_one_way_whatever_the_other_rows():
    alone = run(csv=focus_csv("1.2", [FOCUS_LINES[0]], bad_rows=((1, "ChargePeriodStart", " 2026-10-01T00:00:00Z"),)))
    mixed = run(csv=focus_csv("1.2", FOCUS_LINES[:3], bad_rows=((1, "ChargePeriodStart", " 2026-10-01T00:00:00Z"),
                                                               (3, "BilledCost", "x"))))
    for out in (alone, mixed):
        assert [g.key for g in out.breakdowns.by_period] == ["2026-10"]
        assert all(e.column != "ChargePeriodStart" for e in out.row_errors)


def test_rows_of_the_wrong_width_keep_their_row_number_and_reason():
    text = focus_csv("1.2")
    header, *rows = text.splitlines()
    rows[4] = rows[4] + ",extra"
    out = run(csv="\n".join([header, *rows]) + "\n")
    assert [(e.row, e.column) for e in out.row_errors] == [(5, "*")] and "fields" in out.row_errors[0].reason
    assert out.reconciliation.input_rows == len(FOCUS_LINES)


def test_gzip_and_parquet_bytes_give_the_same_analysis_as_the_csv():
    import gzip

    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from costplan.services.invoice import analyze_bytes
    from costplan_contracts.enums import InvoiceFormat

    text = focus_csv("1.2")
    base = run(csv=text).model_dump()
    table = pacsv.read_csv(io.BytesIO(text.encode()))
    assert pa.types.is_timestamp(table.schema.field("ChargePeriodStart").type)  # typed, as an export writes it
    buf = io.BytesIO()
    pq.write_table(table, buf)
    gz = analyze_bytes(gzip.compress(text.encode()), InvoiceFormat.FOCUS).model_dump()
    parquet = analyze_bytes(buf.getvalue(), InvoiceFormat.FOCUS).model_dump()
    assert gz == base
    for key in ("reconciliation", "line_groups", "findings", "breakdowns"):
        assert parquet[key] == base[key], key


def test_an_export_folder_is_one_dataset_numbered_across_its_files(tmp_path):
    import pyarrow.dataset as ds

    from costplan.services.invoice import analyze_dataset
    from costplan_contracts.enums import InvoiceFormat

    text = focus_csv("1.2", bad_rows=((9, "BilledCost", "oops"),))
    header, *rows = text.splitlines()
    (tmp_path / "part-0.csv").write_text("\n".join([header, *rows[:6]]) + "\n")
    (tmp_path / "part-1.csv").write_text("\n".join([header, *rows[6:]]) + "\n")
    import pyarrow as pa
    import pyarrow.csv as pacsv

    fmt = ds.CsvFileFormat(convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(header.split(","), pa.string()), strings_can_be_null=False))
    out = analyze_dataset(ds.dataset(str(tmp_path), format=fmt), InvoiceFormat.FOCUS)
    whole = run(csv=text)
    assert out.reconciliation == whole.reconciliation and out.line_groups == whole.line_groups
    assert [(e.row, e.column) for e in out.row_errors] == [(9, "BilledCost")]


@pytest.mark.parametrize("over, status", [
    ({}, LineStatus.RECOGNISED),  # a usage kind and a known model
    ({"rejected": True}, LineStatus.REJECTED),  # the rule SQL rejected it: set apart even though it names a model
    ({"rejected": "true"}, LineStatus.REJECTED),  # DuckDB/Athena rows may carry the flag as text
    ({"kind": ""}, LineStatus.UNRECOGNISED),  # no usage kind: never priced
    ({"m0": "Amazon Simple Storage Service"}, LineStatus.UNRECOGNISED),  # no model CostPlan knows
])
def test_each_aggregate_row_gets_one_line_status_of_the_contract_enum(over, status):
    row = {"kind": "input_tokens", "m0": "gpt-4o", "provider": "OpenAI", "billed_cost": 1.0, "row_count": 3, **over}
    assert classify(row).status is status  # the enum member itself, not a look-alike string


def test_below_simulate_no_function_takes_the_pydantic_scenario():
    """simulate turns each Scenario into a frozen WhatIf once; the scenario arithmetic takes those values."""
    import dataclasses
    import importlib
    import inspect

    from costplan_contracts.invoice import Scenario

    S = importlib.import_module("costplan.services.invoice.simulate")  # the package's simulate() shadows the name
    entry = {"simulate", "scenario_id"}  # scenario_id hashes the request's scenarios as given (replayable id)
    takes_request = [name for name, fn in inspect.getmembers(S, inspect.isfunction)
                     if fn.__module__ == S.__name__ and name not in entry
                     and any(p.annotation is Scenario for p in inspect.signature(fn).parameters.values())]
    assert takes_request == []
    w = S.WhatIf.of(Scenario.model_validate({"action": "move_to_self_hosted", "model": "llama-3.1-8b-instruct",
                                             "avg_input_tokens": 500, "avg_output_tokens_per_request": 200,
                                             "pricing_model": "spot"}))
    assert (w.avg_input_tokens_per_request, w.avg_output_tokens_per_request, w.pricing_model) == (500, 200, "spot")
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.share = 1.0
