"""Shapes shared by every endpoint: warnings, provenance, the error envelope, and the strict scalar types."""

import numbers
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from costplan_contracts.enums import ErrorCode, Severity, WarningCode


def _integral(value):
    """JSON has one number type, and JSON Schema's "integer" is any number without a fraction: 5.0 is the integer 5.

    5.5, "5" and true are still refused (by the strict int that follows). NumPy integers, which the engine builds
    response models from, count as integers too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
        return int(value)
    return value


# Request numbers are JSON numbers: strings ("5") and booleans (true) are refused, never coerced. Enums, dates and
# strings keep their usual validation; only these scalars are strict. The JSON schema types are unchanged.
Number = Annotated[float, Strict()]
Integer = Annotated[int, Strict(), BeforeValidator(_integral)]
Boolean = Annotated[bool, Strict()]


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
