"""The plan domain's values: what a plan request means, frozen, built once at the service entry.

``plan_of`` (POST /plan/llm) and ``workload_of`` (shared with insights/quality-price) are the only places that read
a pydantic request of the plan domain; below them every function takes these records. When a contract field
is renamed, the one line that reads it here changes, and nothing below.

Attribute names follow the plan/llm contract where the concept is the same, so a reader of the contract
recognises them. Enums (``costplan_contracts.enums``) are plain ``str`` enums, kept as they are.

The values are ``typing.NamedTuple`` records: immutable and hashable like a frozen dataclass, and about seven
times cheaper to define at import (a frozen dataclass costs about a millisecond per class at cold start).
"""

from typing import TYPE_CHECKING, NamedTuple

from costplan.core.ranking import Workload as Volumes
from costplan_contracts import bounds as B
from costplan_contracts.enums import Deployment, Objective, PricingModel, PricingUnit, WorkloadProfile

if TYPE_CHECKING:  # the contracts this module reads (plan/llm's entry has them loaded; insights' is not needed)
    from costplan_contracts.insights import InsightsWorkload
    from costplan_contracts.plan_llm import PlanLlmRequest
    from costplan_contracts.plan_llm import Workload as PlanWorkload
    from costplan_contracts.plan_scaling import PlanScalingRequest


class ContextShare(NamedTuple):
    """The share of traffic above one prompt-length threshold (each share optional)."""

    above_tokens: int
    input_token_share: float | None = None
    output_token_share: float | None = None
    request_share: float | None = None


class Workload(NamedTuple):
    """A month of LLM traffic: volumes, and what is known of its request shape."""

    input_tokens_per_month: float
    output_tokens_per_month: float
    cached_input_share: float = 0.0
    requests_per_month: float | None = None
    avg_input_tokens_per_request: float | None = None
    avg_output_tokens_per_request: float | None = None
    max_context_tokens: int | None = None
    peak_to_average_ratio: float = B.PEAK_TO_AVERAGE_DEFAULT
    context_shares: tuple[ContextShare, ...] = ()

    @property
    def cached_input_tokens(self) -> float:
        return self.input_tokens_per_month * self.cached_input_share

    @property
    def total_tokens(self) -> float:
        return self.input_tokens_per_month + self.output_tokens_per_month

    def volumes(self) -> Volumes:
        """The token and request volumes the cost kernel (``rank_configs``) prices."""
        cached = self.cached_input_tokens
        return Volumes(uncached_input_tokens=self.input_tokens_per_month - cached,
                       output_tokens=self.output_tokens_per_month, cached_input_tokens=cached,
                       requests=self.requests_per_month if self.requests_per_month is not None else float("nan"))


class Constraints(NamedTuple):
    """What a plan must respect (the budget, the providers, the unit, the window, the price age)."""

    monthly_budget_usd: float | None = None
    providers: tuple[str, ...] | None = None
    exclude_providers: tuple[str, ...] = ()
    pricing_unit: PricingUnit = PricingUnit.PER_1M_TOKENS
    min_context_window: int | None = None
    include_deprecated: bool = False
    max_price_age_days: int = B.MAX_PRICE_AGE_DAYS_DEFAULT


class Slo(NamedTuple):
    ttft_ms: float | None = None
    tpot_ms: float | None = None


class Measurement(NamedTuple):
    """A caller's own load-test result for one self-hosted configuration."""

    instance_type: str
    precision: str
    gpus_per_replica: int | None
    output_tokens_per_s: float


class SelfHosted(NamedTuple):
    precisions: tuple[str, ...]
    pricing_model: PricingModel
    target_utilisation: float
    instance_types: tuple[str, ...] | None = None
    measured_throughput: tuple[Measurement, ...] = ()


class LlmPlan(NamedTuple):
    """POST /plan/llm as domain values."""

    workload: Workload
    constraints: Constraints
    top_k: int
    deployment: Deployment
    slo: Slo
    self_hosted: SelfHosted
    model: str | None = None
    workload_profile: WorkloadProfile | None = None
    min_quality: float | None = None
    objective: Objective = Objective.MIN_COST
    balance_weight: float = 0.5
    min_quality_coverage: float = B.QUALITY_COVERAGE_DEFAULT


class ScalingPlan(NamedTuple):
    """POST /plan/scaling as domain values: one open-weight model, a request shape and a load to serve."""

    model: str
    avg_input_tokens_per_request: float
    avg_output_tokens_per_request: float
    avg_requests_per_second: float
    peak_requests_per_second: float
    min_requests_per_second: float | None
    slo: Slo
    precisions: tuple[str, ...]
    pricing_model: PricingModel
    target_utilisation: float
    instance_types: tuple[str, ...] | None = None
    measured_throughput: tuple[Measurement, ...] = ()
    top_k: int = B.TOP_K_DEFAULT


def _tuple(values) -> tuple | None:
    return None if values is None else tuple(values)


def workload_of(w: "PlanWorkload | InsightsWorkload") -> Workload:
    """The one Workload builder, for plan/llm's ``workload`` and insights' (which states volumes only)."""
    shares = getattr(w, "context_shares", None) or ()
    return Workload(
        input_tokens_per_month=w.input_tokens_per_month,
        output_tokens_per_month=w.output_tokens_per_month,
        cached_input_share=w.cached_input_share,
        requests_per_month=getattr(w, "requests_per_month", None),
        avg_input_tokens_per_request=getattr(w, "avg_input_tokens_per_request", None),
        avg_output_tokens_per_request=getattr(w, "avg_output_tokens_per_request", None),
        max_context_tokens=getattr(w, "max_context_tokens", None),
        peak_to_average_ratio=getattr(w, "peak_to_average_ratio", B.PEAK_TO_AVERAGE_DEFAULT),
        context_shares=tuple(ContextShare(c.above_tokens, c.input_token_share, c.output_token_share, c.request_share)
                             for c in shares),
    )


def plan_of(req: "PlanLlmRequest") -> LlmPlan:
    """POST /plan/llm's request (``PlanLlmRequest``, validated) as an ``LlmPlan``: the one place that reads it."""
    c, sh = req.constraints, req.self_hosted
    return LlmPlan(
        workload=workload_of(req.workload),
        constraints=Constraints(
            monthly_budget_usd=c.monthly_budget_usd, providers=_tuple(c.providers),
            exclude_providers=tuple(c.exclude_providers), pricing_unit=c.pricing_unit,
            min_context_window=c.min_context_window, include_deprecated=c.include_deprecated,
            max_price_age_days=c.max_price_age_days),
        top_k=req.top_k, deployment=req.deployment, slo=Slo(req.slo.ttft_ms, req.slo.tpot_ms),
        self_hosted=SelfHosted(
            precisions=tuple(p.value for p in sh.precisions), pricing_model=sh.pricing_model,
            target_utilisation=sh.target_utilisation, instance_types=_tuple(sh.instance_types),
            measured_throughput=_measurements(sh.measured_throughput)),
        model=req.model, workload_profile=req.workload_profile, min_quality=req.min_quality,
        objective=req.objective, balance_weight=req.balance_weight, min_quality_coverage=req.min_quality_coverage,
    )


def _measurements(measured) -> tuple[Measurement, ...]:
    return tuple(Measurement(m.instance_type, m.precision.value, m.gpus_per_replica, m.output_tokens_per_s)
                 for m in measured)


def scaling_of(req: "PlanScalingRequest") -> ScalingPlan:
    """POST /plan/scaling's request (validated) as a ``ScalingPlan``: the one place that reads it."""
    return ScalingPlan(
        model=req.model, avg_input_tokens_per_request=req.avg_input_tokens_per_request,
        avg_output_tokens_per_request=req.avg_output_tokens_per_request,
        avg_requests_per_second=req.avg_requests_per_second, peak_requests_per_second=req.peak_requests_per_second,
        min_requests_per_second=req.min_requests_per_second, slo=Slo(req.slo.ttft_ms, req.slo.tpot_ms),
        precisions=tuple(p.value for p in req.precisions), pricing_model=req.pricing_model,
        target_utilisation=req.target_utilisation, instance_types=_tuple(req.instance_types),
        measured_throughput=_measurements(req.measured_throughput), top_k=req.top_k,
    )
