"""Shape ranked candidates into the plan/llm contract rows."""

from typing import TYPE_CHECKING

import numpy as np
from pydantic import TypeAdapter

from costplan.catalog.llm import NATIVE_UNIT
from costplan.core.ranking import RankResult
from costplan.core.units import conversion_factor, convertible
from costplan.services.plan.candidates import CandidateSet
from costplan.services.plan.domain import LlmPlan
from costplan.services.plan.hosted import is_exact
from costplan.services.plan.hosted_rows import hosted_extras
from costplan_contracts.bounds import HOURS_PER_MONTH
from costplan_contracts.common import Provenance
from costplan_contracts.enums import Deployment, Precision, PriceBasis, PricingModel, ThroughputBasis
from costplan_contracts.plan_llm import (
    CostBreakdown,
    IoMix,
    PlanRow,
    ReplicaCapacity,
    SelfHostedDetail,
    UnitPrices,
)

if TYPE_CHECKING:  # lazy: cold start, hosted rows never import the self-hosted catalog or sizing
    from costplan.services.plan.selfhosted import Sizing

MONEY_DECIMALS = 6
MODELLED_SIGNIFICANT = 3


def sig(x: float) -> float:
    return float(f"{x:.12g}")


def money(x: float) -> float:
    return round(float(x), MONEY_DECIMALS) + 0.0


def modelled(x: float) -> float | None:
    """A modelled figure (capacity, latency, utilisation): 3 significant figures, so no precision is implied.

    NaN and infinity (nothing modelled) become None. The one place modelled figures are rounded."""
    x = float(x)
    return float(f"{x:.{MODELLED_SIGNIFICANT}g}") + 0.0 if np.isfinite(x) else None


def cents(x: float) -> float:
    """Money that rests on a model (self-hosted cost): to the cent."""
    return round(float(x), 2) + 0.0


def replica_figures(sz: "Sizing", k: int) -> dict:
    """Capacity and predicted latency of one replica of sizing row k, rounded for a response.

    Latency and load are predicted at the planned peak rate per replica; measured rows have none."""
    cap, load = sz.capacity, sz.planned
    rps, shape = float(sz.requests_per_s[k]), sz.shape
    measured = bool(sz.measured[k])
    has_slo = np.isfinite(shape.tpot_s) or np.isfinite(shape.ttft_s)
    return {
        "requests_per_s": modelled(rps), "output_tokens_per_s": modelled(rps * shape.avg_output_tokens),
        "total_tokens_per_s": modelled(rps * (shape.avg_input_tokens + shape.avg_output_tokens)),
        "concurrent_sequences": int(cap.batch[k]),
        "tpot_ms": modelled(load.tpot_s[k] * 1e3), "ttft_ms": modelled(load.ttft_s[k] * 1e3),
        "offline_requests_per_s": None if measured else modelled(cap.offline_requests_per_s[k]),
        "slo_requests_per_s": modelled(cap.slo_requests_per_s[k]) if has_slo and not measured else None,
        "batch_at_peak": modelled(load.batch[k]), "load_share_at_peak": modelled(load.utilisation[k]),
    }


def _effective(total: float, plan: LlmPlan) -> float:
    w = plan.workload
    return sig(total / (w.input_tokens_per_month + w.output_tokens_per_month) * 1e6)


def _over_budget(total: float, plan: LlmPlan) -> float | None:
    budget = plan.constraints.monthly_budget_usd
    return None if budget is None else money(max(0.0, total - budget))


def _floats(a: np.ndarray, js: list[int]) -> list[float | None]:
    """Plain Python floats for the ranked rows (NaN -> None): cheaper than per-scalar numpy calls."""
    return [None if x != x else x for x in a[js].tolist()]


_ROWS = TypeAdapter(list[PlanRow])


def hosted_rows(ranked: list[tuple[int, int]], cs: CandidateSet, result: RankResult, plan: LlmPlan,
                io_mix: IoMix) -> dict[int, PlanRow]:
    """Rows for the ranked hosted candidates ``[(rank, j)]``, built as plain data and validated in one call."""
    if not ranked:
        return {}
    catalog, hb = cs.catalog, cs.hosted
    js = [j for _, j in ranked]
    idx = hb.idx[js].tolist()
    prices = [_floats(hb.input_per_1m, js), _floats(hb.output_per_1m, js), _floats(hb.cache_read_per_1m, js)]
    parts = {k: _floats(getattr(result, k), js) for k in ("cost", "input_usd", "output_usd", "cached_usd", "request_usd")}
    cw = _floats(catalog.context_window, idx)
    fee = catalog.request_per_1k[idx].tolist()
    provider = [catalog.providers[c] for c in catalog.provider_code[idx].tolist()]
    deprecated = catalog.deprecated[idx].tolist()
    unit = plan.constraints.pricing_unit
    factor = (conversion_factor(NATIVE_UNIT, unit.value)
              if unit.value != NATIVE_UNIT and convertible(NATIVE_UNIT, unit.value) else None)
    plain = []
    for n, ((rank, j), i) in enumerate(zip(ranked, idx, strict=True)):
        p = [prices[0][n], prices[1][n], prices[2][n]]
        total = parts["cost"][n]
        basis = hb.basis(j)
        plain.append({
            "rank": rank, "provider": provider[n], "model": catalog.model[i],
            "canonical_model": catalog.canonical[i], "model_name": catalog.name[i], "monthly_cost_usd": money(total),
            "cost_breakdown": {"input_usd": money(parts["input_usd"][n]), "output_usd": money(parts["output_usd"][n]),
                               "cached_input_usd": money(parts["cached_usd"][n]),
                               "request_usd": money(parts["request_usd"][n])},
            "unit_prices": {"input_per_1m": p[0], "output_per_1m": p[1], "cache_read_per_1m": p[2],
                            "request_per_1k": fee[n] or None},
            "requested_unit_prices": None if factor is None else {
                "unit": unit, "input": None if p[0] is None else sig(p[0] * factor),
                "output": None if p[1] is None else sig(p[1] * factor),
                "cache_read": None if p[2] is None else sig(p[2] * factor)},
            "effective_price_per_1m": _effective(total, plan), "effective_price_io_mix": io_mix,
            "over_budget_usd": _over_budget(total, plan), "context_window": None if cw[n] is None else int(cw[n]),
            "deprecated": deprecated[n],
            "estimated": not is_exact(basis),
            "price_basis": basis,
            "provenance": {"source": catalog.price_source_of(i), "as_of": catalog.price_as_of[i] if catalog.price_as_of
                           else catalog.as_of, "url": catalog.url_of[i]},
            **hosted_extras(cs, j, plan.workload, total, money, basis, i, fee[n]),
        })
    return dict(zip(js, _ROWS.validate_python(plain), strict=True))


def self_hosted_detail(cs: CandidateSet, k: int, pricing_model: PricingModel) -> SelfHostedDetail:
    """Detail of sizing row k (an index into ``cs.sizing``)."""
    # lazy: cold start, only self-hosted rows need the self-hosted catalog and sizing
    from costplan.catalog.selfhosted import PRECISIONS
    from costplan.services.plan.selfhosted import shape_note, throughput_basis

    sh, sz = cs.sh_catalog, cs.sizing
    g = sh.grid
    r = int(sz.rows[k])
    inst = sh.instances[g.instance[r]]
    model = sh.models[g.model[r]]
    acc = sh.accelerators[inst.accelerator_id]
    cap = sz.capacity
    measured = bool(sz.measured[k])
    replicas, instances = int(sz.replicas[k]), int(sz.instances[k])
    per_instance = int(g.replicas_per_instance[r])
    assumption = (f"{instances} x {inst.instance_type} at ${sz.hourly[k]:g}/h ({pricing_model.value}) x "
                  f"{HOURS_PER_MONTH:g} h/month, always on; {replicas} replica(s) of {g.gpus_per_replica[r]} GPU(s), "
                  f"{per_instance} per instance, sized for the peak request rate")
    cal = sh.calibration
    figures = replica_figures(sz, k)
    figures.update(tpot_ms=figures["tpot_ms"] or 0.0, ttft_ms=figures["ttft_ms"] or 0.0)
    return SelfHostedDetail(
        instance_type=inst.instance_type, region=inst.region, accelerator=acc.name, gpus_per_instance=inst.count,
        gpus_per_replica=int(g.gpus_per_replica[r]), precision=Precision(PRECISIONS[g.precision[r]]),
        pricing_model=pricing_model, replicas=replicas, instances=instances,
        instance_usd_per_hour=float(sz.hourly[k]), hours_per_month=HOURS_PER_MONTH,
        utilisation=modelled(sz.utilisation[k]),
        capacity_per_replica=ReplicaCapacity(**figures),
        throughput_basis=throughput_basis(sh, sz, k),
        weights_gb=modelled(cap.weights_gb[k]), kv_budget_gb=modelled(cap.kv_budget_gb[k]), assumption=assumption,
        price_provenance=Provenance(source=inst.source, as_of=inst.price_as_of),
        throughput_provenance=(Provenance(source="measured_throughput supplied in the request", as_of="request")
                               if measured else Provenance(
                                   source=f"serving model (continuous batching, chunked prefill, M/D/1 TTFT queue) "
                                          f"calibrated on {len(cal['benchmarks'])} public throughput and "
                                          f"{len(cal['latency_benchmarks'])} latency results "
                                          f"(catalog/data/calibration.json); model spec: {model.source}",
                                   as_of=model.as_of)),
        evidence_points=None if measured else int(sz.evidence_points[k]),
        request_shape={"avg_input_tokens_per_request": modelled(sz.shape.avg_input_tokens),
                       "avg_output_tokens_per_request": modelled(sz.shape.avg_output_tokens),
                       "assumed": sz.shape_assumed, "source": shape_note(sz)},
    )


def self_hosted_row(rank: int, j: int, cs: CandidateSet, result: RankResult, plan: LlmPlan,
                    io_mix: IoMix) -> PlanRow:
    k = j - cs.n_hosted
    detail = self_hosted_detail(cs, k, plan.self_hosted.pricing_model)
    sh = cs.sh_catalog
    r = int(cs.sizing.rows[k])
    model = sh.models[sh.grid.model[r]]
    total = float(result.cost[j])
    provider, row_id = cs.label(j)
    w = plan.workload
    return PlanRow(
        rank=rank, provider=provider, model=row_id, canonical_model=model.model_id, model_name=model.name,
        monthly_cost_usd=cents(total),
        cost_breakdown=CostBreakdown(input_usd=0.0, output_usd=0.0, cached_input_usd=0.0, request_usd=0.0,
                                     compute_usd=cents(total)),
        unit_prices=UnitPrices(input_per_1m=None, output_per_1m=None, cache_read_per_1m=None),
        effective_price_per_1m=modelled(total / (w.input_tokens_per_month + w.output_tokens_per_month) * 1e6),
        effective_price_io_mix=io_mix,
        over_budget_usd=_over_budget(total, plan), context_window=model.max_context, deprecated=False,
        estimated=detail.throughput_basis != ThroughputBasis.MEASURED or detail.request_shape.assumed,
        price_basis=[PriceBasis.LIST_PRICE],
        provenance=detail.price_provenance, deployment=Deployment.SELF_HOSTED, self_hosted=detail,
    )


def build_rows(cs: CandidateSet, result: RankResult, plan: LlmPlan, io_mix: IoMix) -> list[PlanRow]:
    ranked = [(rank, int(j)) for rank, j in enumerate(result.order.tolist(), start=1)]
    hosted = hosted_rows([(r, j) for r, j in ranked if cs.is_hosted(j)], cs, result, plan, io_mix)
    return [hosted[j] if j in hosted else self_hosted_row(rank, j, cs, result, plan, io_mix) for rank, j in ranked]
