"""Lambda SnapStart runtime hooks: prime the function before the snapshot, make each restored copy unique.

With SnapStart (template.yaml: ``AutoPublishAlias`` + ``SnapStart: ApplyOn: PublishedVersions``) Lambda
runs a function's init once, when a version is published, snapshots the memory, and resumes every new
execution environment from that snapshot. So:

- **before the snapshot** :func:`prime` loads every catalog and serves one request through the app's
  own Mangum adapter, as a synthetic HTTP API v2 event for that function's route (imports, pydantic
  validators, FastAPI routing, the numpy kernels and the JSON encoder are then warm in the snapshot).
  The priming request does no AWS I/O: the bodies below are sync, inline requests, the report
  status lookup uses an id that is refused before any storage call, and an upload is only presigned
  (signed locally, nothing sent). Its metrics are dropped.
- **after a restore** :func:`restore` drops what must not be shared by environments resumed from one
  snapshot: the random seeds, the cached boto3 session and clients (credentials), the report backends
  that hold clients, the Powertools correlation id and any buffered metrics.

The hooks library ``snapshot_restore_py`` ships with the Lambda python3.12+ runtime (pinned in
requirements-dev.txt for the tests). Where it is absent (``make run``, a plain venv) nothing is
registered and nothing changes.
"""

import json
import random
import sys
from collections.abc import Callable
from typing import Any

from costplan.adapters.observability import logger, metrics

try:  # the Lambda runtime provides it; tests install the pinned package
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # pragma: no cover - exercised where the package is not installed
    register_after_restore = register_before_snapshot = None

PRIMING_REQUEST_ID = "snapstart-priming"
_WORKLOAD = {"input_tokens_per_month": 1_000_000, "output_tokens_per_month": 200_000}
_LINE_ITEMS = {"format": "line_items", "data": [
    {"provider": "openai", "service": "OpenAI API", "model": "gpt-4o-mini", "usage_kind": "input_tokens",
     "quantity": 1_000_000, "unit": "tokens", "billed_cost": 0.15, "period_start": "2026-01-01"}]}

# route -> (method, concrete path, JSON body or None). One small valid request per API function.
PRIMING: dict[str, tuple[str, str, dict | None]] = {
    "/api/v1/plan/llm": ("POST", "/api/v1/plan/llm", {"workload": _WORKLOAD, "top_k": 1}),
    "/api/v1/plan/scaling": ("POST", "/api/v1/plan/scaling", {
        "model": "llama-3.1-70b-instruct", "peak_requests_per_second": 2, "avg_requests_per_second": 1,
        "min_requests_per_second": 1, "avg_input_tokens": 500, "avg_output_tokens": 100, "top_k": 1}),
    "/api/v1/plan/training": ("POST", "/api/v1/plan/training", {
        "model": "llama-3.1-8b-instruct", "method": "qlora", "dataset_tokens": 1_000_000, "epochs": 1,
        "seq_len": 2048, "top_k": 1}),
    "/api/v1/rank/catalog": ("POST", "/api/v1/rank/catalog", {
        "workload_type": "speech_to_text", "quantity": {"value": 1000, "unit": "per_audio_minute"}, "top_k": 1}),
    "/api/v1/insights/quality-price": ("POST", "/api/v1/insights/quality-price",
                                       {"workload": _WORKLOAD, "profile": "coding"}),
    "/api/v1/invoice/analyze": ("POST", "/api/v1/invoice/analyze", {"invoice": _LINE_ITEMS}),
    "/api/v1/invoice/simulate": ("POST", "/api/v1/invoice/simulate", {
        "invoice": _LINE_ITEMS, "scenarios": [{"action": "volume_growth", "pct": 10}]}),
    "/api/v1/report/generate": ("POST", "/api/v1/report/generate", {
        "source": {"kind": "plan_llm", "request": {"workload": _WORKLOAD, "top_k": 1}},
        "formats": ["json", "markdown", "html"], "mode": "sync"}),  # Jinja2 and the compiled templates in the snapshot
    # An id no job can have: refused (404/422) before any storage call.
    "/api/v1/report/{report_id}": ("GET", f"/api/v1/report/{PRIMING_REQUEST_ID}", None),
    "/api/v1/meta/bounds": ("GET", "/api/v1/meta/bounds", None),
    "/api/v1/assist/workload": ("POST", "/api/v1/assist/workload", {
        "use_case": "chat", "scale": {"daily_active_users": 1000}}),
    "/api/v1/assist/explain": ("POST", "/api/v1/assist/explain", {
        "plan_llm": {"workload": _WORKLOAD, "constraints": {"monthly_budget_usd": 1}, "top_k": 2}}),
    # The deterministic parser only: the Bedrock backend is never called while priming (no client is built).
    "/api/v1/copilot": ("POST", "/api/v1/copilot", {"message": "cheapest for 5M tokens/day with 20% output"}),
    # Presigning is local HMAC signing, never a call to S3; the signer (and its client) is dropped afterwards.
    "/api/v1/uploads": ("POST", "/api/v1/uploads", {
        "purpose": "invoice", "content_type": "text/csv", "filename": "snapstart-priming.csv", "size_bytes": 1}),
}


def load_catalogs() -> None:
    """Every catalog the engine loads once per process (each getter is cached)."""
    from costplan.catalog import billing, services, universe
    from costplan.catalog.assist import use_case_defaults
    from costplan.catalog.llm import get_llm_catalog
    from costplan.catalog.quality import get_quality_catalog
    from costplan.catalog.selfhosted import get_selfhosted_catalog

    get_llm_catalog()
    get_selfhosted_catalog()
    get_quality_catalog()
    services.providers_by_workload()
    universe.get_universe(True)
    billing.cur_patterns()
    billing.focus_known()
    billing.batch_discounts()
    use_case_defaults()


def priming_event(app) -> dict:
    """A synthetic HTTP API v2 event for the first of the app's routes that has a priming request."""
    paths = [r.path for r in app.routes if getattr(r, "path", "").startswith("/api/")]
    route = next((p for p in paths if p in PRIMING), None)
    if route is None:
        raise LookupError(f"no priming request for any of {paths}; add one to costplan.adapters.snapstart.PRIMING")
    method, path, body = PRIMING[route]
    return {
        "version": "2.0", "routeKey": f"{method} {route}", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "snapstart.invalid",
                    "user-agent": "costplan-snapstart-priming"},
        "requestContext": {
            "accountId": "000000000000", "apiId": "snapstart", "domainName": "snapstart.invalid",
            "domainPrefix": "snapstart", "requestId": PRIMING_REQUEST_ID, "routeKey": f"{method} {route}",
            "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "costplan-snapstart-priming"}},
        "body": None if body is None else json.dumps(body), "isBase64Encoded": False,
    }


def prime(app, adapter: Callable[[dict, Any], dict]) -> int | None:
    """Before the snapshot: load the catalogs, serve one request through the adapter; return its status.

    A priming fault is logged, never raised: the snapshot is then taken without it (colder, still
    correct) instead of failing the version publish and with it the deployment.
    """
    status = None
    try:
        load_catalogs()
        status = int(adapter(priming_event(app), None)["statusCode"])
        logger.info("snapstart priming request served", extra={"status": status, "app": app.title})
    except Exception:
        logger.exception("snapstart priming failed; the snapshot is taken without it", extra={"app": app.title})
    finally:
        metrics.clear_metrics()  # the priming request is not an invocation
        _reset_backends()  # no client built while priming goes into the snapshot
        logger.remove_keys(["correlation_id"])
    return status


def _reset_backends() -> None:
    from costplan.adapters import backends, bedrock, cost_explorer

    backends.ports.cache_clear()
    backends.upload_signer.cache_clear()
    cost_explorer.reset_client()
    bedrock.reset_client()


def restore() -> None:
    """After a restore: nothing unique per environment may come from the snapshot."""
    random.seed()  # fresh entropy from the OS
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None  # credentials are resolved again on the next client
    _reset_backends()
    logger.remove_keys(["correlation_id"])
    metrics.clear_metrics()


def register(app, adapter: Callable[[dict, Any], dict]) -> bool:
    """Register :func:`prime` and :func:`restore` with the runtime hooks; False where the library is absent."""
    if register_before_snapshot is None:
        return False
    register_before_snapshot(prime, app, adapter)
    register_after_restore(restore)
    return True
