"""Second price source: LiteLLM's ``model_prices_and_context_window`` map (MIT), matched to genai-prices offerings.

Build-time and refresh-time only (the API functions read the result from the catalog artifact). No LiteLLM code
is imported: the map is plain JSON. Three steps, each a pure function over dicts:

1. ``trim(full_map)`` keeps the token-priced chat entries of the providers we can map, and only the fields read
   here, so the committed extract (``tools/data/litellm_extract.json``) stays small and reviewable.
2. ``match(offering, index)`` finds the LiteLLM entry for one genai-prices offering: same provider (through
   ``PROVIDERS``) and the same model id once the provider path is stripped, else the same canonical id when
   every such entry carries the same price.
3. ``compare(...)`` returns the per-direction prices of both sources and whether they disagree by more than
   ``TOLERANCE`` (relative to the larger price).

Which price wins a disagreement is decided by dates (``verdict``): an entry's own dated price change (genai-prices
``StartDateConstraint``) against the other source's snapshot date, or a provider's dated, cited price announcement
(``data/price_overrides.csv``) that one source matches and the other predates. Where no date shows which is newer,
the primary source (genai-prices) stays and both values are shown.
"""

import re

from costplan.catalog.canonical import canonical_id

TOLERANCE = 0.05
PER_M = 1e6
# genai-prices provider id -> LiteLLM ``litellm_provider`` values that sell the same offering.
PROVIDERS: dict[str, tuple[str, ...]] = {
    "anthropic": ("anthropic",),
    "openai": ("openai",),
    "google": ("gemini", "vertex_ai-language-models", "vertex_ai-anthropic_models", "vertex_ai-mistral_models"),
    "aws": ("bedrock", "bedrock_converse"),
    "azure": ("azure", "azure_ai"),
    "deepseek": ("deepseek",),
    "mistral": ("mistral",),
    "x-ai": ("xai",),
    "groq": ("groq",),
    "together": ("together_ai",),
    "fireworks": ("fireworks_ai",),
    "cerebras": ("cerebras",),
    "perplexity": ("perplexity",),
    "cohere": ("cohere_chat", "cohere"),
    "moonshotai": ("moonshot",),
    "zai": ("zai",),
    "novita": ("novita",),
    "cloudflare": ("cloudflare",),
    "databricks": ("databricks",),
    "ovhcloud": ("ovhcloud",),
    "baseten": ("baseten",),
    "minimax": ("minimax",),
    "meta": ("meta_llama",),
    "github-copilot": ("github_copilot",),
}
MODES = frozenset({"chat", "completion", "responses"})
# LiteLLM field -> our direction. Tier fields are "<field>_above_<N>k_tokens".
FIELDS = {"input": "input_cost_per_token", "output": "output_cost_per_token", "cache_read": "cache_read_input_token_cost"}
_TIER_FIELD = re.compile(r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost)_above_(\d+)k_tokens$")
KEPT = ("litellm_provider", "max_input_tokens", "mode", "source", *FIELDS.values())


def trim(full_map: dict) -> dict:
    """The entries and fields this cross-check reads, from a full LiteLLM map (sorted, JSON-ready)."""
    wanted = {p for ps in PROVIDERS.values() for p in ps}
    out = {}
    for key in sorted(full_map):
        entry = full_map[key]
        if not isinstance(entry, dict) or entry.get("litellm_provider") not in wanted or entry.get("mode") not in MODES:
            continue
        if entry.get("input_cost_per_token") is None and entry.get("output_cost_per_token") is None:
            continue
        out[key] = {k: entry[k] for k in sorted(entry) if k in KEPT or _TIER_FIELD.match(k)}
    return out


def _regional(key: str) -> bool:
    """'bedrock/us-gov-west-1/x', 'azure/eu/x': a middle path segment names a region."""
    return any(_REGION.match(part) for part in key.split("/")[1:-1])


_REGION = re.compile(r"^([a-z]{2}(-gov)?-[a-z]+-\d|eu|us|global|apac|jp|au|[a-z]+-\d)$")


def _model_part(key: str, provider: str) -> str:
    """'deepseek/deepseek-chat' -> 'deepseek-chat'; 'bedrock/us-east-1/x' -> 'x'; bare keys stay."""
    return key.rsplit("/", 1)[-1].lower() if "/" in key else key.lower()


def build_index(entries: dict) -> dict[tuple[str, str], list[str]]:
    """(litellm_provider, model id or canonical id) -> entry keys, for ``match``."""
    index: dict[tuple[str, str], list[str]] = {}
    for key in sorted(entries, key=lambda k: (k.count("/"), k)):
        if _regional(key):
            continue  # a regional price ("bedrock/us-gov-west-1/x") is not the offering genai-prices lists
        provider = entries[key]["litellm_provider"]
        model = _model_part(key, provider)
        index.setdefault((provider, "id:" + model), []).append(key)
        index.setdefault((provider, "canon:" + canonical_id(model)), []).append(key)
    return index


def _prices(entry: dict) -> tuple:
    return tuple(entry.get(f) for f in FIELDS.values())


def match(provider: str, model: str, canonical: str, entries: dict, index: dict) -> str | None:
    """The LiteLLM key for one genai-prices offering, or None. Exact model id first, then a price-unique canonical."""
    mapped = PROVIDERS.get(provider, ())
    for lp in mapped:
        keys = index.get((lp, "id:" + _model_part(model, lp)))
        if keys:
            return keys[0]
    for lp in mapped:
        keys = index.get((lp, "canon:" + canonical), [])
        # A canonical match must be unambiguous and the same serving variant (no "-fp8" vs full precision).
        if keys and len({_prices(entries[k]) for k in keys}) == 1 and _variant(keys[0]) == _variant(model):
            return keys[0]
    return None


def _variant(model_id: str) -> tuple[str, ...]:
    return tuple(_SERVING.findall(model_id.lower().rsplit("/", 1)[-1]))


_SERVING = re.compile(r"(fp8|fp16|int8|int4|awq|turbo|fast|lite|free)(?=$|[-:])")


def tiers(entry: dict, direction: str) -> list[list[float]]:
    """[[start_tokens, price_per_1m]] for one direction, from the ``*_above_<N>k_tokens`` fields."""
    out = []
    for k, v in entry.items():
        m = _TIER_FIELD.match(k)
        if m and m.group(1) == FIELDS[direction] and v is not None:
            out.append([int(m.group(2)) * 1000, round(v * PER_M, 9)])
    return sorted(out)


def per_1m(entry: dict) -> dict[str, float | None]:
    return {d: (None if entry.get(f) is None else round(entry[f] * PER_M, 9)) for d, f in FIELDS.items()}


def base(price) -> float | None:
    """The base price of a genai-prices artifact price (a number, a tier dict or None)."""
    return price["base"] if isinstance(price, dict) else price


def disagrees(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    top = max(abs(a), abs(b))
    return top > 0 and abs(a - b) / top > TOLERANCE


def compare(primary: dict, second: dict) -> list[str]:
    """Directions (input, output) where both sources have a price and differ by more than TOLERANCE."""
    return [d for d in ("input", "output") if disagrees(base(primary.get(d)), second.get(d))]


def verdict(primary_entry_date: str | None, second_snapshot: str, announced: dict | None = None,
            primary: dict | None = None, second: dict | None = None) -> str:
    """Which of two disagreeing prices is newer, as far as dates show.

    A dated entry decides only against the other source's snapshot date: a snapshot cannot know a change made
    after it. LiteLLM's entries carry no price dates, so one decisive case is a genai-prices entry whose start
    date is after LiteLLM's snapshot ("primary_newer").

    The other is a provider's dated price announcement (``announced``: a row of ``data/price_overrides.csv`` with
    ``effective_date`` and per-1M ``input``/``output``): when the second source's prices (``second``) agree with
    the announced list price, the primary's (``primary``) do not, and the primary entry carries no start date on
    or after the announcement, the primary entry predates the change ("second_newer"). Otherwise nothing shows
    which is newer ("undetermined") and the primary price stays, with both shown.
    """
    if primary_entry_date is not None and primary_entry_date > second_snapshot:
        return "primary_newer"
    if announced and primary is not None and second is not None \
            and (primary_entry_date is None or primary_entry_date < announced["effective_date"]) \
            and not compare(announced, second) and compare(announced, primary):
        return "second_newer"
    return "undetermined"


def extract(full_map: dict, offerings: list[dict], source: str, version: str, as_of: str, url: str) -> dict:
    """The trimmed entries some offering matches, as the second-source document ``build_llm.build`` takes."""
    entries = trim(full_map)
    index = build_index(entries)
    used = {match(o["provider"], o["model"], o["canonical"], entries, index) for o in offerings}
    return {"source": source, "version": version, "as_of": as_of, "url": url, "licence": "MIT",
            "entries": {k: entries[k] for k in sorted(used - {None})}}
