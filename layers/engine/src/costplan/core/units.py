"""Pricing units: a dimension and a scale. Conversion within a dimension is exact; across
dimensions it needs a factor the workload supplies (characters per token, ...).

The contracts expose units as strings (``costplan_contracts.enums.PricingUnit``); the core
keeps its own table so it imports nothing but numpy. A test checks the two agree.
"""

from dataclasses import dataclass
from enum import IntEnum


class Dimension(IntEnum):
    TOKENS = 1
    CHARACTERS = 2
    AUDIO_SECONDS = 3
    IMAGES = 4
    REQUESTS = 5
    SEARCHES = 6
    GPU_SECONDS = 7


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    dimension: Dimension
    quantity: float  # how many base quantities (tokens, characters, seconds, ...) one price covers


_D = Dimension
UNITS: dict[str, Unit] = {
    u.name: u
    for u in (
        Unit("per_1m_tokens", _D.TOKENS, 1e6), Unit("per_1k_tokens", _D.TOKENS, 1e3), Unit("per_token", _D.TOKENS, 1.0),
        Unit("per_gpu_hour", _D.GPU_SECONDS, 3600.0), Unit("per_gpu_second", _D.GPU_SECONDS, 1.0),
        Unit("per_character", _D.CHARACTERS, 1.0), Unit("per_1k_characters", _D.CHARACTERS, 1e3),
        Unit("per_1m_characters", _D.CHARACTERS, 1e6),
        Unit("per_audio_second", _D.AUDIO_SECONDS, 1.0), Unit("per_audio_minute", _D.AUDIO_SECONDS, 60.0),
        Unit("per_audio_hour", _D.AUDIO_SECONDS, 3600.0),
        Unit("per_image", _D.IMAGES, 1.0), Unit("per_1k_images", _D.IMAGES, 1e3),
        Unit("per_request", _D.REQUESTS, 1.0), Unit("per_1k_requests", _D.REQUESTS, 1e3),
        Unit("per_search", _D.SEARCHES, 1.0), Unit("per_1k_searches", _D.SEARCHES, 1e3),
    )
}
UNIT_CODES: dict[str, int] = {name: i for i, name in enumerate(UNITS)}

# Cross-dimension factors a workload may supply: name -> (numerator, denominator) dimensions,
# e.g. characters_per_token = 4 means one token is 4 characters.
FACTORS: dict[str, tuple[Dimension, Dimension]] = {
    "characters_per_token": (_D.CHARACTERS, _D.TOKENS),
    "tokens_per_request": (_D.TOKENS, _D.REQUESTS),
    "tokens_per_search": (_D.TOKENS, _D.SEARCHES),
    "characters_per_request": (_D.CHARACTERS, _D.REQUESTS),
    "audio_seconds_per_request": (_D.AUDIO_SECONDS, _D.REQUESTS),
    "images_per_request": (_D.IMAGES, _D.REQUESTS),
    "searches_per_request": (_D.SEARCHES, _D.REQUESTS),
    "gpu_seconds_per_request": (_D.GPU_SECONDS, _D.REQUESTS),
}


def convertible(src: str, dst: str) -> bool:
    return UNITS[src].dimension == UNITS[dst].dimension


def conversion_factor(src: str, dst: str) -> float:
    """Multiply a price quoted per ``src`` by this to quote it per ``dst`` (same dimension only)."""
    a, b = UNITS[src], UNITS[dst]
    if a.dimension != b.dimension:
        raise ValueError(f"cannot convert {src} to {dst}: different dimensions")
    return b.quantity / a.quantity


def cross_factor(src: Dimension, dst: Dimension, factors: dict[str, float]) -> tuple[str, float] | None:
    """(factor name, base ``dst`` quantities per base ``src`` quantity), or None when no supplied factor links them."""
    for name, (num, den) in FACTORS.items():
        if name not in factors:
            continue
        if (num, den) == (dst, src):
            return name, factors[name]
        if (num, den) == (src, dst):
            return name, 1.0 / factors[name]
    return None


def quantity_in(quantity: float, quantity_unit: str, dst_dimension: Dimension,
                factors: dict[str, float]) -> tuple[float, str | None] | None:
    """``quantity`` of ``quantity_unit`` (e.g. 500 of per_audio_minute = 500 minutes) in base units of
    ``dst_dimension``, and the cross-dimension factor used; None when it cannot be converted."""
    unit = UNITS[quantity_unit]
    base = quantity * unit.quantity
    if unit.dimension == dst_dimension:
        return base, None
    link = cross_factor(unit.dimension, dst_dimension, factors)
    if link is None:
        return None
    name, per = link
    return base * per, name
