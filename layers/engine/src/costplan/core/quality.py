"""Quality kernels: fixed-anchor normalisation, the profile-weighted quality index, the Pareto frontier.

Pure numpy, no validation (callers validate).

normalised_ij = clip((raw_ij - low_j) / (high_j - low_j) x 100, 0, 100)   fixed anchors per benchmark,
                so adding a model never moves another model's score.
index_i       = sum_j w_j x s_ij / sum_j w_j [s_ij known]                 weights renormalised over the
coverage_i    = sum_j w_j [s_ij known] / sum_j w_j                       benchmarks model i has.
"""

import numpy as np


def normalise(raw: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.clip((raw - low) / (high - low) * 100.0, 0.0, 100.0)


def quality_index(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, coverage) per row of ``scores`` (n x b, NaN = missing) under benchmark ``weights`` (b,)."""
    w = weights / weights.sum()
    known = ~np.isnan(scores)
    coverage = (known * w).sum(axis=1)
    total = np.where(known, scores, 0.0) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(coverage > 0, total / coverage, np.nan)
    return index, coverage


def pareto_frontier(cost: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (lower cost, higher quality), in increasing cost.

    Point a dominates b when cost_a <= cost_b and quality_a >= quality_b, one of them strictly.
    Equal points do not dominate each other, so duplicates of a frontier point are all kept.
    """
    order = np.lexsort((-quality, cost))  # by cost, then best quality first
    keep, best, i, n = [], -np.inf, 0, order.size
    while i < n:
        c = cost[order[i]]
        j = i
        while j < n and cost[order[j]] == c:  # one cost level at a time
            j += 1
        level = order[i:j]
        top = quality[level[0]]
        if top > best:
            keep.extend(int(k) for k in level if quality[k] == top)
            best = top
        i = j
    return np.array(keep, dtype=np.int64)
