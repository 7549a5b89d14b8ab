"""Catalog prices for invoice lines: what the list says a line should cost, and who sells it for less."""

from dataclasses import dataclass
from functools import cache

from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import load_accelerators, load_instances
from costplan_contracts.common import Provenance
from costplan_contracts.enums import UsageKind

DIRECTION = {UsageKind.INPUT_TOKENS.value: "input", UsageKind.OUTPUT_TOKENS.value: "output",
             UsageKind.CACHED_INPUT_TOKENS.value: "cache_read"}
PER_MILLION = 1e6


@dataclass(frozen=True)
class Quote:
    provider: str
    model: str  # the provider's model id
    price: float  # USD per 1M tokens, or per instance-hour
    provenance: Provenance


@cache
def _hosted_index() -> dict[tuple[str, str, str], Quote]:
    """(provider, canonical model, direction) -> the provider's cheapest non-deprecated base-tier price."""
    cat = get_llm_catalog()
    out: dict[tuple[str, str, str], Quote] = {}
    for i, canonical in enumerate(cat.canonical):
        if cat.deprecated[i]:
            continue
        provider = cat.providers[cat.provider_code[i]]
        for direction, table in cat.tiers.items():
            p = table.prices[i, 0]
            if p != p:
                continue
            key = (provider, canonical, direction)
            if key not in out or p < out[key].price:
                out[key] = Quote(provider, cat.model[i], float(p),
                                 Provenance(source=cat.source, as_of=cat.as_of, url=cat.url_of[i]))
    return out


@cache
def _cheapest() -> dict[tuple[str, str], Quote]:
    """(canonical model, direction) -> the cheapest provider's quote."""
    out: dict[tuple[str, str], Quote] = {}
    for (_provider, canonical, direction), q in sorted(_hosted_index().items()):
        key = (canonical, direction)
        if key not in out or q.price < out[key].price:
            out[key] = q
    return out


def hosted_quote(provider: str, model: str, kind: str) -> Quote | None:
    d = DIRECTION.get(kind)
    return _hosted_index().get((provider, model, d)) if d else None


def cheapest_quote(model: str, kind: str) -> Quote | None:
    d = DIRECTION.get(kind)
    return _cheapest().get((model, d)) if d else None


@cache
def _instances() -> dict[str, tuple]:
    accs = load_accelerators()
    return {i.instance_type.lower(): (i, accs[i.accelerator_id]) for i in load_instances()}


def instance_quote(instance_type: str) -> tuple | None:
    """(Instance, Accelerator) from the GPU catalog, or None."""
    return _instances().get(instance_type.lower())


def cheaper_instances(instance_type: str, pricing: str = "on_demand") -> list:
    """Instances with the same accelerator and count, cheaper at ``pricing``, cheapest first."""
    hit = instance_quote(instance_type)
    if hit is None:
        return []
    inst, acc = hit
    base = inst.prices["on_demand"]
    same = [i for i, a in _instances().values() if a.id == acc.id and i.count == inst.count
            and i.prices[pricing] == i.prices[pricing] and i.prices[pricing] < base]
    return sorted(same, key=lambda i: (i.prices[pricing], i.provider, i.instance_type))
