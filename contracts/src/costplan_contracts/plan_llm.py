"""POST /api/v1/plan/llm: request and response."""

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Provenance, Warning
from costplan_contracts.enums import FallbackStep, PriceBasis, PricingUnit, ReasonCode, StepStatus

ProviderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Workload(ContractModel):
    input_tokens_per_month: float = Field(
        ge=0, le=B.TOKENS_PER_MONTH_MAX, description="All prompt tokens per month, cached ones included"
    )
    output_tokens_per_month: float = Field(ge=0, le=B.TOKENS_PER_MONTH_MAX)
    cached_input_share: float = Field(
        default=0.0, ge=0, le=1, description="Share of input tokens served as prompt-cache reads"
    )
    requests_per_month: float | None = Field(default=None, gt=0, le=B.REQUESTS_PER_MONTH_MAX)
    max_context_tokens: int | None = Field(
        default=None, ge=1, le=B.CONTEXT_TOKENS_MAX,
        description="Largest prompt one request sends; selects context-length price tiers",
    )

    @model_validator(mode="after")
    def _some_tokens(self) -> "Workload":
        if self.input_tokens_per_month + self.output_tokens_per_month <= 0:
            raise ValueError("input_tokens_per_month and output_tokens_per_month are both 0; nothing to price")
        return self


class Constraints(ContractModel):
    monthly_budget_usd: float | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX)
    providers: list[ProviderId] | None = Field(
        default=None, max_length=B.PROVIDER_LIST_MAX, description="Allow-list of provider ids"
    )
    exclude_providers: list[ProviderId] = Field(default_factory=list, max_length=B.PROVIDER_LIST_MAX)
    pricing_unit: PricingUnit = PricingUnit.PER_1M_TOKENS
    min_context_window: int | None = Field(default=None, ge=1, le=B.CONTEXT_TOKENS_MAX)
    include_deprecated: bool = False


class PlanLlmRequest(ContractModel):
    workload: Workload
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.MODEL_ID_MAX_LENGTH)] | None = (
        Field(default=None, description="Canonical model id or any alias (provider model id, display name)")
    )
    constraints: Constraints = Field(default_factory=Constraints)
    top_k: int = Field(default=B.TOP_K_DEFAULT, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)


class CostBreakdown(ContractModel):
    input_usd: float = Field(description="Uncached input tokens x input price")
    output_usd: float
    cached_input_usd: float = Field(description="Cached input tokens x cache-read price")
    request_usd: float = Field(default=0.0, description="Per-request fees, where the provider charges them")


class UnitPrices(ContractModel):
    input_per_1m: float | None
    output_per_1m: float | None
    cache_read_per_1m: float | None
    request_per_1k: float | None = None


class RequestedUnitPrices(ContractModel):
    unit: PricingUnit
    input: float | None
    output: float | None
    cache_read: float | None


class IoMix(ContractModel):
    input_share: float
    output_share: float
    cached_share_of_input: float
    label: str


class PlanRow(ContractModel):
    rank: int
    provider: str
    model: str
    canonical_model: str
    model_name: str | None = None
    monthly_cost_usd: float
    cost_breakdown: CostBreakdown
    unit_prices: UnitPrices
    requested_unit_prices: RequestedUnitPrices | None = None
    effective_price_per_1m: float = Field(description="Monthly cost / all tokens x 1M, at this workload's mix")
    effective_price_io_mix: IoMix
    over_budget_usd: float | None = Field(description="How far over the budget the row is; null with no budget")
    context_window: int | None
    deprecated: bool
    estimated: bool
    price_basis: list[PriceBasis]
    provenance: Provenance


class StepResult(ContractModel):
    step: FallbackStep
    status: StepStatus
    admitted: int
    excluded: int
    note: str


class ExclusionExample(ContractModel):
    provider: str
    model: str
    detail: str


class ExclusionGroup(ContractModel):
    count: int
    examples: list[ExclusionExample]


class Exclusions(ContractModel):
    total: int
    step: FallbackStep | None = Field(description="The fallback step these exclusions come from")
    by_reason: dict[ReasonCode, ExclusionGroup]


class CatalogInfo(ContractModel):
    offerings_total: int
    offerings_considered: int
    providers: int
    source: str
    as_of: str
    url: str | None = None


class ResolvedModel(ContractModel):
    requested: str
    canonical_model: str
    providers: list[str]


class PlanLlmResponse(ContractModel):
    rows: list[PlanRow]
    fallback_steps: list[StepResult]
    exclusions: Exclusions
    warnings: list[Warning]
    catalog: CatalogInfo
    resolved_model: ResolvedModel | None = None
    io_mix: IoMix
