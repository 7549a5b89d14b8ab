"""Long-context tiers by share, the LiteLLM cross-check, price freshness and refreshed catalog snapshots."""

import json
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto import mock_aws

from costplan.catalog import crosscheck as X
from costplan.catalog import snapshot
from costplan.catalog.llm import bundled_document, from_document
from costplan.core.pricing import blend_tiers
from costplan.services.plan.llm import plan_llm
from costplan_contracts.enums import PriceBasis, WarningCode
from costplan_contracts.plan_llm import PlanLlmRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalog"


def plan(**body):
    body.setdefault("workload", {"input_tokens_per_month": 1e9, "output_tokens_per_month": 1e8})
    return plan_llm(PlanLlmRequest.model_validate(body))


def row_of(out, provider, model):
    return next(r for r in out.rows if (r.provider, r.model) == (provider, model))


def codes(out):
    return {w.code for w in out.warnings}


# --- the kernel ---------------------------------------------------------------------------------------------------

def test_blended_tier_price_by_hand():
    # base $1.25, $2.50 above 128k; 30% of tokens above 128k: 0.7 x 1.25 + 0.3 x 2.50 = 1.625
    starts = np.array([[0.0, 128_000.0]])
    prices = np.array([[1.25, 2.5]])
    assert blend_tiers(starts, prices, np.array([[1.0, 0.3]]))[0] == pytest.approx(1.625)
    assert blend_tiers(starts, prices, np.array([[1.0, 0.0]]))[0] == 1.25
    assert blend_tiers(starts, prices, np.array([[1.0, 1.0]]))[0] == 2.5


def test_a_missing_tier_price_with_traffic_is_nan_not_zero():
    out = blend_tiers(np.array([[0.0, 1000.0]]), np.array([[1.0, np.nan]]), np.array([[1.0, 0.5]]))
    assert np.isnan(out[0])


# --- long-context tiers ------------------------------------------------------------------------------------------

GEMINI_300K = {"input_tokens_per_month": 1e9, "output_tokens_per_month": 1e8, "max_context_tokens": 300_000}


def test_gemini_15_pro_at_300k_without_a_share_is_a_range_not_a_doubling_labelled_exact():
    # gemini-1.5-pro: $1.25 / $5 per 1M up to 128k, $2.50 / $10 above. 1e9 in, 1e8 out:
    # nothing above 128k: $1,250 + $500 = $1,750; everything above: $2,500 + $1,000 = $3,500.
    out = plan(model="gemini-1.5-pro", workload=GEMINI_300K, constraints={"providers": ["google"]})
    row = row_of(out, "google", "gemini-1.5-pro")
    assert row.estimated and PriceBasis.TIER_SHARE_ASSUMED in row.price_basis
    assert (row.monthly_cost_range.low_usd, row.monthly_cost_range.high_usd) == (1750.0, 3500.0)
    assert row.monthly_cost_usd == 3500.0  # prompts reach 300k: ranked at the end they point to
    assert WarningCode.TIER_SHARE_ASSUMED in codes(out)


def test_gemini_15_pro_at_300k_with_a_stated_share_is_exact():
    # 20% of input and 10% of output tokens above 128k: 1e9 x (0.8 x 1.25 + 0.2 x 2.5) / 1e6 = $1,500;
    # 1e8 x (0.9 x 5 + 0.1 x 10) / 1e6 = $550; total $2,050.
    work = {**GEMINI_300K, "context_shares": [{"above_tokens": 128_000, "input_token_share": 0.2,
                                               "output_token_share": 0.1}]}
    out = plan(model="gemini-1.5-pro", workload=work, constraints={"providers": ["google"]})
    row = row_of(out, "google", "gemini-1.5-pro")
    assert row.monthly_cost_usd == pytest.approx(2050.0)
    assert row.price_basis == [PriceBasis.TIER_SHARE_STATED] and not row.estimated
    assert row.monthly_cost_range is None
    assert WarningCode.TIER_SHARE_ASSUMED not in codes(out)


def test_a_share_stated_for_another_threshold_bounds_the_range():
    # 10% above 100k bounds the share above 128k to [0, 0.1] for input; output unknown -> [0, 1].
    work = {**GEMINI_300K, "context_shares": [{"above_tokens": 100_000, "input_token_share": 0.1}]}
    row = row_of(plan(model="gemini-1.5-pro", workload=work, constraints={"providers": ["google"]}),
                 "google", "gemini-1.5-pro")
    assert (row.monthly_cost_range.low_usd, row.monthly_cost_range.high_usd) == (1750.0, 2375.0)


def test_prompts_that_never_reach_a_tier_pay_the_base_price_exactly():
    work = {**GEMINI_300K, "max_context_tokens": 100_000}
    row = row_of(plan(model="gemini-1.5-pro", workload=work, constraints={"providers": ["google"]}),
                 "google", "gemini-1.5-pro")
    assert row.monthly_cost_usd == 1750.0 and not row.estimated and row.monthly_cost_range is None


def test_shares_that_grow_with_the_threshold_are_rejected():
    with pytest.raises(ValueError, match="cannot grow"):
        PlanLlmRequest.model_validate({"workload": {**GEMINI_300K, "context_shares": [
            {"above_tokens": 100_000, "input_token_share": 0.1}, {"above_tokens": 200_000, "input_token_share": 0.2}]}})


SONNET_300K = {"input_tokens_per_month": 1e8, "output_tokens_per_month": 1e7, "max_context_tokens": 300_000}


def test_claude_sonnet_45_at_300k_prices_the_extended_windows_the_sources_offer():
    out = plan(model="claude-sonnet-4-5", workload=SONNET_300K, top_k=20)
    priced = {(r.provider, r.model) for r in out.rows}
    # Anthropic direct: 200k; its 1M beta is retired (genai-prices comment) and LiteLLM lists no tier above 200k.
    assert ("anthropic", "claude-sonnet-4-5") not in priced
    # Google Vertex and Bedrock: both sources price >200k tokens, so the extended window is priced, not dropped.
    vertex = row_of(out, "google", "claude-sonnet-4-5")
    bedrock = row_of(out, "aws", "global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert PriceBasis.EXTENDED_CONTEXT in bedrock.price_basis and bedrock.extended_context
    # No share stated: $3/$15 below 200k, $6/$22.50 above -> 1e8 x 3 + 1e7 x 15 = $450 .. $600 + $225 = $825.
    for row in (vertex, bedrock):
        assert (row.monthly_cost_range.low_usd, row.monthly_cost_range.high_usd) == (450.0, 825.0)
        assert row.estimated
    assert {WarningCode.TIER_SHARE_ASSUMED, WarningCode.EXTENDED_CONTEXT_PRICED} <= codes(out)


def test_claude_sonnet_45_at_300k_with_a_stated_share():
    work = {**SONNET_300K, "context_shares": [{"above_tokens": 200_000, "input_token_share": 0.5,
                                               "output_token_share": 0.5}]}
    vertex = row_of(plan(model="claude-sonnet-4-5", workload=work, top_k=20), "google", "claude-sonnet-4-5")
    # half at $3/$15, half at $6/$22.50: 1e8 x 4.5 / 1e6 + 1e7 x 18.75 / 1e6 = $450 + $187.50
    assert vertex.monthly_cost_usd == pytest.approx(637.5) and vertex.monthly_cost_range is None
    # still an estimate: the extended window's size is not published (its tier is all the sources show)
    assert vertex.price_basis == [PriceBasis.TIER_SHARE_STATED, PriceBasis.EXTENDED_CONTEXT] and vertex.estimated


def test_claude_sonnet_4_0_at_300k_is_priced_not_no_candidates():
    out = plan(model="claude-sonnet-4-0", workload=SONNET_300K, top_k=20)
    assert out.resolved_model.canonical_model == "claude-sonnet-4"
    assert out.rows and WarningCode.NO_CANDIDATES not in codes(out)
    bedrock = row_of(out, "aws", "global.anthropic.claude-sonnet-4-20250514-v1:0")
    assert PriceBasis.EXTENDED_CONTEXT in bedrock.price_basis


def test_rows_labelled_exact_carry_no_assumption():
    out = plan(workload=GEMINI_300K, top_k=100)
    for r in out.rows:
        if not r.estimated:
            assert r.monthly_cost_range is None and r.price_sources is None
            assert set(r.price_basis) <= {PriceBasis.LIST_PRICE, PriceBasis.TIER_SELECTED, PriceBasis.TIER_SHARE_STATED}


# --- second price source -----------------------------------------------------------------------------------------

def test_deepseek_chat_1b_in_1b_out_is_priced_from_the_current_entry_and_shows_the_disagreement():
    out = plan(model="deepseek-chat", workload={"input_tokens_per_month": 1e9, "output_tokens_per_month": 1e9},
               constraints={"providers": ["deepseek"]})
    row = row_of(out, "deepseek", "deepseek-chat")
    # genai-prices 0.2.3: peak 0.27 / 1.10 ($1,370), undated; LiteLLM 1.110.2: 0.28 / 0.42 ($700), which DeepSeek's
    # dated announcement (2025-09-29, catalog/data/price_overrides.csv) shows is the current list price.
    assert row.monthly_cost_usd == 700.0
    assert PriceBasis.SOURCES_DISAGREE in row.price_basis and row.estimated
    assert PriceBasis.TIME_OF_DAY_PEAK not in row.price_basis  # the night discount went with the old price list
    assert WarningCode.PRICE_SOURCES_DISAGREE in codes(out)
    assert (row.monthly_cost_range.low_usd, row.monthly_cost_range.high_usd) == (700.0, 1370.0)
    quotes = {q.source: q for q in row.price_sources}
    used = quotes["litellm 1.110.2"]
    assert used.used and (used.input_per_1m, used.output_per_1m) == (0.28, 0.42) and used.as_of == "2026-11-20"
    assert "2025-09-29" in used.evidence and "api-docs.deepseek.com" in used.evidence
    old = quotes["genai-prices 0.2.3"]
    assert not old.used and (old.input_per_1m, old.output_per_1m) == (0.27, 1.1) and old.evidence is None
    assert (row.provenance.source, row.provenance.as_of) == ("litellm 1.110.2", "2026-11-20")


def test_a_disagreement_without_dated_evidence_stays_at_the_primary_price():
    out = plan(model="deepseek-v3.2", workload={"input_tokens_per_month": 1e9, "output_tokens_per_month": 1e9},
               constraints={"providers": ["deepseek"]})
    row = row_of(out, "deepseek", "deepseek-v3.2")
    quotes = {q.source: q for q in row.price_sources}
    assert quotes["genai-prices 0.2.3"].used and not quotes["litellm 1.110.2"].used
    assert row.provenance.source == "genai-prices 0.2.3" and row.monthly_cost_usd == pytest.approx(572.0)


def test_the_announcement_table_is_cited_and_decides_only_with_a_matching_source():
    from costplan.catalog import build_llm

    table = build_llm.load_announcements()
    assert table[("deepseek", "deepseek-chat")]["effective_date"] == "2025-09-29"
    assert all(a["source"].startswith("https://") for a in table.values())
    ann = {"input": 0.28, "output": 0.42, "effective_date": "2025-09-29"}
    old, new = {"input": 0.27, "output": 1.1}, {"input": 0.28, "output": 0.42}
    assert X.verdict(None, "2026-11-20", ann, old, new) == "second_newer"
    # the primary entry dated on/after the announcement is not shown to be older
    assert X.verdict("2025-10-01", "2026-11-20", ann, old, new) == "undetermined"
    # the second source does not carry the announced price either: nothing decides
    assert X.verdict(None, "2026-11-20", ann, old, {"input": 0.5, "output": 0.9}) == "undetermined"
    # the primary already carries it: no disagreement to decide (and never a second_newer)
    assert X.verdict(None, "2026-11-20", ann, new, old) == "undetermined"


def test_matching_reads_the_recorded_litellm_entries():
    raw = json.loads((FIXTURES / "litellm_map_small.json").read_text())
    entries = X.trim(raw)
    index = X.build_index(entries)
    assert X.match("deepseek", "deepseek-chat", "deepseek-chat", entries, index) == "deepseek-chat"
    assert X.match("google", "gemini-2.5-pro", "gemini-2.5-pro", entries, index) == "gemini/gemini-2.5-pro"
    # a regional Bedrock price is a different offering
    assert X.match("aws", "amazon.nova-lite-v1:0", "amazon.nova-lite", entries, index) is None
    assert X.tiers(entries["gemini/gemini-2.5-pro"], "input") == [[200000, 2.5]]
    assert X.compare({"input": 0.27, "output": 1.1}, X.per_1m(entries["deepseek-chat"])) == ["output"]


def test_only_a_dated_entry_after_the_other_snapshot_decides_which_price_is_newer():
    assert X.verdict("2026-11-25", "2026-11-20") == "primary_newer"
    assert X.verdict("2026-11-10", "2026-11-20") == "undetermined"  # LiteLLM may or may not have caught up
    assert X.verdict(None, "2026-11-20") == "undetermined"


# --- freshness ---------------------------------------------------------------------------------------------------

def test_catalog_as_of_is_the_oldest_source_date_and_each_row_has_its_own():
    out = plan(model="deepseek-chat", constraints={"providers": ["deepseek"]})
    assert out.catalog.as_of == "2026-11-10" and out.catalog.built_on == "2026-11-26"
    assert {s.name: s.as_of for s in out.catalog.sources} == {"genai-prices": "2026-11-10", "litellm": "2026-11-20"}
    assert out.rows[0].provenance.as_of == "2026-11-20"  # deepseek-chat: priced from LiteLLM (dated announcement)
    other = plan(model="deepseek-v3.2", constraints={"providers": ["deepseek"]})
    assert other.rows[0].provenance.as_of == "2026-11-10"  # priced from genai-prices


def test_prices_older_than_the_configured_age_warn_stale_price():
    fresh = plan(model="deepseek-v3.2", constraints={"providers": ["deepseek"]})
    stale = plan(model="deepseek-v3.2", constraints={"providers": ["deepseek"], "max_price_age_days": 10})
    assert WarningCode.STALE_PRICE not in codes(fresh)
    w = next(w for w in stale.warnings if w.code == WarningCode.STALE_PRICE)
    assert w.field == "constraints.max_price_age_days" and "2026-11-10" in w.message
    # deepseek-chat is priced from the newer source (2026-11-20, 6 days before the build): not stale at 10 days
    assert WarningCode.STALE_PRICE not in codes(plan(model="deepseek-chat", constraints={
        "providers": ["deepseek"], "max_price_age_days": 10}))


# --- refreshed snapshots -----------------------------------------------------------------------------------------

@pytest.fixture
def bucket(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(snapshot.BUCKET_ENV, "costplan-reports")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="costplan-reports")
        yield s3


def _publish(s3, doc: dict, key="catalog/llm_offerings/2026-11-27-abc.json", sha=None):
    body = json.dumps(doc).encode()
    s3.put_object(Bucket="costplan-reports", Key=key, Body=body)
    s3.put_object(Bucket="costplan-reports", Key="catalog/latest.json",
                  Body=json.dumps({"key": key, "sha256": sha or snapshot.digest(body), "built_on": "2026-11-27"}))


def test_the_newest_valid_snapshot_is_loaded(bucket):
    doc = bundled_document()
    doc = {**doc, "built_on": "2026-11-27"}
    doc["offerings"] = [dict(o) for o in doc["offerings"]]
    deepseek = next(o for o in doc["offerings"] if (o["provider"], o["model"]) == ("deepseek", "deepseek-chat"))
    deepseek["prices"] = {"input": 0.28, "output": 0.42, "cache_read": 0.028}
    deepseek["time_of_day_alternatives"] = []
    _publish(bucket, doc)
    loaded, key = snapshot.load_document()
    assert key == "catalog/llm_offerings/2026-11-27-abc.json"
    cat = from_document(loaded, key)
    out = plan_llm(PlanLlmRequest.model_validate({"model": "deepseek-chat", "constraints": {"providers": ["deepseek"]},
                   "workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 1e9}}), cat)
    assert out.rows[0].monthly_cost_usd == 700.0 and out.catalog.snapshot == key
    assert WarningCode.CATALOG_SNAPSHOT_FALLBACK not in codes(out)


def test_a_tampered_snapshot_falls_back_to_the_bundled_catalog_with_a_warning(bucket):
    _publish(bucket, bundled_document(), sha="0" * 64)
    doc, key = snapshot.load_document()
    assert key.startswith("bundled; fallback:") and "sha256" in key
    out = plan_llm(PlanLlmRequest.model_validate({"model": "deepseek-chat", "workload": GEMINI_300K}),
                   from_document(doc, key))
    assert WarningCode.CATALOG_SNAPSHOT_FALLBACK in codes(out)


def test_a_missing_pointer_falls_back_and_no_bucket_is_silent(bucket, monkeypatch):
    _, key = snapshot.load_document()
    assert key.startswith("bundled; fallback: NoSuchKey")
    monkeypatch.delenv(snapshot.BUCKET_ENV)
    assert snapshot.load_document()[1] == "bundled"


def test_a_row_without_a_published_window_is_not_exact_when_the_prompt_size_is_stated():
    out = plan(model="claude-sonnet-4-0", workload=SONNET_300K, top_k=20)
    row = row_of(out, "openrouter", "anthropic/claude-sonnet-4")
    assert row.context_window is None and row.estimated
    assert PriceBasis.CONTEXT_WINDOW_UNVERIFIED in row.price_basis


def test_a_request_share_bounds_the_input_share_by_the_prompt_sizes():
    # 1,000 requests, 1e9 input tokens; 10% of requests above 128k. Those 100 requests send more than 128k and at
    # most 300k tokens each: 1.28e7 .. 3e7 of 1e9 input tokens, an input share of 1.28% .. 3%. Output unknown.
    work = {**GEMINI_300K, "requests_per_month": 1000,
            "context_shares": [{"above_tokens": 128_000, "request_share": 0.1}]}
    row = row_of(plan(model="gemini-1.5-pro", workload=work, constraints={"providers": ["google"]}),
                 "google", "gemini-1.5-pro")
    # input: 1e9 x (1.25 + 0.0128 x 1.25) / 1e6 = 1266.0 .. 1e9 x (1.25 + 0.03 x 1.25) / 1e6 = 1287.5
    # output: 1e8 x 5 / 1e6 = 500 .. 1e8 x 10 / 1e6 = 1000
    assert row.monthly_cost_range.low_usd == pytest.approx(1766.0)
    assert row.monthly_cost_range.high_usd == pytest.approx(2287.5)
    assert row.estimated and PriceBasis.TIER_SHARE_ASSUMED in row.price_basis


def test_a_context_share_needs_a_token_or_request_share():
    with pytest.raises(ValueError, match="input_token_share or request_share"):
        PlanLlmRequest.model_validate({"workload": {**GEMINI_300K, "context_shares": [{"above_tokens": 128_000}]}})
