"""POST /api/v1/invoice/analyze and POST /api/v1/invoice/simulate."""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from costplan_contracts.common import ContractModel, Provenance, Warning
from costplan_contracts.enums import (
    ChargeCategory,
    Confidence,
    FindingType,
    InvoiceFormat,
    PricingModel,
    ScenarioAction,
    UsageKind,
)

Text = Annotated[str, Field(max_length=500)]


class LineItem(ContractModel):
    """CostPlan's own JSON line-item contract (format ``line_items``)."""

    provider: Text
    service: Text = ""
    model: Text | None = Field(default=None, description="Model id, or instance type for GPU hours")
    usage_kind: UsageKind
    quantity: float
    unit: Text = ""
    billed_cost: float
    effective_cost: float | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    charge_category: ChargeCategory = ChargeCategory.USAGE
    period_start: dt.date
    period_end: dt.date | None = None


class CostExplorerQuery(ContractModel):
    start: dt.date
    end: dt.date
    services: list[str] = Field(default_factory=lambda: ["Amazon Bedrock", "Amazon SageMaker",
                                                         "Amazon Elastic Compute Cloud - Compute"])


class InvoiceInput(ContractModel):
    format: InvoiceFormat
    csv: str | None = Field(default=None, description="FOCUS or CUR 2.0 CSV text")
    focus_version: Literal["1.0", "1.1", "1.2"] | None = Field(
        default=None, description="FOCUS version to enforce; default: the newest whose mandatory columns are present")
    data: Any = Field(default=None, description="The OpenAI usage/costs export (JSON) or a list of line items")
    cost_explorer: CostExplorerQuery | None = None

    @model_validator(mode="after")
    def _payload(self) -> "InvoiceInput":
        need = {InvoiceFormat.FOCUS: "csv", InvoiceFormat.CUR: "csv", InvoiceFormat.OPENAI: "data",
                InvoiceFormat.LINE_ITEMS: "data", InvoiceFormat.COST_EXPLORER: "cost_explorer"}[self.format]
        if getattr(self, need) is None:
            raise ValueError(f"format {self.format.value} needs invoice.{need}")
        return self


class AnalyzeRequest(ContractModel):
    invoice: InvoiceInput


class RowError(ContractModel):
    row: int = Field(description="1-based data row (the header is row 0)")
    column: str
    reason: str


class Reconciliation(ContractModel):
    input_rows: int
    recognised_rows: int
    unrecognised_rows: int
    rejected_rows: int
    input_billed_cost_total: dict[str, float] = Field(description="Per currency: the BilledCost sum of every row "
                                                                   "whose BilledCost parsed")
    recognised_billed_cost: dict[str, float]
    unrecognised_billed_cost: dict[str, float]
    rejected_billed_cost: dict[str, float] = Field(description="Rejected rows whose BilledCost still parsed")
    rejected_rows_without_cost: int = Field(description="Rejected rows whose BilledCost itself did not parse")
    credits_and_adjustments_billed_cost: dict[str, float] = Field(
        description="Credits, refunds and adjustments: kept apart, included in the totals above, never netted into usage")


class SpendGroup(ContractModel):
    key: str
    currency: str
    billed_cost: float
    effective_cost: float
    lines: int
    quantity: float | None = None
    unit: str | None = None


class Breakdowns(ContractModel):
    by_provider: list[SpendGroup]
    by_model: list[SpendGroup]
    by_usage_kind: list[SpendGroup]
    by_period: list[SpendGroup]
    by_charge_category: list[SpendGroup]


class Evidence(ContractModel):
    rows: list[int] = Field(description="Invoice rows behind the finding (first 20)")
    provider: str
    model: str
    usage_kind: UsageKind | None
    quantity: float
    observed_unit_price: float | None
    catalog_unit_price: float | None
    unit: str
    catalog_provenance: Provenance | None


class Finding(ContractModel):
    type: FindingType
    title: str
    evidence: Evidence
    estimated_monthly_savings_usd: float


class Opportunity(ContractModel):
    finding_type: FindingType
    title: str
    estimated_monthly_savings_usd: float
    remediation_steps: list[str]
    confidence: Confidence
    assumptions: list[str]


class LineGroup(ContractModel):
    """Recognised usage, summed per provider, model (or instance type), usage kind and currency."""

    provider: str
    model: str
    usage_kind: UsageKind
    currency: str
    quantity: float
    billed_cost: float
    effective_cost: float
    rows: int
    batch: bool


class AnalyzeResponse(ContractModel):
    format: InvoiceFormat
    focus_version: str | None
    currencies: list[str]
    months: int = Field(description="Distinct billing months of usage; monthly figures divide by it")
    line_groups: list[LineGroup]
    reconciliation: Reconciliation
    breakdowns: Breakdowns
    findings: list[Finding]
    opportunities: list[Opportunity]
    row_errors: list[RowError]
    row_errors_total: int
    warnings: list[Warning]


class Scenario(ContractModel):
    action: ScenarioAction
    from_provider: str | None = Field(default=None, alias="from", description="switch_provider / switch_model: from")
    to: str | None = Field(default=None, description="switch_provider / switch_model: to")
    share: float | None = Field(default=None, ge=0, le=1)
    rate: float | None = Field(default=None, ge=0, le=1, description="cache_hit_rate")
    pct: float | None = Field(default=None, ge=-100, le=10_000, description="volume_growth, commitment (0..100)")
    term: Literal["1y"] | None = None
    pricing_model: PricingModel | None = None
    model: str | None = Field(default=None, description="move_to_self_hosted: the model group to move")
    instance_type: str | None = None
    avg_input_tokens: float | None = Field(default=None, gt=0)
    avg_output_tokens: float | None = Field(default=None, gt=0)

    model_config = {"extra": "forbid", "populate_by_name": True}


class SimulateRequest(ContractModel):
    invoice: InvoiceInput | None = None
    analysis: AnalyzeResponse | None = Field(default=None, description="A result from /invoice/analyze instead")
    scenarios: list[Scenario] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _one_source(self) -> "SimulateRequest":
        if (self.invoice is None) == (self.analysis is None):
            raise ValueError("give exactly one of invoice and analysis")
        return self


class GroupDelta(ContractModel):
    key: str
    currency: str
    baseline_monthly: float
    scenario_monthly: float
    delta: float


class ScenarioStep(ContractModel):
    action: ScenarioAction
    applied: bool
    delta: float
    note: str


class SimulateResponse(ContractModel):
    scenario_id: str
    currency: str
    baseline_monthly: float
    scenario_monthly: float
    delta: float
    delta_pct: float | None
    steps: list[ScenarioStep]
    groups: list[GroupDelta]
    warnings: list[Warning]
