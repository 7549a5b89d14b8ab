"""A local billing export (one file, or every file of an export folder) into an invoice analysis.

- One file that fits a request body goes as the body itself (text/csv, gzip-encoded CSV or Parquet) and is
  answered at once with the AnalyzeResponse, on every transport.
- Anything larger, or a folder, never passes through the API body:
  - http: each file gets a presigned S3 PUT from POST /api/v1/uploads (one upload_id for the folder), is PUT
    straight to S3, and POST /api/v1/invoice/analyze {"source": {"s3_prefix": ...}} starts the report job;
  - local: the files are placed where the in-process API's local store stands in for the report bucket
    (``<COSTPLAN_LOCAL_DIR>/invoices/uploads/<content hash>/``, hard links where possible), and the same analyze call
    names that prefix.
  A server without an upload bucket (``make run``) answers the upload request with 409 UPLOADS_NOT_CONFIGURED:
  the client then says so, and what to do, instead of sending a large body.
"""

import hashlib
import os
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

from costplan_client.client import as_model, body_of, parse
from costplan_client.errors import ApiError, CostPlanError, ErrorDetail
from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES
from costplan_contracts.enums import ErrorCode, UploadContentType, UploadPurpose
from costplan_contracts.invoice import CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE
from costplan_contracts.uploads import INVOICE_UPLOADS_PREFIX, UploadRequest, UploadResponse

UPLOADS_PATH = "/api/v1/uploads"
NOT_CONFIGURED = ErrorCode.UPLOADS_NOT_CONFIGURED.value  # the API's 409 where no upload bucket is configured
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+()-]")  # what an upload's file name may not hold (contracts' filename pattern)
LOCAL_BUCKET = "costplan-local"  # make run / local transport: s3://costplan-local/<key> is COSTPLAN_LOCAL_DIR/<key>
CHUNK = 1024 * 1024
# The suffixes the report worker reads from an export prefix (costplan.adapters.exports), and what they are.
SUFFIXES = {".csv.gz": UploadContentType.GZIP, ".csv": UploadContentType.CSV, ".parquet": UploadContentType.PARQUET}
UploadProgress = Callable[[int, int], None]  # (bytes sent so far, bytes in all)


def suffix_of(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in SUFFIXES if name.endswith(s)), None)


def export_files(path: Path) -> list[Path]:
    """The export's files: the file itself, or the folder's .parquet / .csv / .csv.gz files (recursively, sorted);
    a folder mixing formats, or holding none, is refused here with the reason."""
    if not path.exists():
        raise CostPlanError("VALIDATION_ERROR", "Request failed validation",
                            [ErrorDetail("path", f"{path} does not exist")])
    if path.is_file():
        if suffix_of(path) is None:
            raise CostPlanError("VALIDATION_ERROR", "Request failed validation",
                                [ErrorDetail("path", f"{path.name}: not a .csv, .csv.gz or .parquet file")])
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and suffix_of(p) is not None)
    if not files:
        raise CostPlanError("VALIDATION_ERROR", "Request failed validation",
                            [ErrorDetail("path", f"{path} holds no .csv, .csv.gz or .parquet file")])
    kinds = {"parquet" if suffix_of(p) == ".parquet" else "csv" for p in files}
    if len(kinds) > 1:
        raise CostPlanError("VALIDATION_ERROR", "Request failed validation",
                            [ErrorDetail("path", f"{path} mixes Parquet and CSV files; an export is one format")])
    return files


def body_bytes(path: Path) -> int:
    """What the file weighs as a request body after decoding: gzip counts its uncompressed size (the API's limit
    applies after decoding), Parquet its base64 size (API Gateway hands binary bodies to Lambda as base64)."""
    size = path.stat().st_size
    suffix = suffix_of(path)
    if suffix == ".parquet":
        return (size + 2) // 3 * 4
    if suffix == ".csv.gz" and size >= 4:
        with path.open("rb") as f:  # ISIZE: the uncompressed size mod 2**32, the gzip trailer's last 4 bytes
            f.seek(-4, os.SEEK_END)
            return max(size, struct.unpack("<I", f.read(4))[0])
    return size


def fits_body(path: Path, limit: int = INVOICE_BODY_MAX_BYTES) -> bool:
    return body_bytes(path) <= limit


def analyze_file_body(client, path: Path, *, invoice_format: str | None, focus_version: str | None):
    suffix = suffix_of(path)
    content_type = PARQUET_MEDIA_TYPE if suffix == ".parquet" else CSV_MEDIA_TYPE
    return client.invoice_analyze_body(path.read_bytes(), content_type, gzip=suffix == ".csv.gz",
                                       invoice_format=invoice_format, focus_version=focus_version)


def content_digest(files: list[Path], base: Path) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(base) if p != base else p.name).encode() + b"\0")
        with p.open("rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    return h.hexdigest()[:32]


def place_locally(local_dir: Path, files: list[Path], base: Path, progress: UploadProgress | None) -> str:
    """Local transport: the files under ``<local_dir>/invoices/uploads/<hash>/``; returns its s3:// prefix. The same
    content gets the same prefix, so the same report job (report ids are a hash of the request)."""
    prefix = f"{INVOICE_UPLOADS_PREFIX}{content_digest(files, base)}/"
    total, sent = sum(p.stat().st_size for p in files), 0
    for p in files:
        dest = local_dir / prefix / (p.relative_to(base) if p != base else Path(p.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            try:
                os.link(p, dest)
            except OSError:
                shutil.copyfile(p, dest)
        sent += p.stat().st_size
        if progress:
            progress(sent, total)
    return f"s3://{LOCAL_BUCKET}/{prefix}"


class _Reader:
    """A file for httpx's PUT body: its size gives Content-Length (S3 refuses chunked uploads); reads report progress."""

    def __init__(self, f, on_read: Callable[[int], None]) -> None:
        self._f, self._on_read = f, on_read

    def fileno(self) -> int:
        return self._f.fileno()

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._on_read(len(data))
        return data

    def __iter__(self):
        while chunk := self.read(CHUNK):
            yield chunk


def upload_names(files: list[Path], base: Path) -> list[str]:
    """One flat name per file (an upload folder has no sub-folders): the path below the export folder joined with
    '-' (BILLING_PERIOD=2026-10/part-0.parquet -> BILLING_PERIOD=2026-10-part-0.parquet), unsafe characters '_'."""
    names = [_UNSAFE.sub("_", "-".join(p.relative_to(base).parts if p != base else (p.name,))).lstrip("._=+()-")
             for p in files]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CostPlanError("VALIDATION_ERROR", "Request failed validation",
                            [ErrorDetail("path", f"two files would upload as {dupes[0]}; rename one")])
    return names


def upload(client, files: list[Path], base: Path, progress: UploadProgress | None) -> str:
    """http transport: a presigned PUT per file under one upload_id; returns the uploads' s3_prefix."""
    names = upload_names(files, base)
    total, sent = sum(p.stat().st_size for p in files), 0
    upload_id, prefix = None, None

    def on_read(n: int) -> None:
        nonlocal sent
        sent += n
        if progress:
            progress(min(sent, total), total)

    for p, name in zip(files, names, strict=True):
        ask = as_model(UploadRequest, {"purpose": UploadPurpose.INVOICE, "filename": name,
                                       "content_type": SUFFIXES[suffix_of(p)], "size_bytes": p.stat().st_size,
                                       **({"upload_id": upload_id} if upload_id else {})})
        try:
            grant = parse(UploadResponse, client.send("POST", UPLOADS_PATH, json=body_of(ask), idempotent=False).content)
        except ApiError as e:
            if e.code == NOT_CONFIGURED or e.status in (404, 405, 501):
                raise CostPlanError("UPLOADS_UNAVAILABLE", "this server takes no uploads (make run has no S3 bucket), "
                                    "and this export is a folder or larger than a request body",
                                    [ErrorDetail("path", "analyse it without --endpoint (the local transport reads "
                                                         "the files directly), or one file of at most "
                                                         f"{INVOICE_BODY_MAX_BYTES // (1024 * 1024)} MB")],
                                    status=e.status, correlation_id=e.correlation_id) from None
            raise
        upload_id, prefix = grant.upload_id, grant.s3_prefix
        client.notes.extend(f"{w.code.value} {w.field or ''}: {w.message}" for w in grant.warnings)
        with p.open("rb") as f:  # exactly the signed headers (Content-Type, Content-Length); never our credentials
            client.send(grant.method, grant.url, content=_Reader(f, on_read), headers=grant.headers,
                        idempotent=False, client=client._plain)
    return prefix


def analyze_export(client, path: Path, *, invoice_format: str | None = None, focus_version: str | None = None,
                   upload_progress: UploadProgress | None = None):
    """AnalyzeResponse (one file within the body limit) or a report Job (anything larger, or a folder)."""
    files = export_files(path)
    base = path if path.is_dir() else path.parent
    if len(files) == 1 and fits_body(files[0]):
        if upload_progress:
            upload_progress(0, files[0].stat().st_size)
        result = analyze_file_body(client, files[0], invoice_format=invoice_format, focus_version=focus_version)
        if upload_progress:
            upload_progress(files[0].stat().st_size, files[0].stat().st_size)
        return result
    if invoice_format not in (None, "focus", "cur"):
        raise CostPlanError("VALIDATION_ERROR", "Request failed validation",
                            [ErrorDetail("invoice_format", "an export in S3 is focus or cur; line_items only as a "
                                                           "single CSV body")])
    if client.local is not None:
        prefix = place_locally(client.local.local_dir(), files, base, upload_progress)
    else:
        prefix = upload(client, files, base, upload_progress)
    source = {"s3_prefix": prefix, **({"format": invoice_format} if invoice_format else {})}
    return client.invoice_analyze({"source": source})
