"""Refreshed catalog snapshots in S3: the layout, the validity check, and loading the newest valid one.

Layout under ``CATALOG_PREFIX`` (default ``catalog/``) of ``CATALOG_BUCKET``:

- ``llm_offerings/<built_on>-<sha256[:12]>.json``: one immutable, versioned snapshot per successful refresh;
- ``llm_offerings/<built_on>-<sha256[:12]>.report.json``: its build report (match rate, changes, warnings);
- ``latest.json``: ``{"key", "sha256", "built_on"}``, written last, only after the snapshot validated.

API functions call ``load_document`` once per process (at init, through ``get_llm_catalog``). With no bucket
configured the bundled artifact is used silently; with a bucket, any failure (missing pointer, S3 error, hash
mismatch, invalid document) falls back to the bundled artifact and says why, so plan/llm can warn
``CATALOG_SNAPSHOT_FALLBACK``. The S3 client is built on use and not kept: nothing per environment is captured
in a SnapStart snapshot, and an environment without the variable never imports boto3.
"""

import hashlib
import json
import os

from costplan.catalog.llm import bundled_document

BUCKET_ENV = "CATALOG_BUCKET"
PREFIX_ENV = "CATALOG_PREFIX"
DEFAULT_PREFIX = "catalog/"
POINTER = "latest.json"
SCHEMA_VERSION = 2
MIN_OFFERINGS = 100


def prefix() -> str:
    p = os.environ.get(PREFIX_ENV, DEFAULT_PREFIX)
    return p if p.endswith("/") else p + "/"


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_document(doc: dict, min_offerings: int = MIN_OFFERINGS) -> list[str]:
    """Reasons a catalog document must not be served (empty when it is fine)."""
    problems = []
    if doc.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"schema_version {doc.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    offerings = doc.get("offerings")
    if not isinstance(offerings, list) or len(offerings) < min_offerings:
        problems.append(f"{len(offerings) if isinstance(offerings, list) else 0} offerings, expected >= {min_offerings}")
        return problems
    for key in ("as_of", "built_on", "sources"):
        if not doc.get(key):
            problems.append(f"missing {key}")
    for o in offerings:
        if not o.get("price_as_of"):
            problems.append(f"{o.get('provider')}/{o.get('model')}: no price_as_of")
            break
    return problems


def load_document(client=None, min_offerings: int = MIN_OFFERINGS) -> tuple[dict, str]:
    """(catalog document, what was loaded): the newest valid snapshot, else the bundled artifact."""
    bucket = os.environ.get(BUCKET_ENV)
    if not bucket:
        return bundled_document(), "bundled"
    try:
        if client is None:
            import boto3  # lazy: cold start, only a deployment with a catalog bucket reads a snapshot

            client = boto3.client("s3")
        pointer = json.loads(client.get_object(Bucket=bucket, Key=prefix() + POINTER)["Body"].read())
        body = client.get_object(Bucket=bucket, Key=pointer["key"])["Body"].read()
        if digest(body) != pointer["sha256"]:
            raise ValueError(f"{pointer['key']}: sha256 does not match {POINTER}")
        doc = json.loads(body)
        if problems := check_document(doc, min_offerings):
            raise ValueError(f"{pointer['key']}: " + "; ".join(problems))
        return doc, pointer["key"]
    except Exception as exc:  # noqa: BLE001 - any failure falls back to the bundled catalog, and says why
        reason = type(exc).__name__ + (f": {exc}" if isinstance(exc, (ValueError, KeyError)) else "")
        return bundled_document(), f"bundled; fallback: {reason[:200]}"
