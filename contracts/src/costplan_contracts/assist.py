"""POST /api/v1/assist/workload (a plan/llm workload from an application description) and POST /api/v1/assist/explain
(why a ranking came out as it did: the winner's margin, exclusions, relaxations, exact break-evens)."""

from pydantic import Field, model_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Integer, Number, Warning
from costplan_contracts.enums import (
    BreakEvenStatus,
    BreakEvenVariable,
    ConstraintKind,
    ExplainKind,
    ReasonCode,
    SizeUnit,
    UseCase,
    WorkloadProfile,
)
from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse, Slo, Workload
from costplan_contracts.plan_scaling import PlanScalingRequest, PlanScalingResponse
from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

PER_SESSION_MAX = 1000  # turns per session, steps per turn, retained turns, retrieved chunks


class Size(ContractModel):
    """A content size, in tokens or in a unit the response converts (and says how)."""

    value: Number = Field(ge=0, le=B.CONTEXT_TOKENS_MAX)
    unit: SizeUnit = SizeUnit.TOKENS


class Scale(ContractModel):
    """How much traffic: daily active users (with sessions and turns), or a request rate. Give exactly one of
    daily_active_users, requests_per_second and requests_per_day."""

    daily_active_users: Number | None = Field(default=None, gt=0, le=1e10)
    sessions_per_user_per_day: Number | None = Field(default=None, gt=0, le=1000)
    turns_per_session: Integer | None = Field(default=None, ge=1, le=PER_SESSION_MAX)
    requests_per_second: Number | None = Field(
        default=None, ge=B.REQUESTS_PER_SECOND_MIN, le=1e6, description="Model calls per second, averaged over the month")
    requests_per_day: Number | None = Field(default=None, gt=0, le=1e11, description="Model calls per day")

    @model_validator(mode="after")
    def _one_rate(self) -> "Scale":
        given = [n for n in ("daily_active_users", "requests_per_second", "requests_per_day")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of daily_active_users, requests_per_second and requests_per_day"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self


class Content(ContractModel):
    """Typical sizes of one request's parts; each unstated one comes from the use case's cited defaults."""

    system_prompt: Size | None = Field(default=None, description="Instructions (and tool definitions) sent every call")
    prompt: Size | None = Field(default=None, description="The user's message")
    context: Size | None = Field(default=None, description="A document or code attached to each request")
    answer: Size | None = Field(default=None, description="The model's answer (per step for an agent)")


class Rag(ContractModel):
    chunks: Integer | None = Field(default=None, ge=0, le=PER_SESSION_MAX, description="Retrieved chunks per request")
    chunk_size: Size | None = None


class History(ContractModel):
    retained_turns: Integer | None = Field(
        default=None, ge=0, le=PER_SESSION_MAX,
        description="Earlier turns resent with each request (0: none; at least turns_per_session: all)")


class Agent(ContractModel):
    steps_per_turn: Integer | None = Field(default=None, ge=1, le=PER_SESSION_MAX,
                                           description="Model calls per user turn (plan, tool calls, answer)")
    tool_result: Size | None = Field(default=None, description="Tokens each tool result appends to the trajectory")


class Conversions(ContractModel):
    tokens_per_word: Number | None = Field(default=None, gt=0, le=100)
    characters_per_token: Number | None = Field(default=None, gt=0, le=100)
    words_per_page: Number | None = Field(default=None, gt=0, le=10_000)


class Growth(ContractModel):
    monthly_rate: Number = Field(ge=-0.99, le=10, description="Compound growth per month (0.1 = +10%/month)")
    horizon_months: Integer = Field(default=12, ge=1, le=120, description="The month to project to (month 1 is now)")


class AssistWorkloadRequest(ContractModel):
    use_case: UseCase
    scale: Scale
    content: Content = Field(default_factory=Content)
    rag: Rag = Field(default_factory=Rag)
    history: History = Field(default_factory=History)
    agent: Agent = Field(default_factory=Agent)
    conversions: Conversions = Field(default_factory=Conversions)
    growth: Growth | None = None
    peak_to_average_ratio: Number | None = Field(default=None, ge=1, le=100)
    cached_input_share: Number | None = Field(
        default=None, ge=0, le=1, description="Overrides the share modelled from repeated prompt prefixes")
    workload_profile: WorkloadProfile | None = Field(default=None, description="Overrides the use case's profile")
    slo: Slo | None = Field(default=None, description="Overrides the use case's suggested SLO")


class Assumption(ContractModel):
    name: str
    value: float | None = Field(description="null: not applicable (e.g. all history kept, no latency target)")
    unit: str
    stated: bool = Field(description="True when the request stated it; false when it is the use case's default")
    low: float | None = Field(description="The low end the volume range uses (equal to value when stated)")
    high: float | None
    source: str = Field(description="Where the value comes from: the cited statement, 'request', or 'assumption'")
    note: str = Field(description="What the value stands for, or why it was chosen")
    url: str | None = None
    as_of: str | None = None
    override: str = Field(description="Dotted request field that sets it")


class Volumes(ContractModel):
    input_tokens_per_month: float
    output_tokens_per_month: float
    requests_per_month: float


class VolumeRange(ContractModel):
    """Every unstated figure at its low end, then at its high end (stated figures are exact)."""

    low: Volumes
    high: Volumes


class GrowthProjection(ContractModel):
    monthly_rate: float
    horizon_months: int
    multiplier: float = Field(description="(1 + monthly_rate) ^ (horizon_months - 1)")
    at_horizon: Volumes


class AssistWorkloadResponse(ContractModel):
    workload: Workload = Field(description="Post it to /api/v1/plan/llm as is (plan_llm_request holds it)")
    slo: Slo
    workload_profile: WorkloadProfile
    plan_llm_request: PlanLlmRequest = Field(description="workload, slo and workload_profile as a plan/llm request")
    range: VolumeRange
    growth: GrowthProjection | None
    assumptions: list[Assumption]
    derivation: list[str] = Field(description="Each step of the arithmetic, with its numbers")
    warnings: list[Warning]


MORE_OPTIONS_MAX = 20


class AssistExplainRequest(ContractModel):
    """One ranking to explain: its request (it is run again, so relaxations and break-evens can be checked), its
    result, or both (the request is run; the result is not needed). Give one kind only."""

    plan_llm: PlanLlmRequest | None = None
    rank_catalog: RankCatalogRequest | None = None
    plan_scaling: PlanScalingRequest | None = None
    plan_llm_result: PlanLlmResponse | None = None
    rank_catalog_result: RankCatalogResponse | None = None
    plan_scaling_result: PlanScalingResponse | None = None
    more_options: Integer = Field(default=1, ge=1, le=MORE_OPTIONS_MAX,
                                  description="Relaxations: the smallest change that admits this many more options")

    @model_validator(mode="after")
    def _one_kind(self) -> "AssistExplainRequest":
        kinds = {k for k in ("plan_llm", "rank_catalog", "plan_scaling")
                 if getattr(self, k) is not None or getattr(self, f"{k}_result") is not None}
        if len(kinds) != 1:
            raise ValueError("give one ranking to explain: plan_llm, rank_catalog or plan_scaling (a request, "
                             "its _result, or both)" + (f"; got {', '.join(sorted(kinds))}" if kinds else ""))
        return self

    @property
    def kind(self) -> ExplainKind:
        return next(k for k in ExplainKind if getattr(self, k.value) is not None
                    or getattr(self, f"{k.value}_result") is not None)


class RankedOption(ContractModel):
    rank: int
    label: str = Field(description="provider / model (or offering, or instance type)")
    monthly_cost_usd: float


class CostComponent(ContractModel):
    """One component of #1's and #2's monthly cost. Where a cost is a product (quantity x price, instances x hourly
    price) the components are the two effects that make up the difference: first_usd is 0, second_usd the effect."""

    name: str
    first_usd: float
    second_usd: float
    difference_usd: float = Field(description="second - first: what #1 saves on this component (negative: pays more)")


class Winner(ContractModel):
    first: RankedOption
    second: RankedOption | None
    margin_usd: float | None = Field(description="#2's monthly cost - #1's")
    components: list[CostComponent] = Field(description="The cost components, largest difference first")
    summary: str


class ExclusionDriver(ContractModel):
    reason: ReasonCode
    count: int
    share: float = Field(description="Of all exclusions")
    constraint: ConstraintKind | None = Field(description="The request constraint behind it, if any")
    explanation: str
    examples: list[str]


class Relaxation(ContractModel):
    constraint: ConstraintKind
    field: str = Field(description="The request field to change")
    current: float | list[str] | None
    proposed: float | list[str] | None
    admits: int = Field(description="More options admitted, checked by running the changed request")
    options: list[str] = Field(description="Those options (up to 10), cheapest first")
    change: str


class BreakEven(ContractModel):
    variable: BreakEvenVariable
    status: BreakEvenStatus
    current: float | None = Field(description="The variable's value in the request (volume: 1)")
    value: float | None = Field(description="Where #1 and #2 swap (found only)")
    first_cheaper: str | None = Field(description="'below' or 'above' the break-even: the side on which #1 stays first")
    first_cost_usd: float | None = Field(description="#1's monthly cost at the break-even, from the model run there")
    second_cost_usd: float | None
    checked: bool = Field(description="The request was run at the break-even and the two costs agree to the cent")
    explanation: str


class ConstraintSlack(ContractModel):
    constraint: ConstraintKind
    set: bool
    binding: bool = Field(description="It excludes options that would otherwise be admitted")
    excluded: int = Field(description="Options it alone excludes")
    slack: float | None = Field(description="How far #1 is from it (see unit)")
    unit: str | None
    cost_of_constraint_usd: float | None = Field(
        description="#1's cost minus the cheapest option with this constraint dropped (0: it costs nothing)")
    detail: str


class AssistExplainResponse(ContractModel):
    kind: ExplainKind
    ranked: int = Field(description="Rows in the ranking explained")
    winner: Winner | None
    exclusions: list[ExclusionDriver]
    relaxations: list[Relaxation]
    break_evens: list[BreakEven]
    constraints: list[ConstraintSlack]
    warnings: list[Warning]
