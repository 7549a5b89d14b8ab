"""plan_scaling: replicas and configurations for serving one open-weight model at a given load."""

import numpy as np

from costplan.catalog.selfhosted import PRECISIONS, SelfHostedCatalog, get_selfhosted_catalog
from costplan.catalog.universe import get_universe
from costplan.core.ranking import Candidates, Constraints, Reason, Workload, rank_configs
from costplan.core.throughput import Shape
from costplan.core.units import UNIT_CODES
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.plan.domain import ScalingPlan, scaling_of
from costplan.services.plan.fallback import exclusions
from costplan.services.plan.rows import cents, modelled, replica_figures
from costplan.services.plan.selfhosted import (
    Sizing,
    Traffic,
    estimated_capacity_warning,
    resolve_open_model,
    scope_rows,
    size,
    slo_details,
    throughput_basis,
)
from costplan.services.warnings import WarningCollector
from costplan_contracts.bounds import HOURS_PER_MONTH
from costplan_contracts.common import Provenance
from costplan_contracts.enums import Precision, Severity, ThroughputBasis, WarningCode
from costplan_contracts.plan_scaling import (
    Configuration,
    PlanScalingRequest,
    PlanScalingResponse,
    Replicas,
    ScalingCapacity,
)


def _g(x: float) -> str:
    """A modelled figure in a sentence, at the precision the response carries."""
    v = modelled(x)
    return "n/a" if v is None else f"{v:,g}"


def _rationale(cat: SelfHostedCatalog, sz: Sizing, k: int, s: ScalingPlan) -> list[str]:
    g, eff, cap = cat.grid, cat.efficiency, sz.capacity
    r = int(sz.rows[k])
    m, inst = cat.models[g.model[r]], cat.instances[g.instance[r]]
    acc = cat.accelerators[inst.accelerator_id]
    p, gpr = PRECISIONS[g.precision[r]], int(g.gpus_per_replica[r])
    kv_token = g.configs.kv_bytes_per_token[r]
    ctx = s.avg_input_tokens_per_request + s.avg_output_tokens_per_request
    fits = int(np.floor(cap.kv_budget_gb[k] / (kv_token * ctx / 1e9)))
    per_instance = int(g.replicas_per_instance[r])
    steps = [
        f"weights {cap.weights_gb[k]:.1f} GB at {p} ({m.total_params_b:g}B parameters) on {gpr} x {acc.name} "
        f"({inst.memory_per_gpu_gb:g} GB each) per replica",
        f"usable memory {cap.weights_gb[k] + cap.kv_budget_gb[k]:.1f} GB ({eff.mem_util:.0%} of each GPU, less "
        f"{eff.overhead_gb:g} GB per GPU) -> KV budget {cap.kv_budget_gb[k]:.1f} GB",
        f"KV cache {kv_token / 1e3:.1f} KB per token x {ctx:g} tokens per sequence -> {fits} sequences fit; "
        f"at most {int(cap.batch[k])} concurrent sequences after the {eff.max_batch}-sequence engine cap",
    ]
    if sz.measured[k]:
        out_per_s = sz.requests_per_s[k] * s.avg_output_tokens_per_request
        steps.append(f"measured by the caller: {out_per_s:g} output tokens/s per replica")
    else:
        load = sz.planned
        slo = (f"; the TTFT/TPOT targets allow {_g(cap.slo_requests_per_s[k])}/s" if s.slo.ttft_ms or s.slo.tpot_ms
               else "")
        steps += [
            f"offline capacity {_g(cap.offline_requests_per_s[k])} requests/s per replica (continuous batching, "
            f"batch full, prefill sharing each step){slo}",
            f"at the planned peak {_g(load.requests_per_s[k])} requests/s per replica ({load.utilisation[k]:.0%} of "
            f"offline capacity): batch {_g(load.batch[k])}, TPOT {_g(load.tpot_s[k] * 1e3)} ms, TTFT "
            f"{_g(load.ttft_s[k] * 1e3)} ms (prefill of {s.avg_input_tokens_per_request:g} tokens plus queueing)",
        ]
    steps += [
        f"one replica is sized at {_g(sz.requests_per_s[k])} requests/s "
        f"({_g(sz.requests_per_s[k] * s.avg_output_tokens_per_request)} output tokens/s)",
        f"peak {s.peak_requests_per_second:g} requests/s at {s.target_utilisation:.0%} target utilisation -> "
        f"{int(sz.replicas[k])} replicas -> {int(sz.instances[k])} x {inst.instance_type} ({per_instance} replicas each)",
        f"{int(sz.instances[k])} x ${sz.hourly[k]:g}/h ({s.pricing_model.value}) x {HOURS_PER_MONTH:g} h = "
        f"${cents(sz.monthly_usd[k]):,.2f}/month",
    ]
    return steps


def _configuration(rank: int, cat: SelfHostedCatalog, sz: Sizing, k: int, s: ScalingPlan,
                   traffic: Traffic, provider: str) -> Configuration:
    g = cat.grid
    r = int(sz.rows[k])
    inst = cat.instances[g.instance[r]]
    m = cat.models[g.model[r]]
    rps = float(sz.requests_per_s[k])
    replicas, avg_replicas = int(sz.replicas[k]), int(sz.replicas_avg[k])
    per_instance = int(g.replicas_per_instance[r])
    autoscaled = np.ceil(avg_replicas / per_instance) * sz.hourly[k] * HOURS_PER_MONTH
    per_request = s.avg_input_tokens_per_request + s.avg_output_tokens_per_request
    tokens = traffic.avg_requests_per_s * per_request * HOURS_PER_MONTH * 3600
    measured = bool(sz.measured[k])
    cal = cat.calibration
    return Configuration(
        rank=rank, provider=provider, instance_type=inst.instance_type, region=inst.region,
        accelerator=cat.accelerators[inst.accelerator_id].name, gpus_per_instance=inst.count,
        gpus_per_replica=int(g.gpus_per_replica[r]), precision=Precision(PRECISIONS[g.precision[r]]),
        replicas_by_load=Replicas(min=int(sz.replicas_min[k]), avg=avg_replicas, peak=replicas),
        instances=int(sz.instances[k]), utilisation=modelled(sz.utilisation[k]),
        capacity_per_replica=ScalingCapacity(**replica_figures(sz, k)),
        headroom=modelled(replicas * rps / s.peak_requests_per_second - 1),
        utilisation_at_peak=modelled(s.peak_requests_per_second / (replicas * rps)),
        monthly_cost_usd=cents(sz.monthly_usd[k]), monthly_cost_autoscaled_usd=cents(autoscaled),
        effective_price_per_1m=modelled(sz.monthly_usd[k] / tokens * 1e6), instance_usd_per_hour=float(sz.hourly[k]),
        pricing_model=s.pricing_model,
        throughput_basis=throughput_basis(cat, sz, k),
        weights_gb=modelled(sz.capacity.weights_gb[k]), kv_budget_gb=modelled(sz.capacity.kv_budget_gb[k]),
        rationale=_rationale(cat, sz, k, s),
        price_provenance=Provenance(source=inst.source, as_of=inst.price_as_of),
        throughput_provenance=(Provenance(source="measured_throughput supplied in the request", as_of="request")
                               if measured else Provenance(
                                   source=f"serving model (continuous batching, chunked prefill, M/D/1 TTFT queue) "
                                          f"calibrated on {len(cal['benchmarks'])} public throughput and "
                                          f"{len(cal['latency_benchmarks'])} latency results; model spec: {m.source}",
                                   as_of=m.as_of)),
        evidence_points=None if measured else int(sz.evidence_points[k]),
    )


def plan_scaling(req: PlanScalingRequest) -> PlanScalingResponse:
    """POST /plan/scaling. The entry: the request becomes domain values here, once (``scaling_of``)."""
    return plan(scaling_of(req))


def plan(s: ScalingPlan) -> PlanScalingResponse:
    cat = get_selfhosted_catalog()
    universe = get_universe(True)
    warn = WarningCollector()
    model_id = resolve_open_model(cat, s.model)
    scope = scope_rows(cat, {model_id}, list(s.precisions), None if s.instance_types is None else list(s.instance_types))
    rows = scope.rows
    if s.instance_types and rows.size == 0:
        raise RequestRejected("No configuration matches instance_types", [FieldError(
            "instance_types", f"none of {', '.join(s.instance_types)} is in the self-hosted catalog")])
    shape = Shape(s.avg_input_tokens_per_request, s.avg_output_tokens_per_request,
                  ttft_s=s.slo.ttft_ms / 1e3 if s.slo.ttft_ms else float("inf"),
                  tpot_s=s.slo.tpot_ms / 1e3 if s.slo.tpot_ms else float("inf"))
    traffic = Traffic(s.avg_requests_per_second, s.peak_requests_per_second, shape, s.min_requests_per_second)
    sz = size(cat, scope, traffic, s.pricing_model.value, s.target_utilisation, s.measured_throughput)
    n = rows.size
    zeros = np.zeros(n)
    candidates = Candidates(
        input_per_1m=zeros, output_per_1m=zeros, cache_read_per_1m=zeros, request_per_1k=zeros,
        context_window=np.full(n, np.nan), provider_code=universe.sh_pcode[rows], provider_key=universe.sh_pcode[rows],
        model_key=universe.sh_mkey[rows], unit_code=np.full(n, UNIT_CODES["per_gpu_hour"]), blocked=sz.blocked,
        fixed_monthly_usd=np.nan_to_num(sz.monthly_usd, nan=0.0),
    )
    result = rank_configs(candidates, Workload(0.0, 0.0, 0.0), Constraints(), top_k=s.top_k)
    def label(k: int) -> tuple[str, str]:
        return universe.providers[universe.sh_pcode[rows[k]]], universe.sh_ids[rows[k]]

    configs = [_configuration(rank, cat, sz, int(k), s, traffic, label(int(k))[0])
               for rank, k in enumerate(result.order, start=1)]

    mkey = int(candidates.model_key.max(initial=0)) + 1
    by_name = lambda: np.argsort(candidates.provider_key * mkey + candidates.model_key, kind="stable")  # noqa: E731
    excluded = exclusions(result, by_name, lambda k: label(int(k)), None, detail=slo_details(sz))
    if (missing := int(np.count_nonzero(sz.blocked == Reason.MISSING_THROUGHPUT))):
        warn.add(WarningCode.MISSING_THROUGHPUT, "measured_throughput",
                 f"{missing} configurations have no calibrated throughput model; they were excluded, not guessed.",
                 "Supply measured_throughput (output tokens/s per replica) for those instance types.")
    if configs and any(c.throughput_basis != ThroughputBasis.MEASURED for c in configs):
        f = cat.efficiency
        warn.add(WarningCode.SELF_HOSTED_ASSUMPTIONS, None,
                 f"Capacity and latency are modelled: continuous batching with chunked prefill, decode at "
                 f"{f.eff_bw:.0%} of peak bandwidth, prefill at {f.eff_flops:.0%} of peak FLOPs, TTFT queueing as "
                 f"M/D/1 per replica (fitted on {len(cat.calibration['benchmarks'])} public throughput and "
                 f"{len(cat.calibration['latency_benchmarks'])} latency results), {HOURS_PER_MONTH:g} h/month.",
                 "Load-test the top configuration and pass measured_throughput.", Severity.INFO)
    estimated_capacity_warning(cat, sz, [int(k) for k in result.order], warn, "measured_throughput")
    if not configs:
        warn.add(WarningCode.NO_CANDIDATES, None,
                 f"None of {n} configurations can serve this load; see exclusions.by_reason.",
                 "Relax the SLO, allow more precisions or instance types, or supply measured_throughput.", Severity.ERROR)
    return PlanScalingResponse(
        model=model_id, configurations=configs, rationale=configs[0].rationale if configs else [],
        warnings=warn.result(), exclusions=excluded,
        configurations_considered=n,
    )
