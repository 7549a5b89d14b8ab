"""Build-time generator: genai-prices -> compact hosted-LLM catalog artifact.

Importing genai-prices costs about 400 ms (its data module builds every price as a Python
object), which is the whole cold-start budget. So the Lambda never imports it: this script
reads genai-prices once at build time, resolves what can be resolved for a fixed ``as_of``
date, and writes ``data/llm_offerings.json``. The artifact records the genai-prices version
and the date, and a test regenerates it to prove it matches the pinned version.

Run: ``python -m tools.build_catalog --as-of 2026-11-26`` (it fetches the pinned, hash-checked LiteLLM wheel for
the second price source; see ``costplan.catalog.crosscheck``; ``--offline`` rebuilds from the committed extract).
The scheduled ``refresh_catalog`` function calls ``build`` and ``render`` with freshly fetched genai-prices providers
and the LiteLLM map, which is why this module ships in the layer; its command line lives in ``tools/``.

Dates: the artifact's ``sources`` carry each source's snapshot date (genai-prices: its release date, or the fetch
date for live data; LiteLLM: the wheel's release date, or the fetch date). Every offering carries ``price_as_of``,
the snapshot date of the source whose price it uses, and ``catalog.as_of`` is the oldest source date. ``built_on``
is the build date.

What is resolved here and what is left to request time:
- date-conditional prices (``StartDateConstraint``): the price active on ``as_of``;
- time-of-day prices (``TimeOfDateConstraint``): every variant is kept as a list of
  alternatives; the service prices the peak (the highest) and labels the row an estimate;
- context-length tiers (``TieredPrices``): kept as ``{"base", "tiers": [[start, price]]}``
  and selected at request time by the workload's prompt size;
- a negative price (adaptive pricing): kept and flagged, then excluded with a reason code;
- a missing price stays ``null``. It is never written as 0;
- a disagreement between the two sources: where a provider's dated, cited announcement
  (``data/price_overrides.csv``) matches the second source and the primary entry predates it, the row is priced
  from the second source (``price_source: second_source``) and keeps the primary's price and the announcement in
  ``second_source`` (``primary_prices``, ``evidence``); the service still warns PRICE_SOURCES_DISAGREE.
"""

import csv
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from costplan.catalog import crosscheck as X
from costplan.catalog.canonical import alias_keys, canonical_id

ARTIFACT = Path(__file__).parent / "data" / "llm_offerings.json"
OVERRIDES = Path(__file__).parent / "data" / "price_overrides.csv"
SOURCE_URL = "https://github.com/pydantic/genai-prices"
PRICE_KEYS = {"input": "input_mtok", "output": "output_mtok", "cache_read": "cache_read_mtok"}
REQUEST_KEY = "requests_kcount"
SCHEMA_VERSION = 2
# Release dates of pinned genai-prices versions (PyPI upload date of the wheel): the snapshot date of its bundled data.
GENAI_PRICES_RELEASED = {"0.2.3": "2026-11-10"}


def _num(value: Decimal) -> float:
    return float(value)


def _price(value):  # Decimal | TieredPrices | None -> JSON
    from genai_prices.types import TieredPrices  # lazy: cold start, genai-prices costs ~400 ms (build/refresh only)

    if value is None:
        return None
    if isinstance(value, TieredPrices):
        return {"base": _num(value.base), "tiers": [[t.start, _num(t.price)] for t in value.tiers]}
    return _num(value)


def _active_prices(model, as_of: date):
    """Return (standard ModelPrice, [time-of-day ModelPrice alternatives])."""
    standard, alternatives, _ = _dated_prices(model, as_of)
    return standard, alternatives


def _dated_prices(model, as_of: date):
    """(standard ModelPrice, [time-of-day alternatives], start date of the dated entry in force or None)."""
    from genai_prices.types import ModelPrice, StartDateConstraint, TimeOfDateConstraint  # lazy: as _price

    if isinstance(model.prices, ModelPrice):
        return model.prices, [], None
    stamp = datetime.combine(as_of, time(12, 0), tzinfo=UTC)
    standard, dated = model.prices[0].prices, None
    for cp in model.prices:  # later entries take precedence, as in genai-prices
        if cp.constraint is None:
            standard, dated = cp.prices, None
        elif isinstance(cp.constraint, StartDateConstraint) and cp.constraint.active(stamp):
            standard, dated = cp.prices, cp.constraint.start_date.isoformat()
    alternatives = [cp.prices for cp in model.prices if isinstance(cp.constraint, TimeOfDateConstraint)]
    return standard, alternatives, dated


def load_announcements(path: Path = OVERRIDES) -> dict[tuple[str, str], dict]:
    """(provider, model) -> a provider's dated, cited list-price announcement (``data/price_overrides.csv``).

    Evidence for ``crosscheck.verdict``: it decides which source is newer; it is never a price by itself."""
    with path.open(newline="", encoding="utf-8") as f:
        return {(r["provider"], r["model"]): {
            "input": float(r["input_per_1m"]), "output": float(r["output_per_1m"]),
            "cache_read": float(r["cache_read_per_1m"]) if r["cache_read_per_1m"] else None,
            "effective_date": r["effective_date"], "source": r["source"]} for r in csv.DictReader(f)}


def _is_negative(value) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return value["base"] < 0 or any(p < 0 for _, p in value["tiers"])
    return value < 0


def _ranked(prices: dict, alternatives: list[dict], direction: str):
    """The price the service ranks at: the highest time-of-day variant where there are several."""
    values = [X.base(a[direction]) for a in alternatives] + [X.base(prices[direction])]
    values = [v for v in values if v is not None]
    return max(values) if alternatives and values else X.base(prices[direction])


def _cross_check(row: dict, dated: str | None, second: dict | None, index: dict, dates: dict,
                 announcements: dict | None = None) -> None:
    """Attach the second source's entry to ``row``; swap in its price where a dated announcement shows it newer."""
    row["second_source"] = None
    if second is None:
        return
    key = X.match(row["provider"], row["model"], row["canonical"], second["entries"], index)
    if key is None:
        return
    entry = second["entries"][key]
    other = X.per_1m(entry)
    ranked = {d: _ranked(row["prices"], row["time_of_day_alternatives"], d) for d in X.FIELDS}
    differ = X.compare(ranked, other)
    announced = (announcements or {}).get((row["provider"], row["model"]))
    verdict = X.verdict(dated, dates["second"], announced, ranked, other) if differ else "agree"
    tiers = {d: X.tiers(entry, d) for d in X.FIELDS}
    window = entry.get("max_input_tokens")
    row["second_source"] = {
        "key": key, "prices": other, "tiers": {d: t for d, t in tiers.items() if t},
        "context_window": window if isinstance(window, int) else None, "disagrees": differ, "verdict": verdict,
    }
    if verdict == "second_newer":
        # The primary entry predates the provider's announced change: rank at the second source's price, and keep
        # the primary's (peak) price and the announcement as the evidence, so the row shows both and why.
        row["second_source"]["primary_prices"] = ranked
        row["second_source"]["evidence"] = {"effective_date": announced["effective_date"],
                                            "source": announced["source"]}
        row["prices"] = dict(other)
        row["time_of_day_alternatives"] = []  # the winning entry has none (DeepSeek: night discount cancelled)
        row["price_source"], row["price_as_of"] = "second_source", dates["second"]
    if row["context_window"] is None and row["second_source"]["context_window"]:
        # Context windows come from the catalog sources: the second one fills a window the primary leaves out.
        row["context_window"] = row["second_source"]["context_window"]
        row["context_window_source"] = "second_source"
    _extend_window(row, tiers, row["second_source"]["context_window"])


def _extend_window(row: dict, tiers: dict, second_window: int | None) -> None:
    """Where the second source also prices tokens beyond the primary's stated window (a long-context tier), the
    provider serves an extended window: mark it (its size is unpublished unless the second source states a larger
    one) and add the second source's tier where the primary has none. A tier in the primary source alone is not
    enough: genai-prices keeps historical tiers (Anthropic's retired 1M beta)."""
    window = row["context_window"]
    if not window:
        return
    beyond = {d: [t for t in ts if t[0] >= window] for d, ts in tiers.items()}
    if not beyond["input"]:
        return
    for d, ts in beyond.items():
        price = row["prices"][d]
        if ts and isinstance(price, (int, float)):
            row["prices"][d] = {"base": price, "tiers": ts}
    row["extended_context"] = {"beyond_tokens": window, "source": "second_source",
                               "window": second_window if second_window and second_window > window else None}


def build(as_of: date, providers=None, second: dict | None = None, primary_date: str | None = None) -> dict:
    """The catalog document. ``providers``: genai-prices providers (default: the installed package's data);
    ``second``: a LiteLLM extract ``{"source", "version", "as_of", "url", "entries"}`` (None: no cross-check);
    ``primary_date``: the snapshot date of ``providers`` (default: the pinned release's date)."""
    import genai_prices  # lazy: cold start, as _price (refresh_catalog is the only function that builds)

    if providers is None:
        from genai_prices import data  # lazy: as above

        providers = data.providers
        primary_date = primary_date or GENAI_PRICES_RELEASED.get(genai_prices.__version__, as_of.isoformat())
    primary_date = primary_date or as_of.isoformat()
    dates = {"primary": primary_date, "second": second["as_of"] if second else None}
    index = X.build_index(second["entries"]) if second else {}
    announcements = load_announcements() if second else {}
    offerings = []
    for provider in providers:
        url = (provider.pricing_urls or [None])[0]
        for model in provider.models:
            standard, alternatives, dated = _dated_prices(model, as_of)
            prices = {k: _price(getattr(standard, key, None)) for k, key in PRICE_KEYS.items()}
            if prices["input"] is None and prices["output"] is None:
                continue  # not a token-priced offering (audio-, image- or search-only)
            alt = [{k: _price(getattr(p, key, None)) for k, key in PRICE_KEYS.items()} for p in alternatives]
            row = {
                "provider": provider.id,
                "provider_name": provider.name,
                "model": model.id,
                "name": model.name,
                "canonical": canonical_id(model.id),
                "aliases": sorted(alias_keys(model.id, model.name)),
                "context_window": model.context_window,
                "deprecated": bool(model.deprecated),
                "prices": prices,
                "time_of_day_alternatives": alt,
                "request_per_1k": _price(getattr(standard, REQUEST_KEY, None)),
                "adaptive": any(_is_negative(v) for v in prices.values()),
                "url": url,
                "price_as_of": primary_date,
                "price_source": "primary",
                "extended_context": None,
                "context_window_source": "primary" if model.context_window else None,
            }
            _cross_check(row, dated, second, index, dates, announcements)
            offerings.append(row)
    offerings.sort(key=lambda o: (o["provider"], o["model"]))
    sources = [{"name": "genai-prices", "version": genai_prices.__version__ if primary_date in
                GENAI_PRICES_RELEASED.values() else "live", "as_of": primary_date, "url": SOURCE_URL, "role": "primary"}]
    if second:
        sources.append({"name": "litellm", "version": second["version"], "as_of": second["as_of"],
                        "url": second["url"], "role": "cross_check"})
    return {
        "schema_version": SCHEMA_VERSION,
        "source": f"genai-prices {genai_prices.__version__}",  # where prices come from; sources[] lists both
        "source_version": genai_prices.__version__,
        "url": SOURCE_URL,
        "as_of": min(s["as_of"] for s in sources),
        "built_on": as_of.isoformat(),
        "sources": sources,
        "cross_check": cross_check_summary(offerings) if second else None,
        "offerings": offerings,
    }


def cross_check_summary(offerings: list[dict]) -> dict:
    """Match rate and disagreement counts, for the build output and the artifact."""
    mappable = [o for o in offerings if o["provider"] in X.PROVIDERS]
    matched = [o for o in offerings if o.get("second_source")]
    compared = [o for o in matched if any(o["second_source"]["prices"][d] is not None and X.base(o["prices"][d])
                                          is not None for d in ("input", "output"))]
    differ = [o for o in matched if o["second_source"]["disagrees"]]
    return {
        "offerings": len(offerings), "mappable": len(mappable), "matched": len(matched), "compared": len(compared),
        "agree": len(compared) - len(differ), "disagree": len(differ),
        "match_rate": round(len(matched) / len(mappable), 4) if mappable else 0.0,
        "agreement_rate": round((len(compared) - len(differ)) / len(compared), 4) if compared else 0.0,
        "primary_newer": sum(o["second_source"]["verdict"] == "primary_newer" for o in differ),
        "second_newer": sum(o["second_source"]["verdict"] == "second_newer" for o in differ),
        "undetermined": sum(o["second_source"]["verdict"] == "undetermined" for o in differ),
        "extended_context": sum(bool(o.get("extended_context")) for o in offerings),
        "context_window_from_second": sum(o.get("context_window_source") == "second_source" for o in offerings),
        "disagreements": [f"{o['provider']}/{o['model']}" for o in differ],
    }


def offering_key(offering: dict) -> tuple[str, str]:
    """The artifact's explicit order (unique per offering): provider id, then the provider's model id."""
    return offering["provider"], offering["model"]


def render(catalog: dict) -> str:
    """The artifact as reviewable text: one header field per line, then one offering per line sorted by
    ``offering_key``, so a price change is a one-line diff. Whitespace only: ``json.loads`` gives back ``catalog``."""
    def dump(value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    head = [f"{dump(k)}:{dump(v)}," for k, v in sorted(catalog.items()) if k != "offerings"]
    rows = [dump(o) for o in sorted(catalog["offerings"], key=offering_key)]
    return "{\n" + "\n".join(head) + '\n"offerings":[\n' + ",\n".join(rows) + "\n]}\n"
