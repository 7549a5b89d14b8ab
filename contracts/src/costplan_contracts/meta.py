"""GET /api/v1/meta/bounds."""

from pydantic import BaseModel, Field

from costplan_contracts.enums import PricingUnit


class NumericBound(BaseModel):
    min: float
    max: float
    default: float | None = None


class FieldBounds(BaseModel):
    """One request field's limits, as JSON Schema names them; absent limits are null."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    min_length: int | None = Field(default=None, description="Characters, for a string")
    max_length: int | None = Field(default=None, description="Characters, for a string")
    min_items: int | None = Field(default=None, description="For a list")
    max_items: int | None = Field(default=None, description="For a list")
    min_properties: int | None = Field(default=None, description="Keys, for an object keyed by the caller")
    max_properties: int | None = Field(default=None, description="Keys, for an object keyed by the caller")


class BoundsResponse(BaseModel):
    input_tokens_per_month: NumericBound
    output_tokens_per_month: NumericBound
    cached_input_share: NumericBound
    requests_per_month: NumericBound
    max_context_tokens: NumericBound
    monthly_budget_usd: NumericBound
    min_context_window: NumericBound
    top_k: NumericBound
    providers_max_items: int
    request_body_max_bytes: int
    pricing_units: list[PricingUnit]
    operations: dict[str, dict[str, FieldBounds]] = Field(
        default_factory=dict,
        description="Every operation's bounded request fields, by route and dotted JSON path (list items as '[]', "
                    "dict values as '{}', dict keys as '{key}'); generated from the contracts' own field constraints, "
                    "so they are the limits validation enforces")

