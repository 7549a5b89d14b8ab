"""Shapes shared by every endpoint: warnings, provenance, the error envelope."""

from pydantic import BaseModel, ConfigDict, Field

from costplan_contracts.enums import ErrorCode, Severity, WarningCode


class ContractModel(BaseModel):
    # NaN and infinities are refused in requests and can never reach a response: no price is ever "NaN".
    model_config = ConfigDict(extra="forbid", use_enum_values=False, allow_inf_nan=False)


class Warning(ContractModel):
    code: WarningCode
    severity: Severity
    field: str | None = Field(description="Dotted path of the request field the warning concerns")
    message: str
    action: str = Field(description="What the caller can do about it")


class Provenance(ContractModel):
    source: str = Field(description="Where the figure comes from, e.g. 'genai-prices 0.2.3'")
    as_of: str = Field(description="ISO date the figure was taken from its source")
    url: str | None = Field(default=None, description="Public page the figure can be checked against")


class ErrorDetail(ContractModel):
    field: str
    reason: str


class ErrorBody(ContractModel):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] = []


class ErrorEnvelope(ContractModel):
    error: ErrorBody
    correlation_id: str
