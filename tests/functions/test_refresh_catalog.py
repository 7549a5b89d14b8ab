"""refresh_catalog: the scheduled handler with recorded source fixtures and moto S3 (no network)."""

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from conftest import load_event
from moto import mock_aws

from costplan.catalog import build_llm, refresh, snapshot
from costplan.catalog import crosscheck as X
from tools.template import load_function_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalog"
BUCKET = "costplan-reports"
fn = load_function_module("functions/refresh_catalog")


def genai_raw() -> list:
    """Recorded from genai-prices' update URL data (prices/new_data/v2/data.json), trimmed to 3 providers."""
    return json.loads((FIXTURES / "genai_prices_data.json").read_text())


def litellm_raw() -> bytes:
    return (FIXTURES / "litellm_map_small.json").read_bytes()


@pytest.fixture
def sources(monkeypatch):
    """Serve the recorded fixtures where the fetchers would reach the network; tests may edit ``state``."""
    import genai_prices.update_prices as up

    state = {"genai": genai_raw()}

    def fake_get(url, timeout=None):
        assert url == up.DEFAULT_UPDATE_URL
        body = json.dumps(state["genai"]).encode()
        return SimpleNamespace(content=body, raise_for_status=lambda: None)

    monkeypatch.setattr(up.httpx2, "get", fake_get)
    monkeypatch.setattr(refresh, "http_get", lambda url: litellm_raw())
    return state


@pytest.fixture
def s3(monkeypatch):
    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 snapshot.BUCKET_ENV: BUCKET, "CATALOG_MIN_OFFERINGS": "1"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        monkeypatch.setattr(fn, "_s3", client)
        yield client


def serving_pointer(client) -> dict:
    return json.loads(client.get_object(Bucket=BUCKET, Key="catalog/latest.json")["Body"].read())


def seed(client, sources):
    """A previous refresh built from the same sources a week earlier, as the catalog being served."""
    from datetime import date

    doc = refresh.rebuild(date(2026, 11, 20), refresh.fetch_genai_providers(), refresh.fetch_litellm_map())
    refresh.publish(client, BUCKET, doc, refresh.validate(doc, doc, min_offerings=1))
    return doc


def test_a_scheduled_run_publishes_a_versioned_snapshot_and_moves_the_pointer(s3, sources, lambda_context):
    seed(s3, sources)
    out = fn.handler(load_event("refresh_catalog"), lambda_context)
    assert out["ok"] and out["key"].startswith("catalog/llm_offerings/2026-11-27-")
    assert serving_pointer(s3)["key"] == out["key"]
    doc, key = snapshot.load_document(s3, min_offerings=1)
    assert key == out["key"] and doc["built_on"] == "2026-11-27" and doc["as_of"] == "2026-11-27"
    deepseek = next(o for o in doc["offerings"] if o["model"] == "deepseek-chat")
    assert deepseek["second_source"]["prices"]["output"] == 0.42  # cross-checked against the LiteLLM map
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=out["key"].replace(".json", ".report.json"))["Body"].read())
    assert report["ok"] and report["lost"] == [] and report["cross_check"]["matched"] >= 2


def test_an_offering_lost_without_a_reason_is_rejected_and_the_pointer_stays(s3, sources, lambda_context):
    seed(s3, sources)
    before = serving_pointer(s3)
    google = next(p for p in sources["genai"] if p["id"] == "google")
    google["models"] = [m for m in google["models"] if m["id"] != "gemini-2.5-pro"]
    with pytest.raises(RuntimeError, match="rejected"):
        fn.handler(load_event("refresh_catalog"), lambda_context)
    assert serving_pointer(s3) == before
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="catalog/rejected/")["Contents"]]
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read())
    assert report["lost"] == [{"offering": "google/gemini-2.5-pro", "reason": None}]
    assert "lost google/gemini-2.5-pro without a reason" in report["errors"]


def test_a_big_price_change_is_published_with_a_warning_in_the_report(s3, sources, lambda_context):
    old = seed(s3, sources)
    new = copy.deepcopy(old)
    row = next(o for o in new["offerings"] if o["model"] == "gemini-2.5-pro")
    row["prices"]["output"] = {"base": 20.0, "tiers": row["prices"]["output"]["tiers"]}
    report = refresh.validate(new, old, min_offerings=1)
    assert report.ok
    assert report.price_changes == [{"offering": "google/gemini-2.5-pro", "direction": "output", "old": 10.0,
                                     "new": 20.0, "change": 1.0}]
    assert report.warnings == ["google/gemini-2.5-pro output: 10.0 -> 20.0 (+100%)"]


def test_a_deprecated_offering_may_leave_with_its_reason(sources):
    from datetime import date

    old = refresh.rebuild(date(2026, 11, 20), refresh.fetch_genai_providers(), refresh.fetch_litellm_map())
    new = copy.deepcopy(old)
    gone = next(o for o in old["offerings"] if o["model"] == "gemini-1.5-pro")
    gone["deprecated"] = True
    new["offerings"] = [o for o in new["offerings"] if o["model"] != "gemini-1.5-pro"]
    report = refresh.validate(new, old, min_offerings=1)
    assert report.ok and report.lost == [{"offering": "google/gemini-1.5-pro",
                                          "reason": "deprecated upstream before it was dropped"}]


def test_a_dated_primary_entry_newer_than_the_litellm_snapshot_is_recorded_as_newer(sources):
    from datetime import date

    deepseek = next(p for p in sources["genai"] if p["id"] == "deepseek")
    chat = next(m for m in deepseek["models"] if m["id"] == "deepseek-chat")
    chat["prices"] = [chat["prices"][0], {"constraint": {"start_date": "2026-11-25"},
                                          "prices": {"input_mtok": 0.3, "output_mtok": 0.5}}]
    second = {"source": "litellm 1.110.2", "version": "1.110.2", "as_of": "2026-11-20", "url": refresh.LITELLM_MAP_URL,
              "entries": X.trim(json.loads(litellm_raw()))}

    doc = build_llm.build(date(2026, 11, 27), providers=refresh.fetch_genai_providers(), second=second,
                          primary_date="2026-11-27")
    row = next(o for o in doc["offerings"] if o["model"] == "deepseek-chat")
    assert row["prices"]["input"] == 0.3 and row["second_source"]["verdict"] == "primary_newer"
    assert row["second_source"]["disagrees"] == ["input", "output"]  # 0.30 vs 0.28 is 6.7%


def test_an_operator_can_acknowledge_a_loss_and_the_report_says_so(s3, sources, lambda_context, monkeypatch):
    seed(s3, sources)
    google = next(p for p in sources["genai"] if p["id"] == "google")
    google["models"] = [m for m in google["models"] if m["id"] != "gemini-2.5-pro"]
    monkeypatch.setenv("CATALOG_ACKNOWLEDGED_LOSSES", "google/gemini-2.5-pro")
    out = fn.handler(load_event("refresh_catalog"), lambda_context)
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=out["key"].replace(".json", ".report.json"))["Body"].read())
    assert report["ok"] and report["lost"] == [{"offering": "google/gemini-2.5-pro",
                                                "reason": "acknowledged by the operator (CATALOG_ACKNOWLEDGED_LOSSES)"}]
