"""Input bounds shared by request validation and the UI (served at GET /api/v1/meta/bounds)."""

TOKENS_PER_MONTH_MAX = 1e15
REQUESTS_PER_MONTH_MAX = 1e12
CONTEXT_TOKENS_MAX = 10_000_000
CONTEXT_SHARES_MAX = 8
MAX_PRICE_AGE_DAYS_DEFAULT = 90
BUDGET_USD_MAX = 1e10
TOP_K_MIN = 1
TOP_K_MAX = 100
TOP_K_DEFAULT = 10
PROVIDER_LIST_MAX = 100
MODEL_ID_MAX_LENGTH = 200
REQUEST_BODY_MAX_BYTES = 256 * 1024
PEAK_TO_AVERAGE_DEFAULT = 2.0
TARGET_UTILISATION_DEFAULT = 0.7
HOURS_PER_MONTH = 730.0
REPORT_TITLE_MAX = 200
REPORT_URL_EXPIRY_SECONDS = 900
REPORT_MAX_RECEIVES = 3
INVOICE_BODY_MAX_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit; larger files go to S3 invoices/
ROW_ERRORS_MAX = 100
QUALITY_COVERAGE_DEFAULT = 0.5  # an index from one benchmark of a five-benchmark profile is not an index
REPORT_ID_LENGTH = 32  # report ids are the first 32 hex digits of a SHA-256 (services.report.report_id)
REPORT_ID_PATTERN = rf"^[0-9a-f]{{{REPORT_ID_LENGTH}}}$"
# Lower bounds of the numbers the engine divides by: a request has at least one token, and a rate of 5e-324/s
# (a subnormal) made every per-token figure overflow to infinity.
TOKENS_PER_REQUEST_MIN = 1.0
REQUESTS_PER_SECOND_MIN = 1e-6  # about 2.6 requests a month
# Replicas = load / (throughput x target utilisation): a subnormal utilisation or measured throughput (5e-324, found
# by schemathesis) made the replica count infinite or NaN. Below 1% busy, or 0.01 tokens/s, is not a serving plan.
TARGET_UTILISATION_MIN = 0.01
MEASURED_OUTPUT_TOKENS_PER_S_MIN = 0.01

# POST /api/v1/uploads (presigned S3 PUTs). One export file is analysed in the report worker (60 s): 1 GiB is about
# 3 million FOCUS rows at ~350 bytes a row. A report request is read whole by the worker, so it stays small.
UPLOAD_URL_EXPIRY_SECONDS = 900  # a presigned upload URL is valid for 15 minutes
UPLOAD_INVOICE_MAX_BYTES = 1024**3
UPLOAD_REQUEST_MAX_BYTES = 16 * 1024**2
UPLOAD_FILENAME_MAX = 200
UPLOAD_FILENAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._=+()-]*$"  # a basename: no slash, no space, no leading dot
UPLOAD_ID_LENGTH = 32  # 128 random bits, hex
UPLOAD_ID_PATTERN = rf"^[0-9a-f]{{{UPLOAD_ID_LENGTH}}}$"
