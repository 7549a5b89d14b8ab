"""Self-hosted candidates: size every (model, instance, GPUs per replica, precision) for a workload.

Shared by plan/llm (self-hosted rows beside hosted APIs) and plan/scaling (replica planning).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import PRECISIONS, SelfHostedCatalog
from costplan.core.ranking import Reason
from costplan.core.throughput import (
    Capacity,
    Configs,
    Fit,
    Load,
    Shape,
    Static,
    at_load,
    replica_capacity,
    replicas_needed,
    terms,
)
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.plan.domain import Measurement
from costplan.services.plan.hosted import resolve_model
from costplan.services.warnings import WarningCollector
from costplan_contracts.bounds import HOURS_PER_MONTH
from costplan_contracts.enums import ThroughputBasis, WarningCode

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
FIT_REASON = {Fit.MISSING_THROUGHPUT: Reason.MISSING_THROUGHPUT, Fit.PRECISION_UNSUPPORTED: Reason.PRECISION_UNSUPPORTED,
              Fit.MODEL_DOES_NOT_FIT: Reason.MODEL_DOES_NOT_FIT, Fit.CONTEXT_DOES_NOT_FIT: Reason.CONTEXT_DOES_NOT_FIT,
              Fit.SLO_UNREACHABLE: Reason.SLO_UNREACHABLE}
_FIT_TO_REASON = np.zeros(len(Fit), np.int8)
for _fit, _reason in FIT_REASON.items():
    _FIT_TO_REASON[_fit] = _reason


# Request shapes assumed when a workload states token volumes but not its shape (SHAPE_ASSUMED):
# (avg input tokens, avg output tokens) per workload profile. Engineering assumptions, not measurements;
# chat follows the common 1,000-in / 250-out serving benchmark convention.
DEFAULT_SHAPES = {
    "chat": (1000.0, 250.0),
    "coding": (2000.0, 500.0),
    "rag_long_context": (8000.0, 300.0),
    "summarization": (4000.0, 400.0),
    "extraction": (1500.0, 200.0),
    "reasoning": (1000.0, 2000.0),
    "agentic": (4000.0, 500.0),
}
DEFAULT_SHAPE_PROFILE = "chat"


@dataclass(frozen=True)
class Traffic:
    avg_requests_per_s: float
    peak_requests_per_s: float
    shape: Shape
    min_requests_per_s: float | None = None
    shape_assumed: bool = False
    shape_source: str = "workload"


@dataclass(frozen=True)
class Sizing:
    """Per scoped grid row."""

    rows: np.ndarray  # grid indices in scope
    shape: Shape
    capacity: Capacity
    requests_per_s: np.ndarray  # capacity per replica used to size (measured, else SLO-bound, else offline)
    measured: np.ndarray  # bool
    planned: Load  # predicted behaviour of one replica at the peak load it is planned for (NaN where measured)
    evidence_points: np.ndarray  # public results behind the row's weakest calibrated factor
    replicas: np.ndarray  # at peak
    replicas_avg: np.ndarray
    replicas_min: np.ndarray
    instances: np.ndarray
    hourly: np.ndarray
    monthly_usd: np.ndarray
    utilisation: np.ndarray
    blocked: np.ndarray  # Reason per row, 0 when it can serve
    shape_assumed: bool = False
    shape_source: str = "workload"


@dataclass(frozen=True, eq=False)
class Scope:
    """Grid rows in scope, and the statically feasible part with its model inputs, ready to size."""

    rows: np.ndarray
    live: np.ndarray  # positions in ``rows`` whose configuration can run at all
    configs: Configs
    static: Static


def resolve_open_model(cat: SelfHostedCatalog, requested: str) -> str:
    """A requested model name -> the open-weight model id the self-hosted catalog knows, or a 4xx naming `model`."""
    ids = {m.model_id for m in cat.models}
    try:
        canonical = resolve_model(get_llm_catalog(), requested, ids)
    except RequestRejected:
        canonical = None
    if canonical in ids:
        return canonical
    import difflib  # lazy: cold start, needed only to suggest names for an unknown model

    close = difflib.get_close_matches(requested.strip().lower(), sorted(ids), n=5, cutoff=0.5)
    raise RequestRejected(f"No open-weight spec for model '{requested}'", [FieldError(
        "model", f"'{requested}' is not in the self-hosted catalog; known open-weight models include "
                 f"{', '.join(close or sorted(ids)[:5])}")])


def scope_rows(cat: SelfHostedCatalog, model_ids: set[str] | None, precisions: list[str],
               instance_types: list[str] | None) -> Scope:
    key = (None if model_ids is None else frozenset(model_ids), tuple(sorted(precisions)),
           None if instance_types is None else tuple(sorted(t.lower() for t in instance_types)))
    return _scope(cat, *key)


@lru_cache(maxsize=256)
def _scope(cat: SelfHostedCatalog, model_ids, precisions, instance_types) -> Scope:
    rows = _rows_in_scope(cat, model_ids, precisions, instance_types)
    live = np.flatnonzero(cat.grid.static.fit[rows] == 0)
    return Scope(rows, live, _take(cat.grid.configs, rows[live]), _take(cat.grid.static, rows[live]))


def _rows_in_scope(cat: SelfHostedCatalog, model_ids, precisions, instance_types) -> np.ndarray:
    g = cat.grid
    mask = np.isin(g.precision, [PRECISIONS.index(p) for p in precisions])
    if model_ids is not None:
        mask &= np.isin(g.model, [i for i, m in enumerate(cat.models) if m.model_id in model_ids])
    if instance_types is not None:
        pinned = set(instance_types)
        mask &= np.isin(g.instance, [i for i, inst in enumerate(cat.instances) if inst.instance_type.lower() in pinned])
    return np.flatnonzero(mask)


def _measured_mask(cat: SelfHostedCatalog, rows: np.ndarray, m: Measurement) -> np.ndarray:
    g = cat.grid
    want = [i for i, inst in enumerate(cat.instances) if inst.instance_type.lower() == m.instance_type.lower()]
    hit = np.isin(g.instance[rows], want) & (g.precision[rows] == PRECISIONS.index(m.precision))
    if m.gpus_per_replica is not None:
        hit &= g.gpus_per_replica[rows] == m.gpus_per_replica
    return hit


def _take(obj, idx: np.ndarray):
    return type(obj)(**{k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in obj.__dict__.items()})


def size(cat: SelfHostedCatalog, scope: Scope, traffic: Traffic, pricing_model: str, target_utilisation: float,
         measured: Sequence[Measurement] = ()) -> Sizing:
    """Replicas, instances and monthly cost of every scoped configuration.

    Only configurations that can run at all (or that the caller measured) go through the
    throughput model; the others keep the reason fixed by the catalog.
    """
    g = cat.grid
    rows = scope.rows
    n = rows.size
    is_measured = np.zeros(n, bool)
    measured_rps = np.zeros(n)
    for m in measured:
        hit = _measured_mask(cat, rows, m)
        measured_rps[hit] = m.output_tokens_per_s / traffic.shape.avg_output_tokens
        is_measured |= hit
    if measured:
        live = np.flatnonzero((g.static.fit[rows] == 0) | is_measured)
        configs, static = _take(g.configs, rows[live]), _take(g.static, rows[live])
    else:
        live, configs, static = scope.live, scope.configs, scope.static
    sub = replica_capacity(configs, traffic.shape, cat.efficiency, static=static)
    full = lambda fill, dtype=float: np.full(n, fill, dtype=dtype)  # noqa: E731
    cap = Capacity(fit=g.static.fit[rows].copy(), weights_gb=g.static.weights_gb[rows],
                   kv_budget_gb=g.static.kv_budget_gb[rows], batch=full(0.0), offline_requests_per_s=full(0.0),
                   slo_requests_per_s=full(0.0), min_tpot_s=full(np.nan), min_ttft_s=full(np.nan))
    for name in ("fit", "batch", "offline_requests_per_s", "slo_requests_per_s", "min_tpot_s", "min_ttft_s"):
        getattr(cap, name)[live] = getattr(sub, name)
    modelled = ~is_measured
    # Modelled rows: at most target_utilisation of the offline capacity, and never above the SLO-bound rate.
    replicas_for = lambda load: np.where(  # noqa: E731
        modelled, replicas_needed(load, cap.offline_requests_per_s, target_utilisation, cap.slo_requests_per_s),
        replicas_needed(load, measured_rps, target_utilisation))
    replicas = replicas_for(traffic.peak_requests_per_s)
    replicas_avg = replicas_for(traffic.avg_requests_per_s)
    low = traffic.min_requests_per_s if traffic.min_requests_per_s is not None else 0.0
    replicas_min = replicas_for(low)
    usable = np.minimum(cap.offline_requests_per_s * target_utilisation, cap.slo_requests_per_s)
    rps = np.where(is_measured, measured_rps, np.minimum(cap.offline_requests_per_s, cap.slo_requests_per_s))
    planned = _planned_load(cat, configs, static, traffic, live, n, replicas, (usable > 0) & modelled)
    instances = np.ceil(replicas / g.replicas_per_instance[rows])
    hourly = g.hourly[pricing_model][rows]
    monthly = instances * hourly * HOURS_PER_MONTH
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = traffic.avg_requests_per_s / (replicas * rps)
    blocked = _FIT_TO_REASON[np.where(is_measured, Fit.OK, cap.fit)]
    blocked[(blocked == 0) & np.isnan(hourly)] = Reason.PRICE_MISSING_HOURLY
    ok = blocked == 0
    return Sizing(rows=rows, shape=traffic.shape, capacity=cap, requests_per_s=np.where(ok, rps, 0.0), measured=is_measured,
                  planned=planned, evidence_points=g.evidence_points[rows],
                  replicas=np.where(ok, replicas, np.nan), replicas_avg=np.where(ok, replicas_avg, np.nan),
                  replicas_min=np.where(ok, replicas_min, np.nan), instances=np.where(ok, instances, np.nan),
                  hourly=hourly, monthly_usd=np.where(ok, monthly, np.nan), utilisation=np.where(ok, utilisation, np.nan),
                  blocked=blocked, shape_assumed=traffic.shape_assumed, shape_source=traffic.shape_source)


def _planned_load(cat: SelfHostedCatalog, configs: Configs, static: Static, traffic: Traffic, live: np.ndarray, n: int,
                  replicas: np.ndarray, usable: np.ndarray) -> Load:
    """TTFT, TPOT, batch and utilisation of one replica of every live row at its share of the peak rate."""
    nan = lambda: np.full(n, np.nan)  # noqa: E731
    out = Load(requests_per_s=nan(), utilisation=nan(), batch=nan(), tpot_s=nan(), ttft_s=nan())
    if live.size == 0:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(usable[live], traffic.peak_requests_per_s / replicas[live], np.nan)
    load = at_load(terms(configs, traffic.shape, cat.efficiency, static), np.nan_to_num(lam))
    for name in ("requests_per_s", "utilisation", "batch", "tpot_s", "ttft_s"):
        getattr(out, name)[live] = np.where(np.isnan(lam), np.nan, getattr(load, name))
    return out


def throughput_basis(cat: SelfHostedCatalog, sz: Sizing, k: int) -> ThroughputBasis:
    """calibrated (every fitted factor on >= min_points public results), thin (fewer), assumed (none), or measured."""
    if sz.measured[k]:
        return ThroughputBasis.MEASURED
    points = int(sz.evidence_points[k])
    if points >= cat.calibration["min_points_calibrated"]:
        return ThroughputBasis.CALIBRATED
    return ThroughputBasis.THIN if points > 0 else ThroughputBasis.ASSUMED


def shape_note(sz: Sizing) -> str:
    return sz.shape_source


def estimated_capacity_warning(cat: SelfHostedCatalog, sz: Sizing, ks: list[int], warn: WarningCollector,
                               field: str) -> None:
    """ESTIMATED_CAPACITY for ranked rows whose capacity rests on thin or assumed factors: what to measure."""
    weak = [k for k in ks if throughput_basis(cat, sz, k) in (ThroughputBasis.THIN, ThroughputBasis.ASSUMED)]
    if not weak:
        return
    g = cat.grid
    setups = []
    for k in weak:
        r = int(sz.rows[k])
        setup = (f"{cat.models[g.model[r]].model_id} {PRECISIONS[g.precision[r]]} on "
                 f"{cat.instances[g.instance[r]].instance_type} TP{int(g.gpus_per_replica[r])} "
                 f"({throughput_basis(cat, sz, k).value}, {int(sz.evidence_points[k])} public results)")
        if setup not in setups:
            setups.append(setup)
    need = cat.calibration["min_points_calibrated"]
    warn.add(WarningCode.ESTIMATED_CAPACITY, field,
             f"{len(weak)} ranked self-hosted row(s) rest on factors fitted on fewer than {need} public results "
             f"(thin) or on none (assumed, e.g. tensor-parallel efficiency at that degree): "
             f"{'; '.join(setups[:4])}{'; ...' if len(setups) > 4 else ''}. Their capacity and cost are estimates.",
             f"Load-test the configuration at your request shape (output tokens/s per replica at your TTFT/TPOT "
             f"targets) and pass it as {field}.")


def slo_details(sz: Sizing | None, offset: int = 0):
    """Exclusion detail for SLO_UNREACHABLE self-hosted candidates (candidate j = sizing row j - offset):
    the best latency the configuration reaches, at zero load."""
    def detail(reason: int, j: int) -> str | None:
        k = j - offset
        if sz is None or reason != Reason.SLO_UNREACHABLE or not 0 <= k < sz.rows.size:
            return None
        cap, shape = sz.capacity, sz.shape
        best = []
        if np.isfinite(shape.tpot_s):
            best.append(f"TPOT {cap.min_tpot_s[k] * 1e3:.3g} ms (target {shape.tpot_s * 1e3:g} ms)")
        if np.isfinite(shape.ttft_s):
            best.append(f"TTFT {cap.min_ttft_s[k] * 1e3:.3g} ms (target {shape.ttft_s * 1e3:g} ms)")
        return "slo unreachable at any batch: reaches at best " + ", ".join(best) if best else None
    return detail
