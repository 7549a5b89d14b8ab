"""meta: the request bounds, read from the contracts so the UI and the API cannot disagree."""

from costplan_contracts import bounds as B
from costplan_contracts.enums import PricingUnit
from costplan_contracts.meta import BoundsResponse, NumericBound


def bounds() -> BoundsResponse:
    tokens = NumericBound(min=0, max=B.TOKENS_PER_MONTH_MAX)
    return BoundsResponse(
        input_tokens_per_month=tokens,
        output_tokens_per_month=tokens,
        cached_input_share=NumericBound(min=0, max=1, default=0),
        requests_per_month=NumericBound(min=0, max=B.REQUESTS_PER_MONTH_MAX),
        max_context_tokens=NumericBound(min=1, max=B.CONTEXT_TOKENS_MAX),
        monthly_budget_usd=NumericBound(min=0, max=B.BUDGET_USD_MAX),
        min_context_window=NumericBound(min=1, max=B.CONTEXT_TOKENS_MAX),
        top_k=NumericBound(min=B.TOP_K_MIN, max=B.TOP_K_MAX, default=B.TOP_K_DEFAULT),
        providers_max_items=B.PROVIDER_LIST_MAX,
        request_body_max_bytes=B.REQUEST_BODY_MAX_BYTES,
        pricing_units=list(PricingUnit),
    )
