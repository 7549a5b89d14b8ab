"""POST /api/v1/report/generate: a report in json, csv, markdown and html, inline (sync) or as a job (async)."""

from fastapi.responses import JSONResponse

from costplan.adapters.backends import ports
from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings
from costplan.services.reports.api import generate
from costplan_contracts.report import ReportJob, ReportRequest

ROUTE = "/api/v1/report/generate"
app = create_app("report/generate")


@app.post(ROUTE, response_model=ReportJob, tags=["report"], summary="Generate a report (sync) or start a job (async)",
          responses={202: {"model": ReportJob, "description": "Async job accepted (or the existing job for this id)"}})
async def post_report(request: ReportRequest):
    job, accepted = generate(request, ports)
    log_warnings(ROUTE, job.warnings)
    return JSONResponse(job.model_dump(mode="json"), status_code=202 if accepted else 200)


handler = lambda_handler(app)
