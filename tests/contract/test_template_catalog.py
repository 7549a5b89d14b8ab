"""template.yaml and the catalog refresh agree: a daily scheduled function with exactly the S3 actions it
uses under catalog/, the API functions that price LLM offerings can read the snapshots, and the prefix the
template grants is the one the code writes."""

from costplan.catalog import refresh, snapshot
from tools.template import ROOT, load_template

TEMPLATE = load_template()
RES = TEMPLATE["Resources"]
FN = RES["RefreshCatalogFunction"]["Properties"]


def test_the_refresh_runs_on_a_daily_schedule_from_its_own_code():
    (event,) = FN["Events"].values()
    assert event["Type"] == "Schedule" and event["Properties"]["Schedule"].startswith("cron(0 5 ")
    assert (ROOT / FN["CodeUri"] / "app.py").exists()
    assert "genai-prices==" in (ROOT / FN["CodeUri"] / "requirements.txt").read_text()


def test_the_refresh_holds_only_get_and_put_under_the_catalog_prefix():
    statements = [s for p in FN["Policies"] for s in p["Statement"]]
    assert {s["Action"] for s in statements} == {"s3:GetObject", "s3:PutObject"}
    for s in statements:
        assert s["Resource"] == {"Fn::Sub": "${ReportBucket.Arn}/" + snapshot.DEFAULT_PREFIX + "*"}


def test_api_functions_that_price_llm_offerings_can_read_snapshots_and_nothing_else():
    policy = RES["ReportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (read,) = [s for s in policy if s.get("Sid") == "ReadPriceCatalogSnapshots"]
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {"Fn::Sub": "${ReportBucket.Arn}/catalog/*"}
    targets = [r["Fn::GetAtt"] for r in read["Principal"]["AWS"]]
    roles = {(t if isinstance(t, str) else ".".join(t)).split(".")[0].removesuffix("FunctionRole") for t in targets}
    assert {"PlanLlm", "InvoiceAnalyze", "ReportWorker"} <= roles
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"][snapshot.BUCKET_ENV] == {"Ref": "ReportBucket"}


def test_the_live_litellm_map_is_fetched_over_https():
    assert refresh.LITELLM_MAP_URL.startswith("https://")
