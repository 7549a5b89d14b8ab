"""Price resolution kernels: context-length tiers, selected for a prompt size.

Tier semantics follow genai-prices (``TieredPrices``): the "cliff" model, where a prompt of
more than ``start`` input tokens pays that tier's rate on all its tokens; a prompt of exactly
``start`` tokens still pays the lower rate.
"""

import numpy as np


def select_tier(starts: np.ndarray, prices: np.ndarray, prompt_tokens: float) -> np.ndarray:
    """Per-row price for a prompt of ``prompt_tokens`` input tokens, without validation.

    ``starts`` and ``prices`` are (n, T) arrays. Column 0 is the base price with start 0.
    Unused tier slots hold ``start = +inf``. A row whose base price is NaN (missing) stays NaN.

    price_i = prices[i, k_i],  k_i = max{ j : j == 0 or prompt_tokens > starts[i, j] }
    """
    above = prompt_tokens > starts
    above[:, 0] = True
    k = above.sum(axis=1) - 1  # tiers are sorted ascending, so the count locates the last one crossed
    return prices[np.arange(prices.shape[0]), k]


def has_tiers(starts: np.ndarray) -> np.ndarray:
    """Rows with at least one tier beyond the base price."""
    return np.isfinite(starts[:, 1:]).any(axis=1) if starts.shape[1] > 1 else np.zeros(starts.shape[0], bool)


def blend_tiers(starts: np.ndarray, prices: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Per-row price when only part of the traffic crosses each tier, without validation.

    ``shares[i, j]`` is the share of row i's tokens sent in requests longer than ``starts[i, j]`` (column 0 is 1;
    shares do not grow with j; unused slots hold 0). Under the cliff model a request above start_j pays price_j on
    all its tokens, so the tokens in band j (above start_j, not above start_{j+1}) pay price_j:

        price_i = sum_j (shares[i, j] - shares[i, j+1]) * prices[i, j],   shares[i, T] = 0

    A NaN base price stays NaN; a missing price in a band that carries traffic makes the row NaN (never $0);
    an unused tier slot (zero band) adds nothing.
    """
    band = shares - np.concatenate([shares[:, 1:], np.zeros((shares.shape[0], 1))], axis=1)
    with np.errstate(invalid="ignore"):
        out = np.where(band != 0, band * prices, 0.0).sum(axis=1)
    return np.where(np.isnan(prices[:, 0]), np.nan, out)
