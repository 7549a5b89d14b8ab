"""POST /api/v1/plan/scaling: how many replicas a self-hosted serving plan needs, and on what."""

from pydantic import Field, ValidationInfo, field_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Integer, Number, Provenance, Warning
from costplan_contracts.enums import Precision, PricingModel, ThroughputBasis
from costplan_contracts.plan_llm import Exclusions, MeasuredThroughput, Slo


class PlanScalingRequest(ContractModel):
    model: str = Field(min_length=1, max_length=B.MODEL_ID_MAX_LENGTH, description="Canonical id or alias of an open-weight model")
    instance_types: list[str] | None = Field(default=None, max_length=200, description="Pin to these instance types")
    peak_requests_per_second: Number = Field(ge=B.REQUESTS_PER_SECOND_MIN, le=1e6)
    avg_requests_per_second: Number = Field(ge=B.REQUESTS_PER_SECOND_MIN, le=1e6)
    min_requests_per_second: Number | None = Field(default=None, ge=0, le=1e6)
    avg_input_tokens: Number = Field(ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX)
    avg_output_tokens: Number = Field(ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX)
    slo: Slo = Field(default_factory=Slo)
    precision: Precision | None = Field(default=None, description="None tries bf16 and fp8")
    pricing_model: PricingModel = PricingModel.ON_DEMAND
    target_utilisation: Number = Field(default=B.TARGET_UTILISATION_DEFAULT, gt=0, le=1)
    measured_throughput: list[MeasuredThroughput] = Field(default_factory=list, max_length=200)
    top_k: Integer = Field(default=B.TOP_K_DEFAULT, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)

    @field_validator("avg_requests_per_second")
    @classmethod
    def _avg_within_peak(cls, v: float, info: ValidationInfo) -> float:
        peak = info.data.get("peak_requests_per_second")
        if peak is not None and v > peak:
            raise ValueError(f"is above peak_requests_per_second ({peak:g})")
        return v

    @field_validator("min_requests_per_second")
    @classmethod
    def _min_within_avg(cls, v: float | None, info: ValidationInfo) -> float | None:
        avg = info.data.get("avg_requests_per_second")
        if v is not None and avg is not None and v > avg:
            raise ValueError(f"is above avg_requests_per_second ({avg:g})")
        return v


class Replicas(ContractModel):
    min: int
    avg: int
    peak: int


class ScalingCapacity(ContractModel):
    """Per replica. Modelled figures carry 3 significant figures; the exact value is never implied."""

    requests_per_s: float = Field(description="Capacity used to size: measured, else SLO-bound, else offline")
    output_tokens_per_s: float
    total_tokens_per_s: float
    concurrent_sequences: int = Field(description="Most sequences one replica holds (KV memory and engine cap)")
    tpot_ms: float | None = Field(description="Predicted time per output token at the planned peak load")
    ttft_ms: float | None = Field(description="Predicted time to first token at the planned peak load, queueing included")
    offline_requests_per_s: float | None = Field(
        default=None, description="Maximum throughput with latency unbounded (continuous batching, full batch)")
    slo_requests_per_s: float | None = Field(
        default=None, description="Largest rate meeting the TTFT/TPOT targets; null without targets")
    batch_at_peak: float | None = Field(default=None, description="Mean decoding sequences at the planned peak load")
    load_share_at_peak: float | None = Field(
        default=None, description="Planned peak rate per replica / offline capacity (queueing grows as it nears 1)")


class Configuration(ContractModel):
    rank: int
    provider: str
    instance_type: str
    region: str
    accelerator: str
    gpus_per_instance: int
    gpus_per_replica: int
    precision: Precision
    replicas: Replicas
    instances_at_peak: int
    capacity_per_replica: ScalingCapacity
    headroom: float = Field(description="Capacity at peak replicas / peak load - 1")
    utilisation_at_peak: float
    monthly_cost_usd: float = Field(description="Provisioned for the peak, always on")
    monthly_cost_autoscaled_usd: float = Field(description="If replicas track the average load; an estimate")
    usd_per_1m_tokens: float = Field(description="monthly_cost_usd over the month's tokens at the average rate")
    instance_usd_per_hour: float
    pricing_model: PricingModel
    throughput_basis: ThroughputBasis
    weights_gb: float
    kv_budget_gb: float
    rationale: list[str]
    price_provenance: Provenance
    throughput_provenance: Provenance
    evidence_points: int | None = Field(
        default=None, description="Public results behind the weakest fitted factor of this row's model (null: measured)")


class PlanScalingResponse(ContractModel):
    model: str
    configurations: list[Configuration]
    rationale: list[str] = Field(description="The steps behind the top configuration, with their numbers")
    warnings: list[Warning]
    exclusions: Exclusions
    configurations_considered: int
