"""POST /api/v1/plan/scaling: how many replicas a self-hosted serving plan needs, and on what."""

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import Aliased, ContractModel, Integer, Number, Renamed, Warning, deprecated
from costplan_contracts.enums import Precision, PricingModel
from costplan_contracts.plan_llm import DEFAULT_PRECISIONS, Exclusions, MeasuredThroughput, SelfHostedBase, Slo


def _one_precision(precision: Any) -> Any:
    return ... if precision is None else [precision]  # null: the canonical default (bf16 and fp8), as before


def _single(precisions: list) -> Any:
    return precisions[0] if len(precisions) == 1 else None  # the old spelling names one precision at most


class PlanScalingRequest(Aliased):
    renamed = (Renamed("avg_input_tokens", "avg_input_tokens_per_request"),
               Renamed("avg_output_tokens", "avg_output_tokens_per_request"),
               Renamed("precision", "precisions", to_new=_one_precision, to_old=_single))

    model: str = Field(min_length=1, max_length=B.MODEL_ID_MAX_LENGTH,
                       description="Canonical id or alias of an open-weight model")
    instance_types: list[str] | None = Field(default=None, max_length=200, description="Pin to these instance types")
    peak_requests_per_second: Number = Field(ge=B.REQUESTS_PER_SECOND_MIN, le=1e6)
    avg_requests_per_second: Number = Field(ge=B.REQUESTS_PER_SECOND_MIN, le=1e6)
    min_requests_per_second: Number | None = Field(default=None, ge=0, le=1e6)
    avg_input_tokens_per_request: Number = Field(ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX)
    avg_output_tokens_per_request: Number = Field(ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX)
    slo: Slo = Field(default_factory=Slo)
    precisions: list[Precision] = Field(default_factory=lambda: list(DEFAULT_PRECISIONS), min_length=1,
                                        max_length=len(Precision), description="The precisions to try")
    pricing_model: PricingModel = PricingModel.ON_DEMAND
    target_utilisation: Number = Field(default=B.TARGET_UTILISATION_DEFAULT, ge=B.TARGET_UTILISATION_MIN, le=1)
    measured_throughput: list[MeasuredThroughput] = Field(default_factory=list, max_length=200)
    top_k: Integer = Field(default=B.TOP_K_DEFAULT, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)
    avg_input_tokens: Number | None = deprecated("avg_input_tokens_per_request", ge=B.TOKENS_PER_REQUEST_MIN,
                                                 le=B.CONTEXT_TOKENS_MAX)
    avg_output_tokens: Number | None = deprecated("avg_output_tokens_per_request", ge=B.TOKENS_PER_REQUEST_MIN,
                                                  le=B.CONTEXT_TOKENS_MAX)
    precision: Precision | None = deprecated(
        "precisions", description="One precision to try (null: precisions decides; returned null when it names several)")

    @field_validator("precisions")
    @classmethod
    def _unique(cls, v: list[Precision]) -> list[Precision]:
        if len(set(v)) != len(v):
            raise ValueError("precisions must not repeat")
        return v

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


class Configuration(SelfHostedBase, Aliased):
    """One self-hosted configuration sized for a traffic shape: plan/llm's SelfHostedDetail concept (their shared
    fields are SelfHostedBase), plus the rank, the replicas at each load and the autoscaled cost."""

    renamed = (Renamed("replicas", "replicas_by_load"), Renamed("instances_at_peak", "instances"),
               Renamed("usd_per_1m_tokens", "effective_price_per_1m"))

    rank: int
    provider: str
    replicas_by_load: Replicas = Field(description="Replicas at the minimum, average and peak rate "
                                                   "(plan/llm's replicas is the peak count)")
    capacity_per_replica: ScalingCapacity
    headroom: float = Field(description="Capacity at peak replicas / peak load - 1")
    utilisation_at_peak: float = Field(description="Peak load / (peak replicas x capacity)")
    monthly_cost_usd: float = Field(description="Provisioned for the peak, always on")
    monthly_cost_autoscaled_usd: float = Field(description="If replicas track the average load; an estimate")
    effective_price_per_1m: float = Field(description="monthly_cost_usd over the month's tokens at the average rate, "
                                                      "x 1M (plan/llm's effective_price_per_1m)")
    rationale: list[str]
    replicas: Replicas = deprecated("replicas_by_load", required=True)
    instances_at_peak: int = deprecated("instances", required=True)
    usd_per_1m_tokens: float = deprecated("effective_price_per_1m", required=True,
                                          description="monthly_cost_usd over the month's tokens at the average rate")


class PlanScalingResponse(ContractModel):
    model: str
    configurations: list[Configuration]
    rationale: list[str] = Field(description="The steps behind the top configuration, with their numbers")
    warnings: list[Warning]
    exclusions: Exclusions
    configurations_considered: int
