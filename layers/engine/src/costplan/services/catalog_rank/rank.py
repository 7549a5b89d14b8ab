"""rank_catalog: rank offerings of any AI workload type, with explicit unit normalisation.

Every offering is costed for the month as ``quantity in the offering's unit x its price``.
A quantity converts exactly within a dimension; across dimensions only through a factor the
request supplies, else the offering is excluded with UNIT_INCOMPATIBLE. The ranking then runs
through the shared fallback chain (``costplan.services.plan``'s ``run_chain``).
"""

from dataclasses import dataclass
from typing import Self

import numpy as np

from costplan.catalog.services import ServiceOffering, offerings, providers_by_workload
from costplan.core.ranking import Candidates, Constraints, Reason, Workload
from costplan.core.units import FACTORS, UNIT_CODES, UNITS, conversion_factor, cross_factor, quantity_in
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.plan import (
    ChainSpec,
    budget_zero_warning,
    exclusions,
    money,
    no_candidates_warning,
    provider_masks,
    relaxed_warnings,
    run_chain,
    sig,
)
from costplan.services.warnings import WarningCollector
from costplan_contracts.common import Provenance
from costplan_contracts.enums import (
    ConversionFactor,
    FallbackStep,
    PricingUnit,
    ReasonCode,
    Severity,
    WarningCode,
    WorkloadType,
)
from costplan_contracts.rank_catalog import (
    CatalogRow,
    CatalogSource,
    ConversionUsed,
    RankCatalogInfo,
    RankCatalogRequest,
    RankCatalogResponse,
)
from costplan_contracts.ranking import ExclusionExample, ExclusionGroup


@dataclass(frozen=True)
class CatalogQuery:
    """A rank/catalog request as plain domain values, built once at the entry: below it no pydantic request travels."""

    workload_type: WorkloadType
    quantity: float  # the month's quantity, in quantity_unit
    quantity_unit: str
    output_token_share: float | None  # llm_tokens only (required there)
    factors: dict[str, float]  # cross-dimension conversion factor name -> value, as supplied
    attributes: dict[str, str]  # required offering attributes, lower-cased
    budget_usd: float | None
    requested_unit: str  # constraints.pricing_unit, else the quantity's unit
    providers: tuple[str, ...] | None  # the allow-list as given (None: any)
    exclude_providers: tuple[str, ...]
    top_k: int

    @classmethod
    def of(cls, req: RankCatalogRequest) -> Self:
        c = req.constraints
        return cls(workload_type=req.workload_type, quantity=req.quantity.value, quantity_unit=req.quantity.unit.value,
                   output_token_share=req.output_token_share,
                   factors={k.value: v for k, v in req.conversion_factors.items()},
                   attributes={k.lower(): v.lower() for k, v in c.attributes.items()}, budget_usd=c.monthly_budget_usd,
                   requested_unit=(c.pricing_unit or req.quantity.unit).value,
                   providers=None if c.providers is None else tuple(c.providers),
                   exclude_providers=tuple(c.exclude_providers), top_k=req.top_k)


@dataclass(frozen=True)
class _Priced:
    offers: tuple[ServiceOffering, ...]
    price: np.ndarray  # USD per native unit (llm_tokens: blended at the stated output share)
    native_qty: np.ndarray  # the month's quantity in native units; NaN when it cannot be converted
    factor: list[str | None]  # cross-dimension factor used for the quantity, per offering
    blocked: np.ndarray
    attr_unstated: int


def _price(o: ServiceOffering, q: CatalogQuery) -> float:
    if q.workload_type != WorkloadType.LLM_TOKENS:
        return o.price
    s = q.output_token_share
    parts = [(1 - s, o.input_price), (s, o.output_price)]
    if any(share > 0 and p is None for share, p in parts):
        return float("nan")
    return sum(share * p for share, p in parts if share > 0)


def _priced(offers: tuple[ServiceOffering, ...], q: CatalogQuery) -> _Priced:
    price = np.array([_price(o, q) for o in offers], dtype=float)
    native_qty = np.full(len(offers), np.nan)
    used: list[str | None] = []
    blocked = np.zeros(len(offers), np.int8)
    wanted = q.attributes
    unstated = 0
    for i, o in enumerate(offers):
        unit = UNITS[o.unit]
        conv = quantity_in(q.quantity, q.quantity_unit, unit.dimension, q.factors)
        used.append(conv[1] if conv else None)
        if conv is None:
            blocked[i] = Reason.UNIT_INCOMPATIBLE
            continue
        native_qty[i] = conv[0] / unit.quantity
        attrs = {k.lower(): v.lower() for k, v in o.attributes.items()}
        if any(k in attrs and attrs[k] != v for k, v in wanted.items()):
            blocked[i] = Reason.ATTRIBUTE_MISMATCH
        elif any(k not in attrs for k in wanted):
            unstated += 1
        if np.isnan(price[i]) and blocked[i] == 0:
            blocked[i] = Reason.PRICE_MISSING_OUTPUT if o.output_price is None else Reason.PRICE_MISSING_INPUT
    return _Priced(offers, price, native_qty, used, blocked, unstated)


def _universe() -> tuple[str, ...]:
    every = set()
    for providers in providers_by_workload().values():
        every |= providers
    return tuple(sorted(every))


def _candidates(p: _Priced, providers: tuple[str, ...]) -> Candidates:
    n = len(p.offers)
    labels = [o.label for o in p.offers]
    rank = {k: r for r, k in enumerate(sorted(set(labels)))}
    code = np.array([providers.index(o.provider) for o in p.offers], dtype=np.int64)
    zeros = np.zeros(n)
    return Candidates(
        input_per_1m=zeros, output_per_1m=zeros, cache_read_per_1m=zeros, request_per_1k=zeros,
        context_window=np.full(n, np.nan), provider_code=code, provider_key=code,
        model_key=np.array([rank[k] for k in labels], dtype=np.int64),
        unit_code=np.array([UNIT_CODES[o.unit] for o in p.offers], dtype=np.int64), blocked=p.blocked,
        fixed_monthly_usd=np.nan_to_num(p.native_qty * p.price, nan=0.0),
    )


def _spec(q: CatalogQuery, allowed, excluded) -> ChainSpec:
    requested = q.requested_unit
    dim = UNITS[requested].dimension
    linked = {u for u, unit in UNITS.items()
              if unit.dimension == dim or cross_factor(unit.dimension, dim, q.factors) is not None}
    budget = q.budget_usd
    return ChainSpec(
        strict=Constraints(budget_usd=budget if budget is not None else float("inf"),
                           admitted_units=np.array([u == requested for u in UNITS]),
                           allowed_providers=allowed, excluded_providers=excluded),
        relaxed_units=np.array([u in linked for u in UNITS]),
        requested_unit=requested,
        relax_unit_note=f"admit units that convert to {requested}: exactly within a dimension, across dimensions "
                        "only through the factors supplied",
        unit_noop_note=f"no offering in scope is priced in another unit that converts to {requested}",
        budget_usd=budget,
    )


def _normalised(o: ServiceOffering, price: float, requested: str, factors: dict[str, float]):
    """The price per ``requested`` unit, and the cross-dimension factor used (None if exact)."""
    if UNITS[o.unit].dimension == UNITS[requested].dimension:
        return price * conversion_factor(o.unit, requested), None
    link = cross_factor(UNITS[requested].dimension, UNITS[o.unit].dimension, factors)
    if link is None:
        return None, None
    name, per = link  # native base quantities per requested base quantity
    return price / UNITS[o.unit].quantity * per * UNITS[requested].quantity, name


def _row(rank: int, j: int, p: _Priced, cost: float, q: CatalogQuery) -> CatalogRow:
    o = p.offers[j]
    requested, factors = q.requested_unit, q.factors
    normalised, norm_factor = _normalised(o, p.price[j], requested, factors)
    factor = p.factor[j] or norm_factor
    budget = q.budget_usd
    note = o.note
    if q.workload_type == WorkloadType.LLM_TOKENS:
        note = (f"blended at output_token_share {q.output_token_share:g}: input ${o.input_price}/1M, "
                f"output ${o.output_price}/1M")
    return CatalogRow(
        rank=rank, provider=o.provider, service=o.service, offering=o.offering, workload_type=q.workload_type,
        tier=o.tier, attributes=o.attributes, native_unit=PricingUnit(o.unit), native_price_usd=sig(p.price[j]),
        normalised_unit=PricingUnit(requested), normalised_price_usd=sig(normalised),
        conversion=None if factor is None else ConversionUsed(factor=ConversionFactor(factor), value=factors[factor]),
        quantity_in_native_units=sig(p.native_qty[j]), monthly_cost_usd=money(cost),
        over_budget_usd=None if budget is None else money(max(0.0, cost - budget)),
        estimated=factor is not None or o.estimated, price_note=note,
        provenance=Provenance(source=o.source, as_of=o.as_of, url=o.url),
    )


def _warnings(rows: list[CatalogRow], p: _Priced, q: CatalogQuery, warn: WarningCollector) -> None:
    if used := sorted({r.conversion.factor.value for r in rows if r.conversion}):
        warn.add(WarningCode.CROSS_DIMENSION_FACTOR_USED, "conversion_factors",
                 f"Some rows were converted across dimensions with {', '.join(f'{u}={q.factors[u]:g}' for u in used)}; "
                 "their costs are only as good as that factor.",
                 "Measure the factor on your own traffic.", Severity.INFO)
    incompatible = int(np.count_nonzero(p.blocked == Reason.UNIT_INCOMPATIBLE))
    if incompatible:
        dims = sorted({UNITS[o.unit].dimension.name.lower() for o, b in zip(p.offers, p.blocked, strict=True)
                       if b == Reason.UNIT_INCOMPATIBLE})
        qdim = UNITS[q.quantity_unit].dimension
        names = sorted(n for n, (a, b) in FACTORS.items() if qdim in (a, b)
                       and {a.name.lower(), b.name.lower()} & set(dims))
        warn.add(WarningCode.CONVERSION_FACTOR_MISSING, "conversion_factors",
                 f"{incompatible} offerings are priced in {', '.join(dims)}, which {q.quantity_unit} does not "
                 "convert to without a factor; they were excluded.",
                 f"Supply conversion_factors ({', '.join(names) or 'none links these dimensions'}) to rank them.")
    if tiered := [r for r in rows if r.tier]:
        warn.add(WarningCode.TIERED_PRICE, None,
                 f"{len(tiered)} ranked rows are one tier of a tiered or volume-discounted price "
                 f"({', '.join(f'{r.provider}/{r.offering} [{r.tier}]' for r in tiered[:3])}); each tier ranks as its own row.",
                 "Check which tier your volume and commitment actually reach.", Severity.INFO)
    if p.attr_unstated and q.attributes:
        warn.add(WarningCode.ATTRIBUTE_UNSTATED, "constraints.attributes",
                 f"{p.attr_unstated} offerings do not state every requested attribute; they were kept.",
                 "Check those offerings' documentation for the attribute.", Severity.INFO)
    if q.workload_type == WorkloadType.LLM_TOKENS and rows:
        warn.add(WarningCode.BLENDED_AT_STATED_SHARE, "output_token_share",
                 f"LLM prices are blended at your output_token_share of {q.output_token_share:g} (no default mix).",
                 "Use POST /api/v1/plan/llm for the per-direction breakdown.", Severity.INFO)


def rank_catalog(req: RankCatalogRequest) -> RankCatalogResponse:
    if req.workload_type == WorkloadType.LLM_TOKENS and req.output_token_share is None:
        raise RequestRejected("output_token_share is required for llm_tokens", [FieldError(
            "output_token_share", "required for llm_tokens: input and output prices differ and CostPlan never "
                                  "assumes a default mix")])
    q = CatalogQuery.of(req)
    warn = WarningCollector()
    wtype = q.workload_type.value
    offers = offerings(wtype)
    requested = q.requested_unit
    providers = _universe()
    budget_zero_warning(q.budget_usd, warn)
    allowed, excluded = provider_masks(providers, q.providers, q.exclude_providers, warn)
    offered_by = sorted(providers_by_workload()[wtype])
    extra: dict[ReasonCode, ExclusionGroup] = {}
    if q.providers is not None:
        unsupported = sorted({p.lower() for p in q.providers} & set(providers) - set(offered_by))
        if unsupported:
            extra[ReasonCode.PROVIDER_WORKLOAD_UNSUPPORTED] = ExclusionGroup(count=len(unsupported), examples=[
                ExclusionExample(provider=pid, model="*", detail=f"offers no {wtype}") for pid in unsupported[:5]])
    p = _priced(offers, q)
    cands = _candidates(p, providers)
    outcome = run_chain(cands, Workload(0.0, 0.0, 0.0), _spec(q, allowed, excluded), providers, q.top_k)
    result = outcome.result
    rows = [_row(rank, int(j), p, float(result.cost[j]), q)
            for rank, j in enumerate(result.order.tolist(), start=1)]
    if rows and outcome.final_step == FallbackStep.RELAX_UNIT:
        warn.add(WarningCode.UNIT_CONVERTED, "constraints.pricing_unit",
                 f"Not every ranked offering is priced natively in {requested}; see normalised_price_usd and "
                 "conversion on each row.", "Compare normalised prices, not native ones.", Severity.INFO)
    elif rows and outcome.final_step != FallbackStep.STRICT:
        relaxed_warnings(outcome.final_step, rows, q.budget_usd, outcome.strict_providers, warn,
                         offered_by=offered_by if outcome.final_step == FallbackStep.RELAX_PROVIDER else None)
    if not rows:
        no_candidates_warning(len(offers), warn)
    _warnings(rows, p, q, warn)
    names = np.argsort(np.array([providers.index(o.provider) for o in offers]) * (len(offers) + 1)
                       + cands.model_key, kind="stable") if offers else np.zeros(0, np.int64)
    sources: dict[tuple[str, str], int] = {}
    for o in offers:
        key = (o.source if not o.source.startswith("genai-prices") else o.source, o.as_of)
        sources[key] = sources.get(key, 0) + 1
    top_sources = sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return RankCatalogResponse(
        rows=rows, fallback_steps=outcome.steps,
        exclusions=exclusions(result, lambda: names, lambda j: (offers[j].provider, offers[j].label),
                              outcome.final_step, extra),
        warnings=warn.result(),
        catalog=RankCatalogInfo(offerings_total=len(offers), offerings_considered=len(offers),
                                providers=len(offered_by),
                                sources=[CatalogSource(source=s, as_of=a, offerings=n) for (s, a), n in top_sources]),
    )
