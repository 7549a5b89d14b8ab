"""Canonical model ids: many provider-specific model ids, one canonical id.

Llama 3.1 70B Instruct is ``meta.llama3-1-70b-instruct-v1:0`` on AWS Bedrock,
``meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo`` on Together, ``llama-3.1-70b-versatile``
on Groq and ``meta-llama/llama-3.1-70b-instruct`` on OpenRouter. ``canonical_id`` maps each
to ``llama-3.1-70b-instruct`` with a fixed list of rewrite rules, applied in order. The rules
only strip packaging (vendor prefixes, region prefixes, version and date stamps, serving
variants such as ``-turbo`` or ``:free``); they never merge different weights.
"""

import re

# Bedrock cross-region inference prefixes and model vendor prefixes ("us.anthropic.claude-...").
_REGION_PREFIX = re.compile(r"^(us|eu|apac|global|us-gov|jp|au)\.")
_VENDOR_PREFIX = re.compile(
    r"^(meta|anthropic|amazon|mistral|cohere|ai21|deepseek|qwen|openai|writer|moonshot|google|nvidia|minimax)\."
)
# Version stamps: Bedrock "-v1:0", "-1:0", trailing ":0"; dated snapshots "-20250929", "-2024-08-06".
_VERSION_SUFFIX = re.compile(r"(-v\d+:\d+|-\d+:\d+|:\d+)$")  # "-v1:0" only: "deepseek-v3" is a name
_DATE_SUFFIX = re.compile(r"-(20\d{6}|20\d{2}-\d{2}-\d{2})$")
# Routing variants that serve the same weights at the same terms: "model:free", "model:nitro". Pricing variants
# (":batch", ":flex", ":extended", ":thinking") stay part of the id: a batch price is not an interactive offering.
_ROUTING_TAG = re.compile(r":(free|nitro|floor|beta)$")
_VARIANT_TAG = re.compile(r":([a-z][a-z0-9-]*)$")
_LLAMA_VERSION = re.compile(r"^llama-v?(\d)[-.p](\d)(?=-)")
_LLAMA_SERVING = re.compile(r"-(instruct-turbo|instruct-fp8-fast|instruct-fp8|turbo|versatile|instant|fp8-fast|fp8)$")
# Fireworks spells versions "v3p1", "qwen2p5": a "p" between digits is a decimal point.
_DECIMAL_P = re.compile(r"(?<=\d)p(?=\d)")
_CLAUDE_VERSION = re.compile(r"(?<=\d)-(\d)(?=-|$)")
_CLAUDE_DOT_ZERO = re.compile(r"(?<=\d)\.0(?=-|$)")


def _strip_path(model_id: str) -> str:
    s = model_id.strip().lower()
    return s.rsplit("/", 1)[-1]


def canonical_id(model_id: str) -> str:
    """Map a provider model id to its canonical id (lowercase, provider-neutral)."""
    s = _strip_path(model_id)
    s = _REGION_PREFIX.sub("", s)
    s = _VENDOR_PREFIX.sub("", s)
    if not _VERSION_SUFFIX.search(s):
        s = _VARIANT_TAG.sub(r"-\1", _ROUTING_TAG.sub("", s))
    s = _VERSION_SUFFIX.sub("", s)
    s = _DATE_SUFFIX.sub("", s)
    s = _DECIMAL_P.sub(".", s)
    if s.startswith("meta-llama-"):
        s = s[len("meta-"):]
    s = re.sub(r"^llama(\d)", r"llama-\1", s)
    if s.startswith("llama-"):
        s = _LLAMA_VERSION.sub(r"llama-\1.\2", s)
        s = _LLAMA_SERVING.sub("-instruct", s)
    if s.startswith("claude-"):
        s = _CLAUDE_VERSION.sub(r".\1", s)
        s = _CLAUDE_DOT_ZERO.sub("", s)  # "claude-sonnet-4-0" is Anthropic's alias of claude-sonnet-4
    return s


def alias_keys(model_id: str, name: str | None) -> set[str]:
    """Every lowercase string a user may type for an offering's model."""
    keys = {model_id.strip().lower(), _strip_path(model_id)}
    if name:
        keys.add(name.strip().lower())
        keys.add(slug(name))
    return {k for k in keys if k}


def slug(text: str) -> str:
    """'Llama 3.1 70B Instruct' -> 'llama-3.1-70b-instruct'."""
    return re.sub(r"[^a-z0-9.]+", "-", text.strip().lower()).strip("-")
