"""POST /api/v1/insights/quality-price: quality against price for this workload's own mix."""

from typing import Any

from pydantic import Field

from costplan_contracts import bounds as B
from costplan_contracts.common import Aliased, ContractModel, Number, Provenance, Renamed, Warning, deprecated
from costplan_contracts.enums import AnnotationKind, ReasonCode, WorkloadProfile
from costplan_contracts.plan_llm import IoMix
from costplan_contracts.rank_catalog import ProviderId
from costplan_contracts.ranking import ExclusionGroup, Exclusions


class InsightsWorkload(ContractModel):
    input_tokens_per_month: Number = Field(ge=0, le=B.TOKENS_PER_MONTH_MAX)
    output_tokens_per_month: Number = Field(ge=0, le=B.TOKENS_PER_MONTH_MAX)
    cached_input_share: Number = Field(default=0.0, ge=0, le=1)


class QualityPriceConstraints(ContractModel):
    """The subset of plan/llm's constraints that insights applies, under the same names."""

    monthly_budget_usd: Number | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX)
    providers: list[ProviderId] | None = Field(
        default=None, max_length=B.PROVIDER_LIST_MAX, description="Allow-list of provider ids")


class QualityPriceRequest(Aliased):
    renamed = (Renamed("profile", "workload_profile"), Renamed("providers", "constraints.providers"),
               Renamed("monthly_budget_usd", "constraints.monthly_budget_usd"))

    workload: InsightsWorkload
    workload_profile: WorkloadProfile = Field(default=WorkloadProfile.CHAT, description="Weights the quality index")
    constraints: QualityPriceConstraints = Field(default_factory=QualityPriceConstraints)
    min_quality: Number | None = Field(default=None, ge=0, le=100)
    min_quality_coverage: Number = Field(
        default=B.QUALITY_COVERAGE_DEFAULT, ge=0, le=1,
        description="A quality index resting on less of the profile's weight than this counts as unknown")
    profile: WorkloadProfile | None = deprecated("workload_profile")
    providers: list[ProviderId] | None = deprecated("constraints.providers", max_length=B.PROVIDER_LIST_MAX)
    monthly_budget_usd: Number | None = deprecated("constraints.monthly_budget_usd", ge=0, le=B.BUDGET_USD_MAX)


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
    kind: AnnotationKind
    threshold: float | None = None
    point: QualityPoint | None = Field(description="null when no point qualifies")


def exclusions_of(excluded: dict[str, int]) -> Exclusions:
    """Counts per reason code as plan/llm's Exclusions (no examples; no fallback step)."""
    counts = {ReasonCode(k): int(n) for k, n in excluded.items()}
    return Exclusions(total=sum(counts.values()), step=None,
                      by_reason={k: ExclusionGroup(count=n, examples=[]) for k, n in counts.items()})


def _excluded(exclusions: Exclusions | dict) -> dict[str, int]:
    groups = exclusions.by_reason if isinstance(exclusions, Exclusions) else exclusions["by_reason"]
    return {str(k): (g.count if isinstance(g, ExclusionGroup) else g["count"]) for k, g in groups.items()}


class QualityPriceResponse(Aliased):
    renamed = (Renamed("profile", "workload_profile"),
               Renamed("excluded", "exclusions", to_new=exclusions_of, to_old=_excluded))

    workload_profile: WorkloadProfile
    io_mix: IoMix
    points: list[QualityPoint]
    pareto_frontier: list[QualityPoint]
    annotations: list[Annotation]
    vega_lite: dict[str, Any]
    exclusions: Exclusions = Field(description="Offerings left out, per reason code (plan/llm's shape; no examples)")
    warnings: list[Warning]
    profile: WorkloadProfile = deprecated("workload_profile", required=True)
    excluded: dict[str, int] = deprecated("exclusions", required=True, description="Offerings left out, per reason code")
