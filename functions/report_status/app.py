"""GET /api/v1/report/{report_id} and its files: job status, progress, download URLs, failure reason."""

from typing import Annotated

from fastapi import Path
from fastapi.responses import RedirectResponse, Response

from costplan.adapters.backends import AWS, mode, ports
from costplan.adapters.http import create_app, lambda_handler
from costplan.reports.render import CONTENT_TYPES
from costplan.services.reports.api import file_for, job_status
from costplan_contracts.bounds import REPORT_ID_LENGTH, REPORT_ID_PATTERN
from costplan_contracts.enums import ReportFormat
from costplan_contracts.report import ReportJob

app = create_app("report/status")
ReportId = Annotated[str, Path(pattern=REPORT_ID_PATTERN, min_length=REPORT_ID_LENGTH, max_length=REPORT_ID_LENGTH,
                               description="The report_id that POST /api/v1/report/generate returned")]


@app.get("/api/v1/report/{report_id}", response_model=ReportJob, tags=["report"], summary="Report job status")
async def get_report(report_id: ReportId) -> ReportJob:
    return job_status(report_id, ports())


@app.get("/api/v1/report/{report_id}/files/{format}", tags=["report"], summary="Download one report file",
         responses={200: {"description": "The file (local mode)"}, 307: {"description": "Presigned S3 URL (AWS mode)"}})
async def get_report_file(report_id: ReportId, format: ReportFormat):
    p = ports()
    key, _ = file_for(report_id, format, p)
    if mode() == AWS:
        return RedirectResponse(p.store.url(key), status_code=307)
    return Response(p.store.get(key), media_type=CONTENT_TYPES[format.value])


handler = lambda_handler(app)
