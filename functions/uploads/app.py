"""POST /api/v1/uploads: a presigned S3 PUT for one billing export file or report request, size-capped, pinned to its
content type and valid for minutes, so large files never pass through the API.

Invoice files go under invoices/uploads/<upload_id>/ and are analysed together by one invoice/analyze call with
source.s3_prefix; a report request under requests/uploads/<upload_id>/ starts its job when it lands. Without an
upload bucket (make run) the answer is 409 UPLOADS_NOT_CONFIGURED: send the file as a request body instead."""

from aws_lambda_powertools.metrics import MetricUnit

from costplan.adapters.backends import upload_signer
from costplan.adapters.http import create_app, lambda_handler
from costplan.adapters.observability import log_warnings, metrics
from costplan.services.uploads import create_upload
from costplan_contracts.common import ErrorEnvelope
from costplan_contracts.uploads import UploadRequest, UploadResponse

ROUTE = "/api/v1/uploads"
app = create_app("uploads")


@app.post(ROUTE, response_model=UploadResponse, tags=["uploads"], summary="Presign an S3 upload of an export file",
          responses={409: {"model": ErrorEnvelope, "description": (
              "UPLOADS_NOT_CONFIGURED: this server has no upload bucket (make run); send the file as the body")}})
async def post_upload(request: UploadRequest) -> UploadResponse:
    ticket = create_upload(request, upload_signer())  # never logged: the URL is a credential for minutes
    log_warnings(ROUTE, ticket.warnings)
    metrics.add_metric(name="UploadBytesPresigned", unit=MetricUnit.Bytes, value=request.size_bytes)
    return ticket


handler = lambda_handler(app)
