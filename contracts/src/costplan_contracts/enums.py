"""Every code a client can see. Clients switch on these values; never rename one."""

from enum import StrEnum


class PricingUnit(StrEnum):
    """The unit a price is quoted in. Dimension and scale live in ``costplan.core.units``."""

    PER_1M_TOKENS = "per_1m_tokens"
    PER_1K_TOKENS = "per_1k_tokens"
    PER_TOKEN = "per_token"
    PER_GPU_HOUR = "per_gpu_hour"
    PER_GPU_SECOND = "per_gpu_second"
    PER_CHARACTER = "per_character"
    PER_1K_CHARACTERS = "per_1k_characters"
    PER_1M_CHARACTERS = "per_1m_characters"
    PER_AUDIO_SECOND = "per_audio_second"
    PER_AUDIO_MINUTE = "per_audio_minute"
    PER_AUDIO_HOUR = "per_audio_hour"
    PER_IMAGE = "per_image"
    PER_1K_IMAGES = "per_1k_images"
    PER_REQUEST = "per_request"
    PER_1K_REQUESTS = "per_1k_requests"
    PER_SEARCH = "per_search"
    PER_1K_SEARCHES = "per_1k_searches"


class FallbackStep(StrEnum):
    """The fallback chain, in the fixed order it runs."""

    STRICT = "strict"
    RELAX_UNIT = "relax_unit"
    RELAX_BUDGET = "relax_budget"
    RELAX_PROVIDER = "relax_provider"
    RELAX_QUALITY = "relax_quality"


class StepStatus(StrEnum):
    PRODUCED_RESULTS = "produced_results"
    NO_RESULTS = "no_results"
    NOOP = "noop"
    NOT_RUN = "not_run"


class ReasonCode(StrEnum):
    """Why an offering was excluded from a ranking."""

    MODEL_DEPRECATED = "MODEL_DEPRECATED"
    PRICE_ADAPTIVE = "PRICE_ADAPTIVE"
    UNIT_MISMATCH = "UNIT_MISMATCH"
    PROVIDER_EXCLUDED = "PROVIDER_EXCLUDED"
    PROVIDER_NOT_ALLOWED = "PROVIDER_NOT_ALLOWED"
    CONTEXT_WINDOW_UNKNOWN = "CONTEXT_WINDOW_UNKNOWN"
    CONTEXT_WINDOW_TOO_SMALL = "CONTEXT_WINDOW_TOO_SMALL"
    PRICE_MISSING_INPUT = "PRICE_MISSING_INPUT"
    PRICE_MISSING_OUTPUT = "PRICE_MISSING_OUTPUT"
    PRICE_MISSING_CACHE_READ = "PRICE_MISSING_CACHE_READ"
    REQUESTS_REQUIRED = "REQUESTS_REQUIRED"
    OVER_BUDGET = "OVER_BUDGET"
    QUALITY_UNKNOWN = "QUALITY_UNKNOWN"
    BELOW_MIN_QUALITY = "BELOW_MIN_QUALITY"
    UNIT_INCOMPATIBLE = "UNIT_INCOMPATIBLE"
    ATTRIBUTE_MISMATCH = "ATTRIBUTE_MISMATCH"
    PROVIDER_WORKLOAD_UNSUPPORTED = "PROVIDER_WORKLOAD_UNSUPPORTED"
    MISSING_THROUGHPUT = "MISSING_THROUGHPUT"
    PRECISION_UNSUPPORTED = "PRECISION_UNSUPPORTED"
    MODEL_DOES_NOT_FIT = "MODEL_DOES_NOT_FIT"
    CONTEXT_DOES_NOT_FIT = "CONTEXT_DOES_NOT_FIT"
    SLO_UNREACHABLE = "SLO_UNREACHABLE"
    PRICE_MISSING_HOURLY = "PRICE_MISSING_HOURLY"
    DEADLINE_UNREACHABLE = "DEADLINE_UNREACHABLE"
    METHOD_UNSUPPORTED = "METHOD_UNSUPPORTED"
    NO_MANAGED_OFFERING = "NO_MANAGED_OFFERING"


class WarningCode(StrEnum):
    BUDGET_ZERO = "BUDGET_ZERO"
    PROVIDER_UNKNOWN = "PROVIDER_UNKNOWN"
    PROVIDER_FILTER_MATCHED_NOTHING = "PROVIDER_FILTER_MATCHED_NOTHING"
    PROVIDER_BOTH_ALLOWED_AND_EXCLUDED = "PROVIDER_BOTH_ALLOWED_AND_EXCLUDED"
    UNIT_NOT_NATIVE = "UNIT_NOT_NATIVE"
    UNIT_CONVERTED = "UNIT_CONVERTED"
    RELAX_UNIT_NOOP = "RELAX_UNIT_NOOP"
    BUDGET_RELAXED = "BUDGET_RELAXED"
    PROVIDERS_ADDED = "PROVIDERS_ADDED"
    NO_CANDIDATES = "NO_CANDIDATES"
    PRICE_TIER_BASE_ASSUMED = "PRICE_TIER_BASE_ASSUMED"
    PRICE_TIER_FROM_AVERAGE_PROMPT = "PRICE_TIER_FROM_AVERAGE_PROMPT"
    PRICE_TIER_SELECTED = "PRICE_TIER_SELECTED"
    TIER_SHARE_ASSUMED = "TIER_SHARE_ASSUMED"  # share of traffic above a long-context tier unknown: cost is a range
    PRICE_SOURCES_DISAGREE = "PRICE_SOURCES_DISAGREE"  # the two price sources differ by more than 5%
    STALE_PRICE = "STALE_PRICE"  # an offering's price_as_of is older than constraints.max_price_age_days
    EXTENDED_CONTEXT_PRICED = "EXTENDED_CONTEXT_PRICED"  # an extended window priced from a source's tier
    CATALOG_SNAPSHOT_FALLBACK = "CATALOG_SNAPSHOT_FALLBACK"  # no valid refreshed snapshot: the bundled catalog
    CACHE_READ_PRICED_AS_INPUT = "CACHE_READ_PRICED_AS_INPUT"
    TIME_OF_DAY_PEAK_PRICE = "TIME_OF_DAY_PEAK_PRICE"
    CONTEXT_WINDOW_UNVERIFIED = "CONTEXT_WINDOW_UNVERIFIED"
    LISTED_FREE = "LISTED_FREE"
    DEPRECATED_INCLUDED = "DEPRECATED_INCLUDED"
    WARNINGS_TRUNCATED = "WARNINGS_TRUNCATED"
    SELF_HOSTED_ASSUMPTIONS = "SELF_HOSTED_ASSUMPTIONS"
    SELF_HOSTED_NEEDS_SHAPE = "SELF_HOSTED_NEEDS_SHAPE"
    MEASURED_THROUGHPUT_USED = "MEASURED_THROUGHPUT_USED"
    MEASURED_THROUGHPUT_UNMATCHED = "MEASURED_THROUGHPUT_UNMATCHED"
    MISSING_THROUGHPUT = "MISSING_THROUGHPUT"
    SELF_HOSTED_MODEL_UNKNOWN = "SELF_HOSTED_MODEL_UNKNOWN"
    CROSS_DIMENSION_FACTOR_USED = "CROSS_DIMENSION_FACTOR_USED"
    CONVERSION_FACTOR_MISSING = "CONVERSION_FACTOR_MISSING"
    TIERED_PRICE = "TIERED_PRICE"
    WORKLOAD_UNOFFERED = "WORKLOAD_UNOFFERED"
    ATTRIBUTE_UNSTATED = "ATTRIBUTE_UNSTATED"
    BLENDED_AT_STATED_SHARE = "BLENDED_AT_STATED_SHARE"
    UNKNOWN_COLUMNS = "UNKNOWN_COLUMNS"
    ROWS_REJECTED = "ROWS_REJECTED"
    MIXED_CURRENCIES = "MIXED_CURRENCIES"
    FOCUS_VERSION_ASSUMED = "FOCUS_VERSION_ASSUMED"
    UNRECOGNISED_LINES = "UNRECOGNISED_LINES"
    CREDITS_KEPT_APART = "CREDITS_KEPT_APART"
    SCENARIO_ASSUMPTION = "SCENARIO_ASSUMPTION"
    SCENARIO_NOT_APPLICABLE = "SCENARIO_NOT_APPLICABLE"
    COSTS_ESTIMATED_FROM_CATALOG = "COSTS_ESTIMATED_FROM_CATALOG"
    QUALITY_RELAXED = "QUALITY_RELAXED"
    QUALITY_UNKNOWN = "QUALITY_UNKNOWN"
    QUALITY_PROFILE_DEFAULTED = "QUALITY_PROFILE_DEFAULTED"
    QUALITY_ESTIMATED = "QUALITY_ESTIMATED"
    ESTIMATED_CAPACITY = "ESTIMATED_CAPACITY"  # self-hosted capacity rests on thin or assumed factors: measure it
    SHAPE_ASSUMED = "SHAPE_ASSUMED"  # no request shape given: a profile's default shape sized the self-hosted rows
    TRAINING_ASSUMPTIONS = "TRAINING_ASSUMPTIONS"
    MFU_BORROWED = "MFU_BORROWED"
    SERVING_UNPRICED = "SERVING_UNPRICED"
    NO_OPEN_WEIGHTS = "NO_OPEN_WEIGHTS"
    WORKLOAD_DEFAULTS_USED = "WORKLOAD_DEFAULTS_USED"  # assist/workload filled unstated sizes from cited defaults
    PROMPT_CACHE_MODELLED = "PROMPT_CACHE_MODELLED"  # assist/workload derived the cached share from repeated prefixes
    BREAK_EVEN_DECLINED = "BREAK_EVEN_DECLINED"  # assist/explain: no closed form (self-hosted steps, a tier boundary)
    EXPLAIN_FROM_RESULT = "EXPLAIN_FROM_RESULT"  # assist/explain got a result without its request: no reruns
    EXPLAIN_TOO_FEW_ROWS = "EXPLAIN_TOO_FEW_ROWS"  # assist/explain: fewer than two ranked rows to compare
    COPILOT_BACKEND_FALLBACK = "COPILOT_BACKEND_FALLBACK"  # the LLM backend failed or was refused: the parser answered
    COPILOT_NAME_MATCHED = "COPILOT_NAME_MATCHED"  # a provider or model name was read as the closest registry entry


class ConversionFactor(StrEnum):
    """Cross-dimension factors a workload may supply (numerator per denominator)."""

    CHARACTERS_PER_TOKEN = "characters_per_token"
    TOKENS_PER_REQUEST = "tokens_per_request"
    TOKENS_PER_SEARCH = "tokens_per_search"
    CHARACTERS_PER_REQUEST = "characters_per_request"
    AUDIO_SECONDS_PER_REQUEST = "audio_seconds_per_request"
    IMAGES_PER_REQUEST = "images_per_request"
    SEARCHES_PER_REQUEST = "searches_per_request"
    GPU_SECONDS_PER_REQUEST = "gpu_seconds_per_request"


class WorkloadType(StrEnum):
    EMBEDDINGS = "embeddings"
    SPEECH_TO_TEXT = "speech_to_text"
    TEXT_TO_SPEECH = "text_to_speech"
    IMAGE_GENERATION = "image_generation"
    RERANK = "rerank"
    GPU_COMPUTE = "gpu_compute"
    LLM_TOKENS = "llm_tokens"


class Deployment(StrEnum):
    HOSTED_API = "hosted_api"
    SELF_HOSTED = "self_hosted"
    BOTH = "both"


class Precision(StrEnum):
    BF16 = "bf16"
    FP8 = "fp8"
    INT4 = "int4"
    FP4 = "fp4"  # NVFP4 weights and activations, FP8 KV cache: Blackwell (B200, GB200) only


class PricingModel(StrEnum):
    ON_DEMAND = "on_demand"
    SPOT = "spot"
    COMMITTED_1Y = "committed_1y"


class TrainingMethod(StrEnum):
    PRETRAIN = "pretrain"
    CONTINUED_PRETRAIN = "continued_pretrain"
    FULL_FINETUNE = "full_finetune"
    LORA = "lora"
    QLORA = "qlora"


class TrainingPrecision(StrEnum):
    BF16 = "bf16"
    FP8 = "fp8"


class LoraTarget(StrEnum):
    """The projection matrices a LoRA adapter is attached to."""

    Q_PROJ = "q_proj"
    K_PROJ = "k_proj"
    V_PROJ = "v_proj"
    O_PROJ = "o_proj"
    GATE_PROJ = "gate_proj"
    UP_PROJ = "up_proj"
    DOWN_PROJ = "down_proj"


class TrainingOptionKind(StrEnum):
    SELF_RUN = "self_run"
    MANAGED = "managed"
    BASE_MODEL_AS_IS = "base_model_as_is"


class ShardingStrategy(StrEnum):
    """How optimizer state, gradients and weights are split across data-parallel GPUs."""

    NONE = "none"
    ZERO_1 = "zero_1"
    ZERO_2 = "zero_2"
    ZERO_3_FSDP = "zero_3_fsdp"


class ThroughputBasis(StrEnum):
    MODELLED = "modelled"  # no longer emitted: modelled rows say how well their factors are evidenced (below)
    MEASURED = "measured_by_caller"
    CALIBRATED = "calibrated"  # modelled; every fitted factor rests on >= 5 public results
    THIN = "thin"  # modelled; some factor rests on 1-4 public results
    ASSUMED = "assumed"  # modelled; some factor (e.g. TP efficiency at this degree) has no public result behind it


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class PriceBasis(StrEnum):
    """How the unit price on a row was arrived at. Anything but LIST_PRICE is an estimate."""

    LIST_PRICE = "list_price"
    TIER_SELECTED = "tier_selected_by_context"
    TIER_BASE_ASSUMED = "tier_base_assumed"
    TIER_FROM_AVERAGE_PROMPT = "tier_from_average_prompt"
    CACHE_READ_AS_INPUT = "cache_read_charged_at_input_price"
    TIME_OF_DAY_PEAK = "time_of_day_peak_price"
    TIER_SHARE_STATED = "tier_share_stated"  # long-context tier blended at the workload's stated shares
    TIER_SHARE_ASSUMED = "tier_share_assumed"  # share above the tier unknown: monthly_cost_range spans it
    SOURCES_DISAGREE = "price_sources_disagree"  # second source differs by > 5%: see price_sources
    EXTENDED_CONTEXT = "extended_context_tier"  # window beyond the stated one, priced from the second source
    CONTEXT_WINDOW_UNVERIFIED = "context_window_unverified"  # no published window; may not fit max_context_tokens


class ErrorCode(StrEnum):
    MALFORMED_JSON = "MALFORMED_JSON"
    MALFORMED_BODY = "MALFORMED_BODY"  # 400: a body that cannot be decoded (a broken gzip stream)
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"  # 415: Content-Type or Content-Encoding the route does not take
    UPLOADS_NOT_CONFIGURED = "UPLOADS_NOT_CONFIGURED"  # 409: no upload bucket here (make run); send the file as the body
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ReportKind(StrEnum):
    """Which endpoint a report is built from."""

    PLAN_LLM = "plan_llm"
    RANK_CATALOG = "rank_catalog"
    PLAN_SCALING = "plan_scaling"
    INVOICE_ANALYZE = "invoice_analyze"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


class ReportMode(StrEnum):
    SYNC = "sync"
    ASYNC = "async"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobErrorCode(StrEnum):
    """Why a report job failed (or why its last attempt failed, while it retries). Paired with a safe message."""

    INVALID_REQUEST = "INVALID_REQUEST"  # the request can never succeed; not retried, its message is dead-lettered
    RENDER_FAILED = "RENDER_FAILED"  # an unexpected fault while rendering
    STORAGE_FAILED = "STORAGE_FAILED"  # the request or the files could not be read or written (S3, DynamoDB)
    TIMEOUT = "TIMEOUT"  # the worker ran out of time
    STRANDED = "STRANDED"  # no worker picked the job up within the sweeper's budget
    DEAD_LETTERED = "DEAD_LETTERED"  # the job's message reached the dead-letter queue


class InvoiceFormat(StrEnum):
    FOCUS = "focus"
    CUR = "cur"
    OPENAI = "openai"
    LINE_ITEMS = "line_items"
    COST_EXPLORER = "cost_explorer"


class UsageKind(StrEnum):
    INPUT_TOKENS = "input_tokens"
    OUTPUT_TOKENS = "output_tokens"
    CACHED_INPUT_TOKENS = "cached_input_tokens"
    CACHE_WRITE_TOKENS = "cache_write_tokens"
    GPU_HOURS = "gpu_hours"
    INSTANCE_HOURS = "instance_hours"
    IMAGES = "images"
    AUDIO_MINUTES = "audio_minutes"
    CHARACTERS = "characters"
    REQUESTS = "requests"
    OTHER = "other"


class ChargeCategory(StrEnum):
    USAGE = "usage"
    PURCHASE = "purchase"
    TAX = "tax"
    CREDIT = "credit"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"


class LineStatus(StrEnum):
    RECOGNISED = "recognised"
    UNRECOGNISED = "unrecognised"
    REJECTED = "rejected"


class FindingType(StrEnum):
    PRICE_ABOVE_LIST = "price_above_list"
    CHEAPER_PROVIDER = "cheaper_provider"
    BATCH_DISCOUNT_UNUSED = "batch_discount_unused"
    PROMPT_CACHING_ABSENT = "prompt_caching_absent"
    GPU_COMMITMENT_OR_CHEAPER_INSTANCE = "gpu_commitment_or_cheaper_instance"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ScenarioAction(StrEnum):
    SWITCH_PROVIDER = "switch_provider"
    SWITCH_MODEL = "switch_model"
    BATCH_SHARE = "batch_share"
    CACHE_HIT_RATE = "cache_hit_rate"
    COMMITMENT = "commitment"
    VOLUME_GROWTH = "volume_growth"
    MOVE_TO_SELF_HOSTED = "move_to_self_hosted"


class WorkloadProfile(StrEnum):
    CHAT = "chat"
    CODING = "coding"
    RAG_LONG_CONTEXT = "rag_long_context"
    SUMMARIZATION = "summarization"
    EXTRACTION = "extraction"
    REASONING = "reasoning"
    AGENTIC = "agentic"


class Objective(StrEnum):
    MIN_COST = "min_cost"
    MAX_QUALITY_PER_DOLLAR = "max_quality_per_dollar"
    BALANCED = "balanced"


class CopilotIntent(StrEnum):
    """What a copilot message asks for: the endpoint whose structured request it becomes."""

    PLAN_LLM = "plan_llm"
    RANK_CATALOG = "rank_catalog"
    PLAN_SCALING = "plan_scaling"
    PLAN_TRAINING = "plan_training"
    INVOICE_SIMULATE = "invoice_simulate"
    EXPLAIN = "explain"


class CopilotBackend(StrEnum):
    """Who understood the message: the deterministic parser, or the optional Bedrock model."""

    PARSER = "parser"
    BEDROCK = "bedrock"


class UseCase(StrEnum):
    """What an LLM application does (assist/workload): each has cited default sizes, an SLO and a profile."""

    CHAT = "chat"
    RAG = "rag"
    CODE_ASSISTANT = "code_assistant"
    SUMMARIZATION = "summarization"
    EXTRACTION = "extraction"
    AGENT = "agent"
    BATCH = "batch"


class SizeUnit(StrEnum):
    """The unit a content size is stated in; assist/workload converts it to tokens and says how."""

    TOKENS = "tokens"
    WORDS = "words"
    CHARACTERS = "characters"
    PAGES = "pages"


class ExplainKind(StrEnum):
    """The endpoint whose request or result assist/explain explains."""

    PLAN_LLM = "plan_llm"
    RANK_CATALOG = "rank_catalog"
    PLAN_SCALING = "plan_scaling"


class BreakEvenVariable(StrEnum):
    """What assist/explain varies, all else fixed, to find where #1 and #2 swap."""

    OUTPUT_SHARE = "output_share"  # output tokens / all tokens, at the same total tokens
    CACHED_SHARE = "cached_share"  # cached input share, at the same volumes
    MONTHLY_VOLUME = "monthly_volume"  # every volume scaled by one factor, the shape kept


class BreakEvenStatus(StrEnum):
    FOUND = "found"  # a swap point inside the variable's range
    NONE_IN_RANGE = "none_in_range"  # the costs never cross inside the range: the order holds throughout
    DECLINED = "declined"  # no closed form for this pair (see reason)


class ConstraintKind(StrEnum):
    """A constraint assist/explain measures and relaxes."""

    BUDGET = "budget"
    PROVIDERS = "providers"
    CONTEXT = "context"
    QUALITY = "quality"


class AnnotationKind(StrEnum):
    """What an insights/quality-price annotation marks on the chart."""

    CHEAPEST_AT_OR_ABOVE = "cheapest_at_or_above"  # the cheapest point at or above a quality threshold
    BEST_QUALITY_UNDER_BUDGET = "best_quality_under_budget"  # the best-quality point within the budget


class UploadPurpose(StrEnum):
    """What a POST /api/v1/uploads file is, and so where it goes in the report bucket."""

    INVOICE = "invoice"  # one data file of a billing export: invoices/uploads/<upload_id>/<filename>
    REQUEST = "request"  # a report request (JSON): requests/uploads/<upload_id>/<filename>


class UploadContentType(StrEnum):
    """The Content-Type a presigned upload is pinned to (signed: S3 refuses the PUT with any other)."""

    CSV = "text/csv"  # .csv
    GZIP = "application/gzip"  # .csv.gz: a gzip-compressed CSV
    PARQUET = "application/vnd.apache.parquet"  # .parquet
    OCTET_STREAM = "application/octet-stream"  # .parquet, for clients that know no Parquet media type
    JSON = "application/json"  # .json: a report request
