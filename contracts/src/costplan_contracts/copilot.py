"""POST /api/v1/copilot: plain language in, a replayable structured request and its result out."""

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Integer, Number, Warning
from costplan_contracts.enums import (
    CopilotBackend,
    CopilotIntent,
    Deployment,
    PricingModel,
    PricingUnit,
    ScenarioAction,
    TrainingMethod,
    UseCase,
    WorkloadProfile,
    WorkloadType,
)

COPILOT_MESSAGE_MAX = 2000  # characters; a longer message is refused (422), never truncated
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.MODEL_ID_MAX_LENGTH)]
Share = Annotated[Number, Field(ge=0, le=1)]
Amount = Annotated[Number, Field(ge=0, le=1e15)]


class CopilotSlots(ContractModel):
    """What the message (and the turns before it) said, in canonical units. Every field is optional; the
    copilot builds the endpoint's request from these and asks for the required ones that are missing."""

    use_case: UseCase | None = None
    workload_profile: WorkloadProfile | None = None
    model: Name | None = Field(default=None, description="Registry id of the model the message names")
    target_model: Name | None = Field(default=None, description="invoice what-if: the model traffic moves to")
    target_provider: Name | None = Field(default=None, description="invoice what-if: the provider traffic moves to")
    providers: list[Name] | None = Field(default=None, max_length=B.PROVIDER_LIST_MAX)
    exclude_providers: list[Name] | None = Field(default=None, max_length=B.PROVIDER_LIST_MAX)
    monthly_budget_usd: Amount | None = None
    monthly_spend_usd: Amount | None = Field(default=None, description="invoice what-if: what is spent today")
    input_tokens_per_month: Amount | None = None
    output_tokens_per_month: Amount | None = None
    tokens_per_month: Amount | None = Field(default=None, description="Input and output together, split unknown")
    output_share: Share | None = Field(default=None, description="Share of tokens that are output")
    cached_share: Share | None = None
    requests_per_month: Amount | None = None
    peak_requests_per_second: Amount | None = None
    daily_users: Amount | None = None
    avg_input_tokens: Amount | None = None
    avg_output_tokens: Amount | None = None
    ttft_ms: Amount | None = None
    tpot_ms: Amount | None = None
    max_context_tokens: Integer | None = Field(default=None, ge=1, le=B.CONTEXT_TOKENS_MAX)
    deployment: Deployment | None = None
    top_k: Integer | None = Field(default=None, ge=B.TOP_K_MIN, le=B.TOP_K_MAX)
    workload_type: WorkloadType | None = None
    quantity: Amount | None = Field(default=None, description="rank/catalog: how many per month, in quantity_unit")
    quantity_unit: PricingUnit | None = None
    training_method: TrainingMethod | None = None
    dataset_tokens: Amount | None = None
    epochs: Amount | None = None
    deadline_hours: Amount | None = None
    pricing_model: PricingModel | None = None
    scenario: ScenarioAction | None = None
    share: Share | None = Field(default=None, description="invoice what-if: the share that moves or is batched")
    cache_hit_rate: Share | None = None
    growth_pct: Number | None = Field(default=None, ge=-100, le=10_000)


class CopilotContext(ContractModel):
    """Everything the next turn needs: send it back unchanged with the next message. The server keeps no state."""

    intent: CopilotIntent | None = None
    slots: CopilotSlots = Field(default_factory=CopilotSlots)
    request: dict[str, Any] | None = Field(default=None, description="The last complete structured request")


class CopilotRequest(ContractModel):
    message: str = Field(min_length=1, max_length=COPILOT_MESSAGE_MAX)
    context: CopilotContext | None = Field(default=None, description="The context of the previous response")


class CopilotAssumption(ContractModel):
    field: str = Field(description="Dotted path in the structured request")
    value: Any = Field(description="The value used")
    source: str = Field(description="Why this value: a default of the endpoint, of the copilot, or a conversion")
    override: str = Field(description="How to state it instead")


class CopilotQuestion(ContractModel):
    slot: str = Field(description="The slot (or request field) that is missing or not understood")
    question: str
    examples: list[str] = Field(default_factory=list, description="Phrasings the parser understands")
    suggestions: list[str] = Field(default_factory=list, description="Closest registry names, best first")


class CopilotResponse(ContractModel):
    intent: CopilotIntent | None
    backend: CopilotBackend
    answer: str = Field(description="A short templated summary; plain text (escape it where it is embedded)")
    endpoint: str | None = Field(description="The route the structured request replays against")
    request: dict[str, Any] | None = Field(description="The structured request, exactly as the endpoint takes it")
    result: dict[str, Any] | None = Field(description="The endpoint's response to that request")
    assumptions: list[CopilotAssumption]
    questions: list[CopilotQuestion] = Field(description="Required slots that could not be filled; nothing was guessed")
    slots: CopilotSlots = Field(description="What was understood, after merging the context")
    context: CopilotContext
    warnings: list[Warning]
