"""POST /api/v1/plan/training: what training or fine-tuning a model costs, how long it takes, and its lifecycle."""

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import Boolean, ContractModel, Integer, Number, Provenance, Warning
from costplan_contracts.enums import (
    LoraTarget,
    PricingModel,
    ShardingStrategy,
    TrainingMethod,
    TrainingOptionKind,
    TrainingPrecision,
)
from costplan_contracts.plan_llm import Workload
from costplan_contracts.ranking import Exclusions

TRAINING_PARAMS_B_MAX = 100_000  # 100T parameters
TRAINING_TOKENS_MAX = 1e15
TRAINING_NODES_MAX = 4096
DEFAULT_LORA_TARGETS = [LoraTarget.Q_PROJ, LoraTarget.K_PROJ, LoraTarget.V_PROJ, LoraTarget.O_PROJ,
                        LoraTarget.GATE_PROJ, LoraTarget.UP_PROJ, LoraTarget.DOWN_PROJ]


class Architecture(ContractModel):
    """A model outside the registry, described by its shape."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.MODEL_ID_MAX_LENGTH)] = "custom"
    params_b: Number = Field(gt=0, le=TRAINING_PARAMS_B_MAX, description="Total parameters, billions")
    active_params_b: Number | None = Field(default=None, gt=0, le=TRAINING_PARAMS_B_MAX,
                                           description="MoE: parameters active per token; default params_b (dense)")
    layers: Integer = Field(ge=1, le=1000)
    hidden_size: Integer = Field(ge=1, le=1_000_000)
    heads: Integer = Field(ge=1, le=10_000)
    kv_heads: Integer | None = Field(default=None, ge=1, le=10_000, description="Default: heads (no GQA)")
    head_dim: Integer | None = Field(default=None, ge=1, le=10_000, description="Default: hidden_size / heads")
    ffn_hidden_size: Integer | None = Field(default=None, ge=1, le=10_000_000,
                                            description="MLP width (all experts together for MoE); default inferred "
                                                        "from the parameter count")
    vocab_size: Integer | None = Field(default=None, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _active_within_total(self) -> "Architecture":
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise ValueError("active_params_b is above params_b")
        return self


class LoraSettings(ContractModel):
    rank: Integer = Field(default=16, ge=1, le=4096)
    targets: list[LoraTarget] = Field(default_factory=lambda: list(DEFAULT_LORA_TARGETS), min_length=1, max_length=7)


class Lifecycle(ContractModel):
    serve_months: Number = Field(default=12, ge=0, le=120, description="How long the trained model is served")
    workload: Workload | None = Field(default=None, description="The serving workload, the same shape as plan/llm's")
    retrain_every_months: Number | None = Field(default=None, gt=0, le=120,
                                                description="Retrain on a schedule; each retrain costs one training run")
    evaluation_runs: Integer = Field(default=0, ge=0, le=100_000, description="Evaluation runs per training run")
    evaluation_tokens: Number = Field(default=0, ge=0, le=1e13, description="Tokens one evaluation run processes")
    checkpoints_retained: Integer = Field(default=1, ge=0, le=10_000,
                                          description="Checkpoints kept in object storage for the whole lifecycle")


class PlanTrainingRequest(ContractModel):
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.MODEL_ID_MAX_LENGTH)] | None = (
        Field(default=None, description="Registry id or alias (open-weight or a managed fine-tuning base model)"))
    architecture: Architecture | None = Field(default=None, description="Explicit shape instead of a registry id")
    method: TrainingMethod
    dataset_tokens: Number = Field(ge=1, le=TRAINING_TOKENS_MAX, description="Tokens in the training set")
    epochs: Number = Field(default=1, gt=0, le=1000)
    seq_len: Integer = Field(default=2048, ge=1, le=B.CONTEXT_TOKENS_MAX)
    precision: TrainingPrecision = TrainingPrecision.BF16
    mfu: Number | None = Field(default=None, ge=0.01, le=1,
                               description="Your measured model-FLOPs utilisation; overrides the published table")
    instance_types: list[str] | None = Field(default=None, max_length=200, description="Pin to these instance types")
    pricing_model: PricingModel = PricingModel.ON_DEMAND
    max_nodes: Integer = Field(default=16, ge=1, le=TRAINING_NODES_MAX,
                               description="Most instances one self-run job may use")
    deadline_hours: Number | None = Field(default=None, gt=0, le=1e6)
    budget_usd: Number | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX,
                                      description="Most one training run (with its evaluation) may cost")
    lora: LoraSettings = Field(default_factory=LoraSettings, description="Used by lora and qlora")
    include_managed: Boolean = Field(default=True, description="Price managed fine-tuning APIs too")
    lifecycle: Lifecycle | None = None
    top_k: Integer = Field(default=B.TOP_K_DEFAULT, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)

    @model_validator(mode="after")
    def _one_model(self) -> "PlanTrainingRequest":
        if (self.model is None) == (self.architecture is None):
            raise ValueError("give exactly one of model (a registry id) or architecture (an explicit shape)")
        return self


class MemoryPerGpu(ContractModel):
    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    adapter_gb: float = Field(description="LoRA/QLoRA adapter weights, gradients and optimizer state")
    activations_gb: float = Field(description="As planned (with recomputation when the layout uses it)")
    activations_without_recompute_gb: float
    total_gb: float
    gpu_memory_gb: float


class Parallelism(ContractModel):
    gpus: int
    nodes: int
    data_parallel: int
    tensor_parallel: int
    pipeline_parallel: int
    sharding: ShardingStrategy
    activation_recompute: bool
    reason: str


class Compute(ContractModel):
    tokens: float = Field(description="dataset_tokens x epochs")
    model_flops: float = Field(description="6ND (active parameters), less the LoRA backward saving, plus attention")
    hardware_flops: float = Field(description="model_flops plus the recomputed forward pass, when used")
    lora_backward_saving: float = Field(description="Share of 6ND not computed: frozen weights need no gradients")
    recompute_overhead: float = Field(description="hardware_flops / model_flops - 1")


class TrainingTime(ContractModel):
    wall_clock_hours: float
    wall_clock_hours_low: float = Field(description="At the top of the utilisation band")
    wall_clock_hours_high: float = Field(description="At the bottom of the utilisation band")
    gpu_hours: float
    mfu: float = Field(description="Model FLOPs / (GPUs x peak x time)")
    hfu: float = Field(description="Hardware FLOPs / (GPUs x peak x time)")
    utilisation_basis: str = Field(description="Where the utilisation comes from and how many runs back it")


class CostByPricingModel(ContractModel):
    on_demand_usd: float | None
    spot_usd: float | None
    committed_1y_usd: float | None


class SelfRunDetail(ContractModel):
    instance_type: str
    region: str
    accelerator: str
    gpus_per_instance: int
    precision: TrainingPrecision
    memory_per_gpu: MemoryPerGpu
    parallelism: Parallelism
    compute: Compute
    time: TrainingTime
    cost_by_pricing_model: CostByPricingModel
    instance_usd_per_hour: float
    checkpoint_gb: float
    checkpoint_storage_usd_per_month: float = Field(description="One checkpoint in S3 Standard")
    price_provenance: Provenance
    utilisation_provenance: list[Provenance]


class ManagedDetail(ContractModel):
    base_model: str
    training_usd_per_1m_tokens: float
    billed_tokens: float = Field(description="dataset_tokens x epochs")
    minimum_usd: float
    serving: str = Field(description="fine_tuned_price, base_model_price or provisioned_throughput")
    serving_input_usd_per_1m: float | None
    serving_output_usd_per_1m: float | None
    provenance: Provenance


class LifecycleCost(ContractModel):
    training_runs: float = Field(description="1 + retrains within serve_months")
    training_usd: float = Field(description="One run x training_runs")
    evaluation_usd: float
    storage_usd: float
    serving_monthly_usd: float | None
    serving_usd: float | None = Field(description="serving_monthly_usd x serve_months; null when it could not be priced")
    serving_basis: str
    total_usd: float | None


class TrainingOption(ContractModel):
    rank: int | None = Field(description="Position by lifecycle total (training cost without a lifecycle); null "
                                         "on the reference row")
    kind: TrainingOptionKind
    provider: str
    label: str
    training_cost_usd: float = Field(description="One training run with its evaluation, at pricing_model")
    wall_clock_hours: float | None
    over_budget_usd: float | None
    lifecycle: LifecycleCost | None
    delta_vs_reference_usd: float | None = Field(description="Lifecycle total minus the reference row's")
    self_run: SelfRunDetail | None = None
    managed: ManagedDetail | None = None
    rationale: list[str]


class ResolvedTrainingModel(ContractModel):
    model: str
    name: str
    params_b: float
    active_params_b: float
    layers: int
    hidden_size: int
    lora_adapter_params_b: float | None
    open_weights: bool
    provenance: Provenance


class PlanTrainingResponse(ContractModel):
    model: ResolvedTrainingModel
    method: TrainingMethod
    options: list[TrainingOption]
    reference: TrainingOption | None = Field(description="The base model served as is, for comparison")
    rationale: list[str] = Field(description="The steps behind the top option, with their numbers")
    warnings: list[Warning]
    exclusions: Exclusions
    options_considered: int
