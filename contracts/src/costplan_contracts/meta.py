"""GET /api/v1/meta/bounds."""

from pydantic import BaseModel

from costplan_contracts.enums import PricingUnit


class NumericBound(BaseModel):
    min: float
    max: float
    default: float | None = None


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
