"""S3 event parsing: which dropped objects of a bucket notification become report jobs."""

from urllib.parse import unquote_plus

from costplan_contracts.uploads import INVOICE_UPLOADS_PREFIX

REQUESTS_PREFIX = "requests/"  # report requests dropped in the report bucket
INVOICES_PREFIX = "invoices/"  # billing exports dropped in the report bucket (invoice.exports reads only there)


def s3_keys(message: dict) -> list[str]:
    """The object keys of an S3 notification under requests/ or invoices/ (s3:TestEvent has none). Files uploaded
    through POST /api/v1/uploads under invoices/uploads/ are left out: the client analyses the whole upload with
    one invoice/analyze call (one job per upload, not one per file; costplan_contracts.uploads)."""
    keys = [unquote_plus(r["s3"]["object"]["key"]) for r in message.get("Records", [])
            if isinstance(r, dict) and "s3" in r]  # S3 notifications URL-encode keys
    return [k for k in keys if k.startswith((REQUESTS_PREFIX, INVOICES_PREFIX))
            and not k.startswith(INVOICE_UPLOADS_PREFIX)]
