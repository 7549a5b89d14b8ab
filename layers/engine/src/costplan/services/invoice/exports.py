"""Invoice analysis of a billing export already in S3: ``{"source": {"s3_prefix": ...}}`` on invoice/analyze.

The API call (``costplan.services.reports.api.submit_export_analysis``) checks where the prefix is
(:func:`check_prefix`) and records a report job (kind invoice_analyze, the request in S3 like every job); the
report worker lists the export, decides where it runs and analyses it:

- **in the function** (the default): the files are scanned as one ``pyarrow.dataset`` by the invoice engine;
- **on Athena**, when the listing is at least ``athena_min_bytes`` (or the export manifest's row estimate at
  least ``athena_min_rows``), the prefix is in the configured export bucket (the Glue table's location) and
  the export is FOCUS (the Glue table's schema; a CUR 2.0 export runs in the function):
  the engine's aggregate query, generated for Trino from the same rules, runs over the Glue table, filtered
  to the prefix by Athena's ``"$path"``, and its rows become the response.

**Access to account data is off until configured.** A prefix is accepted only under ``invoices/`` in the
deployment's own report bucket, or under the export bucket and prefix named by the deployment
(template.yaml ``ExportBucketName``/``ExportPrefix``; empty by default). Anything else is a 422 naming
``source.s3_prefix``. The worker checks again: a request dropped under ``requests/`` takes the same rule.

This module never imports boto3, pyarrow or an adapter: the adapters arrive as :class:`ExportAccess`.
"""

from __future__ import annotations

from dataclasses import dataclass

from costplan.services.errors import FieldError, RequestRejected
from costplan.services.invoice import analyze_aggregates, analyze_dataset, detect_csv_format, export_sql
from costplan.services.invoice.export_ports import ExportError, ExportLister, ExportListing, ExportReader, QueryRunner
from costplan.services.invoice.rules import export_columns
from costplan.services.reports.events import INVOICES_PREFIX
from costplan_contracts.enums import InvoiceFormat
from costplan_contracts.invoice import AnalyzeResponse, ExportSource

FIELD = "source.s3_prefix"
ATHENA_MIN_BYTES = 2 * 1024**3  # 2 GiB of export files: above this the query runs on Athena
ATHENA_MIN_ROWS = 20_000_000  # or a manifest row estimate above this
GLUE_OMITTED = ("SkuPriceDetails", "Tags")  # JSON (map) columns: not in the Glue table, never read by the rules


@dataclass(frozen=True)
class ExportPlaces:
    """Where an export may be read from. ``export_bucket`` None = export access off (the default)."""

    report_bucket: str | None
    export_bucket: str | None = None
    export_prefix: str = ""

    def refusal(self, uri: str) -> str | None:
        """Why ``uri`` may not be read, or None when it may. Never echoes bucket names (they hold the account id)."""
        bucket, _, key = uri[len("s3://"):].partition("/")
        if self.report_bucket and bucket == self.report_bucket:
            if key.startswith(INVOICES_PREFIX):
                return None
            return "in the report bucket, only prefixes under invoices/ may be analysed"
        if self.export_bucket and bucket == self.export_bucket:
            prefix = self.export_prefix.strip("/")
            if not prefix or key == prefix or key.startswith(prefix + "/"):
                return None
            return "the prefix is outside the export prefix this deployment allows (template parameter ExportPrefix)"
        if not self.export_bucket:
            return ("export access is off: only invoices/ in this deployment's report bucket may be analysed, "
                    "until the deployment names an export bucket (template parameter ExportBucketName)")
        return "the bucket is neither this deployment's report bucket nor its configured export bucket"


def check_prefix(uri: str, places: ExportPlaces) -> None:
    reason = places.refusal(uri)
    if reason is not None:
        raise RequestRejected(f"{FIELD} is not readable by this deployment", [FieldError(FIELD, reason)])


@dataclass(frozen=True)
class ExportAccess:
    """The worker's adapters for exports, and where the analysis runs."""

    places: ExportPlaces
    lister: ExportLister
    reader: ExportReader
    runner: QueryRunner | None = None  # Athena; None = every export runs in the function
    athena_table: str | None = None  # "database"."table" of the export (template.yaml InvoiceExportTable)
    athena_min_bytes: int = ATHENA_MIN_BYTES
    athena_min_rows: int = ATHENA_MIN_ROWS


# ---------------------------------------------------------------- the worker side


def runs_on_athena(listing: ExportListing, access: ExportAccess) -> bool:
    if access.runner is None or not access.athena_table or not access.places.export_bucket:
        return False
    bucket = listing.uri_prefix[len("s3://"):].partition("/")[0]
    big = listing.total_bytes >= access.athena_min_bytes or (listing.row_estimate or 0) >= access.athena_min_rows
    return big and bucket == access.places.export_bucket


def athena_relation(table: str, uri_prefix: str) -> str:
    """The export table narrowed to the files under the prefix (``"$path"`` is Athena's file-path column). The
    prefix matched the contract's pattern (no quotes); LIKE's wildcards in it are escaped all the same."""
    like = uri_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"(SELECT * FROM {table} WHERE \"$path\" LIKE '{like}%' ESCAPE '\\')"


def _format_of(source: ExportSource, columns: list[str]) -> InvoiceFormat:
    if source.format:
        return InvoiceFormat(source.format)
    return detect_csv_format(",".join(columns) + "\n")


def analyze_source(source: ExportSource, access: ExportAccess | None) -> AnalyzeResponse:
    """The analysis of an export prefix, in the function or on Athena. A prefix this deployment may not read,
    or an export that cannot be listed or opened, is a RequestRejected naming source.s3_prefix."""
    if access is None:
        raise RequestRejected("export analysis is not configured here", [FieldError(FIELD, "no export access")])
    check_prefix(source.s3_prefix, access.places)
    try:
        listing = access.lister.list(source.s3_prefix)
        if source.format != InvoiceFormat.CUR.value and runs_on_athena(listing, access):
            return _on_athena(listing, access)
        return _in_function(source, access.reader.dataset(listing))
    except ExportError as e:
        raise RequestRejected(f"{FIELD} could not be analysed ({e.code})", [FieldError(FIELD, str(e))]) from None


def athena_columns() -> dict[str, str]:
    """The Glue table's columns and their kinds: the engine's FOCUS export columns less the two JSON ones."""
    return {c: k for c, k in export_columns(InvoiceFormat.FOCUS.value).items() if c not in GLUE_OMITTED}


def _on_athena(listing: ExportListing, access: ExportAccess) -> AnalyzeResponse:
    fmt = InvoiceFormat.FOCUS  # the Glue table (template.yaml InvoiceExportTable) holds a FOCUS 1.2 export
    sql = export_sql(athena_relation(access.athena_table, listing.uri_prefix), "trino", fmt.value, athena_columns())
    return analyze_aggregates(access.runner.run(sql), fmt=fmt)


def _in_function(source: ExportSource, dataset) -> AnalyzeResponse:
    """The engine over the dataset: DuckDB scans its record batches, never the whole export in memory."""
    return analyze_dataset(dataset, _format_of(source, dataset.schema.names))
