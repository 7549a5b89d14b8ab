"""Billing export listing and streaming reads: S3 (AWS Data Exports layout) or a local folder (``make run``).

An AWS Data Exports prefix (CUR 2.0, FOCUS) holds, per billing period::

    <prefix>/<export-name>/data/BILLING_PERIOD=YYYY-MM/<export-name>-00001.snappy.parquet   (or .csv.gz)
    <prefix>/<export-name>/metadata/BILLING_PERIOD=YYYY-MM/<export-name>-Manifest.json

The manifest's ``dataFiles`` names the files of the latest delivery (an overwritten or "create new"
export can leave older files beside them), so when manifests are present under the prefix only the
files they name are read; otherwise every data file (``.parquet``, ``.csv``, ``.csv.gz``) is. A row
count in the manifest (when the export writes one) becomes the listing's row estimate.

The reader opens the listing as one ``pyarrow.dataset`` over pyarrow's own S3 client: record batches
are fetched as the engine scans them, never the whole export in memory. CSV columns are read as text
(every file the same schema, an empty cell NULL as FOCUS reads it; the engine maps and casts them once).
The S3 filesystem is built on first use with the region and endpoint from the environment
(``AWS_REGION``/``AWS_DEFAULT_REGION``; ``COSTPLAN_ARROW_S3_ENDPOINT``, else ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL``), so nothing is captured at import time or in a SnapStart snapshot; credentials
come from the runtime's environment, as for boto3. A prefix that is one object (a file dropped under
``invoices/``) lists that object alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

from costplan.adapters.aws_errors import error_code
from costplan.services.invoice.export_ports import (
    EXPORT_EMPTY,
    EXPORT_MIXED_FORMATS,
    EXPORT_UNREADABLE,
    ExportError,
    ExportFileFormat,
    ExportListing,
    ExportObject,
)

MANIFEST_SUFFIX = "manifest.json"  # Data Exports: <export-name>-Manifest.json (matched case-insensitively)
ROW_COUNT_KEYS = ("numberOfRecords", "totalRowCount", "rowCount", "recordCount")  # whichever the manifest has
ENDPOINT_ENV = "COSTPLAN_ARROW_S3_ENDPOINT"  # pyarrow's S3 endpoint only (tests: a moto server; local: MinIO)
MAX_OBJECTS = 100_000  # an export prefix holding more files than this is refused, not listed for ever


def file_format_of(name: str) -> ExportFileFormat | None:
    """The data format told by a file name, or None for anything else (manifests, markers, Athena files)."""
    lower = name.lower()
    if lower.endswith(".parquet"):
        return ExportFileFormat.PARQUET
    if lower.endswith((".csv.gz", ".csv.gzip")):
        return ExportFileFormat.CSV_GZ
    if lower.endswith(".csv"):
        return ExportFileFormat.CSV
    return None


def split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ExportError(EXPORT_UNREADABLE, "not an s3:// URI")
    return parsed.netloc, parsed.path.lstrip("/")


def _row_estimate(manifests: list[dict]) -> int | None:
    counts = []
    for m in manifests:
        value = next((m[k] for k in ROW_COUNT_KEYS if isinstance(m.get(k), int) and m[k] >= 0), None)
        if value is None:
            return None  # one manifest without a count: no estimate rather than a low one
        counts.append(value)
    return sum(counts) if counts else None


def build_listing(uri_prefix: str, objects: Iterable[tuple[str, int]], manifests: list[dict]) -> ExportListing:
    """The listing from (uri, size) of every object under the prefix and the parsed manifests found there."""
    sizes = dict(objects)
    named = {uri for m in manifests for uri in m.get("dataFiles", []) if isinstance(uri, str)}
    if uri_prefix in sizes:  # the prefix is one file (a drop under invoices/): that file alone
        chosen, manifests = [uri_prefix], []
    elif manifests:
        chosen = sorted(uri for uri in named if uri in sizes)  # a named file not (yet) stored is skipped
    else:
        chosen = sorted(uri for uri in sizes if file_format_of(uri) is not None)
    if not chosen:
        raise ExportError(EXPORT_EMPTY, "no .parquet, .csv or .csv.gz data files under the prefix")
    formats = {file_format_of(uri) for uri in chosen}
    if None in formats or len(formats) != 1:
        raise ExportError(EXPORT_MIXED_FORMATS, "the prefix mixes data formats ("
                          + ", ".join(sorted(str(f) for f in formats)) + "); point at one export")
    files = tuple(ExportObject(uri=uri, size=sizes[uri]) for uri in chosen)
    return ExportListing(uri_prefix=uri_prefix, objects=files, total_bytes=sum(f.size for f in files),
                         file_format=formats.pop(), row_estimate=_row_estimate(manifests), manifest=bool(manifests))


def _manifest(data: bytes) -> dict:
    try:
        doc = json.loads(data)
    except ValueError:
        raise ExportError(EXPORT_UNREADABLE, "an export manifest is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("dataFiles", []), list):
        raise ExportError(EXPORT_UNREADABLE, "an export manifest has no dataFiles list")
    return doc


class S3ExportLister:
    """Lists ``s3://bucket/prefix/`` with boto3 (list_objects_v2, paginated) and reads its manifests."""

    def __init__(self, client_factory: Callable) -> None:
        self._factory = client_factory

    @cached_property
    def client(self):  # built on first use
        return self._factory("s3")

    def list(self, uri_prefix: str) -> ExportListing:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3_uri(uri_prefix)
        objects, manifests = [], []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for o in page.get("Contents", []):
                    objects.append((f"s3://{bucket}/{o['Key']}", int(o["Size"])))
                    if len(objects) > MAX_OBJECTS:
                        raise ExportError(EXPORT_UNREADABLE, f"more than {MAX_OBJECTS} objects under the prefix")
            for uri, _ in objects:
                if uri.lower().endswith(MANIFEST_SUFFIX):
                    key = uri.split("/", 3)[3]
                    manifests.append(_manifest(self.client.get_object(Bucket=bucket, Key=key)["Body"].read()))
        except (BotoCoreError, ClientError) as e:
            raise ExportError(EXPORT_UNREADABLE, f"the export could not be listed ({error_code(e)})") from e
        return build_listing(uri_prefix, objects, manifests)


class LocalExportLister:
    """A folder on disk (``make run``): ``s3://<bucket>/<key>`` maps to ``<root>/<key>`` for the buckets in
    ``roots``; a plain path is listed as it is."""

    def __init__(self, roots: dict[str, Path] | None = None) -> None:
        self.roots = roots or {}

    def path_of(self, uri_prefix: str) -> Path:
        if uri_prefix.startswith("s3://"):
            bucket, key = split_s3_uri(uri_prefix)
            if bucket not in self.roots:
                raise ExportError(EXPORT_UNREADABLE, "no local folder for that bucket")
            root = self.roots[bucket].resolve()
            path = (root / key).resolve()
            if path != root and root not in path.parents:
                raise ExportError(EXPORT_UNREADABLE, "the prefix escapes the local folder")
            return path
        return Path(uri_prefix).resolve()

    def list(self, uri_prefix: str) -> ExportListing:
        base = self.path_of(uri_prefix)
        if base.is_file():
            return build_listing(str(base), [(str(base), base.stat().st_size)], [])
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        objects = [(str(p), p.stat().st_size) for p in files]
        manifests = [_manifest(p.read_bytes()) for p in files if p.name.lower().endswith(MANIFEST_SUFFIX)]
        for m in manifests:  # a manifest names s3:// URIs; map them onto this folder
            m["dataFiles"] = [str(self.path_of(u)) if u.startswith("s3://") else u for u in m.get("dataFiles", [])]
        return build_listing(uri_prefix, objects, manifests)


def s3_filesystem(env=None):
    """pyarrow's S3 client with the region and endpoint from the environment (built per call: cache the result)."""
    from pyarrow import fs

    env = os.environ if env is None else env
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = env.get(ENDPOINT_ENV) or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    kwargs = {"region": region}
    if endpoint:
        parsed = urlparse(endpoint)
        kwargs.update(endpoint_override=parsed.netloc or endpoint, scheme=parsed.scheme or "https")
    return fs.S3FileSystem(**kwargs)


class ArrowExportReader:
    """Opens a listing as a ``pyarrow.dataset.Dataset`` (S3 through pyarrow's S3 client, or local files)."""

    def __init__(self, filesystem_factory: Callable[[], object] = s3_filesystem) -> None:
        self._fs_factory = filesystem_factory

    @cached_property
    def s3(self):  # built on first use, never at import time (SnapStart: no credentials in the snapshot)
        return self._fs_factory()

    def _files(self, listing: ExportListing):
        if all(o.uri.startswith("s3://") for o in listing.objects):
            return [o.uri[len("s3://"):] for o in listing.objects], self.s3
        from pyarrow import fs

        return [o.uri for o in listing.objects], fs.LocalFileSystem()

    def dataset(self, listing: ExportListing):
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.dataset as ds

        paths, filesystem = self._files(listing)
        try:
            if listing.file_format == ExportFileFormat.PARQUET:
                return ds.dataset(paths, format="parquet", filesystem=filesystem)
            header = _csv_header(paths[0], filesystem, listing.file_format)
            fmt = ds.CsvFileFormat(convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True))  # empty = NULL
            return ds.dataset(paths, format=fmt, filesystem=filesystem)
        except (OSError, pa.ArrowInvalid) as e:
            raise ExportError(EXPORT_UNREADABLE, "the export files could not be opened") from e


def _csv_header(path: str, filesystem, file_format: ExportFileFormat) -> list[str]:
    """The first file's column names: every CSV column is then read as text, in every file alike."""
    import pyarrow.csv as pacsv

    compression = "gzip" if file_format == ExportFileFormat.CSV_GZ else None
    with filesystem.open_input_stream(path, compression=compression) as stream:
        reader = pacsv.open_csv(stream, read_options=pacsv.ReadOptions(block_size=1 << 16),
                                convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=False))
        return list(reader.schema.names)
