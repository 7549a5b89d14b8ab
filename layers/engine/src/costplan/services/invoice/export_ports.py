"""Ports for billing exports too large for a request body: list an export prefix, stream it, or query it.

The invoice engine codes against these; ``costplan.adapters.exports`` (S3 and a local folder) and
``costplan.adapters.athena`` implement them. This module never imports boto3 or pyarrow at import time.

- :class:`ExportLister` turns a prefix (``s3://bucket/prefix/`` or a local folder) into an
  :class:`ExportListing`: the data files under it (an AWS Data Exports prefix holds several files per
  billing period, and a manifest JSON when the export writes one), their total size, the file format
  and, from the manifest, a row estimate. The listing decides where the analysis runs (in the function,
  or on Athena above a size), before a byte of data is read.
- :class:`ExportReader` opens a listing as a ``pyarrow.dataset.Dataset``: scanned in record batches,
  never copied whole into memory.
- :class:`QueryRunner` runs one SQL statement (Athena's Trino dialect in AWS) and returns its rows as
  dicts with typed values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # pyarrow is imported by the adapters, on first use
    import pyarrow.dataset as ds


class ExportFileFormat(StrEnum):
    CSV = "csv"
    CSV_GZ = "csv.gz"
    PARQUET = "parquet"


@dataclass(frozen=True)
class ExportObject:
    uri: str  # s3://bucket/key or an absolute local path
    size: int  # bytes, as stored (compressed for csv.gz)


@dataclass(frozen=True)
class ExportListing:
    uri_prefix: str
    objects: tuple[ExportObject, ...]  # data files only (no manifests), sorted by uri
    total_bytes: int
    file_format: ExportFileFormat
    row_estimate: int | None  # from the export manifest when there is one, else None
    manifest: bool  # a Data Exports manifest was found and read


class ExportError(Exception):
    """The export cannot be listed or read as asked. ``code`` is a stable safe code; the message holds no
    ARNs, account ids or file contents, so it may reach a caller."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QueryError(Exception):
    """A query failed, was cancelled or ran past its deadline. ``code`` is one of QUERY_* below."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# stable codes (ExportError.code / QueryError.code)
EXPORT_EMPTY = "EXPORT_EMPTY"  # no data files under the prefix
EXPORT_MIXED_FORMATS = "EXPORT_MIXED_FORMATS"  # csv and parquet files under one prefix
EXPORT_UNREADABLE = "EXPORT_UNREADABLE"  # access denied, no such bucket, a corrupt file
QUERY_FAILED = "QUERY_FAILED"
QUERY_CANCELLED = "QUERY_CANCELLED"
QUERY_TIMEOUT = "QUERY_TIMEOUT"


class ExportLister(Protocol):
    def list(self, uri_prefix: str) -> ExportListing:
        """The data files under ``uri_prefix``; raises ExportError (EXPORT_EMPTY, EXPORT_MIXED_FORMATS,
        EXPORT_UNREADABLE)."""


class ExportReader(Protocol):
    def dataset(self, listing: ExportListing) -> ds.Dataset:
        """A lazily scanned dataset over every file of the listing (one schema, the listing's format)."""


class QueryRunner(Protocol):
    def run(self, sql: str) -> list[dict]:
        """Run one statement to completion; the rows as dicts (column name -> int, float, Decimal, str,
        bool, date or None). Raises QueryError."""
