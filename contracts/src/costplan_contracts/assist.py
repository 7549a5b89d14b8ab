"""POST /api/v1/assist/workload: a plan/llm workload from an application description."""

from pydantic import Field, model_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Integer, Number, Warning
from costplan_contracts.enums import SizeUnit, UseCase, WorkloadProfile
from costplan_contracts.plan_llm import PlanLlmRequest, Slo, Workload

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
