"""Provider and model names, matched to the registry: exact aliases first, then rapidfuzz's closest entry.

The registry is the hosted catalog (canonical ids and every alias), the open-weight self-hosted models and the
training models. Built once per process from the cached catalogs.
"""

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from costplan.catalog.canonical import canonical_id
from costplan.catalog.llm import get_llm_catalog
from costplan.catalog.selfhosted import get_selfhosted_catalog
from costplan.catalog.training import get_training_catalog

MATCH_CUTOFF = 88.0  # rapidfuzz ratio (0-100) at or above which a name is read as the registry entry
SUGGEST_CUTOFF = 60.0  # below MATCH_CUTOFF: offered as suggestions, never used
SUGGESTIONS = 3
FAMILY_CUTOFF = 80.0  # a word this close to a model family starts a model name ("lama" -> llama)
_VERSION = re.compile(r"^(v?\d+(\.\d+)*|\d+(\.\d+)?b|\d+x\d+b|a\d+b|\d+(\.\d+)*-[a-z0-9.-]+|r\d|v\d)$")
QUALIFIERS = frozenset({
    "mini", "nano", "pro", "flash", "sonnet", "haiku", "opus", "turbo", "instruct", "chat", "lite", "large",
    "small", "medium", "max", "plus", "it", "coder", "ultra", "oss", "o", "preview", "scout", "maverick", "r1",
    "v3", "v3.1", "v2", "reasoner", "fast", "nemo", "vl", "thinking", "air",
    "3.5", "4o"})
# First-party provider per model family: where spend on a model is assumed to be billed when no provider is named.
VENDORS = {"gpt": "openai", "o1": "openai", "o3": "openai", "o4": "openai", "claude": "anthropic",
           "gemini": "google", "gemma": "google", "mistral": "mistral", "mixtral": "mistral", "ministral": "mistral",
           "codestral": "mistral", "deepseek": "deepseek", "grok": "x-ai", "command": "cohere", "llama": "meta",
           "kimi": "moonshotai", "glm": "zai", "nova": "aws"}
PROVIDER_ALIASES = {"bedrock": "aws", "amazon": "aws", "vertex": "google", "gcp": "google", "xai": "x-ai",
                    "grok": "x-ai", "together.ai": "together", "togetherai": "together", "fireworks.ai": "fireworks",
                    "fireworks-ai": "fireworks", "mistralai": "mistral", "moonshot": "moonshotai", "hf": "huggingface"}
_TYPOS = {"gtp": "gpt", "chatgpt": "gpt-4o", "lamma": "llama", "llma": "llama"}


@dataclass(frozen=True)
class NameMatch:
    requested: str  # the slug read from the message (an extracted slot, never the raw message)
    canonical: str | None  # registry id, or None when nothing was close enough
    exact: bool
    suggestions: tuple[str, ...]
    words: int  # how many message words the name used


@dataclass(frozen=True)
class Registry:
    aliases: dict[str, str]
    ids: tuple[str, ...]  # every matchable id, sorted
    open_weight: frozenset[str]
    training: frozenset[str]  # open-weight training specs and managed fine-tuning base models
    families: frozenset[str]
    providers: frozenset[str]
    offerings: dict[str, int]  # hosted offerings per canonical id

    def family(self, word: str) -> str | None:
        if word in QUALIFIERS or word in _STOP:
            return None
        word = _TYPOS.get(word, word)
        head = word[:2] if re.match(r"^o\d", word) else _head(word)
        head = _TYPOS.get(head, head)
        if head in self.families:
            return head
        if len(head) >= 4:
            hit = process.extractOne(head, self.families, scorer=fuzz.ratio, score_cutoff=FAMILY_CUTOFF)
            return hit[0] if hit else None
        return None

    def lookup(self, slug: str, pool: tuple[str, ...] | None = None) -> str | None:
        """Exact: an alias, the canonical form of the slug, or the slug plus '-instruct'."""
        allowed = set(pool) if pool is not None else None
        hits = []
        for key in (slug, canonical_id(slug), f"{slug}-instruct", f"{canonical_id(slug)}-instruct"):
            hit = self.aliases.get(key) or (key if key in self.ids else None)
            if hit and (allowed is None or hit in allowed) and hit not in hits:
                hits.append(hit)
        # "llama 3.3 70b": the instruct model most providers sell, over a base id one provider lists
        return max(hits, key=lambda h: (self.offerings.get(h, 0), h in self.open_weight, -hits.index(h))) \
            if hits else None

    def within(self, model: str, pool: frozenset[str]) -> str | None:
        """The same model in a narrower registry (open-weight, training), allowing the '-instruct' suffix."""
        for key in (model, f"{model}-instruct", model.removesuffix("-instruct")):
            if key in pool:
                return key
        return None

    def closest(self, slug: str, pool: tuple[str, ...] | None = None) -> list[tuple[str, float]]:
        choices = pool if pool is not None else self.ids
        hits = process.extract(slug, choices, scorer=fuzz.ratio, limit=SUGGESTIONS * 3, score_cutoff=SUGGEST_CUTOFF)
        if not hits:  # a bare family ("llama"): its open-weight and training models first, shortest ids first
            prefixed = [i for i in choices if i.startswith(slug + "-")]
            prefixed.sort(key=lambda i: (i not in self.open_weight and i not in self.training, len(i), i))
            return [(i, 0.0) for i in prefixed[:SUGGESTIONS]]
        # best score first, then the shorter (base) id, then by name: deterministic
        return sorted(((h[0], float(h[1])) for h in hits), key=lambda h: (-h[1], len(h[0]), h[0]))[:SUGGESTIONS]


@cache
def registry() -> Registry:
    cat = get_llm_catalog()
    open_weight = frozenset(m.model_id for m in get_selfhosted_catalog().models)
    tcat = get_training_catalog()
    training = frozenset(tcat.models) | frozenset(o.base_model for o in tcat.managed if o.base_model != "*")
    ids = tuple(sorted(set(cat.canonical_offerings) | open_weight | training))
    heads: dict[str, int] = {}
    for i in ids:
        h = _head(i)
        heads[h] = heads.get(h, 0) + 1
    families = frozenset(h for h, n in heads.items() if n >= 2 and len(h) >= 3 and h.isalpha()) | {"o1", "o3", "o4"}
    providers = frozenset(cat.providers)
    offerings = {k: len(v) for k, v in cat.canonical_offerings.items()}
    return Registry(dict(cat.aliases), ids, open_weight, training, families, providers, offerings)


_STOP = frozenset({"text", "speech", "image", "model", "models", "tokens", "token", "month", "per", "and", "with", "the", "for",
                   "mini"})


def _head(word: str) -> str:
    m = re.match(r"[a-z]+", word)
    return m.group() if m else word


def is_version(word: str) -> bool:
    if _VERSION.match(word) or word in QUALIFIERS:
        return True
    return len(word) >= 4 and word.isalpha() and process.extractOne(
        word, sorted(QUALIFIERS), scorer=fuzz.ratio, score_cutoff=FAMILY_CUTOFF) is not None


def _fix_family(word: str, reg: "Registry") -> str:
    fam = reg.family(word)
    if fam is None or word.startswith(fam):
        return word
    head = word[:2] if re.match(r"^o\d", word) else _head(_TYPOS.get(word, word))
    return fam + _TYPOS.get(word, word)[len(head):]


def match_model(words: list[str], reg: Registry, pool: tuple[str, ...] | None = None) -> NameMatch:
    """The longest run of ``words`` (a family word, then version and qualifier words) that names a model."""
    words = [_fix_family(words[0], reg), *words[1:]]
    for n in range(len(words), 0, -1):
        slug = "-".join(words[:n])
        hit = reg.lookup(slug, pool)
        if hit:
            return NameMatch(slug, hit, True, (), n)
    best: tuple[str, float, int] | None = None
    for n in range(len(words), 0, -1):
        slug = "-".join(words[:n])
        close = reg.closest(slug, pool)
        if close and (best is None or close[0][1] > best[1]):
            best = (close[0][0], close[0][1], n)
    slug = "-".join(words)
    suggestions = tuple(h for h, _ in reg.closest(slug, pool))
    if best and best[1] >= MATCH_CUTOFF:
        return NameMatch("-".join(words[:best[2]]), best[0], False, suggestions, best[2])
    return NameMatch(slug, None, False, suggestions, len(words))


def match_provider(word: str, reg: Registry) -> str | None:
    word = PROVIDER_ALIASES.get(word, word)
    if word in reg.providers:
        return word
    if len(word) >= 6:
        hit = process.extractOne(word, sorted(reg.providers), scorer=fuzz.ratio, score_cutoff=MATCH_CUTOFF - 8)
        return hit[0] if hit else None
    return None


def vendor_of(model: str) -> str | None:
    head = re.split(r"[-.:]", model)[0]
    return VENDORS.get(head) or VENDORS.get(re.sub(r"\d+(\.\d+)*$", "", head))
