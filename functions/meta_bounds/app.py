"""GET /api/v1/meta/bounds: the input bounds the UI validates against (the same ones the API enforces)."""

from costplan.adapters.http import create_app, lambda_handler
from costplan.services.meta import bounds
from costplan_contracts.meta import BoundsResponse

ROUTE = "/api/v1/meta/bounds"
app = create_app("meta/bounds")


@app.get(ROUTE, response_model=BoundsResponse, tags=["meta"], summary="Request bounds used by validation and the UI")
async def get_bounds() -> BoundsResponse:
    return bounds()


handler = lambda_handler(app)
