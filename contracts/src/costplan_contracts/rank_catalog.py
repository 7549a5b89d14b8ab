"""POST /api/v1/rank/catalog: one ranking across AI services and pricing units."""

from typing import Annotated

from pydantic import Field, StringConstraints

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Integer, Number, Provenance, Warning
from costplan_contracts.enums import ConversionFactor, PricingUnit, WorkloadType
from costplan_contracts.ranking import Exclusions, StepResult

ProviderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AttrKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
AttrValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Quantity(ContractModel):
    value: Number = Field(gt=0, le=B.TOKENS_PER_MONTH_MAX, description="How many per month")
    unit: PricingUnit = Field(description="What is counted, named like a price unit: per_audio_minute counts audio "
                                          "minutes, per_1m_tokens counts millions of tokens")


class CatalogConstraints(ContractModel):
    monthly_budget_usd: Number | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX)
    providers: list[ProviderId] | None = Field(default=None, max_length=B.PROVIDER_LIST_MAX)
    exclude_providers: list[ProviderId] = Field(default_factory=list, max_length=B.PROVIDER_LIST_MAX)
    pricing_unit: PricingUnit | None = Field(default=None, description="Compare prices in this unit; default: quantity.unit")
    attributes: dict[AttrKey, AttrValue] = Field(
        default_factory=dict, max_length=20,
        description="Offering attributes that must match, e.g. {\"size\": \"1024x1024\", \"quality\": \"hd\"}")


class RankCatalogRequest(ContractModel):
    workload_type: WorkloadType
    quantity: Quantity
    conversion_factors: dict[ConversionFactor, Annotated[Number, Field(gt=0, le=1e9)]] = Field(default_factory=dict)
    output_token_share: Number | None = Field(
        default=None, ge=0, le=1, description="Required for llm_tokens: the share of tokens that are output (no default mix)")
    constraints: CatalogConstraints = Field(default_factory=CatalogConstraints)
    top_k: Integer = Field(default=B.TOP_K_DEFAULT, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)


class ConversionUsed(ContractModel):
    factor: ConversionFactor
    value: float


class CatalogRow(ContractModel):
    rank: int
    provider: str
    service: str
    offering: str
    workload_type: WorkloadType
    tier: str | None = Field(description="The volume or service tier this price belongs to; null for a flat price")
    attributes: dict[str, str]
    native_unit: PricingUnit
    native_price_usd: float
    normalised_unit: PricingUnit
    normalised_price_usd: float
    conversion: ConversionUsed | None = Field(description="The cross-dimension factor used, if any")
    quantity_in_native_units: float
    monthly_cost_usd: float
    over_budget_usd: float | None
    estimated: bool
    price_note: str | None = None
    provenance: Provenance


class CatalogSource(ContractModel):
    source: str
    as_of: str
    offerings: int


class RankCatalogInfo(ContractModel):
    offerings_total: int = Field(description="Offerings of this workload type in the catalog")
    offerings_considered: int
    providers: int
    sources: list[CatalogSource]


class RankCatalogResponse(ContractModel):
    rows: list[CatalogRow]
    fallback_steps: list[StepResult]
    exclusions: Exclusions
    warnings: list[Warning]
    catalog: RankCatalogInfo
