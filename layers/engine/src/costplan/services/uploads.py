"""POST /api/v1/uploads: where an upload goes, how big it may be and for how long, and its presigned PUT.

The request is already checked by the contract (purpose, content type, file name, size, upload id). Here the file
gets its key, ``<purpose's folder><upload_id>/<filename>`` (costplan_contracts.uploads.UPLOAD_PREFIXES), and the
signer presigns a PUT of exactly that type and length, valid for UPLOAD_URL_EXPIRY_SECONDS. Why invoice uploads sit
under ``invoices/uploads/`` (one analysis per upload, not one per file): costplan_contracts.uploads.

This module never imports boto3 or an adapter: the signer arrives as an :class:`UploadSigner`
(costplan.adapters.storage.S3UploadSigner in AWS; None where no bucket is configured, ``make run``).
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from costplan.services.errors import FieldError, NotConfigured
from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES, UPLOAD_URL_EXPIRY_SECONDS
from costplan_contracts.enums import ErrorCode, UploadPurpose
from costplan_contracts.uploads import PUT, UPLOAD_MAX_BYTES, UPLOAD_PREFIXES, UploadRequest, UploadResponse

NOT_CONFIGURED = "Uploads need a deployment: this server has no upload bucket"
FALLBACK = {
    UploadPurpose.INVOICE: (f"no S3 bucket to sign for (make run); send the file as the invoice/analyze body instead "
                            f"(text/csv, gzip or Parquet, up to {INVOICE_BODY_MAX_BYTES} bytes), or analyse it with "
                            "the local client, which reads it directly"),
    UploadPurpose.REQUEST: "no S3 bucket to sign for (make run); send the request to POST /api/v1/report/generate",
}


@dataclass(frozen=True)
class PresignedPut:
    url: str
    headers: dict[str, str]  # every header the PUT must carry as given (each one signed)
    signed_at: dt.datetime  # the signature's date (UTC): the URL expires expires_s after it


class UploadSigner(Protocol):
    bucket: str

    def presign_put(self, key: str, content_type: str, size_bytes: int, expires_s: int) -> PresignedPut: ...


def new_upload_id() -> str:
    """128 random bits: an upload's folder cannot be guessed, and two uploads never share one."""
    return uuid.uuid4().hex


def upload_folder(purpose: UploadPurpose, upload_id: str) -> str:
    return f"{UPLOAD_PREFIXES[purpose]}{upload_id}/"


def create_upload(req: UploadRequest, signer: UploadSigner | None,
                  new_id: Callable[[], str] = new_upload_id) -> UploadResponse:
    """The presigned PUT for one file. Raises NotConfigured (409 UPLOADS_NOT_CONFIGURED) without a signer."""
    if signer is None:
        raise NotConfigured(ErrorCode.UPLOADS_NOT_CONFIGURED, NOT_CONFIGURED,
                            [FieldError("purpose", FALLBACK[req.purpose])])
    upload_id = req.upload_id or new_id()
    folder = upload_folder(req.purpose, upload_id)
    key = folder + req.filename
    put = signer.presign_put(key, req.content_type.value, req.size_bytes, UPLOAD_URL_EXPIRY_SECONDS)
    return UploadResponse(
        upload_id=upload_id, purpose=req.purpose, method=PUT, url=put.url, headers=put.headers, key=key,
        s3_uri=f"s3://{signer.bucket}/{key}", s3_prefix=f"s3://{signer.bucket}/{folder}",
        expires_at=put.signed_at + dt.timedelta(seconds=UPLOAD_URL_EXPIRY_SECONDS),
        expires_in_s=UPLOAD_URL_EXPIRY_SECONDS, max_bytes=UPLOAD_MAX_BYTES[req.purpose], warnings=[])
