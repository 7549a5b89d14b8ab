"""Self-hosted candidates: size every (model, instance, GPUs per replica, precision) for a workload.

Shared by plan/llm (self-hosted rows beside hosted APIs) and plan/scaling (replica planning).
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from costplan.catalog.selfhosted import PRECISIONS, SelfHostedCatalog
from costplan.core.ranking import Reason
from costplan.core.throughput import Capacity, Configs, Fit, Shape, Static, replica_capacity, replicas_needed
from costplan_contracts.bounds import HOURS_PER_MONTH

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
FIT_REASON = {Fit.MISSING_THROUGHPUT: Reason.MISSING_THROUGHPUT, Fit.PRECISION_UNSUPPORTED: Reason.PRECISION_UNSUPPORTED,
              Fit.MODEL_DOES_NOT_FIT: Reason.MODEL_DOES_NOT_FIT, Fit.CONTEXT_DOES_NOT_FIT: Reason.CONTEXT_DOES_NOT_FIT,
              Fit.SLO_UNREACHABLE: Reason.SLO_UNREACHABLE}
_FIT_TO_REASON = np.zeros(len(Fit), np.int8)
for _fit, _reason in FIT_REASON.items():
    _FIT_TO_REASON[_fit] = _reason


@dataclass(frozen=True)
class Traffic:
    avg_requests_per_s: float
    peak_requests_per_s: float
    shape: Shape
    min_requests_per_s: float | None = None


@dataclass(frozen=True)
class Measured:
    instance_type: str
    precision: str
    gpus_per_replica: int | None
    output_tokens_per_s: float


@dataclass(frozen=True)
class Sizing:
    """Per scoped grid row."""

    rows: np.ndarray  # grid indices in scope
    shape: Shape
    capacity: Capacity
    requests_per_s: np.ndarray  # capacity actually used (measured where supplied)
    measured: np.ndarray  # bool
    replicas: np.ndarray  # at peak
    replicas_avg: np.ndarray
    replicas_min: np.ndarray
    instances: np.ndarray
    hourly: np.ndarray
    monthly_usd: np.ndarray
    utilisation: np.ndarray
    blocked: np.ndarray  # Reason per row, 0 when it can serve


@dataclass(frozen=True, eq=False)
class Scope:
    """Grid rows in scope, and the statically feasible part with its model inputs, ready to size."""

    rows: np.ndarray
    live: np.ndarray  # positions in ``rows`` whose configuration can run at all
    configs: Configs
    static: Static


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


def _measured_mask(cat: SelfHostedCatalog, rows: np.ndarray, m: Measured) -> np.ndarray:
    g = cat.grid
    want = [i for i, inst in enumerate(cat.instances) if inst.instance_type.lower() == m.instance_type.lower()]
    hit = np.isin(g.instance[rows], want) & (g.precision[rows] == PRECISIONS.index(m.precision))
    if m.gpus_per_replica is not None:
        hit &= g.gpus_per_replica[rows] == m.gpus_per_replica
    return hit


def _take(obj, idx: np.ndarray):
    return type(obj)(**{k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in obj.__dict__.items()})


def size(cat: SelfHostedCatalog, scope: Scope, traffic: Traffic, pricing_model: str, target_utilisation: float,
         measured: list[Measured] = ()) -> Sizing:
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
    full = lambda fill, dtype=float: np.full(n, fill, dtype=dtype)
    cap = Capacity(fit=g.static.fit[rows].copy(), weights_gb=g.static.weights_gb[rows],
                   kv_budget_gb=g.static.kv_budget_gb[rows], batch=full(0.0), tpot_s=full(np.nan),
                   ttft_s=full(np.nan), requests_per_s=full(0.0), output_tokens_per_s=full(0.0),
                   total_tokens_per_s=full(0.0))
    for name in ("fit", "batch", "tpot_s", "ttft_s", "requests_per_s", "output_tokens_per_s", "total_tokens_per_s"):
        getattr(cap, name)[live] = getattr(sub, name)
    rps = np.where(is_measured, measured_rps, cap.requests_per_s)
    replicas = replicas_needed(traffic.peak_requests_per_s, rps, target_utilisation)
    replicas_avg = replicas_needed(traffic.avg_requests_per_s, rps, target_utilisation)
    low = traffic.min_requests_per_s if traffic.min_requests_per_s is not None else 0.0
    replicas_min = replicas_needed(low, rps, target_utilisation)
    instances = np.ceil(replicas / g.replicas_per_instance[rows])
    hourly = g.hourly[pricing_model][rows]
    monthly = instances * hourly * HOURS_PER_MONTH
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = traffic.avg_requests_per_s / (replicas * rps)
    blocked = _FIT_TO_REASON[np.where(is_measured, Fit.OK, cap.fit)]
    blocked[(blocked == 0) & np.isnan(hourly)] = Reason.PRICE_MISSING_HOURLY
    ok = blocked == 0
    return Sizing(rows=rows, shape=traffic.shape, capacity=cap, requests_per_s=np.where(ok, rps, 0.0), measured=is_measured,
                  replicas=np.where(ok, replicas, np.nan), replicas_avg=np.where(ok, replicas_avg, np.nan),
                  replicas_min=np.where(ok, replicas_min, np.nan), instances=np.where(ok, instances, np.nan),
                  hourly=hourly, monthly_usd=np.where(ok, monthly, np.nan), utilisation=np.where(ok, utilisation, np.nan),
                  blocked=blocked)
