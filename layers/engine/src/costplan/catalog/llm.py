"""The hosted-LLM offering catalog, loaded once per process and kept as numpy arrays.

Source: ``data/llm_offerings.json``, generated from genai-prices (cross-checked against LiteLLM's price map) by
``build_llm.py``; or a refreshed snapshot of the same document (``catalog/snapshot.py``).

The bundled catalog loads from its compact binary (``catalog/binary.py``: built at layer build time, checked
against the JSON's hash), so a cold start does not parse 1 MB of JSON.
"""

import json
import os
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from costplan.catalog import binary
from costplan.core.pricing import has_tiers
from costplan.core.ranking import Reason
from costplan.core.units import UNIT_CODES

ARTIFACT = Path(__file__).parent / "data" / "llm_offerings.json"
NATIVE_UNIT = "per_1m_tokens"
DIRECTIONS = ("input", "output", "cache_read")


@dataclass(frozen=True)
class TierTable:
    """(n, T) tier starts and prices. Column 0 is the base price (start 0); padding is +inf/NaN."""

    starts: np.ndarray
    prices: np.ndarray


@dataclass(frozen=True)
class SecondQuote:
    """The second source's price for one offering, kept where the two sources disagree by more than 5%."""

    key: str
    input: float | None
    output: float | None
    cache_read: float | None
    directions: tuple[str, ...]  # where they disagree
    verdict: str  # undetermined | primary_newer | second_newer
    # second_newer only: the row is priced from this (second) source; the primary's ranked (peak) prices it
    # replaced, and the dated announcement that shows the primary entry is older.
    primary: dict[str, float | None] | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class LlmCatalog:
    source: str
    source_version: str
    url: str
    as_of: str
    providers: tuple[str, ...]  # sorted provider ids; provider_code indexes this
    provider_names: dict[str, str]
    provider_code: np.ndarray
    provider_key: np.ndarray
    model_key: np.ndarray
    unit_code: np.ndarray
    model: tuple[str, ...]
    name: tuple[str | None, ...]
    canonical: tuple[str, ...]
    url_of: tuple[str | None, ...]
    context_window: np.ndarray
    deprecated: np.ndarray
    adaptive: np.ndarray
    tiers: dict[str, TierTable]  # per direction
    peak: dict[str, np.ndarray]  # per direction: highest time-of-day price, NaN where none
    time_of_day: np.ndarray  # bool: price depends on time of day
    request_per_1k: np.ndarray
    aliases: dict[str, str]  # lowercase alias -> canonical id
    canonical_offerings: dict[str, np.ndarray]  # canonical id -> offering indices
    tiered: np.ndarray  # bool: some direction has context-length tiers
    blocked: np.ndarray  # Reason fixed by the catalog itself (deprecated, adaptive), else 0
    name_order: np.ndarray  # rank of each offering in (provider, model) order
    price_as_of: tuple[str, ...] = ()  # per offering: snapshot date of the source whose price it uses
    sources: tuple[dict, ...] = ()  # [{name, version, as_of, url, role}]
    built_on: str | None = None
    second_source: str | None = None  # e.g. "litellm 1.110.2"
    second_as_of: str | None = None
    disagreements: dict[int, SecondQuote] | None = None  # offering index -> the second source's quote
    extended: np.ndarray | None = None  # bool: window extended beyond the stated one (from the second source)
    disagrees: np.ndarray | None = None  # bool per offering: a key of ``disagreements`` (indexed per request)
    snapshot: str = "bundled"  # which document was loaded: "bundled" or the snapshot key

    def __len__(self) -> int:
        return len(self.model)

    # Pickling (catalog/binary.py): the ~1,000 small index arrays of canonical_offerings travel as one flat array
    # and their lengths, since unpickling each small array on its own costs several ms at cold start.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        groups = state.pop("canonical_offerings")
        keys = tuple(groups)
        flat = np.concatenate([groups[k] for k in keys]) if keys else np.zeros(0, np.int64)
        state["_canonical_packed"] = (keys, np.array([groups[k].size for k in keys], np.int64), flat)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        keys, sizes, flat = state.pop("_canonical_packed")
        parts = np.split(flat, np.cumsum(sizes)[:-1]) if keys else []
        state["canonical_offerings"] = dict(zip(keys, parts, strict=True))
        self.__dict__.update(state)

    def price_source_of(self, i: int) -> str:
        """The source offering ``i`` is priced from: the second one where a dated announcement made it win."""
        quote = (self.disagreements or {}).get(i)
        return self.second_source if quote is not None and quote.primary is not None else self.source


def _blocked(deprecated: np.ndarray, adaptive: np.ndarray) -> np.ndarray:
    out = np.zeros(deprecated.shape[0], np.int8)
    out[deprecated] = Reason.MODEL_DEPRECATED
    out[adaptive] = Reason.PRICE_ADAPTIVE
    return out


def _tier_table(values: list) -> TierTable:
    width = 1 + max((len(v["tiers"]) for v in values if isinstance(v, dict)), default=0)
    starts = np.full((len(values), width), np.inf)
    prices = np.full((len(values), width), np.nan)
    starts[:, 0] = 0.0
    for i, v in enumerate(values):
        if isinstance(v, dict):
            prices[i, 0] = v["base"]
            for j, (start, price) in enumerate(v["tiers"], start=1):
                starts[i, j], prices[i, j] = start, price
        elif v is not None:
            prices[i, 0] = v
    return TierTable(starts, prices)


def _peak(alternatives: list[list[dict]], base: list, direction: str) -> np.ndarray:
    out = np.full(len(alternatives), np.nan)
    for i, alts in enumerate(alternatives):
        values = [a[direction] for a in alts] + [base[i]]
        flat = [v["base"] if isinstance(v, dict) else v for v in values if v is not None]
        if alts and flat:
            out[i] = max(flat)
    return out


def _rank(keys: list[str]) -> np.ndarray:
    """Rank of each string in sorted order (equal strings share a rank)."""
    ordered = {k: r for r, k in enumerate(sorted(set(keys)))}
    return np.array([ordered[k] for k in keys], dtype=np.int64)


def _disagreements(rows: list[dict]) -> dict[int, SecondQuote]:
    out = {}
    for i, r in enumerate(rows):
        q = r.get("second_source")
        if q and q["disagrees"]:
            p = q["prices"]
            ev = q.get("evidence")
            out[i] = SecondQuote(q["key"], p["input"], p["output"], p["cache_read"], tuple(q["disagrees"]),
                                 q["verdict"], q.get("primary_prices"),
                                 f"price change effective {ev['effective_date']}: {ev['source']}" if ev else None)
    return out


def from_document(doc: dict, snapshot: str = "bundled") -> LlmCatalog:
    rows = doc["offerings"]
    second = next((s for s in doc.get("sources", ()) if s["role"] == "cross_check"), None)
    providers = tuple(sorted({r["provider"] for r in rows}))
    pcode = {p: i for i, p in enumerate(providers)}
    prices = {d: [r["prices"][d] for r in rows] for d in DIRECTIONS}
    alts = [r["time_of_day_alternatives"] for r in rows]
    aliases: dict[str, str] = {}
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r["canonical"], []).append(i)
    for canonical in sorted(groups):
        aliases.setdefault(canonical, canonical)
    for r in sorted(rows, key=lambda r: (r["provider"], r["model"])):
        for a in r["aliases"]:
            aliases.setdefault(a, r["canonical"])
    tiers = {d: _tier_table(prices[d]) for d in DIRECTIONS}
    deprecated = np.array([r["deprecated"] for r in rows], dtype=bool)
    adaptive = np.array([r["adaptive"] for r in rows], dtype=bool)
    provider_key, model_key = _rank([r["provider"] for r in rows]), _rank([r["model"] for r in rows])
    name_order = np.empty(len(rows), np.int64)
    name_order[np.lexsort((model_key, provider_key))] = np.arange(len(rows))
    return LlmCatalog(
        source=doc["source"],
        source_version=doc["source_version"],
        url=doc["url"],
        as_of=doc["as_of"],
        providers=providers,
        provider_names={r["provider"]: r["provider_name"] for r in rows},
        provider_code=np.array([pcode[r["provider"]] for r in rows], dtype=np.int64),
        provider_key=provider_key,
        model_key=model_key,
        unit_code=np.full(len(rows), UNIT_CODES[NATIVE_UNIT], dtype=np.int64),
        model=tuple(r["model"] for r in rows),
        name=tuple(r["name"] for r in rows),
        canonical=tuple(r["canonical"] for r in rows),
        url_of=tuple(r["url"] for r in rows),
        context_window=np.array([r["context_window"] or np.nan for r in rows], dtype=float),
        deprecated=deprecated,
        adaptive=adaptive,
        tiers=tiers,
        peak={d: _peak(alts, prices[d], d) for d in DIRECTIONS},
        time_of_day=np.array([bool(a) for a in alts], dtype=bool),
        request_per_1k=np.array([r["request_per_1k"] or 0.0 for r in rows], dtype=float),
        aliases=aliases,
        canonical_offerings={k: np.array(v, dtype=np.int64) for k, v in groups.items()},
        tiered=np.logical_or.reduce([has_tiers(t.starts) for t in tiers.values()]),
        blocked=_blocked(deprecated, adaptive),
        name_order=name_order,
        price_as_of=tuple(r.get("price_as_of", doc["as_of"]) for r in rows),
        sources=tuple(doc.get("sources", ())),
        built_on=doc.get("built_on"),
        second_source=f"{second['name']} {second['version']}" if second else None,
        second_as_of=second["as_of"] if second else None,
        disagreements=(quotes := _disagreements(rows)),
        extended=np.array([bool(r.get("extended_context")) for r in rows], dtype=bool),
        disagrees=np.isin(np.arange(len(rows)), np.fromiter(quotes, dtype=np.int64, count=len(quotes))),
        snapshot=snapshot,
    )


def bundled_document() -> dict:
    return json.loads(ARTIFACT.read_text(encoding="utf-8"))


def from_json_bytes(raw: bytes) -> LlmCatalog:
    """The bundled catalog from the JSON document's bytes (what the compact binary is built from)."""
    return from_document(json.loads(raw))


def bundled_catalog() -> LlmCatalog:
    """The bundled artifact's catalog: from its compact binary when one matches the JSON, else from the JSON."""
    return binary.load(ARTIFACT, from_json_bytes)[0]


@cache
def get_llm_catalog() -> LlmCatalog:
    """The process-wide catalog (built on first use, then reused by every warm invocation): the newest valid
    refreshed snapshot when ``CATALOG_BUCKET`` is set, else (or on any failure) the bundled artifact."""
    # lazy: snapshot imports this module (bundled_document), and boto3 only when a bucket is set
    from costplan.catalog.snapshot import BUCKET_ENV, load_document

    if not os.environ.get(BUCKET_ENV):
        return bundled_catalog()
    doc, key = load_document()
    if key.startswith("bundled"):  # the snapshot could not be used: the bundled catalog, saying why
        return replace(bundled_catalog(), snapshot=key)
    return from_document(doc, key)
