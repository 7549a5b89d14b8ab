"""Plan domain: hosted and self-hosted LLM plans (POST /plan/llm, /plan/scaling, /insights/quality-price).

Modules: ``llm`` (the plan/llm use case), ``scaling`` (plan/scaling), ``insights`` (quality-price), ``hosted`` and
``hosted_rows`` (hosted offerings priced for a workload), ``selfhosted`` (sizing self-hosted replicas),
``candidates`` (one candidate set for both), ``fallback`` (the strict -> relaxed fallback chain), ``rows`` (response
rows and the one rounding of money), ``quality`` (quality columns) and ``warnings`` (plan warnings).

Public surface: the names in ``__all__`` below are what functions/ and other service domains may import
(``from costplan.services.plan import plan_llm``); everything else is internal to the package. They are resolved
on first use (PEP 562 ``__getattr__``), so a domain that needs one helper (e.g. ``money``) does not import the
whole plan use case at cold start.
"""

from importlib import import_module
from typing import TYPE_CHECKING

_SURFACE = {
    # use cases
    "plan_llm": "llm", "plan_scaling": "scaling", "quality_price": "insights",
    # the one rounding of money and modelled figures (every domain's responses use it)
    "money": "rows", "sig": "rows", "cents": "rows", "modelled": "rows",
    # model ids as the catalog spells them
    "resolve_model": "hosted",
    # the fallback chain, shared with catalog_rank
    "ChainSpec": "fallback", "run_chain": "fallback", "exclusions": "fallback", "provider_masks": "fallback",
    "budget_zero_warning": "fallback", "relaxed_warnings": "fallback", "no_candidates_warning": "fallback",
    # self-hosted sizing, used by the invoice what-if simulation
    "SECONDS_PER_MONTH": "selfhosted", "Traffic": "selfhosted", "scope_rows": "selfhosted", "size": "selfhosted",
    "resolve_open_model": "selfhosted",
}
__all__ = [  # the same names as _SURFACE (tests/unit/test_import_graph.py checks both)
    "SECONDS_PER_MONTH", "ChainSpec", "Traffic", "budget_zero_warning", "cents", "exclusions", "modelled", "money",
    "no_candidates_warning", "plan_llm", "plan_scaling", "provider_masks", "quality_price", "relaxed_warnings",
    "resolve_model", "resolve_open_model", "run_chain", "scope_rows", "sig", "size",
]

if TYPE_CHECKING:  # static analysers see the real names; at run time __getattr__ imports them on first use
    from costplan.services.plan.fallback import (
        ChainSpec,
        budget_zero_warning,
        exclusions,
        no_candidates_warning,
        provider_masks,
        relaxed_warnings,
        run_chain,
    )
    from costplan.services.plan.hosted import resolve_model
    from costplan.services.plan.insights import quality_price
    from costplan.services.plan.llm import plan_llm
    from costplan.services.plan.rows import cents, modelled, money, sig
    from costplan.services.plan.scaling import plan_scaling
    from costplan.services.plan.selfhosted import SECONDS_PER_MONTH, Traffic, resolve_open_model, scope_rows, size


def __getattr__(name: str):
    module = _SURFACE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
