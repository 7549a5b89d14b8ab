"""EventBridge schedule: refresh the hosted-LLM price catalog into a versioned S3 snapshot.

Fetches genai-prices (its own update URL) and LiteLLM's price map, rebuilds the catalog, validates it against
the snapshot now being served (or the bundled one), and publishes only a valid snapshot. A rejected build
writes its report under catalog/rejected/ and fails the invocation, so the failure is visible, never silent.
"""

import os
from datetime import UTC, date, datetime

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.observability import logger, metrics
from costplan.catalog import refresh, snapshot

_s3 = None


def s3():
    """Built on first use and reused by warm invocations."""
    global _s3
    if _s3 is None:
        import boto3

        _s3 = boto3.client("s3")
    return _s3


def _run_date(event: dict) -> date:
    stamp = (event or {}).get("time")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date() if stamp else datetime.now(UTC).date()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    bucket = os.environ[snapshot.BUCKET_ENV]
    today = _run_date(event)
    doc = refresh.rebuild(today, refresh.fetch_genai_providers(), refresh.fetch_litellm_map())
    floor = int(os.environ.get("CATALOG_MIN_OFFERINGS", snapshot.MIN_OFFERINGS))
    serving, serving_key = snapshot.load_document(s3(), floor)
    accepted = frozenset(x.strip() for x in os.environ.get("CATALOG_ACKNOWLEDGED_LOSSES", "").split(",") if x.strip())
    report = refresh.validate(doc, serving, floor, acknowledged=accepted)
    key = refresh.publish(s3(), bucket, doc, report)
    cc = report.cross_check or {}
    logger.info("catalog refresh", extra={"ok": report.ok, "key": key, "compared_with": serving_key,
                                           "offerings": len(doc["offerings"]), "lost": len(report.lost),
                                           "price_changes": len(report.price_changes),
                                           "match_rate": cc.get("match_rate"), "disagree": cc.get("disagree")})
    metrics.add_metric(name="CatalogRefreshOk" if report.ok else "CatalogRefreshRejected", unit=MetricUnit.Count,
                       value=1)
    if not report.ok:
        raise RuntimeError(f"catalog refresh rejected ({len(report.errors)} errors); report at {key}")
    return {"ok": True, "key": key, "offerings": len(doc["offerings"]), "warnings": len(report.warnings),
            "match_rate": cc.get("match_rate")}
