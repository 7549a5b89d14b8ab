"""Build-time generator: genai-prices -> compact hosted-LLM catalog artifact.

Importing genai-prices costs about 400 ms (its data module builds every price as a Python
object), which is the whole cold-start budget. So the Lambda never imports it: this script
reads genai-prices once at build time, resolves what can be resolved for a fixed ``as_of``
date, and writes ``data/llm_offerings.json``. The artifact records the genai-prices version
and the date, and a test regenerates it to prove it matches the pinned version.

Run: ``python -m costplan.catalog.build_llm --as-of 2026-11-26``.

What is resolved here and what is left to request time:
- date-conditional prices (``StartDateConstraint``): the price active on ``as_of``;
- time-of-day prices (``TimeOfDateConstraint``): every variant is kept as a list of
  alternatives; the service prices the peak (the highest) and labels the row an estimate;
- context-length tiers (``TieredPrices``): kept as ``{"base", "tiers": [[start, price]]}``
  and selected at request time by the workload's prompt size;
- a negative price (adaptive pricing): kept and flagged, then excluded with a reason code;
- a missing price stays ``null``. It is never written as 0.
"""

import argparse
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from costplan.catalog.canonical import alias_keys, canonical_id

ARTIFACT = Path(__file__).parent / "data" / "llm_offerings.json"
SOURCE_URL = "https://github.com/pydantic/genai-prices"
PRICE_KEYS = {"input": "input_mtok", "output": "output_mtok", "cache_read": "cache_read_mtok"}
REQUEST_KEY = "requests_kcount"
SCHEMA_VERSION = 1


def _num(value: Decimal) -> float:
    return float(value)


def _price(value):  # Decimal | TieredPrices | None -> JSON
    from genai_prices.types import TieredPrices

    if value is None:
        return None
    if isinstance(value, TieredPrices):
        return {"base": _num(value.base), "tiers": [[t.start, _num(t.price)] for t in value.tiers]}
    return _num(value)


def _active_prices(model, as_of: date):
    """Return (standard ModelPrice, [time-of-day ModelPrice alternatives])."""
    from genai_prices.types import ModelPrice, StartDateConstraint, TimeOfDateConstraint

    if isinstance(model.prices, ModelPrice):
        return model.prices, []
    stamp = datetime.combine(as_of, time(12, 0), tzinfo=UTC)
    standard = model.prices[0].prices
    for cp in model.prices:  # later entries take precedence, as in genai-prices
        if cp.constraint is None or (isinstance(cp.constraint, StartDateConstraint) and cp.constraint.active(stamp)):
            standard = cp.prices
    alternatives = [cp.prices for cp in model.prices if isinstance(cp.constraint, TimeOfDateConstraint)]
    return standard, alternatives


def _is_negative(value) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return value["base"] < 0 or any(p < 0 for _, p in value["tiers"])
    return value < 0


def build(as_of: date) -> dict:
    import genai_prices
    from genai_prices import data

    offerings = []
    for provider in data.providers:
        url = (provider.pricing_urls or [None])[0]
        for model in provider.models:
            standard, alternatives = _active_prices(model, as_of)
            prices = {k: _price(getattr(standard, key, None)) for k, key in PRICE_KEYS.items()}
            if prices["input"] is None and prices["output"] is None:
                continue  # not a token-priced offering (audio-, image- or search-only)
            alt = [{k: _price(getattr(p, key, None)) for k, key in PRICE_KEYS.items()} for p in alternatives]
            offerings.append({
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
            })
    offerings.sort(key=lambda o: (o["provider"], o["model"]))
    return {
        "schema_version": SCHEMA_VERSION,
        "source": f"genai-prices {genai_prices.__version__}",
        "source_version": genai_prices.__version__,
        "url": SOURCE_URL,
        "as_of": as_of.isoformat(),
        "offerings": offerings,
    }


def render(catalog: dict) -> str:
    return json.dumps(catalog, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--out", type=Path, default=ARTIFACT)
    args = parser.parse_args(argv)
    catalog = build(args.as_of)
    args.out.write_text(render(catalog), encoding="utf-8")
    print(f"wrote {len(catalog['offerings'])} offerings from {catalog['source']} as of {catalog['as_of']} to {args.out}")


if __name__ == "__main__":
    main()
