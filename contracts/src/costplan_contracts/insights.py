"""POST /api/v1/insights/quality-price: quality against price for this workload's own mix."""

from typing import Any

from pydantic import Field

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Number, Provenance, Warning
from costplan_contracts.enums import WorkloadProfile
from costplan_contracts.plan_llm import IoMix
from costplan_contracts.rank_catalog import ProviderId


class InsightsWorkload(ContractModel):
    input_tokens_per_month: Number = Field(ge=0, le=B.TOKENS_PER_MONTH_MAX)
    output_tokens_per_month: Number = Field(ge=0, le=B.TOKENS_PER_MONTH_MAX)
    cached_input_share: Number = Field(default=0.0, ge=0, le=1)


class QualityPriceRequest(ContractModel):
    workload: InsightsWorkload
    profile: WorkloadProfile = WorkloadProfile.CHAT
    providers: list[ProviderId] | None = Field(default=None, max_length=B.PROVIDER_LIST_MAX)
    monthly_budget_usd: Number | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX)
    min_quality: Number | None = Field(default=None, ge=0, le=100)
    min_quality_coverage: Number = Field(
        default=B.QUALITY_COVERAGE_DEFAULT, ge=0, le=1,
        description="A quality index resting on less of the profile's weight than this counts as unknown")


class QualityPoint(ContractModel):
    model: str = Field(description="Canonical model id")
    provider: str
    offering: str = Field(description="The provider's model id")
    monthly_cost_usd: float
    effective_price_per_1m: float = Field(description="For this workload's input:output mix")
    quality_index: float
    coverage: float
    estimated: bool
    price_provenance: Provenance
    quality_sources: list[Provenance]


class Annotation(ContractModel):
    kind: str = Field(description="cheapest_at_or_above | best_quality_under_budget")
    threshold: float | None = None
    point: QualityPoint | None = Field(description="null when no point qualifies")


class QualityPriceResponse(ContractModel):
    profile: WorkloadProfile
    io_mix: IoMix
    points: list[QualityPoint]
    pareto_frontier: list[QualityPoint]
    annotations: list[Annotation]
    vega_lite: dict[str, Any]
    excluded: dict[str, int] = Field(description="Offerings left out, per reason code")
    warnings: list[Warning]
