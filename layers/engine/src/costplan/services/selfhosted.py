"""Self-hosted candidates: size every (model, instance, GPUs per replica, precision) for a workload.

Shared by plan/llm (self-hosted rows beside hosted APIs) and plan/scaling (replica planning).
"""

from dataclasses import dataclass

import numpy as np

from costplan.catalog.selfhosted import PRECISIONS, SelfHostedCatalog
from costplan.core.ranking import Reason
from costplan.core.throughput import Capacity, Fit, Shape, replica_capacity, replicas_needed
from costplan_contracts.bounds import HOURS_PER_MONTH

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
FIT_REASON = {Fit.MISSING_THROUGHPUT: Reason.MISSING_THROUGHPUT, Fit.PRECISION_UNSUPPORTED: Reason.PRECISION_UNSUPPORTED,
              Fit.MODEL_DOES_NOT_FIT: Reason.MODEL_DOES_NOT_FIT, Fit.CONTEXT_DOES_NOT_FIT: Reason.CONTEXT_DOES_NOT_FIT,
              Fit.SLO_UNREACHABLE: Reason.SLO_UNREACHABLE}


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


def scope_rows(cat: SelfHostedCatalog, model_ids: set[str] | None, precisions: list[str],
               instance_types: list[str] | None) -> np.ndarray:
    g = cat.grid
    mask = np.isin(g.precision, [PRECISIONS.index(p) for p in precisions])
    if model_ids is not None:
        mask &= np.isin(g.model, [i for i, m in enumerate(cat.models) if m.model_id in model_ids])
    if instance_types is not None:
        pinned = {t.lower() for t in instance_types}
        mask &= np.isin(g.instance, [i for i, inst in enumerate(cat.instances) if inst.instance_type.lower() in pinned])
    return np.flatnonzero(mask)


def size(cat: SelfHostedCatalog, rows: np.ndarray, traffic: Traffic, pricing_model: str, target_utilisation: float,
         measured: list[Measured] = ()) -> Sizing:
    g = cat.grid
    sub = type(g.configs)(**{k: v[rows] for k, v in g.configs.__dict__.items()})
    cap = replica_capacity(sub, traffic.shape, cat.efficiency)
    rps = cap.requests_per_s.copy()
    is_measured = np.zeros(rows.size, bool)
    for m in measured:
        hit = np.array([cat.instances[g.instance[r]].instance_type.lower() == m.instance_type.lower()
                        and PRECISIONS[g.precision[r]] == m.precision
                        and (m.gpus_per_replica is None or g.gpus_per_replica[r] == m.gpus_per_replica)
                        for r in rows], dtype=bool)
        rps[hit] = m.output_tokens_per_s / traffic.shape.avg_output_tokens
        is_measured |= hit
    replicas = replicas_needed(traffic.peak_requests_per_s, rps, target_utilisation)
    replicas_avg = replicas_needed(traffic.avg_requests_per_s, rps, target_utilisation)
    low = traffic.min_requests_per_s if traffic.min_requests_per_s is not None else 0.0
    replicas_min = replicas_needed(low, rps, target_utilisation)
    per_instance = g.replicas_per_instance[rows]
    instances = np.ceil(replicas / per_instance)
    hourly = g.hourly[pricing_model][rows]
    monthly = instances * hourly * HOURS_PER_MONTH
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = traffic.avg_requests_per_s / (replicas * rps)
    blocked = np.zeros(rows.size, np.int8)
    fit = np.where(is_measured, Fit.OK, cap.fit)
    for f, reason in FIT_REASON.items():
        blocked[(fit == f) & (blocked == 0)] = reason
    blocked[(blocked == 0) & np.isnan(hourly)] = Reason.PRICE_MISSING_HOURLY
    ok = blocked == 0
    return Sizing(rows=rows, shape=traffic.shape, capacity=cap, requests_per_s=np.where(ok, rps, 0.0), measured=is_measured,
                  replicas=np.where(ok, replicas, np.nan), replicas_avg=np.where(ok, replicas_avg, np.nan),
                  replicas_min=np.where(ok, replicas_min, np.nan), instances=np.where(ok, instances, np.nan),
                  hourly=hourly, monthly_usd=np.where(ok, monthly, np.nan), utilisation=np.where(ok, utilisation, np.nan),
                  blocked=blocked)
