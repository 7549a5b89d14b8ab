"""Scheduled catalog refresh: fetch both price sources, rebuild, validate against the serving catalog, publish.

Used by ``functions/refresh_catalog`` (an EventBridge schedule). The fetchers are the only network I/O:
genai-prices' own updater (``UpdatePrices.fetch``, its ``DEFAULT_UPDATE_URL``) and LiteLLM's published map.
Validation refuses a snapshot that loses an offering without a reason; a price that moves by more than
``PRICE_CHANGE_WARN`` is published with a warning in the build report, never silently.
"""

import json
import urllib.request
from dataclasses import dataclass, field
from datetime import date

from costplan.catalog import build_llm, snapshot
from costplan.catalog import crosscheck as X

LITELLM_MAP_URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
PRICE_CHANGE_WARN = 0.25  # relative change of a base input/output price that the report calls out
FETCH_TIMEOUT_S = 20
MAX_MAP_BYTES = 64 * 1024 * 1024


def fetch_genai_providers(url: str | None = None) -> list:
    """The newest genai-prices providers, through the library's own updater and update URL."""
    from genai_prices.update_prices import DEFAULT_UPDATE_URL, UpdatePrices  # lazy: cold start, ~400 ms import

    return UpdatePrices(url=url or DEFAULT_UPDATE_URL).fetch().providers


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as r:  # noqa: S310 - fixed https URL
        return r.read(MAX_MAP_BYTES + 1)


def fetch_litellm_map(url: str = LITELLM_MAP_URL) -> dict:
    body = http_get(url)
    if len(body) > MAX_MAP_BYTES:
        raise ValueError(f"LiteLLM map larger than {MAX_MAP_BYTES} bytes")
    return json.loads(body)


@dataclass
class Report:
    built_on: str
    ok: bool = True
    errors: list[str] = field(default_factory=list)
    lost: list[dict] = field(default_factory=list)  # {offering, reason}
    added: int = 0
    price_changes: list[dict] = field(default_factory=list)  # {offering, direction, old, new, change}
    warnings: list[str] = field(default_factory=list)
    cross_check: dict | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("built_on", "ok", "errors", "lost", "added", "price_changes",
                                               "warnings", "cross_check")}


def _key(o: dict) -> tuple[str, str]:
    return o["provider"], o["model"]


def _loss_reason(old: dict, new_rows: dict, providers: set[str]) -> str | None:
    if old["deprecated"]:
        return "deprecated upstream before it was dropped"
    if old["provider"] not in providers:
        return None  # a whole provider vanishing is a source problem, not a reason
    same = sorted(m for (p, m), o in new_rows.items() if p == old["provider"] and o["canonical"] == old["canonical"])
    return f"replaced by {same[0]} (same canonical model)" if same else None


def validate(new: dict, old: dict, min_offerings: int = snapshot.MIN_OFFERINGS,
             change_warn: float = PRICE_CHANGE_WARN, acknowledged: frozenset[str] = frozenset()) -> Report:
    """``acknowledged``: "provider/model" losses an operator has accepted (CATALOG_ACKNOWLEDGED_LOSSES)."""
    report = Report(built_on=new.get("built_on", ""), cross_check=new.get("cross_check"))
    report.errors += [f"document: {p}" for p in snapshot.check_document(new, min_offerings)]
    new_rows = {_key(o): o for o in new.get("offerings", [])}
    old_rows = {_key(o): o for o in old.get("offerings", [])}
    providers = {p for p, _ in new_rows}
    for k in sorted(old_rows.keys() - new_rows.keys()):
        reason = _loss_reason(old_rows[k], new_rows, providers)
        if reason is None and "/".join(k) in acknowledged:
            reason = "acknowledged by the operator (CATALOG_ACKNOWLEDGED_LOSSES)"
        report.lost.append({"offering": "/".join(k), "reason": reason})
        if reason is None:
            report.errors.append(f"lost {'/'.join(k)} without a reason")
    report.added = len(new_rows.keys() - old_rows.keys())
    for k in sorted(new_rows.keys() & old_rows.keys()):
        for d in ("input", "output"):
            a, b = X.base(old_rows[k]["prices"][d]), X.base(new_rows[k]["prices"][d])
            if a is None or b is None or a == b:
                if (a is None) != (b is None):
                    report.warnings.append(f"{'/'.join(k)} {d}: price {a} -> {b}")
                continue
            change = (b - a) / a if a else float("inf")
            if abs(change) > change_warn:
                report.price_changes.append({"offering": "/".join(k), "direction": d, "old": a, "new": b,
                                             "change": round(change, 4)})
                report.warnings.append(f"{'/'.join(k)} {d}: {a} -> {b} ({change:+.0%})")
    report.ok = not report.errors
    return report


def rebuild(today: date, providers: list, litellm_map: dict) -> dict:
    """A catalog document from freshly fetched sources, both dated ``today`` (the fetch date)."""
    primary = build_llm.build(today, providers=providers, primary_date=today.isoformat())
    second = X.extract(litellm_map, primary["offerings"], "litellm (live map)", "live", today.isoformat(),
                       LITELLM_MAP_URL)
    return build_llm.build(today, providers=providers, second=second, primary_date=today.isoformat())


def publish(client, bucket: str, doc: dict, report: Report) -> str:
    """Write the versioned snapshot and its report; move ``latest.json`` only when the report is ok.
    Returns the snapshot key (or the rejected report's key)."""
    body = build_llm.render(doc).encode()
    sha = snapshot.digest(body)
    stem = f"{snapshot.prefix()}llm_offerings/{doc['built_on']}-{sha[:12]}"
    report_body = json.dumps(report.as_dict(), indent=1, sort_keys=True).encode()
    if not report.ok:
        key = f"{snapshot.prefix()}rejected/{doc['built_on']}-{sha[:12]}.report.json"
        client.put_object(Bucket=bucket, Key=key, Body=report_body, ContentType="application/json")
        return key
    client.put_object(Bucket=bucket, Key=stem + ".json", Body=body, ContentType="application/json")
    client.put_object(Bucket=bucket, Key=stem + ".report.json", Body=report_body, ContentType="application/json")
    pointer = {"key": stem + ".json", "sha256": sha, "built_on": doc["built_on"]}
    client.put_object(Bucket=bucket, Key=snapshot.prefix() + snapshot.POINTER, Body=json.dumps(pointer).encode(),
                      ContentType="application/json")
    return stem + ".json"
