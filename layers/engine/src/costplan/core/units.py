"""Pricing units: a dimension and a scale. Conversion within a dimension is exact.

The contracts expose units as strings (``costplan_contracts.enums.PricingUnit``); the core
keeps its own small table so it imports nothing but numpy. A test checks the two agree.
"""

from dataclasses import dataclass
from enum import IntEnum


class Dimension(IntEnum):
    TOKENS = 1
    GPU_SECONDS = 2


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    dimension: Dimension
    quantity: float  # how many base quantities (tokens, GPU-seconds) one price covers


UNITS: dict[str, Unit] = {
    u.name: u
    for u in (
        Unit("per_1m_tokens", Dimension.TOKENS, 1_000_000.0),
        Unit("per_1k_tokens", Dimension.TOKENS, 1_000.0),
        Unit("per_token", Dimension.TOKENS, 1.0),
        Unit("per_gpu_hour", Dimension.GPU_SECONDS, 3600.0),
    )
}
UNIT_CODES: dict[str, int] = {name: i for i, name in enumerate(UNITS)}


def convertible(src: str, dst: str) -> bool:
    return UNITS[src].dimension == UNITS[dst].dimension


def conversion_factor(src: str, dst: str) -> float:
    """Multiply a price quoted per ``src`` by this to quote it per ``dst`` (same dimension only)."""
    a, b = UNITS[src], UNITS[dst]
    if a.dimension != b.dimension:
        raise ValueError(f"cannot convert {src} to {dst}: different dimensions")
    return b.quantity / a.quantity
