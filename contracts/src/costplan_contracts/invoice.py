"""POST /api/v1/invoice/analyze and POST /api/v1/invoice/simulate."""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

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
    quantity: Number
    unit: Text = ""
    billed_cost: Number
    effective_cost: Number | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "USD"
    charge_category: ChargeCategory = ChargeCategory.USAGE
    period_start: dt.date
    period_end: dt.date | None = None


# The services a Cost Explorer pull asks for by default: the ones the invoice classifier knows. The deployment's
# default allow-list (costplan.adapters.cost_explorer) is the same tuple, so a default request is never refused.
COST_EXPLORER_DEFAULT_SERVICES = ("Amazon Bedrock", "Amazon SageMaker", "Amazon Elastic Compute Cloud - Compute")


class CostExplorerQuery(ContractModel):
    start: dt.date
    end: dt.date
    services: list[str] = Field(default_factory=lambda: list(COST_EXPLORER_DEFAULT_SERVICES))


class InvoiceInput(ContractModel):
    format: InvoiceFormat
    csv: str | None = Field(default=None, description="FOCUS or CUR 2.0 CSV text")
    focus_version: Literal["1.0", "1.1", "1.2"] | None = Field(
        default=None, description="FOCUS version to enforce; default: the newest whose mandatory columns are present")
    data: Any = Field(default=None, description="The OpenAI usage/costs export (JSON) or a list of line items")
    cost_explorer: CostExplorerQuery | None = None
    parquet_base64: str | None = Field(
        default=None, description="FOCUS or CUR 2.0 as Parquet, base64-encoded (instead of csv); an "
                                  "application/vnd.apache.parquet body becomes this")

    @model_validator(mode="after")
    def _payload(self) -> "InvoiceInput":
        need = {InvoiceFormat.FOCUS: "csv", InvoiceFormat.CUR: "csv", InvoiceFormat.OPENAI: "data",
                InvoiceFormat.LINE_ITEMS: "data", InvoiceFormat.COST_EXPLORER: "cost_explorer"}[self.format]
        if need == "csv" and self.parquet_base64 is not None:
            if self.csv is not None:
                raise ValueError("give one of invoice.csv and invoice.parquet_base64")
            return self
        if getattr(self, need) is None:
            raise ValueError(f"format {self.format.value} needs invoice.{need}")
        return self


S3_PREFIX_MAX = 1024
# s3://bucket/key-prefix: a DNS-style bucket name, then letters, digits, space and _ . = / ! ( ) + , - only (Data
# Exports paths, BILLING_PERIOD=YYYY-MM); no quote that could end the Athena filter literal built from it.
S3_PREFIX_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9 _.=/!()+,-]*$"


class ExportSource(ContractModel):
    """A billing export already in S3, analysed as a report job (too large for a request body)."""

    s3_prefix: str = Field(max_length=S3_PREFIX_MAX, pattern=S3_PREFIX_PATTERN, description=(
        "s3://bucket/prefix/ of the export's files (an AWS Data Exports CUR 2.0 or FOCUS prefix: .parquet, .csv or "
        ".csv.gz, several files per billing period, with or without its Manifest.json). Allowed only under "
        "invoices/ in this deployment's report bucket, or under the export bucket and prefix the deployment "
        "configured (template parameters ExportBucketName/ExportPrefix; off by default)"))
    format: Literal[InvoiceFormat.FOCUS.value, InvoiceFormat.CUR.value] | None = Field(
        default=None, description="focus or cur; default: told from the columns (BilledCost means FOCUS)")

    @field_validator("s3_prefix")
    @classmethod
    def _no_parent_segments(cls, v: str) -> str:
        if any(part in ("", ".", "..") for part in v[len("s3://"):].split("/")[1:-1]):
            raise ValueError("s3_prefix must not hold empty, '.' or '..' segments")
        return v


class AnalyzeRequest(ContractModel):
    invoice: InvoiceInput | None = Field(default=None, description="The invoice itself (give this or source)")
    source: ExportSource | None = Field(default=None, description=(
        "An export in S3 instead of invoice: the call returns 202 with a report job (status_url) whose files "
        "hold the analysis"))

    @model_validator(mode="after")
    def _one_input(self) -> "AnalyzeRequest":
        if (self.invoice is None) == (self.source is None):
            raise ValueError("give exactly one of invoice and source")
        return self


CSV_MEDIA_TYPE = "text/csv"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
CsvFormat = Literal[InvoiceFormat.FOCUS.value, InvoiceFormat.CUR.value, InvoiceFormat.LINE_ITEMS.value]


class CsvQuery(ContractModel):
    """Query parameters of a text/csv body on POST /api/v1/invoice/analyze (the body is the export itself).

    A JSON body names its format in invoice.format; these parameters are read only with a text/csv body."""

    invoice_format: CsvFormat | None = Field(
        default=None, description="text/csv bodies: focus, cur or line_items (CostPlan line items as CSV columns); "
                                  "default: told from the header (a BilledCost column means FOCUS, otherwise CUR)")
    focus_version: Literal["1.0", "1.1", "1.2"] | None = Field(default=None,
                                                               description="text/csv bodies: FOCUS version to enforce")


class RowError(ContractModel):
    row: Integer = Field(description="1-based data row (the header is row 0)")
    column: str
    reason: str


class Reconciliation(ContractModel):
    input_rows: Integer
    recognised_rows: Integer
    unrecognised_rows: Integer
    rejected_rows: Integer
    input_billed_cost_total: dict[str, Number] = Field(description="Per currency: the BilledCost sum of every row "
                                                                   "whose BilledCost parsed")
    recognised_billed_cost: dict[str, Number]
    unrecognised_billed_cost: dict[str, Number]
    rejected_billed_cost: dict[str, Number] = Field(description="Rejected rows whose BilledCost still parsed")
    rejected_rows_without_cost: Integer = Field(description="Rejected rows whose BilledCost itself did not parse")
    credits_and_adjustments_billed_cost: dict[str, Number] = Field(
        description="Credits, refunds and adjustments: kept apart, included in the totals above, never netted into usage")


class SpendGroup(ContractModel):
    key: str
    currency: str
    billed_cost: Number
    effective_cost: Number
    lines: Integer
    quantity: Number | None = None
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
    quantity: Number
    observed_unit_price: Number | None
    catalog_unit_price: Number | None
    unit: str
    catalog_provenance: Provenance | None


class Finding(ContractModel):
    type: FindingType
    title: str
    evidence: Evidence
    estimated_monthly_savings_usd: Number


class Opportunity(ContractModel):
    finding_type: FindingType
    title: str
    estimated_monthly_savings_usd: Number
    remediation_steps: list[str]
    confidence: Confidence
    assumptions: list[str]


class LineGroup(ContractModel):
    """Recognised usage, summed per provider, model (or instance type), usage kind and currency."""

    provider: str
    model: str
    usage_kind: UsageKind
    currency: str
    quantity: Number
    billed_cost: Number
    effective_cost: Number
    rows: Integer
    batch: Boolean


UNRECOGNISED_GROUPS_MAX = 50


class UnrecognisedGroup(ContractModel):
    """Rows CostPlan could not price (no model or usage kind it knows), summed per what the invoice says they are."""

    provider: str
    service: str
    description: str = Field(description="The row's first non-empty model text (x_Model, SkuMeter, ChargeDescription...)")
    charge_category: str
    currency: str
    billed_cost: Number
    effective_cost: Number
    rows: Integer


class AnalyzeResponse(ContractModel):
    format: InvoiceFormat
    focus_version: str | None
    currencies: list[str]
    months: Integer = Field(description="Distinct billing months of usage; monthly figures divide by it")
    line_groups: list[LineGroup]
    reconciliation: Reconciliation
    breakdowns: Breakdowns
    findings: list[Finding]
    opportunities: list[Opportunity]
    row_errors: list[RowError]
    row_errors_total: Integer
    warnings: list[Warning]
    unrecognised: list[UnrecognisedGroup] = Field(
        default_factory=list, description=f"Unrecognised rows per provider, service and description, by billed cost "
                                          f"(the first {UNRECOGNISED_GROUPS_MAX}); totals in reconciliation")
    unrecognised_groups_total: Integer = Field(default=0, description="Unrecognised groups before the cap")


class Scenario(Aliased):
    renamed = (Renamed("avg_input_tokens", "avg_input_tokens_per_request"),
               Renamed("avg_output_tokens", "avg_output_tokens_per_request"))

    action: ScenarioAction
    from_provider: str | None = Field(default=None, alias="from", description="switch_provider / switch_model: from")
    to: str | None = Field(default=None, description="switch_provider / switch_model: to")
    share: Number | None = Field(default=None, ge=0, le=1)
    rate: Number | None = Field(default=None, ge=0, le=1, description="cache_hit_rate")
    pct: Number | None = Field(default=None, ge=-100, le=10_000, description="volume_growth, commitment (0..100)")
    term: Literal["1y"] | None = None
    pricing_model: PricingModel | None = None
    model: str | None = Field(default=None, description="move_to_self_hosted: the model group to move")
    instance_type: str | None = None
    avg_input_tokens_per_request: Number | None = Field(
        default=None, ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX, description="move_to_self_hosted")
    avg_output_tokens_per_request: Number | None = Field(
        default=None, ge=B.TOKENS_PER_REQUEST_MIN, le=B.CONTEXT_TOKENS_MAX, description="move_to_self_hosted")
    avg_input_tokens: Number | None = deprecated("avg_input_tokens_per_request", ge=B.TOKENS_PER_REQUEST_MIN,
                                                 le=B.CONTEXT_TOKENS_MAX)
    avg_output_tokens: Number | None = deprecated("avg_output_tokens_per_request", ge=B.TOKENS_PER_REQUEST_MIN,
                                                  le=B.CONTEXT_TOKENS_MAX)

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
