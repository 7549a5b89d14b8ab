"""Shapes shared by every ranking endpoint: the fallback steps and the exclusions."""

from pydantic import Field

from costplan_contracts.common import ContractModel
from costplan_contracts.enums import FallbackStep, ReasonCode, StepStatus


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
