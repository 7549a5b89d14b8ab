"""Quality data: benchmark anchors, published scores per canonical model, workload profiles.

Files (each row cited): ``quality_benchmarks.csv`` (fixed normalisation anchors),
``quality_scores.csv`` (scores; ``estimated_from`` names the sibling a score was borrowed from),
``quality_profiles.csv`` (documented weights per workload profile).
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from costplan.core.quality import normalise, quality_index

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict]:
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Quality:
    index: float
    coverage: float
    estimated: bool
    sources: tuple[tuple[str, str], ...]  # (source, as_of) of the scores used


@dataclass(frozen=True, eq=False)
class QualityCatalog:
    benchmarks: tuple[str, ...]
    models: tuple[str, ...]
    normalised: np.ndarray  # models x benchmarks, NaN missing
    estimated: np.ndarray  # models x benchmarks, bool
    provenance: dict[tuple[int, int], tuple[str, str]]
    profiles: dict[str, np.ndarray]  # profile -> weights over benchmarks

    def model_row(self, model_id: str) -> int | None:
        try:
            return self.models.index(model_id)
        except ValueError:
            return None


@cache
def get_quality_catalog() -> QualityCatalog:
    benches = _rows("quality_benchmarks.csv")
    ids = tuple(b["benchmark_id"] for b in benches)
    low = np.array([float(b["anchor_low"]) for b in benches])
    high = np.array([float(b["anchor_high"]) for b in benches])
    scores = _rows("quality_scores.csv")
    models = tuple(sorted({s["model_id"] for s in scores}))
    raw = np.full((len(models), len(ids)), np.nan)
    est = np.zeros((len(models), len(ids)), bool)
    prov = {}
    for s in scores:
        i, j = models.index(s["model_id"]), ids.index(s["benchmark_id"])
        raw[i, j] = float(s["score"])
        est[i, j] = bool(s["estimated_from"])
        prov[(i, j)] = (s["source"], s["as_of"])
    profiles: dict[str, np.ndarray] = {}
    for p in _rows("quality_profiles.csv"):
        w = profiles.setdefault(p["profile"], np.zeros(len(ids)))
        w[ids.index(p["benchmark_id"])] = float(p["weight"])
    return QualityCatalog(ids, models, normalise(raw, low, high), est, prov, profiles)


@cache
def profile_quality(profile: str) -> dict[str, Quality]:
    """Quality index, coverage and estimated flag of every scored model under one profile."""
    cat = get_quality_catalog()
    w = cat.profiles[profile]
    index, coverage = quality_index(cat.normalised, w)
    out = {}
    for i, model in enumerate(cat.models):
        if np.isnan(index[i]):
            continue
        used = [j for j in range(len(cat.benchmarks)) if w[j] > 0 and not np.isnan(cat.normalised[i, j])]
        out[model] = Quality(float(index[i]), float(coverage[i]), bool(cat.estimated[i, used].any()),
                             tuple(sorted({cat.provenance[(i, j)] for j in used})))
    return out
