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
