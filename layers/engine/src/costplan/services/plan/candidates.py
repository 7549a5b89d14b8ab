"""The candidate set of one plan: hosted offerings and self-hosted configurations, side by side.

Rows 0..n_hosted-1 are hosted offerings (``hosted.idx`` into the hosted catalog); the rest are
self-hosted grid rows (``sizing.rows``). ``candidates`` is what ``rank_configs`` ranks.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from costplan.catalog.llm import LlmCatalog
from costplan.catalog.universe import Universe
from costplan.core.ranking import Candidates
from costplan.core.units import UNIT_CODES
from costplan.services.plan.hosted import HostedBlock, hosted_invariants

if TYPE_CHECKING:  # lazy: cold start, a hosted-only plan never imports the self-hosted catalog or sizing
    from costplan.catalog.selfhosted import SelfHostedCatalog
    from costplan.services.plan.selfhosted import Sizing

SELF_HOSTED_UNIT = "per_gpu_hour"


@dataclass(frozen=True)
class CandidateSet:
    catalog: LlmCatalog
    universe: Universe
    hosted: HostedBlock
    sh_catalog: "SelfHostedCatalog | None"
    sizing: "Sizing | None"
    candidates: Candidates
    name_rank: np.ndarray  # per candidate: rank of (provider id, model id) in the universe

    @property
    def n_hosted(self) -> int:
        return int(self.hosted.idx.size)

    def __len__(self) -> int:
        return len(self.candidates)

    def is_hosted(self, j: int) -> bool:
        return j < self.n_hosted

    def label(self, j: int) -> tuple[str, str]:
        """(provider id, model id) of candidate j."""
        provider = self.universe.providers[self.candidates.provider_code[j]]
        if self.is_hosted(j):
            return provider, self.catalog.model[self.hosted.idx[j]]
        return provider, self.universe.sh_ids[self.sizing.rows[j - self.n_hosted]]

    def model_id(self, j: int) -> str:
        """The canonical model of candidate j (hosted canonical id, or the self-hosted open-weight model)."""
        if self.is_hosted(j):
            return self.catalog.canonical[self.hosted.idx[j]]
        r = self.sizing.rows[j - self.n_hosted]
        return self.sh_catalog.models[self.sh_catalog.grid.model[r]].model_id

    def in_name_order(self) -> np.ndarray:
        """Every candidate index, ordered by (provider id, model id): a counting sort over the universe."""
        if self.name_rank is self.universe.hosted_nrank:  # the whole hosted catalog: its order is precomputed
            return self.universe.hosted_in_name_order
        pos = np.full(self.universe.size, -1, np.int64)
        pos[self.name_rank] = np.arange(self.name_rank.size)
        return pos[pos >= 0]


def _hosted_window(catalog: LlmCatalog, idx: np.ndarray, full: bool) -> np.ndarray:
    """Stated windows; an extended window (priced beyond the stated one by a source's tier) has no published size,
    so it ranks as unknown: admitted unless the caller sets constraints.min_context_window (precomputed per catalog)."""
    window = hosted_invariants(catalog).window
    return window if full else window[idx]


def combine(catalog: LlmCatalog, universe: Universe, hosted: HostedBlock, sh: "SelfHostedCatalog | None",
            sizing: "Sizing | None") -> CandidateSet:
    idx = hosted.idx
    rows = sizing.rows if sizing is not None else np.zeros(0, np.int64)
    ns = rows.size
    n = len(catalog)
    full = idx.size == n and (n == 0 or (int(idx[0]) == 0 and int(idx[-1]) == n - 1))

    def hosted_part(a: np.ndarray) -> np.ndarray:  # the whole catalog's array as is, or the offerings in scope
        return a if full else a[idx]

    if not ns:  # hosted only: no concatenation, no copies of the catalog's arrays
        candidates = Candidates(
            input_per_1m=hosted.input_per_1m, output_per_1m=hosted.output_per_1m,
            cache_read_per_1m=hosted.cache_read_per_1m, request_per_1k=hosted_part(catalog.request_per_1k),
            context_window=_hosted_window(catalog, idx, full), provider_code=hosted_part(universe.hosted_pcode),
            provider_key=hosted_part(universe.hosted_pcode), model_key=hosted_part(universe.hosted_mkey),
            unit_code=hosted_part(catalog.unit_code), blocked=hosted_part(catalog.blocked))
        return CandidateSet(catalog, universe, hosted, sh, sizing, candidates, hosted_part(universe.hosted_nrank))
    zeros = np.zeros(ns)
    sh_context = sh.grid.configs.max_context[rows]

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])

    candidates = Candidates(
        input_per_1m=cat(hosted.input_per_1m, zeros), output_per_1m=cat(hosted.output_per_1m, zeros),
        cache_read_per_1m=cat(hosted.cache_read_per_1m, zeros),
        request_per_1k=cat(catalog.request_per_1k[idx], zeros),
        context_window=cat(_hosted_window(catalog, idx, full), sh_context),
        provider_code=cat(universe.hosted_pcode[idx], universe.sh_pcode[rows]),
        provider_key=cat(universe.hosted_pcode[idx], universe.sh_pcode[rows]),
        model_key=cat(universe.hosted_mkey[idx], universe.sh_mkey[rows]),
        unit_code=cat(catalog.unit_code[idx], np.full(ns, UNIT_CODES[SELF_HOSTED_UNIT], dtype=np.int64)),
        blocked=cat(catalog.blocked[idx], sizing.blocked),
        fixed_monthly_usd=cat(np.zeros(idx.size), np.nan_to_num(sizing.monthly_usd, nan=0.0)),
    )
    name_rank = np.concatenate([universe.hosted_nrank[idx], universe.sh_nrank[rows]])
    return CandidateSet(catalog, universe, hosted, sh, sizing, candidates, name_rank)
