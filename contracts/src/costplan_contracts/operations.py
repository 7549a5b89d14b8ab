"""Every operation's JSON request body model, by route: what GET /api/v1/meta/bounds walks for its field bounds.

A test (tests/contract/test_bounds.py) checks this against every operation of contracts/openapi.json, so an
endpoint cannot be added without its bounds being published."""

from pydantic import BaseModel

from costplan_contracts.assist import AssistExplainRequest, AssistWorkloadRequest
from costplan_contracts.copilot import CopilotRequest
from costplan_contracts.insights import QualityPriceRequest
from costplan_contracts.invoice import AnalyzeRequest, SimulateRequest
from costplan_contracts.plan_llm import PlanLlmRequest
from costplan_contracts.plan_scaling import PlanScalingRequest
from costplan_contracts.plan_training import PlanTrainingRequest
from costplan_contracts.rank_catalog import RankCatalogRequest
from costplan_contracts.report import ReportRequest
from costplan_contracts.uploads import UploadRequest

REQUEST_BODIES: dict[str, type[BaseModel]] = {
    "/api/v1/plan/llm": PlanLlmRequest,
    "/api/v1/plan/scaling": PlanScalingRequest,
    "/api/v1/plan/training": PlanTrainingRequest,
    "/api/v1/rank/catalog": RankCatalogRequest,
    "/api/v1/insights/quality-price": QualityPriceRequest,
    "/api/v1/invoice/analyze": AnalyzeRequest,
    "/api/v1/invoice/simulate": SimulateRequest,
    "/api/v1/report/generate": ReportRequest,
    "/api/v1/assist/workload": AssistWorkloadRequest,
    "/api/v1/assist/explain": AssistExplainRequest,
    "/api/v1/copilot": CopilotRequest,
    "/api/v1/uploads": UploadRequest,
}
