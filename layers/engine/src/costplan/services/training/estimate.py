"""plan_training: the cost, time and lifecycle of training or fine-tuning one model, self-run or managed.

The request becomes frozen domain values once (``Job``, ``LifecyclePlan``); below that, the memory,
layout, FLOPs and time come from ``costplan.core.training`` and the figures from the training and
self-hosted catalogs. Serving over the lifecycle is priced by plan/llm through its public function.
"""

import difflib
import math
from dataclasses import dataclass

import numpy as np

from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import PRICING_COLUMNS, Instance, get_selfhosted_catalog
from costplan.catalog.training import INFERENCE_ONLY, ManagedOffer, TrainingCatalog, get_training_catalog, scale_of
from costplan.core import training as T
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.plan import cents, modelled, plan_llm, resolve_model
from costplan.services.warnings import WarningCollector
from costplan_contracts.bounds import HOURS_PER_MONTH
from costplan_contracts.common import Provenance
from costplan_contracts.enums import (
    Deployment,
    LoraTarget,
    ReasonCode,
    Severity,
    ShardingStrategy,
    TrainingMethod,
    TrainingOptionKind,
    TrainingPrecision,
    WarningCode,
)
from costplan_contracts.plan_llm import PlanLlmRequest, Workload
from costplan_contracts.plan_training import (
    Compute,
    CostByPricingModel,
    LifecycleCost,
    ManagedDetail,
    MemoryPerGpu,
    Parallelism,
    PlanTrainingRequest,
    PlanTrainingResponse,
    ResolvedTrainingModel,
    SelfRunDetail,
    TrainingOption,
    TrainingTime,
)
from costplan_contracts.ranking import ExclusionExample, ExclusionGroup, Exclusions

MULTI_NODE_MIN_GPUS = 8  # only 8-GPU instances (the cluster-interconnect kind the published runs used) span nodes
RESERVED_GB_PER_GPU = 2.0  # CUDA context, NCCL buffers and allocator fragmentation: an assumption, stated
CHECKPOINT_BYTES = 14.0  # a resumable checkpoint: bf16 weights (2) + fp32 master, momentum, variance (12)
EXAMPLES = 5
_KIND = {TrainingMethod.PRETRAIN: T.FULL, TrainingMethod.CONTINUED_PRETRAIN: T.FULL,
         TrainingMethod.FULL_FINETUNE: T.FULL, TrainingMethod.LORA: T.LORA, TrainingMethod.QLORA: T.QLORA}
_FINETUNES = {TrainingMethod.FULL_FINETUNE, TrainingMethod.LORA, TrainingMethod.QLORA}
_SHARDING = (ShardingStrategy.NONE, ShardingStrategy.ZERO_1, ShardingStrategy.ZERO_2, ShardingStrategy.ZERO_3_FSDP)


@dataclass(frozen=True)
class Job:
    model_id: str
    name: str
    shape: T.ModelShape
    open_weights: bool
    in_registry: bool
    provenance: Provenance
    method: TrainingMethod
    kind: int
    tokens: float  # dataset_tokens x epochs
    seq_len: int
    precision: str
    mfu: float | None
    instance_types: tuple[str, ...] | None
    pricing_model: str
    max_nodes: int
    deadline_hours: float | None
    budget_usd: float | None
    include_managed: bool
    lora_rank: int


@dataclass(frozen=True)
class LifecyclePlan:
    serve_months: float
    workload: Workload | None
    training_runs: float
    evaluation_runs: int
    evaluation_tokens: float
    checkpoints_retained: int


class _Excluded:
    def __init__(self) -> None:
        self.items: dict[ReasonCode, list[tuple[str, str, str]]] = {}

    def add(self, reason: ReasonCode, provider: str, label: str, detail: str) -> None:
        self.items.setdefault(reason, []).append((provider, label, detail))

    def result(self) -> Exclusions:
        groups = {r: ExclusionGroup(count=len(v), examples=[ExclusionExample(provider=p, model=m, detail=d)
                                                             for p, m, d in sorted(v)[:EXAMPLES]])
                  for r, v in sorted(self.items.items())}
        return Exclusions(total=sum(g.count for g in groups.values()), step=None, by_reason=groups)


# ----------------------------------------------------------------------------------------------- entry

def plan_training(req: PlanTrainingRequest) -> PlanTrainingResponse:
    cat = get_training_catalog()
    warn = WarningCollector()
    job = _job(req, cat)
    life = _lifecycle(req)
    excluded = _Excluded()
    options: list[TrainingOption] = []
    considered = 0
    if job.open_weights:
        self_run, n = _self_run_options(job, life, cat, excluded, warn)
        options += self_run
        considered += n
    else:
        warn.add(WarningCode.NO_OPEN_WEIGHTS, "model", f"{job.name} has no open weights: it cannot be trained on "
                 "your own GPUs, so only managed fine-tuning is priced.",
                 "Pick an open-weight model to compare self-run training.", Severity.INFO)
    if job.include_managed:
        managed, n = _managed_options(job, life, cat, excluded)
        options += managed
        considered += n
    reference = _reference(job, life, warn)
    options = _ranked(options, reference, life, job.budget_usd, excluded)[: req.top_k]
    _warnings(job, life, options, reference, warn)
    return PlanTrainingResponse(
        model=ResolvedTrainingModel(
            model=job.model_id, name=job.name, params_b=modelled(job.shape.params / 1e9),
            active_params_b=modelled(job.shape.active_params / 1e9), layers=job.shape.layers, hidden_size=job.shape.hidden,
            lora_adapter_params_b=modelled(job.shape.adapter_params / 1e9) if job.kind != T.FULL else None,
            open_weights=job.open_weights, provenance=job.provenance),
        method=job.method, options=options, reference=reference,
        rationale=options[0].rationale if options else [], warnings=warn.result(), exclusions=excluded.result(),
        options_considered=considered,
    )


# ------------------------------------------------------------------------------------- request -> values

def _job(req: PlanTrainingRequest, cat: TrainingCatalog) -> Job:
    kind = _KIND[req.method]
    targets = req.lora.targets
    if req.architecture is not None:
        a = req.architecture
        heads, hd = a.heads, a.head_dim or a.hidden_size // a.heads
        params, active = a.params_b * 1e9, (a.active_params_b or a.params_b) * 1e9
        shape_args = (params, active, a.layers, a.hidden_size, heads, a.kv_heads or heads, hd, a.ffn_hidden_size)
        model_id, name, open_w, in_reg = a.name, a.name, True, False
        prov, vocab = Provenance(source="architecture supplied in the request", as_of="request"), a.vocab_size
    else:
        model_id, open_w = _resolve(req.model, cat)
        in_reg = open_w
        if open_w:
            s = cat.models[model_id]
            shape_args = (s.params, s.active_params, s.layers, s.hidden, s.heads, s.kv_heads, s.head_dim, None)
            name, prov, vocab = s.name, Provenance(source=s.source, as_of=s.as_of), None
        else:
            shape_args, name, vocab = None, model_id, None
            offer = next(o for o in cat.managed if o.base_model == model_id)
            prov = Provenance(source=offer.source, as_of=offer.as_of, url=offer.url)
    if shape_args is None:
        shape = T.ModelShape(params=0.0, active_params=0.0, layers=0, hidden=0, vocab=None, adapter_params=0.0)
    else:
        params, active, layers, hidden, heads, kv, hd, ffn = shape_args
        adapter = _adapter_params(req.lora.rank, targets, params, layers, hidden, heads, kv, hd, ffn) if kind else 0.0
        shape = T.ModelShape(params=params, active_params=active, layers=layers, hidden=hidden, vocab=vocab,
                             adapter_params=adapter)
    return Job(
        model_id=model_id, name=name, shape=shape, open_weights=open_w, in_registry=in_reg, provenance=prov,
        method=req.method, kind=kind, tokens=req.dataset_tokens * req.epochs, seq_len=req.seq_len,
        precision=req.precision.value, mfu=req.mfu,
        instance_types=tuple(sorted(t.lower() for t in req.instance_types)) if req.instance_types else None,
        pricing_model=req.pricing_model.value, max_nodes=req.max_nodes, deadline_hours=req.deadline_hours,
        budget_usd=req.budget_usd, include_managed=req.include_managed, lora_rank=req.lora.rank)


def _resolve(requested: str, cat: TrainingCatalog) -> tuple[str, bool]:
    """(canonical id, has open weights). Open-weight registry first, then managed fine-tuning base models."""
    managed = {o.base_model for o in cat.managed if o.base_model != "*"}
    try:
        canonical = resolve_model(get_llm_catalog(), requested, set(cat.models) | managed)
    except RequestRejected:
        canonical = requested.strip().lower()
    if canonical in cat.models:
        return canonical, True
    if canonical in managed:
        return canonical, False
    close = difflib.get_close_matches(requested.strip().lower(), sorted(set(cat.models) | managed), n=5, cutoff=0.5)
    raise RequestRejected(f"No training spec for model '{requested}'", [FieldError(
        "model", f"'{requested}' is neither an open-weight model in the registry nor a managed fine-tuning base model; "
                 f"close matches: {', '.join(close or sorted(cat.models)[:5])}. Or describe it with 'architecture'.")])


def _adapter_params(rank: int, targets: list[LoraTarget], params: float, layers: int, hidden: int, heads: int,
                    kv: int, hd: int, ffn: int | None) -> float:
    """LoRA parameters for the chosen projections. The MLP width, when not given, is inferred from the
    parameter count (embeddings ignored, gated MLP with three matrices; all experts together for MoE)."""
    attn = 2 * hidden * heads * hd + 2 * hidden * kv * hd
    f = ffn or max(1, int((params / layers - attn) / (3 * hidden)))
    dims = {LoraTarget.Q_PROJ: (hidden, heads * hd), LoraTarget.K_PROJ: (hidden, kv * hd),
            LoraTarget.V_PROJ: (hidden, kv * hd), LoraTarget.O_PROJ: (heads * hd, hidden),
            LoraTarget.GATE_PROJ: (hidden, f), LoraTarget.UP_PROJ: (hidden, f), LoraTarget.DOWN_PROJ: (f, hidden)}
    return T.lora_adapter_params(rank, [dims[t] for t in sorted(set(targets))], layers)


def _lifecycle(req: PlanTrainingRequest) -> LifecyclePlan | None:
    lc = req.lifecycle
    if lc is None:
        return None
    retrains = max(0, math.ceil(lc.serve_months / lc.retrain_every_months) - 1) if lc.retrain_every_months else 0
    return LifecyclePlan(serve_months=lc.serve_months, workload=lc.workload, training_runs=1.0 + retrains,
                         evaluation_runs=lc.evaluation_runs, evaluation_tokens=lc.evaluation_tokens,
                         checkpoints_retained=lc.checkpoints_retained)


# ------------------------------------------------------------------------------------------ self-run

@dataclass(frozen=True)
class _Plan:
    """One instance type at one node count, with its chosen layout."""

    nodes: int
    gpus: int
    layout: int  # index into the layouts
    lay: T.Layouts
    mem: T.Memory
    hours: float
    hours_low: float
    hours_high: float
    hfu: float
    util_basis: str
    util_points: tuple
    borrowed: str | None


def _node_counts(max_nodes: int) -> list[int]:
    out, n = [], 1
    while n < max_nodes:
        out.append(n)
        n *= 2
    return out + [max_nodes]


def _plan(job: Job, inst: Instance, nodes: int, peak: float, cat: TrainingCatalog) -> _Plan | None:
    """The preferred layout that fits ``nodes`` instances, and its time; None when nothing fits."""
    gpus = inst.count * nodes
    lay = T.layouts(gpus, inst.count, job.shape.layers)
    mem = T.memory_per_gpu(job.shape, job.kind, job.seq_len, lay)
    fits = mem.total <= inst.memory_per_gpu_gb - RESERVED_GB_PER_GPU
    if not fits.any():
        return None
    pref = np.where(fits, T.layout_preference(lay), np.iinfo(np.int64).max)
    k = int(np.argmin(pref))
    model_flops = float(T.model_flops(job.shape, job.kind, job.seq_len, job.tokens))
    if job.mfu is not None:
        hfu, low, high, basis, points, borrowed = job.mfu, job.mfu, job.mfu, "the caller's measured MFU", (), None
        flops = model_flops
    else:
        u = cat.utilisation(inst.accelerator_id, job.precision, scale_of(gpus, nodes))
        hfu, low, high, basis, points, borrowed = u.hfu, u.low, u.high, u.basis, u.points, u.borrowed
        if job.kind != T.FULL:
            basis += "; published runs are full training, applied here to LoRA's smaller FLOP count"
        flops = model_flops * (T.RECOMPUTE_FACTOR if lay.recompute[k] else 1.0)
    h = float(T.hours(flops, gpus, peak, hfu))
    return _Plan(nodes, gpus, k, lay, mem, h, float(T.hours(flops, gpus, peak, high)),
                 float(T.hours(flops, gpus, peak, low)), hfu, basis, points, borrowed)


def _self_run_options(job: Job, life: LifecyclePlan | None, cat: TrainingCatalog, excluded: _Excluded,
                      warn: WarningCollector) -> tuple[list[TrainingOption], int]:
    sh = get_selfhosted_catalog()
    instances = [i for i in sh.instances if job.instance_types is None or i.instance_type.lower() in job.instance_types]
    if job.instance_types and not instances:
        raise RequestRejected("No instance matches instance_types", [FieldError(
            "instance_types", f"none of {', '.join(job.instance_types)} is in the GPU instance catalog")])
    serving = _self_run_serving(job, life, cat) if life else None
    out = []
    for inst in instances:
        acc = sh.accelerators[inst.accelerator_id]
        label = inst.instance_type
        if inst.accelerator_id in INFERENCE_ONLY:
            excluded.add(ReasonCode.METHOD_UNSUPPORTED, inst.provider, label, f"{acc.name} is an inference accelerator")
            continue
        peak_tflops = acc.fp8_tflops if job.precision == "fp8" else acc.bf16_tflops
        if not peak_tflops or np.isnan(peak_tflops):
            excluded.add(ReasonCode.PRECISION_UNSUPPORTED, inst.provider, label, f"{acc.name} has no {job.precision} "
                         "tensor cores")
            continue
        hourly = inst.prices[job.pricing_model]
        if np.isnan(hourly):
            excluded.add(ReasonCode.PRICE_MISSING_HOURLY, inst.provider, label,
                         f"no published {job.pricing_model} price")
            continue
        max_nodes = job.max_nodes if inst.count >= MULTI_NODE_MIN_GPUS else 1
        plans = [p for n in _node_counts(max_nodes) if (p := _plan(job, inst, n, peak_tflops * 1e12, cat))]
        if not plans:
            need = T.memory_per_gpu(job.shape, job.kind, job.seq_len, T.layouts(1, 1, job.shape.layers)).total[-1]
            excluded.add(ReasonCode.MODEL_DOES_NOT_FIT, inst.provider, label,
                         f"needs more than {inst.count * max_nodes} x {inst.memory_per_gpu_gb:g} GB "
                         f"({float(need):.0f} GB on one GPU with recomputation)")
            continue
        on_time = [p for p in plans if job.deadline_hours is None or p.hours <= job.deadline_hours]
        if not on_time:
            fastest = min(plans, key=lambda p: p.hours)
            excluded.add(ReasonCode.DEADLINE_UNREACHABLE, inst.provider, label,
                         f"fastest {modelled(fastest.hours)} h on {fastest.nodes} instance(s) > {job.deadline_hours:g} h")
            continue
        chosen = on_time[0]
        if job.mfu is None and (chosen.borrowed or job.kind != T.FULL):
            why = chosen.borrowed or "the published runs are full training; LoRA/QLoRA are planned at their utilisation"
            warn.add(WarningCode.MFU_BORROWED, "mfu", f"Some utilisation figures are borrowed (e.g. {label}: {why}).",
                     "Pass your measured mfu for the hardware you will use.")
        out.append(_self_run_option(job, life, cat, inst, acc, chosen, peak_tflops * 1e12, serving))
    return out, len(instances)


def _self_run_option(job, life, cat, inst, acc, p: _Plan, peak: float, serving) -> TrainingOption:
    k, lay, mem = p.layout, p.lay, p.mem
    model_flops = float(T.model_flops(job.shape, job.kind, job.seq_len, job.tokens))
    recompute = bool(lay.recompute[k]) and job.mfu is None
    hw_flops = model_flops * (T.RECOMPUTE_FACTOR if lay.recompute[k] else 1.0)
    instance_hours = p.hours * p.nodes
    by_pm = {pm: (instance_hours * inst.prices[pm] if not np.isnan(inst.prices[pm]) else None) for pm in PRICING_COLUMNS}
    hourly = inst.prices[job.pricing_model]
    eval_usd = 0.0
    if life and life.evaluation_runs and life.evaluation_tokens:
        eval_flops = 2.0 * job.shape.active_params * life.evaluation_tokens * life.evaluation_runs
        eval_usd = float(T.hours(eval_flops, p.gpus, peak, p.hfu)) * p.nodes * hourly
    train_usd = by_pm[job.pricing_model]
    trained = job.shape.params if job.kind == T.FULL else job.shape.adapter_params
    ckpt_gb = CHECKPOINT_BYTES * trained / 1e9
    store_month = ckpt_gb * cat.storage.usd_per_gb_month
    d, t, pp, z = int(lay.data[k]), int(lay.tensor[k]), int(lay.pipeline[k]), int(lay.zero[k])
    mfu = model_flops / (p.gpus * peak * p.hours * 3600)
    reason = _layout_reason(job, inst, p, d, t, pp, z, bool(lay.recompute[k]))
    detail = SelfRunDetail(
        instance_type=inst.instance_type, region=inst.region, accelerator=acc.name, gpus_per_instance=inst.count,
        precision=TrainingPrecision(job.precision),
        memory_per_gpu=MemoryPerGpu(
            weights_gb=modelled(mem.weights[k]), gradients_gb=modelled(mem.gradients[k]), optimizer_gb=modelled(mem.optimizer[k]),
            adapter_gb=modelled(mem.adapter[k]), activations_gb=modelled(mem.activations[k]),
            activations_without_recompute_gb=modelled(mem.activations_stored[k]), total_gb=modelled(mem.total[k]),
            gpu_memory_gb=inst.memory_per_gpu_gb),
        parallelism=Parallelism(gpus=p.gpus, nodes=p.nodes, data_parallel=d, tensor_parallel=t, pipeline_parallel=pp,
                                sharding=_SHARDING[z], activation_recompute=bool(lay.recompute[k]), reason=reason),
        compute=Compute(tokens=modelled(job.tokens), model_flops=modelled(model_flops), hardware_flops=modelled(hw_flops),
                        lora_backward_saving=modelled(T.LORA_BACKWARD_SAVING if job.kind != T.FULL else 0.0),
                        recompute_overhead=modelled(hw_flops / model_flops - 1.0)),
        time=TrainingTime(wall_clock_hours=modelled(p.hours), wall_clock_hours_low=modelled(p.hours_low),
                          wall_clock_hours_high=modelled(p.hours_high), gpu_hours=modelled(p.hours * p.gpus),
                          mfu=modelled(mfu), hfu=modelled(hw_flops / (p.gpus * peak * p.hours * 3600)),
                          utilisation_basis=p.util_basis),
        cost_by_pricing_model=CostByPricingModel(**{f"{pm}_usd": (cents(v) if v is not None else None)
                                                    for pm, v in by_pm.items()}),
        instance_usd_per_hour=float(hourly), checkpoint_gb=modelled(ckpt_gb),
        checkpoint_storage_usd_per_month=cents(store_month),
        price_provenance=Provenance(source=inst.source, as_of=inst.price_as_of),
        utilisation_provenance=[Provenance(source=f"{pt.row_id}: {pt.source}", as_of=pt.as_of, url=pt.url)
                                for pt in p.util_points],
    )
    lifecycle = _life_cost(life, train_usd, eval_usd, store_month, serving) if life else None
    rationale = [
        f"{job.name}: {job.shape.params / 1e9:.3g}B parameters ({job.shape.active_params / 1e9:.3g}B active), "
        f"{job.method.value}, {job.tokens:.3g} tokens ({job.seq_len}-token sequences)",
        f"memory per GPU {modelled(mem.total[k])} GB of {inst.memory_per_gpu_gb:g} GB (less {RESERVED_GB_PER_GPU:g} GB "
        f"reserved): weights {modelled(mem.weights[k])}, gradients {modelled(mem.gradients[k])}, optimizer "
        f"{modelled(mem.optimizer[k])}, adapter {modelled(mem.adapter[k])}, activations {modelled(mem.activations[k])} GB",
        f"layout: {reason}",
        f"compute {modelled(model_flops)} model FLOPs" + (f" (LoRA skips {T.LORA_BACKWARD_SAVING:.0%} of 6ND)"
                                                      if job.kind != T.FULL else " (6ND + attention)")
        + (f"; recomputation adds {T.RECOMPUTE_FACTOR - 1:.0%}" if recompute else ""),
        f"{p.gpus} x {acc.name} at {modelled(p.hfu)} hardware utilisation ({p.util_basis}) -> "
        f"{modelled(p.hours)} h wall clock ({modelled(p.hours_low)}-{modelled(p.hours_high)} h across the band)",
        f"{p.nodes} x {inst.instance_type} x {modelled(p.hours)} h x ${hourly:g}/h ({job.pricing_model}) = "
        f"${cents(train_usd):,.2f}" + (f" + evaluation ${cents(eval_usd):,.2f}" if eval_usd else ""),
    ]
    if lifecycle:
        rationale.append(_life_line(lifecycle))
    return TrainingOption(
        rank=None, kind=TrainingOptionKind.SELF_RUN, provider=inst.provider, label=inst.instance_type,
        training_cost_usd=cents(train_usd + eval_usd), wall_clock_hours=modelled(p.hours), over_budget_usd=None,
        lifecycle=lifecycle, delta_vs_reference_usd=None, self_run=detail, rationale=rationale)


def _layout_reason(job: Job, inst: Instance, p: _Plan, d: int, t: int, pp: int, z: int, recompute: bool) -> str:
    parts = [f"{p.gpus} GPU(s) on {p.nodes} x {inst.instance_type}: data parallel {d}"]
    if t > 1:
        parts.append(f"tensor parallel {t} within a node")
    if pp > 1:
        parts.append(f"pipeline parallel {pp}")
    if z:
        parts.append(f"{_SHARDING[z].value} sharding over the {d} data-parallel replicas")
    if recompute:
        parts.append("full activation recomputation")
    why = ("the first layout that fits, preferring no recomputation, then the least model splitting, then the "
           "lowest ZeRO stage")
    if p.nodes > 1:
        why += "; fewer instances did not fit" + (" or missed the deadline" if job.deadline_hours else "")
    return ", ".join(parts) + f" ({why})"


# ------------------------------------------------------------------------------------------- managed

def _offers_for(job: Job, cat: TrainingCatalog) -> list[ManagedOffer]:
    """Offers naming this model, else size brackets whose provider serves this model (exact rows win)."""
    exact = [o for o in cat.managed if o.base_model == job.model_id]
    named = {o.provider for o in exact}
    if not job.in_registry:
        return exact
    llm = get_llm_catalog()
    idx = llm.canonical_offerings.get(job.model_id, np.zeros(0, np.int64))
    serving_providers = {llm.providers[llm.provider_code[i]] for i in idx}
    size_b = job.shape.params / 1e9
    bracket = [o for o in cat.managed if o.base_model == "*" and o.provider not in named
               and o.provider in serving_providers and (o.min_params_b or 0) < size_b <= (o.max_params_b or math.inf)]
    if bracket:  # the lowest bracket that holds the size
        bracket = [min(bracket, key=lambda o: (o.provider, o.max_params_b or math.inf))]
    return exact + bracket


def _managed_options(job: Job, life: LifecyclePlan | None, cat: TrainingCatalog,
                     excluded: _Excluded) -> tuple[list[TrainingOption], int]:
    offers = _offers_for(job, cat)
    if not offers:
        providers = sorted({o.provider for o in cat.managed})
        excluded.add(ReasonCode.NO_MANAGED_OFFERING, ", ".join(providers), job.model_id,
                     "no managed fine-tuning price covers this model" + ("" if job.in_registry or not job.open_weights
                                                                        else " (a custom architecture)"))
        return [], 1
    out = []
    for o in offers:
        if job.method not in _FINETUNES or job.method.value not in o.methods:
            excluded.add(ReasonCode.METHOD_UNSUPPORTED, o.provider, job.model_id,
                         f"offers {', '.join(o.methods)}, not {job.method.value}")
            continue
        train = max(o.minimum_usd, job.tokens / 1e6 * o.training_usd_per_1m)
        eval_usd = (life.evaluation_runs * life.evaluation_tokens / 1e6 * o.training_usd_per_1m
                    if life and life.evaluation_runs else 0.0)
        serving = _managed_serving(job, life, o) if life else None
        lifecycle = _life_cost(life, train, eval_usd, 0.0, serving) if life else None
        detail = ManagedDetail(
            base_model=job.model_id, training_usd_per_1m_tokens=o.training_usd_per_1m, billed_tokens=modelled(job.tokens),
            minimum_usd=o.minimum_usd, serving=o.serving, serving_input_usd_per_1m=o.ft_input_per_1m,
            serving_output_usd_per_1m=o.ft_output_per_1m,
            provenance=Provenance(source=o.source, as_of=o.as_of, url=o.url))
        rationale = [f"{o.provider}: {job.tokens:.3g} training tokens (dataset x epochs) x "
                     f"${o.training_usd_per_1m:g}/1M = ${cents(job.tokens / 1e6 * o.training_usd_per_1m):,.2f}"
                     + (f" (minimum ${o.minimum_usd:g})" if o.minimum_usd else "")]
        if lifecycle:
            rationale.append(_life_line(lifecycle))
        out.append(TrainingOption(
            rank=None, kind=TrainingOptionKind.MANAGED, provider=o.provider, label=f"{o.provider} fine-tuning",
            training_cost_usd=cents(train + eval_usd), wall_clock_hours=None, over_budget_usd=None,
            lifecycle=lifecycle, delta_vs_reference_usd=None, managed=detail, rationale=rationale))
    return out, len(offers)


def _managed_serving(job: Job, life: LifecyclePlan, o: ManagedOffer) -> tuple[float | None, str]:
    w = life.workload
    if w is None:
        return None, "no serving workload was given"
    if o.serving == "fine_tuned_price" and o.ft_input_per_1m is not None and o.ft_output_per_1m is not None:
        monthly = (w.input_tokens_per_month * o.ft_input_per_1m + w.output_tokens_per_month * o.ft_output_per_1m) / 1e6
        return monthly, (f"{o.provider} fine-tuned model price ${o.ft_input_per_1m:g} in / ${o.ft_output_per_1m:g} "
                         "out per 1M (cached input priced as input)")
    if o.serving == "provisioned_throughput" and o.model_unit_usd_per_hour is not None:
        units = o.min_model_units or 1
        return units * o.model_unit_usd_per_hour * HOURS_PER_MONTH, (
            f"{units} model unit(s) x ${o.model_unit_usd_per_hour:g}/h x {HOURS_PER_MONTH:g} h provisioned throughput")
    if o.serving == "base_model_price":
        return _plan_llm_monthly(job, w, Deployment.HOSTED_API, [o.provider])
    return None, f"{o.provider} publishes no serving price for the fine-tuned model"


# --------------------------------------------------------------------------------- serving and lifecycle

def _plan_llm_monthly(job: Job, w: Workload, deployment: Deployment, providers: list[str] | None):
    """The cheapest monthly serving cost plan/llm finds, and a sentence saying where."""
    body = {"workload": w, "model": job.model_id, "deployment": deployment, "top_k": 1}
    if providers:
        body["constraints"] = {"providers": providers}
    try:
        res = plan_llm(PlanLlmRequest.model_validate(body))
    except RequestRejected as e:
        return None, f"plan/llm could not price it: {e.message}"
    rows = [r for r in res.rows if not providers or r.provider in providers]
    if not rows:
        return None, "plan/llm found no " + ("offering at " + ", ".join(providers) if providers else deployment.value)
    r = rows[0]
    where = (f"{r.self_hosted.instances} x {r.self_hosted.instance_type}" if r.self_hosted else r.provider)
    return r.monthly_cost_usd, f"plan/llm {deployment.value}: {where} at ${r.monthly_cost_usd:,.2f}/month"


def _self_run_serving(job: Job, life: LifecyclePlan, cat: TrainingCatalog) -> tuple[float | None, str]:
    """A model trained on your GPUs is served self-hosted; a LoRA/QLoRA adapter may also go to a provider that
    serves adapters at the base model's price (managed_finetuning.csv, serving = base_model_price): the cheaper."""
    own = _serve(job, life, Deployment.SELF_HOSTED, None, None)
    if job.kind == T.FULL or not job.in_registry or life.workload is None:
        return own
    hosts = sorted({o.provider for o in cat.managed if o.serving == "base_model_price"})
    adapter = [(m, f"{b}; LoRA adapters are served at the base model's price there")
               for m, b in (_plan_llm_monthly(job, life.workload, Deployment.HOSTED_API, [h]) for h in hosts)
               if m is not None]
    priced = [c for c in [own, *adapter] if c[0] is not None]
    return min(priced, key=lambda c: (c[0], c[1])) if priced else own


def _serve(job: Job, life: LifecyclePlan, deployment: Deployment, providers, warn) -> tuple[float | None, str]:
    if life.workload is None:
        return None, "no serving workload was given"
    if not job.in_registry:
        return None, "a custom architecture has no serving offers or throughput model"
    return _plan_llm_monthly(job, life.workload, deployment, providers)


def _life_cost(life: LifecyclePlan, train: float, eval_usd: float, store_month: float,
               serving: tuple[float | None, str] | None, runs: float | None = None) -> LifecycleCost:
    monthly, basis = serving or (None, "no serving workload was given")
    runs = life.training_runs if runs is None else runs
    serving_usd = monthly * life.serve_months if monthly is not None else None
    storage = store_month * life.checkpoints_retained * life.serve_months
    fixed = train * runs + eval_usd * runs + storage
    return LifecycleCost(
        training_runs=runs, training_usd=cents(train * runs),
        evaluation_usd=cents(eval_usd * runs), storage_usd=cents(storage),
        serving_monthly_usd=cents(monthly) if monthly is not None else None,
        serving_usd=cents(serving_usd) if serving_usd is not None else None, serving_basis=basis,
        total_usd=cents(fixed + serving_usd) if serving_usd is not None else
        (cents(fixed) if life.workload is None else None))


def _life_line(lc: LifecycleCost) -> str:
    total = f"${lc.total_usd:,.2f}" if lc.total_usd is not None else "unpriced (serving unknown)"
    serving = f"${lc.serving_usd:,.2f}" if lc.serving_usd is not None else "unpriced"
    return (f"lifecycle: training ${lc.training_usd:,.2f} ({lc.training_runs:g} run(s)) + evaluation "
            f"${lc.evaluation_usd:,.2f} + storage ${lc.storage_usd:,.2f} + serving {serving} ({lc.serving_basis}) "
            f"= {total}")


def _reference(job: Job, life: LifecyclePlan | None, warn: WarningCollector) -> TrainingOption | None:
    """The base model served as is: no training, serving at the cheapest hosted API (else self-hosted)."""
    if life is None or life.workload is None:
        return None
    serving = _serve(job, life, Deployment.HOSTED_API, None, warn)
    if serving[0] is None and job.in_registry:
        serving = _serve(job, life, Deployment.SELF_HOSTED, None, warn)
    lc = _life_cost(life, 0.0, 0.0, 0.0, serving, runs=0.0)
    return TrainingOption(
        rank=None, kind=TrainingOptionKind.BASE_MODEL_AS_IS, provider="-", label=f"{job.name} as is",
        training_cost_usd=0.0, wall_clock_hours=None, over_budget_usd=None, lifecycle=lc, delta_vs_reference_usd=0.0
        if lc.total_usd is not None else None, rationale=[_life_line(lc)])


def _ranked(options: list[TrainingOption], reference: TrainingOption | None, life: LifecyclePlan | None,
            budget: float | None, excluded: _Excluded) -> list[TrainingOption]:
    kept = []
    for o in options:
        if budget is not None and o.training_cost_usd > budget:
            excluded.add(ReasonCode.OVER_BUDGET, o.provider, o.label,
                         f"training costs ${o.training_cost_usd:,.2f} > ${budget:,.2f}")
            continue
        kept.append(o)

    def key(o: TrainingOption):
        total = o.lifecycle.total_usd if o.lifecycle else None
        primary = total if life is not None else o.training_cost_usd
        return (primary is None, primary or 0.0, o.training_cost_usd, o.kind.value, o.provider, o.label)

    ref_total = reference.lifecycle.total_usd if reference and reference.lifecycle else None
    out = []
    for rank, o in enumerate(sorted(kept, key=key), start=1):
        total = o.lifecycle.total_usd if o.lifecycle else None
        delta = cents(total - ref_total) if total is not None and ref_total is not None else None
        out.append(o.model_copy(update={"rank": rank, "delta_vs_reference_usd": delta}))
    return out


def _warnings(job: Job, life: LifecyclePlan | None, options: list[TrainingOption], reference, warn) -> None:
    self_run = [o for o in options if o.self_run]
    if self_run:
        warn.add(WarningCode.TRAINING_ASSUMPTIONS, None,
                 "Memory is modelled for one sequence per micro-batch with flash attention and sequence parallelism "
                 f"(Korthikanti et al. 2022), mixed-precision Adam at 16 bytes per trained parameter (ZeRO paper), "
                 f"QLoRA at {T.NF4_DQ_BITS} bits per frozen weight, {RESERVED_GB_PER_GPU:g} GB per GPU reserved; "
                 f"only instances with {MULTI_NODE_MIN_GPUS}+ GPUs span several nodes"
                 + ("; the LoRA MLP width is inferred from the parameter count" if job.kind != T.FULL else "")
                 + ". Pipeline bubbles, communication and QLoRA's dequantisation are not modelled apart: they are "
                 "inside the published utilisation. Time excludes data loading, checkpoint writes, failures and "
                 "restarts.",
                 "Measure a few steps and pass mfu to replace the published utilisation.", Severity.INFO)
    if life and life.workload is not None:
        unpriced = [o for o in options + ([reference] if reference else [])
                    if o.lifecycle and o.lifecycle.serving_usd is None]
        if unpriced:
            warn.add(WarningCode.SERVING_UNPRICED, "lifecycle.workload",
                     f"Serving could not be priced for {len(unpriced)} option(s) (e.g. {unpriced[0].label}: "
                     f"{unpriced[0].lifecycle.serving_basis}); their lifecycle total is null and they rank last.",
                     "Give requests_per_month (self-hosted sizing needs a request shape) or pick a hosted model.")
    if not options:
        warn.add(WarningCode.NO_CANDIDATES, None, "No self-run or managed option can train this; see exclusions.",
                 "Raise max_nodes, the deadline or the budget, allow more instance types, or try lora/qlora.",
                 Severity.ERROR)


__all__ = ["plan_training"]
