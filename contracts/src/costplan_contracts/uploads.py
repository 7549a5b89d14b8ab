"""POST /api/v1/uploads: a presigned S3 PUT, so a large billing export or report request never passes through the API.

The flow, and why each accepted upload ends in exactly one analysis:

- ``purpose: invoice``: each data file of an export goes to ``invoices/uploads/<upload_id>/<filename>`` (ask once
  per file, passing the first answer's ``upload_id`` for the others), then ONE ``POST /api/v1/invoice/analyze``
  with ``{"source": {"s3_prefix": <s3_prefix>}}`` analyses them together (202, a report job). The bucket's drop
  notification on ``invoices/`` still fires for each file (S3 filters match prefixes and suffixes only and may
  not overlap, so no rule can leave a sub-folder out); the report worker acknowledges drops under
  ``invoices/uploads/`` without starting a job. A file put straight under ``invoices/`` elsewhere still starts
  its own job.
- ``purpose: request``: the report request (JSON) goes to ``requests/uploads/<upload_id>/<filename>`` and the
  drop itself starts its job, exactly as any request dropped under ``requests/``: the job's ``report_id`` is the
  one ``POST /api/v1/report/generate`` gives the same request; poll ``GET /api/v1/report/{report_id}``.

Where no bucket is configured (``make run``) the endpoint answers 409 ``UPLOADS_NOT_CONFIGURED``: send the file
as the request body instead (invoice/analyze takes text/csv, gzip and Parquet bodies up to 6 MB).
"""

import datetime as dt
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Integer, Warning
from costplan_contracts.enums import UploadContentType, UploadPurpose

# Where each purpose's uploads go in the report bucket (the worker ignores drops under INVOICE_UPLOADS_PREFIX).
UPLOAD_PREFIXES = {UploadPurpose.INVOICE: "invoices/uploads/", UploadPurpose.REQUEST: "requests/uploads/"}
INVOICE_UPLOADS_PREFIX = UPLOAD_PREFIXES[UploadPurpose.INVOICE]
UPLOAD_MAX_BYTES = {UploadPurpose.INVOICE: B.UPLOAD_INVOICE_MAX_BYTES, UploadPurpose.REQUEST: B.UPLOAD_REQUEST_MAX_BYTES}
CONTENT_TYPES = {
    UploadPurpose.INVOICE: (UploadContentType.CSV, UploadContentType.GZIP, UploadContentType.PARQUET,
                            UploadContentType.OCTET_STREAM),
    UploadPurpose.REQUEST: (UploadContentType.JSON,),
}
# The file name's ending must say the same as the content type: the worker tells an export file's format by it.
SUFFIXES = {
    UploadContentType.CSV: (".csv",),
    UploadContentType.GZIP: (".csv.gz", ".csv.gzip"),
    UploadContentType.PARQUET: (".parquet",),
    UploadContentType.OCTET_STREAM: (".parquet",),
    UploadContentType.JSON: (".json",),
}
PUT = "PUT"


class UploadRequest(ContractModel):
    purpose: UploadPurpose = Field(description=(
        "invoice: one data file of a billing export (analyse the folder with invoice/analyze source.s3_prefix); "
        "request: a report request as JSON (its upload starts the report job)"))
    content_type: UploadContentType = Field(description=(
        "The file's media type; the URL is signed for it and S3 refuses a PUT with any other. invoice: text/csv, "
        "application/gzip (.csv.gz), application/vnd.apache.parquet or application/octet-stream (.parquet); "
        "request: application/json"))
    filename: str = Field(min_length=1, max_length=B.UPLOAD_FILENAME_MAX, pattern=B.UPLOAD_FILENAME_PATTERN,
                          description=("The file's base name (letters, digits and . _ = + ( ) -; no folder), ending "
                                       "as its content type says: .csv, .csv.gz, .parquet or .json"))
    size_bytes: Integer = Field(ge=1, le=max(UPLOAD_MAX_BYTES.values()), description=(
        f"The file's exact size; the URL is signed for it (S3 refuses another length). At most "
        f"{B.UPLOAD_INVOICE_MAX_BYTES} for an invoice file, {B.UPLOAD_REQUEST_MAX_BYTES} for a request"))
    upload_id: str | None = Field(default=None, pattern=B.UPLOAD_ID_PATTERN, description=(
        "Another file of an upload already started (the upload_id an earlier answer gave): the files of one "
        "export folder share one s3_prefix. Omitted: a new upload with a fresh random id"))

    @field_validator("content_type")
    @classmethod
    def _type_fits_purpose(cls, v: UploadContentType, info: ValidationInfo) -> UploadContentType:
        purpose = info.data.get("purpose")
        if purpose is not None and v not in CONTENT_TYPES[purpose]:
            accepted = ", ".join(t.value for t in CONTENT_TYPES[purpose])
            extra = (" (a Data Exports manifest is not uploaded: its dataFiles name the original bucket; every data "
                     "file under the upload's prefix is read)") if purpose == UploadPurpose.INVOICE else ""
            raise ValueError(f"purpose {purpose.value} takes {accepted}{extra}")
        return v

    @field_validator("filename")
    @classmethod
    def _name_fits_type(cls, v: str, info: ValidationInfo) -> str:
        content_type = info.data.get("content_type")
        if content_type is not None and not v.lower().endswith(SUFFIXES[content_type]):
            raise ValueError(f"a {content_type.value} file name ends with " + " or ".join(SUFFIXES[content_type]))
        return v

    @field_validator("size_bytes")
    @classmethod
    def _size_fits_purpose(cls, v: int, info: ValidationInfo) -> int:
        purpose = info.data.get("purpose")
        if purpose is not None and v > UPLOAD_MAX_BYTES[purpose]:
            raise ValueError(f"purpose {purpose.value} takes at most {UPLOAD_MAX_BYTES[purpose]} bytes in one file")
        return v


class UploadResponse(ContractModel):
    upload_id: str = Field(description="Pass it with the next file of the same export folder")
    purpose: UploadPurpose
    method: Literal["PUT"] = Field(default=PUT, description="The HTTP method to send the file with")
    url: str = Field(description="The presigned S3 URL: PUT the file's bytes to it, before expires_at")
    headers: dict[str, str] = Field(description=(
        "Headers the PUT must carry exactly as given (each is signed: Content-Type and Content-Length)"))
    key: str = Field(description="The object key the file is stored at")
    s3_uri: str = Field(description="s3://bucket/key of the file")
    s3_prefix: str = Field(description=(
        "s3://bucket/<purpose's folder>/<upload_id>/: for an invoice upload, analyse every file put under it with "
        "POST /api/v1/invoice/analyze {\"source\": {\"s3_prefix\": ...}} once all PUTs have succeeded"))
    expires_at: dt.datetime = Field(description="The URL is refused from this instant on (UTC)")
    expires_in_s: int = Field(description="Seconds the URL is valid from signing")
    max_bytes: int = Field(description="The most this purpose accepts in one file")
    warnings: list[Warning] = Field(default_factory=list)
