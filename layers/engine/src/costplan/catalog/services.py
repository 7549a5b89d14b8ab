"""Offerings for every workload type, each with provider, service, unit, price, source and as_of.

- speech_to_text, text_to_speech, image_generation, rerank: ``data/service_offerings.csv``,
  compiled from public pricing pages (the source column cites each row);
- embeddings: the embedding models in the genai-prices artifact (``llm_offerings.json``);
- gpu_compute: per GPU-hour from the GPU instance catalog (on-demand, spot and 1-year rows);
- llm_tokens: the hosted-LLM catalog; its price depends on the request's output share, so the
  service blends it per request.
"""

import csv
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import get_selfhosted_catalog

DATA = Path(__file__).parent / "data"
CSV_UNITS = {"per_second": "per_audio_second", "per_minute": "per_audio_minute", "per_hour": "per_audio_hour"}
CSV_TYPES = ("speech_to_text", "text_to_speech", "image_generation", "rerank")
ESTIMATED_TIER = "estimated"  # the vendor publishes the figure as an estimate (e.g. per minute of token-billed audio)


@dataclass(frozen=True)
class ServiceOffering:
    provider: str
    service: str
    workload_type: str
    offering: str
    unit: str
    price: float  # USD per unit; NaN never: rows without a price are not offerings
    tier: str | None
    attributes: dict[str, str] = field(hash=False)
    source: str
    as_of: str
    url: str | None = None
    note: str | None = None
    estimated: bool = False  # the source calls the price an estimate, or it was converted at a stated assumption
    input_price: float | None = None  # llm_tokens only: per 1M input tokens
    output_price: float | None = None  # llm_tokens only: per 1M output tokens

    @property
    def label(self) -> str:
        return f"{self.offering} [{self.tier}]" if self.tier else self.offering


def _csv_offerings() -> list[ServiceOffering]:
    with (DATA / "service_offerings.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [ServiceOffering(
        provider=r["provider"], service=r["service"], workload_type=r["workload_type"], offering=r["offering"],
        unit=CSV_UNITS.get(r["unit"], r["unit"]), price=float(r["price_usd"]),
        tier=None if r["tier"] in ("", ESTIMATED_TIER) else r["tier"],
        attributes={k: str(v) for k, v in json.loads(r["attributes"] or "{}").items()},
        source=r["source"], as_of=r["as_of"], note=r.get("notes") or None,
        estimated=r["tier"] == ESTIMATED_TIER or "MP" in r["tier"],
    ) for r in rows if r["workload_type"] in CSV_TYPES]


def _embeddings() -> list[ServiceOffering]:
    cat = get_llm_catalog()
    out = []
    base = cat.tiers["input"].prices[:, 0]
    for i, model in enumerate(cat.model):
        if "embed" not in model.lower() or base[i] != base[i] or cat.deprecated[i]:
            continue
        out.append(ServiceOffering(
            provider=cat.providers[cat.provider_code[i]], service=cat.provider_names[cat.providers[cat.provider_code[i]]],
            workload_type="embeddings", offering=model, unit="per_1m_tokens", price=float(base[i]), tier=None,
            attributes={}, source=cat.source, as_of=cat.as_of, url=cat.url_of[i]))
    return out


def _gpu_compute() -> list[ServiceOffering]:
    cat = get_selfhosted_catalog()
    out = []
    for inst in cat.instances:
        acc = cat.accelerators[inst.accelerator_id]
        for tier, price in inst.prices.items():
            if price != price:
                continue  # not published for this pricing model
            out.append(ServiceOffering(
                provider=inst.provider, service=inst.provider, workload_type="gpu_compute",
                offering=inst.instance_type, unit="per_gpu_hour", price=price / inst.count,
                tier=None if tier == "on_demand" else tier,
                attributes={"accelerator": acc.id, "gpus": str(inst.count), "region": inst.region},
                source=inst.source, as_of=inst.price_as_of,
                note=f"instance ${price:g}/h over {inst.count} GPU(s)"))
    return out


def _llm_tokens() -> list[ServiceOffering]:
    cat = get_llm_catalog()
    inp, outp = cat.tiers["input"].prices[:, 0], cat.tiers["output"].prices[:, 0]
    out = []
    for i, model in enumerate(cat.model):
        if cat.deprecated[i]:
            continue
        provider = cat.providers[cat.provider_code[i]]
        out.append(ServiceOffering(
            provider=provider, service=cat.provider_names[provider], workload_type="llm_tokens", offering=model,
            unit="per_1m_tokens", price=float("nan"), tier=None, attributes={}, source=cat.source, as_of=cat.as_of,
            url=cat.url_of[i], input_price=None if inp[i] != inp[i] else float(inp[i]),
            output_price=None if outp[i] != outp[i] else float(outp[i])))
    return out


_BUILDERS = {"embeddings": _embeddings, "gpu_compute": _gpu_compute, "llm_tokens": _llm_tokens}


@cache
def offerings(workload_type: str) -> tuple[ServiceOffering, ...]:
    """Offerings of one workload type, sorted by (provider, offering, tier); built once per process."""
    rows = _BUILDERS[workload_type]() if workload_type in _BUILDERS else [
        o for o in _csv_offerings() if o.workload_type == workload_type]
    return tuple(sorted(rows, key=lambda o: (o.provider, o.label)))


@cache
def providers_by_workload() -> dict[str, frozenset[str]]:
    """Which providers offer each workload type (for PROVIDER_WORKLOAD_UNSUPPORTED)."""
    return {w: frozenset(o.provider for o in offerings(w)) for w in (*CSV_TYPES, *_BUILDERS)}
