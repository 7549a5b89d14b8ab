"""POST /api/v1/plan/llm: request and response."""

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import (
    Aliased,
    Boolean,
    ContractModel,
    Integer,
    Number,
    Provenance,
    Renamed,
    Warning,
    deprecated,
)
from costplan_contracts.enums import (
    Deployment,
    Objective,
    Precision,
    PriceBasis,
    PricingModel,
    PricingUnit,
    ThroughputBasis,
    WorkloadProfile,
)
from costplan_contracts.ranking import ExclusionExample, ExclusionGroup, Exclusions, StepResult  # noqa: F401 (re-export)

ProviderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ContextShare(ContractModel):
    """How much of the workload is sent in requests whose prompt is longer than ``above_tokens``."""

    above_tokens: Integer = Field(ge=1, le=B.CONTEXT_TOKENS_MAX, description="A prompt-length threshold (tokens)")
    input_token_share: Number | None = Field(
        default=None, ge=0, le=1,
        description="Share of input tokens (cached included) sent in requests above the threshold")
    output_token_share: Number | None = Field(
        default=None, ge=0, le=1,
        description="Share of output tokens produced by those requests; unknown when absent (the cost is a range)")
    request_share: Number | None = Field(
        default=None, ge=0, le=1,
        description="Share of requests above the threshold. Without input_token_share it bounds the input share "
                    "(needs requests_per_month): each such request sends more than above_tokens and at most "
                    "max_context_tokens")

    @model_validator(mode="after")
    def _some_share(self) -> "ContextShare":
        if self.input_token_share is None and self.request_share is None:
            raise ValueError("give input_token_share or request_share")
        return self


class Workload(ContractModel):
    input_tokens_per_month: Number = Field(
        ge=0, le=B.TOKENS_PER_MONTH_MAX, description="All prompt tokens per month, cached ones included"
    )
    output_tokens_per_month: Number = Field(ge=0, le=B.TOKENS_PER_MONTH_MAX)
    cached_input_share: Number = Field(
        default=0.0, ge=0, le=1, description="Share of input tokens served as prompt-cache reads"
    )
    requests_per_month: Number | None = Field(default=None, gt=0, le=B.REQUESTS_PER_MONTH_MAX)
    max_context_tokens: Integer | None = Field(
        default=None, ge=1, le=B.CONTEXT_TOKENS_MAX,
        description="Largest prompt one request sends; selects context-length price tiers",
    )
    avg_input_tokens_per_request: Number | None = Field(
        default=None, ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX,
        description="Self-hosted sizing; derived from input_tokens_per_month / requests_per_month when absent",
    )
    avg_output_tokens_per_request: Number | None = Field(default=None, ge=B.TOKENS_PER_REQUEST_MIN,
                                                          le=B.CONTEXT_TOKENS_MAX)
    peak_to_average_ratio: Number = Field(
        default=B.PEAK_TO_AVERAGE_DEFAULT, ge=1, le=100,
        description="Peak request rate / average; self-hosted replicas are sized for the peak",
    )
    context_shares: list[ContextShare] = Field(
        default_factory=list, max_length=B.CONTEXT_SHARES_MAX,
        description="Long-context tiers apply only to the requests that cross them: state the share of tokens "
                    "above each threshold. A tier whose share is unknown is shown as a range (monthly_cost_range).",
    )

    @model_validator(mode="after")
    def _some_tokens(self) -> "Workload":
        if self.input_tokens_per_month + self.output_tokens_per_month <= 0:
            raise ValueError("input_tokens_per_month and output_tokens_per_month are both 0; nothing to price")
        shares = sorted(self.context_shares, key=lambda c: c.above_tokens)
        for a, b in zip(shares, shares[1:], strict=False):  # adjacent pairs: one fewer than shares
            if a.above_tokens == b.above_tokens:
                raise ValueError(f"context_shares: threshold {a.above_tokens} is given twice")
            if any(getattr(a, f) is not None and getattr(b, f) is not None and getattr(b, f) > getattr(a, f)
                   for f in ("input_token_share", "output_token_share", "request_share")):
                raise ValueError(f"context_shares: the share above {b.above_tokens} tokens exceeds the share above "
                                 f"{a.above_tokens}; shares cannot grow with the threshold")
        return self


class Constraints(ContractModel):
    monthly_budget_usd: Number | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX)
    providers: list[ProviderId] | None = Field(
        default=None, max_length=B.PROVIDER_LIST_MAX, description="Allow-list of provider ids"
    )
    exclude_providers: list[ProviderId] = Field(default_factory=list, max_length=B.PROVIDER_LIST_MAX)
    pricing_unit: PricingUnit = PricingUnit.PER_1M_TOKENS
    min_context_window: Integer | None = Field(default=None, ge=1, le=B.CONTEXT_TOKENS_MAX)
    include_deprecated: Boolean = False
    max_price_age_days: Integer = Field(
        default=B.MAX_PRICE_AGE_DAYS_DEFAULT, ge=1, le=3650,
        description="Offerings whose price_as_of is older than this, counted back from the catalog's build date, "
                    "warn STALE_PRICE")


class Slo(ContractModel):
    ttft_ms: Number | None = Field(default=None, gt=0, le=600_000, description="Time to first token")
    tpot_ms: Number | None = Field(default=None, gt=0, le=60_000, description="Time per output token")


class MeasuredThroughput(ContractModel):
    """Bring your own benchmark: it overrides the throughput model for matching configurations."""

    instance_type: str = Field(min_length=1, max_length=100)
    precision: Precision
    gpus_per_replica: Integer | None = Field(default=None, ge=1, le=64)
    output_tokens_per_s: Number = Field(ge=B.MEASURED_OUTPUT_TOKENS_PER_S_MIN, le=1e9,
                                        description="Measured per replica, at your request shape")


DEFAULT_PRECISIONS = (Precision.BF16, Precision.FP8)


class SelfHostedOptions(ContractModel):
    precisions: list[Precision] = Field(default_factory=lambda: list(DEFAULT_PRECISIONS), min_length=1)
    pricing_model: PricingModel = PricingModel.ON_DEMAND
    target_utilisation: Number = Field(default=B.TARGET_UTILISATION_DEFAULT, ge=B.TARGET_UTILISATION_MIN, le=1)
    instance_types: list[str] | None = Field(default=None, max_length=200, description="Pin to these instance types")
    measured_throughput: list[MeasuredThroughput] = Field(default_factory=list, max_length=200)


class PlanLlmRequest(ContractModel):
    workload: Workload
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.MODEL_ID_MAX_LENGTH)] | None = (
        Field(default=None, description="Canonical model id or any alias (provider model id, display name)")
    )
    constraints: Constraints = Field(default_factory=Constraints)
    top_k: Integer = Field(default=B.TOP_K_DEFAULT, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)
    deployment: Deployment = Field(default=Deployment.HOSTED_API,
                                   description="hosted_api (per-token APIs), self_hosted (GPU instances) or both")
    slo: Slo = Field(default_factory=Slo)
    self_hosted: SelfHostedOptions = Field(default_factory=SelfHostedOptions)
    workload_profile: WorkloadProfile | None = Field(default=None, description="Weights the quality index")
    min_quality: Number | None = Field(default=None, ge=0, le=100, description="Quality index floor (0-100)")
    objective: Objective = Objective.MIN_COST
    balance_weight: Number = Field(default=0.5, ge=0, le=1, description="balanced: the weight of quality vs cost")
    min_quality_coverage: Number = Field(
        default=B.QUALITY_COVERAGE_DEFAULT, ge=0, le=1,
        description="A quality index resting on less of the profile's weight than this counts as unknown")


class CostBreakdown(ContractModel):
    input_usd: float = Field(description="Uncached input tokens x input price")
    output_usd: float
    cached_input_usd: float = Field(description="Cached input tokens x cache-read price")
    request_usd: float = Field(default=0.0, description="Per-request fees, where the provider charges them")
    compute_usd: float = Field(default=0.0, description="Self-hosted: instances x hourly price x 730 hours")


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


class ReplicaCapacity(ContractModel):
    """Per replica. Modelled figures carry 3 significant figures; the exact value is never implied."""

    requests_per_s: float = Field(description="Capacity used to size: measured, else SLO-bound, else offline")
    output_tokens_per_s: float
    total_tokens_per_s: float
    concurrent_sequences: int = Field(description="Most sequences one replica holds (KV memory and engine cap)")
    tpot_ms: float = Field(description="Predicted time per output token at the planned peak load (0 when measured)")
    ttft_ms: float = Field(description="Predicted time to first token at the planned peak load, queueing included")
    offline_requests_per_s: float | None = Field(
        default=None, description="Maximum throughput with latency unbounded (continuous batching, full batch)")
    slo_requests_per_s: float | None = Field(
        default=None, description="Largest rate meeting the TTFT/TPOT targets; null without targets")
    batch_at_peak: float | None = Field(default=None, description="Mean decoding sequences at the planned peak load")
    load_share_at_peak: float | None = Field(
        default=None, description="Planned peak rate per replica / offline capacity (queueing grows as it nears 1)")


class RequestShape(Aliased):
    renamed = (Renamed("avg_input_tokens", "avg_input_tokens_per_request"),
               Renamed("avg_output_tokens", "avg_output_tokens_per_request"))

    avg_input_tokens_per_request: float
    avg_output_tokens_per_request: float
    assumed: bool = Field(description="True when a workload profile's default shape was used (SHAPE_ASSUMED)")
    source: str
    avg_input_tokens: float = deprecated("avg_input_tokens_per_request", required=True)
    avg_output_tokens: float = deprecated("avg_output_tokens_per_request", required=True)


class SelfHostedBase(ContractModel):
    """One self-hosted serving configuration: the fields plan/llm's SelfHostedDetail and plan/scaling's Configuration
    share, defined once so they keep one spelling (contracts/README.md)."""

    instance_type: str
    region: str
    accelerator: str
    gpus_per_instance: int
    gpus_per_replica: int
    precision: Precision
    pricing_model: PricingModel
    instances: int
    instance_usd_per_hour: float
    utilisation: float = Field(description="Average load / (replicas x capacity)")
    throughput_basis: ThroughputBasis
    weights_gb: float
    kv_budget_gb: float
    price_provenance: Provenance
    throughput_provenance: Provenance
    evidence_points: int | None = Field(
        default=None, description="Public results behind the weakest fitted factor of this row's model (null: measured)")


class SelfHostedDetail(SelfHostedBase):
    replicas: int
    hours_per_month: float
    capacity_per_replica: ReplicaCapacity
    assumption: str
    request_shape: RequestShape | None = None


class RowQuality(Aliased):
    renamed = (Renamed("profile", "workload_profile"),)

    workload_profile: WorkloadProfile
    profile: WorkloadProfile = deprecated("workload_profile", required=True)
    index: float = Field(description="Profile-weighted mean of normalised benchmark scores, 0-100")
    coverage: float = Field(description="Share of the profile's weight the model has scores for")
    estimated: bool = Field(description="Some score was borrowed from a sibling model")
    sources: list[Provenance]


class CostRange(ContractModel):
    """The monthly cost where it is not one number: an unknown share above a long-context tier, or two price
    sources that disagree. monthly_cost_usd is the point the row was ranked at, inside this range."""

    low_usd: float
    high_usd: float
    reasons: list[PriceBasis]


class PriceQuote(ContractModel):
    """One source's unit prices for an offering (per 1M tokens)."""

    source: str
    as_of: str
    input_per_1m: float | None
    output_per_1m: float | None
    cache_read_per_1m: float | None
    used: bool = Field(description="This source's price is the one the row was ranked at")
    evidence: str | None = Field(
        default=None, description="Why this source's price was used over the other's: the provider's dated, cited "
        "price announcement that the other source's entry predates (absent where the primary source is used)")


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
    deployment: Deployment = Deployment.HOSTED_API
    self_hosted: SelfHostedDetail | None = None
    quality: RowQuality | None = None
    monthly_cost_range: CostRange | None = None
    price_sources: list[PriceQuote] | None = Field(
        default=None, description="Both sources' prices, where they disagree by more than 5%")
    extended_context: bool = Field(
        default=False, description="Priced beyond the offering's stated context window, from a source's tier")


class PriceCatalogSource(ContractModel):
    name: str
    version: str
    as_of: str
    role: str = Field(description="primary, or cross_check")
    url: str | None = None


class CatalogInfo(ContractModel):
    offerings_total: int
    offerings_considered: int
    providers: int
    source: str
    as_of: str
    url: str | None = None
    built_on: str | None = Field(default=None, description="When the catalog was built; as_of is its oldest source")
    sources: list[PriceCatalogSource] = Field(default_factory=list)
    snapshot: str | None = Field(default=None, description="bundled, or the refreshed snapshot that was loaded")


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
