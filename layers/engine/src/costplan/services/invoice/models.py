"""Model names -> catalog ids: the one invoice rule that needs the catalog, run over distinct texts only."""

import re
from functools import cache

from costplan.catalog.canonical import canonical_id
from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import load_instances

_INSTANCE = re.compile(r"\b(?:ml\.)?((?:p|g|inf|trn)[0-9][a-z0-9-]*\.[0-9a-z]+)\b")
_REGION = re.compile(r"^[A-Z]{2,4}\d?-")
_TOKEN_SUFFIX = re.compile(r"-(?:text-)?(?:input|output)-tokens.*$|-cache-(?:read|write).*$", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Z])")


@cache
def gpu_instances() -> frozenset[str]:
    try:
        return frozenset(i.instance_type.lower() for i in load_instances())
    except FileNotFoundError:  # pragma: no cover - the catalog ships with the layer
        return frozenset()


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


@cache
def first_model(texts: tuple[str, ...]) -> str:
    """The first text of ``texts`` (a row's model columns, in rule order) that names a model, else ""."""
    return next((m for m in map(resolve_model, texts) if m), "")


@cache
def _canonical(text: str) -> str:
    """The catalog's canonical id for ``text`` if it offers that model, else "" (memoised: word runs repeat)."""
    c = canonical_id(text)
    return c if c in get_llm_catalog().canonical_offerings else ""


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
    if c := _canonical(t):
        return c
    words = re.split(r"[\s,;:()\[\]]+", t)
    for size in range(min(6, len(words)), 0, -1):  # the longest run of words that names a model
        for start in range(len(words) - size + 1):
            chunk = "-".join(w for w in words[start:start + size] if w)
            if chunk in aliases and not chunk.isdigit() and len(chunk) > 3:
                return aliases[chunk]
            if (c := _canonical(chunk)) and len(c) > 3:
                return c
    return ""
