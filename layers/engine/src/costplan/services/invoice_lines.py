"""Normalised invoice lines: one columnar table, whatever the billing format.

Classification runs once per distinct value (a memo per column), so a 100,000-row export with a
few hundred distinct SKUs costs a few hundred classifications, not 100,000.
"""

import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from costplan.catalog.llm import get_llm_catalog
from costplan_contracts.enums import ChargeCategory, LineStatus, UsageKind

STATUS_CODE = {LineStatus.RECOGNISED: 0, LineStatus.UNRECOGNISED: 1, LineStatus.REJECTED: 2}
TOKEN_KINDS = {UsageKind.INPUT_TOKENS.value, UsageKind.OUTPUT_TOKENS.value, UsageKind.CACHED_INPUT_TOKENS.value,
               UsageKind.CACHE_WRITE_TOKENS.value}
HOUR_KINDS = {UsageKind.GPU_HOURS.value, UsageKind.INSTANCE_HOURS.value}
_PROVIDERS = (("amazon", "aws"), ("aws", "aws"), ("microsoft", "azure"), ("azure", "azure"), ("google", "google"),
              ("openai", "openai"), ("anthropic", "anthropic"), ("mistral", "mistral"), ("cohere", "cohere"))
_INSTANCE = re.compile(r"\b(?:ml\.)?((?:p|g|inf|trn)[0-9][a-z0-9-]*\.[0-9a-z]+)\b")
_SCALE = {"1k": 1e3, "1m": 1e6, "k": 1e3, "m": 1e6, "million": 1e6, "thousand": 1e3}


@dataclass
class RawLine:
    """One input row, as text or numbers, before classification."""

    row: int
    provider: str = ""
    service: str = ""
    model_text: tuple[str, ...] = ()
    usage_text: tuple[str, ...] = ()
    quantity: float = float("nan")
    unit: str = ""
    billed: float = float("nan")
    effective: float = float("nan")
    currency: str = ""
    category: str = ""
    period: str = ""
    batch: bool = False
    kind: str = ""  # set when the format states it (line items, CUR patterns)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)


@dataclass(frozen=True)
class Lines:
    row: np.ndarray
    status: np.ndarray  # STATUS_CODE values
    provider: np.ndarray
    service: np.ndarray
    model: np.ndarray  # canonical model id, or instance type; "" when unresolved
    kind: np.ndarray  # UsageKind value, "" when unresolved
    quantity: np.ndarray  # tokens, hours, images...; NaN when unknown
    unit: np.ndarray
    billed: np.ndarray  # NaN when it did not parse
    effective: np.ndarray
    currency: np.ndarray
    category: np.ndarray  # ChargeCategory value
    period: np.ndarray  # YYYY-MM
    batch: np.ndarray

    def __len__(self) -> int:
        return int(self.row.size)


def finite(value) -> float:
    """float(value), refusing NaN and infinities (a bill never holds them): ValueError otherwise."""
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"not finite: {value!r}")
    return x


@cache
def provider_id(text: str) -> str:
    t = text.strip().lower()
    for needle, pid in _PROVIDERS:
        if needle in t:
            return pid
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


@cache
def category_of(text: str) -> str:
    t = text.strip().lower()
    if "credit" in t:
        return ChargeCategory.CREDIT.value
    if "refund" in t:
        return ChargeCategory.REFUND.value
    if "tax" in t:
        return ChargeCategory.TAX.value
    if "adjust" in t or "correction" in t:
        return ChargeCategory.ADJUSTMENT.value
    if "purchase" in t or "fee" in t or "upfront" in t:
        return ChargeCategory.PURCHASE.value
    return ChargeCategory.USAGE.value


@cache
def usage_kind_of(text: str) -> str:
    t = text.lower()
    if "token" in t or "tok" in t.split():
        if "cache" in t and ("write" in t or "creation" in t):
            return UsageKind.CACHE_WRITE_TOKENS.value
        if "cache" in t or "cached" in t:
            return UsageKind.CACHED_INPUT_TOKENS.value
        if "output" in t or "completion" in t:
            return UsageKind.OUTPUT_TOKENS.value
        if "input" in t or "prompt" in t:
            return UsageKind.INPUT_TOKENS.value
    if "hour" in t or "hrs" in t or "boxusage" in t or "hosting" in t:
        return UsageKind.INSTANCE_HOURS.value
    if "image" in t:
        return UsageKind.IMAGES.value
    if "minute" in t or "audio" in t:
        return UsageKind.AUDIO_MINUTES.value
    if "character" in t:
        return UsageKind.CHARACTERS.value
    if "request" in t:
        return UsageKind.REQUESTS.value
    return ""


@cache
def unit_scale(unit: str) -> float:
    """Base quantities per unit: '1K tokens' -> 1000, 'Tokens' -> 1, 'Hours' -> 1."""
    t = unit.strip().lower()
    m = re.match(r"^(1k|1m|k|m|million|thousand)(?![a-z0-9])", t)
    return _SCALE[m.group(1)] if m else 1.0


@cache
def _gpu_instances() -> frozenset[str]:
    try:
        from costplan.catalog.selfhosted import _instances

        return frozenset(i.instance_type.lower() for i in _instances())
    except FileNotFoundError:  # pragma: no cover - the catalog ships with the layer
        return frozenset()


_REGION = re.compile(r"^[A-Z]{2,4}\d?-")
_TOKEN_SUFFIX = re.compile(r"-(?:text-)?(?:input|output)-tokens.*$|-cache-(?:read|write).*$", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Z])")


@cache
def resolve_model(text: str) -> str:
    """A canonical model id (hosted catalog) or a GPU instance type found in ``text``; "" if none.

    Bedrock usage types squash the model name ("USE1-Claude3.5Sonnet-input-tokens"): the region
    prefix and the token suffix are dropped and the camel case split before matching.
    """
    found = _resolve(text)
    if not found and _TOKEN_SUFFIX.search(text):
        found = _resolve(_CAMEL.sub(" ", _TOKEN_SUFFIX.sub("", _REGION.sub("", text.strip()))))
    return found


def _resolve(text: str) -> str:
    t = text.strip().lower()
    if not t:
        return ""
    m = _INSTANCE.search(t)
    if m:
        return m.group(1)
    aliases = get_llm_catalog().aliases
    if t in aliases:
        return aliases[t]
    from costplan.catalog.canonical import canonical_id

    if (c := canonical_id(t)) in get_llm_catalog().canonical_offerings:
        return c
    words = re.split(r"[\s,;:()\[\]]+", t)
    for size in range(min(6, len(words)), 0, -1):  # the longest run of words that names a model
        for start in range(len(words) - size + 1):
            chunk = "-".join(w for w in words[start:start + size] if w)
            if chunk in aliases and not chunk.isdigit() and len(chunk) > 3:
                return aliases[chunk]
            if (c := canonical_id(chunk)) in get_llm_catalog().canonical_offerings and len(c) > 3:
                return c
    return ""


@dataclass
class Columns:
    """Format-neutral input columns, one entry per row (text columns are sequences of str)."""

    row: np.ndarray
    provider: list[str]
    service: list[str]
    model_text: list[tuple[str, ...]]
    usage_text: list[tuple[str, ...]]
    quantity: np.ndarray
    unit: list[str]
    billed: np.ndarray
    effective: np.ndarray
    currency: list[str]
    category: list[str]
    period: list[str]
    batch: np.ndarray
    kind: list[str] | None  # stated by the format, else inferred from usage_text
    rejected: np.ndarray  # bool


def columns_from_raw(raw: list[RawLine]) -> tuple[Columns, list[tuple[int, str, str]]]:
    errors = [(r.row, col, reason) for r in raw for col, reason in r.errors]
    f = lambda attr, dtype=None: (np.array([getattr(r, attr) for r in raw], dtype=dtype) if dtype
                                  else [getattr(r, attr) for r in raw])
    return Columns(
        row=f("row", np.int64) if raw else np.zeros(0, np.int64), provider=f("provider"), service=f("service"),
        model_text=f("model_text"), usage_text=f("usage_text"), quantity=f("quantity", float) if raw else np.zeros(0),
        unit=f("unit"), billed=f("billed", float) if raw else np.zeros(0), effective=f("effective", float) if raw else np.zeros(0),
        currency=f("currency"), category=f("category"), period=f("period"),
        batch=f("batch", bool) if raw else np.zeros(0, bool), kind=f("kind"),
        rejected=np.array([bool(r.errors) for r in raw], dtype=bool),
    ), errors


def _memo_map(values, fn) -> np.ndarray:
    memo: dict = {}
    out = np.empty(len(values), object)
    for i, v in enumerate(values):
        hit = memo.get(v)
        if hit is None:
            hit = memo[v] = fn(v)
        out[i] = hit
    return out


def classify(c: Columns) -> Lines:
    """Resolve provider, model, usage kind and status for every row; each distinct value is classified once."""
    n = c.row.size
    model = _memo_map(c.model_text, lambda texts: next((m for m in map(resolve_model, texts) if m), ""))
    if c.kind is not None and any(c.kind):
        stated = np.array(c.kind, dtype=object)
        inferred = _memo_map(c.usage_text, lambda texts: next((x for x in map(usage_kind_of, texts) if x), ""))
        kind = np.where(stated != "", stated, inferred)
    else:
        kind = _memo_map(c.usage_text, lambda texts: next((x for x in map(usage_kind_of, texts) if x), ""))
    gpus = _gpu_instances()
    is_gpu = _memo_map(list(model), lambda m: m in gpus).astype(bool)
    kind = np.where((kind == UsageKind.INSTANCE_HOURS.value) & is_gpu, UsageKind.GPU_HOURS.value, kind)
    scale = _memo_map(c.unit, unit_scale).astype(float)
    tokens = np.isin(kind, list(TOKEN_KINDS))
    quantity = np.where(tokens, c.quantity * scale, c.quantity)
    status = np.zeros(n, np.int8)
    unresolved = (kind == "") | (model == "")
    status[unresolved] = STATUS_CODE[LineStatus.UNRECOGNISED]
    status[c.rejected] = STATUS_CODE[LineStatus.REJECTED]
    return Lines(
        row=c.row, status=status, provider=_memo_map(c.provider, provider_id), service=np.array(c.service, object),
        model=model, kind=kind.astype(object), quantity=quantity, unit=np.array(c.unit, object),
        billed=c.billed, effective=np.where(np.isnan(c.effective), c.billed, c.effective),
        currency=_memo_map(c.currency, lambda x: (x or "USD").upper()), category=_memo_map(c.category, category_of),
        period=np.array(c.period, object), batch=c.batch,
    )
