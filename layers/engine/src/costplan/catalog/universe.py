"""One provider table and one sort order over hosted offerings and self-hosted configurations.

Ties in a ranking break on (provider id, model id) strings. When hosted and self-hosted rows
rank together, both kinds need keys from one ordering; this builds it once per process.
Hosted-only requests use a hosted-only universe, so they never load the self-hosted catalog.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np

from costplan.catalog.llm import LlmCatalog, get_llm_catalog


@dataclass(frozen=True)
class Universe:
    providers: tuple[str, ...]  # sorted; a provider's code is its index, and so its sort key
    hosted_pcode: np.ndarray  # per hosted offering
    hosted_mkey: np.ndarray
    sh_pcode: np.ndarray  # per self-hosted grid row
    sh_mkey: np.ndarray
    sh_ids: tuple[str, ...]
    hosted_nrank: np.ndarray  # rank of (provider id, model id) among every hosted and self-hosted row
    sh_nrank: np.ndarray
    hosted_in_name_order: np.ndarray  # hosted offering indices in (provider id, model id) order

    @property
    def size(self) -> int:
        return int(self.hosted_nrank.size + self.sh_nrank.size)

    def provider_index(self, provider: str) -> int | None:
        i = int(np.searchsorted(self.providers, provider))
        return i if i < len(self.providers) and self.providers[i] == provider else None


def _rank(keys: list[str]) -> np.ndarray:
    order = {k: r for r, k in enumerate(sorted(set(keys)))}
    return np.array([order[k] for k in keys], dtype=np.int64)


@cache
def get_universe(with_self_hosted: bool) -> Universe:
    """The universe of the process-wide catalog (built once)."""
    return universe_for(get_llm_catalog(), with_self_hosted)


_BUILT: dict[tuple[int, bool], tuple[LlmCatalog, Universe]] = {}
_BUILT_KEPT = 8


def universe_for(hosted: LlmCatalog, with_self_hosted: bool) -> Universe:
    """The universe of any hosted catalog (a refreshed snapshot, a test's, a benchmark's), built once per catalog."""
    key = (id(hosted), with_self_hosted)
    hit = _BUILT.get(key)
    if hit is not None and hit[0] is hosted:
        return hit[1]
    if len(_BUILT) >= _BUILT_KEPT:
        _BUILT.clear()
    universe = _build(hosted, with_self_hosted)
    _BUILT[key] = (hosted, universe)
    return universe


def _build(hosted: LlmCatalog, with_self_hosted: bool) -> Universe:
    hosted_providers = [hosted.providers[p] for p in hosted.provider_code]
    sh_providers, sh_ids = [], []
    if with_self_hosted:
        from costplan.catalog.selfhosted import get_selfhosted_catalog, row_id

        cat = get_selfhosted_catalog()
        sh_providers = [cat.instances[i].provider for i in cat.grid.instance]
        sh_ids = [row_id(cat, r) for r in range(cat.grid.model.size)]
    providers = tuple(sorted(set(hosted_providers) | set(sh_providers)))
    code = {p: i for i, p in enumerate(providers)}
    mkey = _rank(list(hosted.model) + sh_ids)
    n = len(hosted)
    pcode = np.array([code[p] for p in hosted_providers + sh_providers], dtype=np.int64)
    nrank = np.empty(pcode.size, np.int64)
    nrank[np.lexsort((mkey, pcode))] = np.arange(pcode.size)
    return Universe(
        providers=providers,
        hosted_pcode=np.array([code[p] for p in hosted_providers], dtype=np.int64),
        hosted_mkey=mkey[:n],
        sh_pcode=np.array([code[p] for p in sh_providers], dtype=np.int64),
        sh_mkey=mkey[n:],
        sh_ids=tuple(sh_ids),
        hosted_nrank=nrank[:n],
        sh_nrank=nrank[n:],
        hosted_in_name_order=np.argsort(nrank[:n], kind="stable"),
    )
