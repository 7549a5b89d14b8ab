"""The deterministic parser: a message in, an intent and slots out. No LLM, no I/O, no logging.

Rules, applied in order on the lower-cased message:
1. provider names after a cue ("on groq", "exclude azure") and model names (a family word, then version and
   qualifier words), matched to the registry (names.py); their words are masked so "70b" is not a number;
2. numbers with scales ("5M", "2k", "3 billion", "$2k"), each read with the unit and rate that follow it and the
   cue words around it ("budget", "p95", "output", "per request");
3. keywords: the intent, the use case, deployment, training method, what-if action, relative phrases.
Rates become per-month figures at 730 hours a month (the catalog's month).
"""

import re
import unicodedata
from dataclasses import dataclass, field

from costplan.services.copilot.names import NameMatch, Registry, is_version, match_model, match_provider
from costplan_contracts.enums import (
    CopilotIntent,
    Deployment,
    PricingModel,
    PricingUnit,
    ScenarioAction,
    TrainingMethod,
    WorkloadProfile,
    WorkloadType,
)

HOURS_PER_MONTH = 730.0
PER_MONTH = {"second": HOURS_PER_MONTH * 3600, "minute": HOURS_PER_MONTH * 60, "hour": HOURS_PER_MONTH,
             "day": HOURS_PER_MONTH / 24, "week": HOURS_PER_MONTH / 168, "month": 1.0, "year": 1 / 12}
_RATE_WORDS = {"s": "second", "sec": "second", "second": "second", "min": "minute", "minute": "minute",
               "h": "hour", "hr": "hour", "hour": "hour", "d": "day", "day": "day", "week": "week", "wk": "week",
               "mo": "month", "month": "month", "year": "year", "yr": "year", "daily": "day", "hourly": "hour",
               "monthly": "month", "weekly": "week", "yearly": "year", "annually": "year", "annual": "year"}
SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "mil": 1e6, "million": 1e6, "b": 1e9,
          "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12}
_NUMBER_WORDS = {"a thousand": "1 thousand", "one thousand": "1 thousand", "a million": "1 million",
                 "one million": "1 million", "a billion": "1 billion", "one billion": "1 billion",
                 "a hundred": "100", "one hundred": "100", "a dozen": "12", "ten": "10", "twenty": "20",
                 "fifty": "50", "a hundred thousand": "100 thousand"}
FRACTIONS = {"half": 0.5, "a third": 1 / 3, "one third": 1 / 3, "a quarter": 0.25, "one quarter": 0.25,
             "two thirds": 2 / 3, "three quarters": 0.75, "all": 1.0, "everything": 1.0}
FACTORS = {"double": 2.0, "doubled": 2.0, "doubles": 2.0, "twice": 2.0, "triple": 3.0, "tripled": 3.0,
           "triples": 3.0, "halve": 0.5, "halved": 0.5, "half": 0.5, "quadruple": 4.0}

_NUM = re.compile(
    r"(?<![a-z0-9.])(?P<cur>\$\s?|usd\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|mil|mm|mn|bn|k|m|b|t)(?![a-z]))?")
_RATE = re.compile(r"^\s*(?:/|per\b|an?\b|each\b|every\b|a\s+single\b)?\s*(?P<r>second|sec|s|minute|min|hour|hr|h|"
                   r"day|d|week|wk|month|mo|year|yr)s?\b|^\s*(?P<w>daily|hourly|monthly|weekly|yearly|annually)\b")
_PER_SECOND = re.compile(r"^\s*(?:rps|qps|req/s|requests?/s|r/s)\b")
_UNITS: list[tuple[str, re.Pattern]] = [(k, re.compile(p)) for k, p in [
    ("percent", r"^\s*(?:%|percent\b|pct\b)"),
    ("factor", r"^\s*(?:x\b|times\b)"),
    ("ms", r"^\s*(?:ms|msec|millis|milliseconds?)\b"),
    ("seconds", r"^\s*(?:s|sec|secs|seconds?)\b(?!\s*(?:of\s+)?(?:audio|speech))"),
    ("rps", r"^\s*(?:rps|qps|req/s|requests?/s|r/s)\b"),
    ("rpm", r"^\s*rpm\b"),
    ("context", r"^\s*(?:-?\s?tokens?\s+)?(?:-?\s?tokens?-?)?\s*(?:of\s+)?(?:context|ctx)\b"),
    ("tokens", r"^\s*(?:(?P<d1>input|prompt|output|completion|cached|training)\s+)?(?:tokens?|toks?|tokns?|tokenz|"
               r"tokes)\b(?:\s+(?:of\s+)?(?P<d2>input|prompt|output|completion|in|out)\b)?"),
    ("direction", r"^\s*(?P<d1>input|prompt|output|completion|in|out)\b"),
    ("gpu_hours", r"^\s*(?:gpu|h100|a100)[\s-]?(?:hours?|hrs?)\b"),
    ("audio_minutes", r"^\s*(?:minutes?|mins?)\s+(?:of\s+)?(?:audio|speech|calls?|recordings?|voice)\b"),
    ("audio_hours", r"^\s*(?:hours?|hrs?)\s+(?:of\s+)?(?:audio|speech|calls?|recordings?|voice)\b"),
    ("images", r"^\s*(?:generated\s+|new\s+)?(?:images?|pictures?|pics|photos?)\b"),
    ("characters", r"^\s*(?:characters?|chars?)\b"),
    ("searches", r"^\s*(?:searches|search(?:es)?\s+quer(?:y|ies)|rerank(?:ing)?\s+(?:queries|requests|calls))\b"),
    ("users", r"^\s*(?:daily\s+(?:active\s+)?)?(?:users?|dau|customers|employees|people|seats|agents|developers|engineers|"
              r"students|members)\b"),
    ("requests", r"^\s*(?:api\s+|llm\s+|chat\s+)?(?:requests?|reqs?|calls?|quer(?:y|ies)|messages?|conversations?|"
                 r"chats?|questions?|tickets?|documents?|docs?|pages?|emails?|sessions?)\b"),
    ("epochs", r"^\s*epochs?\b"),
    ("hours", r"^\s*(?:hours?|hrs?|h)\b"),
    ("days", r"^\s*days?\b"),
    ("usd", r"^\s*(?:usd|dollars?|bucks)\b"),
    ("params", r"^\s*(?:params|parameters)\b"),
]]

INTENT_WORDS: dict[CopilotIntent, tuple[str, ...]] = {
    CopilotIntent.PLAN_TRAINING: (r"fine[\s-]?tun", r"\bfinetun", r"\blora\b", r"\bqlora\b", r"\btrain(?:ing)?\b",
                                  r"\bpre-?train", r"\bepochs?\b", r"\bfien[\s-]?tun"),
    CopilotIntent.PLAN_SCALING: (r"\breplicas?\b", r"how many gpus", r"\bself[\s-]?host", r"host (?:it )?ourselves",
                                 r"\bserving\b", r"\bserve\b", r"\bvllm\b", r"how many (?:instances|nodes|machines)",
                                 r"\bsize (?:the|our) (?:cluster|fleet|deployment)", r"\bscal(?:e|ing)\b"),
    CopilotIntent.RANK_CATALOG: (r"\bembed(?:ding)?s?\b", r"\btranscri", r"speech[\s-]to[\s-]text", r"\bstt\b",
                                 r"\bwhisper\b", r"\btts\b", r"text[\s-]to[\s-]speech", r"\bimages?\b",
                                 r"\brerank", r"\bgpu[\s-]?hours?\b", r"\bvoice ?over\b"),
    CopilotIntent.INVOICE_SIMULATE: (r"\bwe spend\b", r"\bspend(?:ing)?\b", r"\bwhat if\b", r"\bbill\b",
                                     r"\binvoice\b", r"\bwe pay\b", r"\bpaying\b", r"\bspent\b", r"\bmoved?\b",
                                     r"\bmigrat", r"\bswitch"),
    CopilotIntent.EXPLAIN: (r"\bwhy\b", r"\bexplain", r"\bhow come\b", r"break[\s-]?even", r"what drove",
                            r"\bwhat separates\b", r"\bwhy not\b"),
    CopilotIntent.PLAN_LLM: (r"\bcheapest\b", r"\bcost\b", r"\bprice", r"\bwhich (?:model|provider|api)\b",
                             r"\bchatbot\b", r"\bllm\b", r"\bapi\b", r"\bplan\b", r"\bcheaper\b", r"\bcompare\b"),
}
USE_CASES: tuple[tuple[str, str, WorkloadProfile], ...] = (
    (r"\brag\b|retrieval|over (?:our|the) docs|knowledge base|document q&?a", "rag", WorkloadProfile.RAG_LONG_CONTEXT),
    (r"\bcod(?:e|ing) (?:assistant|completion|review)|\bcopilot for code|\bcoding\b|\bcode\b", "code_assistant",
     WorkloadProfile.CODING),
    (r"summari[sz]", "summarization", WorkloadProfile.SUMMARIZATION),
    (r"\bextract|\bparsing invoices|\bclassif", "extraction", WorkloadProfile.EXTRACTION),
    (r"\bagents?\b|\bagentic\b|tool[\s-]use", "agent", WorkloadProfile.AGENTIC),
    (r"\bbatch (?:job|jobs|processing|pipeline)|\boffline\b|\bnightly\b", "batch", WorkloadProfile.SUMMARIZATION),
    (r"chat ?bot|\bchat\b|support bot|customer support|assistant|\bhelpdesk\b", "chat", WorkloadProfile.CHAT),
)
_MOVE = re.compile(r"\b(?:move|moved|moving|switch|switched|switching|migrate|migrated|shift|shifted|route|routed|"
                   r"replace|replaced|send|sent)\b")
_EXCLUDE = re.compile(r"\b(?:exclude|excluding|except|without|not|no|avoid|avoiding|skip|but not|never|minus)\b")
_INCLUDE = re.compile(r"\b(?:on|via|from|at|only|using|use|through|with|in|prefer|providers?)\b")
_DISTINCT_PROVIDERS = frozenset({"openai", "anthropic", "groq", "azure", "aws", "bedrock", "cerebras", "openrouter",
                                 "fireworks", "novita", "databricks", "cohere", "vertex", "together"})


@dataclass
class Parsed:
    intent: CopilotIntent | None = None
    intents: dict[CopilotIntent, int] = field(default_factory=dict)  # keyword hits per intent
    slots: dict = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)  # relative phrases: slot group -> multiplier
    unmatched: list[NameMatch] = field(default_factory=list)
    fuzzy: list[NameMatch] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # slot -> how it was read (becomes an assumption)


def normalise(message: str) -> str:
    text = unicodedata.normalize("NFKC", message).lower()
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-").replace("per cent", "percent")
    text = re.sub(r"[\u0000-\u0008\u000b-\u001f\u007f]", " ", text)
    for words, digits in sorted(_NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"\b{words}\b", digits, text)
    return re.sub(r"\s+", " ", text).strip()


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _window(text: str, start: int, end: int, before: int = 40, after: int = 60) -> tuple[str, str]:
    return text[max(0, start - before):start], text[end:end + after]


_WORD = re.compile(r"[a-z0-9][a-z0-9.\-]*[a-z0-9]|[a-z0-9]")


def _names(text: str, reg: Registry, p: Parsed) -> str:
    """Providers and models, masked out of the text once read."""
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
    i, providers, excluded = 0, [], []
    last_provider_end, last_polarity = None, None
    while i < len(words):
        w, s, e = words[i]
        prev = text[max(0, s - 25):s]
        nxt = words[i + 1][0] if i + 1 < len(words) else ""
        provider = match_provider(w, reg)
        cue = re.search(r"(?:\b(?:on|via|from|at|only|using|use|through|exclude|excluding|except|without|not|no|"
                        r"avoid|and|or|prefer|providers?)|,)\s*$", prev)
        family = reg.family(w)
        if provider and (cue or w in _DISTINCT_PROVIDERS) and not (family and is_version(nxt)):
            gap = text[last_provider_end:s] if last_provider_end is not None else None
            if _EXCLUDE.search(prev[-20:]):
                polarity = "exclude"
            elif gap is not None and re.fullmatch(r"[\s,]*(?:and|or|nor|&)?[\s,]*", gap):
                polarity = last_polarity
            else:
                polarity = "include"
            (excluded if polarity == "exclude" else providers).append(provider)
            last_provider_end, last_polarity = e, polarity
            text = _mask(text, s, e)
            i += 1
            continue
        if family:
            run = [w]
            j = i + 1
            while j < len(words) and len(run) < 6 and is_version(words[j][0]) and text[words[j - 1][2]:words[j][1]] in (" ", "-"):
                run.append(words[j][0])
                j += 1
            pool = None
            hit = match_model(run, reg, pool)
            end = words[i + hit.words - 1][2]
            before = re.sub(r"\b(?:the|a|an|our|some|of it)\b", " ", text[max(0, s - 30):s])
            slot = "target_model" if (re.search(r"\b(?:to|onto|into|with|for)\s*$", before) and _MOVE.search(text)
                                      and ("model" in p.slots or re.search(r"\bwhat if\b", text))) else "model"
            if hit.canonical is None:
                p.unmatched.append(hit)
                if slot == "target_model":  # "move half to Llama": the action is known, the model is asked
                    p.slots.setdefault("scenario", ScenarioAction.SWITCH_MODEL)
            else:
                if not hit.exact:
                    p.fuzzy.append(hit)
                p.slots.setdefault(slot, hit.canonical)
            text = _mask(text, s, end)
            i += hit.words
            continue
        i += 1
    if providers:
        p.slots["providers"] = sorted(set(providers))
    if excluded:
        p.slots["exclude_providers"] = sorted(set(excluded))
    return text


def _rate(after: str) -> tuple[str | None, int]:
    m = _RATE.match(after)
    if not m:
        return None, 0
    return _RATE_WORDS[m.group("r") or m.group("w")], m.end()


def _set(p: Parsed, slot: str, value, note: str | None = None) -> None:
    if slot not in p.slots:
        p.slots[slot] = value
        if note:
            p.notes[slot] = note


def _money(p: Parsed, value: float, before: str, after: str, text: str) -> None:
    rate, _ = _rate(after)
    monthly = value * PER_MONTH[rate] if rate else value
    near = before[-30:] + " " + after[:20]
    if rate is None:
        p.notes.setdefault("money", "an amount without a period is read as per month")
    if re.search(r"budget|\bcap\b|\blimit\b|afford", near):
        _set(p, "monthly_budget_usd", monthly)
    elif re.search(r"spen[dt]|\bpay|\bbill|cost(?:s|ing)? us|invoice|we're at|we are at", near):
        _set(p, "monthly_spend_usd", monthly)
    elif re.search(r"under|below|at most|\bmax|no more than|less than|within|up to|\bkeep", near):
        _set(p, "monthly_budget_usd", monthly)
    elif re.search(r"\bwe spend|\bspending|\bwe pay", text):
        _set(p, "monthly_spend_usd", monthly)
    else:
        _set(p, "monthly_budget_usd", monthly)


def _percent(p: Parsed, value: float, before: str, after: str) -> None:
    share = value / 100
    b, a = before[-30:], after[:25]
    if re.search(r"\b(?:output|completion)", a) or re.search(r"\b(?:output|completion)s?\s*(?:share|is|are|of)?\s*$", b):
        _set(p, "output_share", min(share, 1.0))
    elif re.search(r"\b(?:input|prompt)", a) and not re.search(r"cach", a):
        _set(p, "output_share", max(0.0, 1 - share))
    elif re.search(r"cach", a + " " + b):
        _set(p, "cached_share", min(share, 1.0))
        _set(p, "cache_hit_rate", min(share, 1.0))
    elif re.search(r"batch", a + " " + b):
        _set(p, "share", min(share, 1.0))
        _set(p, "scenario", ScenarioAction.BATCH_SHARE)
    elif re.search(r"grow|growth|increase|more|up\b|rise", a + " " + b):
        _set(p, "growth_pct", value)
    elif re.search(r"drop|decrease|fewer|less|down\b|shrink", a + " " + b):
        _set(p, "growth_pct", -value)
    elif re.search(r"\b(?:of|of it|of that|of the (?:traffic|spend|usage))?\s*$", b) and _MOVE.search(b + a):
        _set(p, "share", min(share, 1.0))
    elif re.search(r"top|bottom", b):
        return
    else:
        _set(p, "share", min(share, 1.0))


def _latency(p: Parsed, ms: float, before: str, after: str) -> None:
    near = before[-40:] + " " + after[:25]
    if re.search(r"per (?:output )?token|tpot|inter-?token|between tokens|a token|each token|/token", near):
        _set(p, "tpot_ms", ms)
    else:
        _set(p, "ttft_ms", ms, None if re.search(r"ttft|first token", near) else
             "a latency target is read as time to first token (slo.ttft_ms)")


def _bare_number(p: Parsed, value: float, before: str) -> None:
    """A number with no unit: "top 5", or a peak rate named before it."""
    if re.search(r"\btop\s*$|\bbest\s*$|\bfirst\s*$", before) and value <= 100:
        _set(p, "top_k", int(value))
    elif re.search(r"\b(?:peak\w*|spik\w*)\b[^.]{0,15}$", before):
        _set(p, "peak_requests_per_second", value)


# Each unit kind's reader: (parsed, value, kind, unit match, text before, text after the unit, training?).
def _n_percent(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    _percent(p, value, before, rest)


def _n_factor(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    if not re.search(r"\bpeak", rest[:30] + before[-20:]):
        p.factors.setdefault("volume", value)


def _n_latency(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    _latency(p, value if kind == "ms" else value * 1000, before, rest)


def _n_rate(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    rps = value if kind == "rps" else value / 60
    if re.search(r"\b(?:peak\w*|spik\w*|burst\w*)\b[^.]{0,15}$", before):
        _set(p, "peak_requests_per_second", rps)
    else:
        _set(p, "requests_per_month", rps * PER_MONTH["second"])


def _n_context(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    _set(p, "max_context_tokens", int(value))


def _n_tokens(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    _tokens(p, value, um, before, rest, training, kind == "direction")


def _n_users(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    rate, _ = _rate(rest)
    _set(p, "daily_users", value if rate in (None, "day") else value * PER_MONTH[rate] / PER_MONTH["day"],
         None if rate or re.search(r"daily|dau|a day|per day", um.group() + before[-15:])
         else "a user count without a period is read as daily active users")


def _n_requests(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    _requests(p, value, before, rest)


_QUANTITY_UNITS = {"images": PricingUnit.PER_IMAGE, "characters": PricingUnit.PER_CHARACTER,
                   "searches": PricingUnit.PER_SEARCH, "gpu_hours": PricingUnit.PER_GPU_HOUR,
                   "audio_minutes": PricingUnit.PER_AUDIO_MINUTE, "audio_hours": PricingUnit.PER_AUDIO_HOUR}


def _n_quantity(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    rate, _ = _rate(rest)
    _set(p, "quantity", value * PER_MONTH[rate] if rate else value,
         None if rate else "a quantity without a period is read as per month")
    _set(p, "quantity_unit", _QUANTITY_UNITS[kind])


def _n_epochs(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    _set(p, "epochs", value)


def _n_deadline(p: Parsed, value: float, kind: str, um: re.Match, before: str, rest: str, training: bool) -> None:
    hours = value * (24 if kind == "days" else 1)
    if re.search(r"within|in under|under|by|deadline|in\s*$|less than|finish", before[-25:]):
        _set(p, "deadline_hours", hours)


_NUMBER_READERS = {"percent": _n_percent, "factor": _n_factor, "ms": _n_latency, "seconds": _n_latency,
                   "rps": _n_rate, "rpm": _n_rate, "context": _n_context, "tokens": _n_tokens, "direction": _n_tokens,
                   "users": _n_users, "requests": _n_requests, "epochs": _n_epochs, "hours": _n_deadline,
                   "days": _n_deadline, **dict.fromkeys(_QUANTITY_UNITS, _n_quantity)}


def _numbers(text: str, p: Parsed, training: bool) -> None:
    for m in _NUM.finditer(text):
        raw = m.group("num").replace(",", "")
        value = float(raw) * SCALES.get(m.group("scale") or "", 1.0)
        before, after = _window(text, m.start(), m.end())
        if m.group("cur") or re.match(r"^\s*(?:usd|dollars?|bucks)\b", after):
            _money(p, value, before, after[re.match(r"^\s*(?:usd|dollars?|bucks)?", after).end():], text)
            continue
        kind, um = next(((k, r.match(after)) for k, r in _UNITS if r.match(after)), (None, None))
        rest = after[um.end():] if um else after
        if kind is None:
            _bare_number(p, value, before)
        elif kind in _NUMBER_READERS:
            _NUMBER_READERS[kind](p, value, kind, um, before, rest, training)


_DIRECTIONS = {"input": "input", "prompt": "input", "in": "input", "output": "output", "completion": "output",
               "out": "output", "cached": "cached", "training": "training"}
_OUTPUT_BEFORE = re.compile(r"(?:answers?|responses?|repl(?:y|ies)|outputs?|completions?|generat\w*)\s*(?:of|with|are|is|"
                            r"around|about|~)?\s*(?:about|around|~)?\s*$")
_INPUT_BEFORE = re.compile(r"(?:prompts?|questions?|inputs?|context|documents?|docs?)\s*(?:of|with|are|is|around|"
                           r"about|~)?\s*(?:about|around|~)?\s*$")
_MONTHLY_SLOTS = {"input": "input_tokens_per_month", "output": "output_tokens_per_month", "cached": "input_tokens_per_month"}


def _skip_bare(d: str, before: str, rest: str) -> bool:
    """A bare direction word ("in", "out") is a token count only near "tok" and before a list or "tokens"."""
    if not re.search(r"tok", before + rest):
        return True
    return d in ("in", "out") and not re.match(r"^\s*(?:,|and|\+|/|tokens|$)", rest)


def _direction(d: str, b: str) -> str | None:
    direction = _DIRECTIONS.get(d or "")
    if direction is None:
        if _OUTPUT_BEFORE.search(b):
            return "output"
        if _INPUT_BEFORE.search(b):
            return "input"
    return direction


def _per_request(rest: str, b: str) -> bool:
    per_request = re.match(r"^[^.;$]{0,45}?(?:/|\bper|\ban?|\beach|\bevery)\s*(?:request|call|query|message|"
                           r"conversation|turn|answer|response|prompt|question|chat)\b", rest) and \
        not re.match(r"^[^.;$]{0,45}?\b(?:day|month|hour|week|year|daily|monthly)\b", rest)
    return bool(per_request or re.search(r"(?:each|per|every)\s+(?:request|call|query|answer|response|prompt)[^.]{0,20}$", b))


def _token_rate(rest: str) -> str | None:
    rate, _ = _rate(rest)
    if rate is None:  # "5M input and 1M output tokens a day": the period at the end of the clause applies to both
        later = re.match(r"^[^.;$]{0,45}?(?:tokens?|toks?)\b\s*(?:of \w+\s*)?(?=\S)", rest)
        if later:
            rate, _ = _rate(rest[later.end():])
    return rate


def _tokens(p: Parsed, value: float, um: re.Match, before: str, rest: str, training: bool, bare: bool) -> None:
    d = (um.group("d1") or (um.groupdict().get("d2") or "")) if um else ""
    if bare and _skip_bare(d, before, rest):
        return
    b = before[-30:]
    direction = _direction(d, b)
    if _per_request(rest, b):
        _set(p, "avg_output_tokens" if direction == "output" else "avg_input_tokens", value)
        return
    rate = _token_rate(rest)
    if training or direction == "training":
        _set(p, "dataset_tokens", value)
        return
    if rate is None and direction in ("input", "output") and re.search(r"(?:answers?|responses?|prompts?|"
                                                                       r"questions?)", b):
        _set(p, f"avg_{direction}_tokens", value)
        return
    monthly = value * PER_MONTH[rate] if rate else value
    note = None if rate else "a token volume without a period is read as per month"
    if re.search(r"embed", b + rest[:20]):
        _set(p, "quantity", monthly / 1e6, note)
        _set(p, "quantity_unit", PricingUnit.PER_1M_TOKENS)
        return
    _set(p, _MONTHLY_SLOTS.get(direction or "", "tokens_per_month"), monthly, note)


def _requests(p: Parsed, value: float, before: str, rest: str) -> None:
    if _PER_SECOND.match(rest):
        rate = "second"
    else:
        rate, _ = _rate(rest)
    if re.search(r"\b(?:peak\w*|spik\w*|burst\w*)\b[^.]{0,15}$", before) and rate == "second":
        _set(p, "peak_requests_per_second", value)
        return
    if rate is None:
        if re.search(r"\btop\s*$", before):
            return
        _set(p, "requests_per_month", value, "a request count without a period is read as per month")
        return
    _set(p, "requests_per_month", value * PER_MONTH[rate])


_TRAINING_METHODS = ((r"\bqlora\b|\bq-lora\b|4-?bit lora", TrainingMethod.QLORA),
                     (r"\blora\b|\badapter", TrainingMethod.LORA),
                     (r"full[\s-]?(?:fine[\s-]?tun|finetun|parameter)|all (?:the )?weights", TrainingMethod.FULL_FINETUNE),
                     (r"continued pre-?train|continue pre-?train", TrainingMethod.CONTINUED_PRETRAIN),
                     (r"\bpre-?train|from scratch", TrainingMethod.PRETRAIN))
_PRICING_MODELS = ((r"\bspot\b", PricingModel.SPOT),
                   (r"\breserved\b|\bcommit(?:ted|ment)?\b|1[\s-]?year", PricingModel.COMMITTED_1Y))
_WORKLOAD_TYPES = ((r"\bembed", WorkloadType.EMBEDDINGS),
                   (r"transcri|speech[\s-]to[\s-]text|\bstt\b|whisper", WorkloadType.SPEECH_TO_TEXT),
                   (r"\btts\b|text[\s-]to[\s-]speech|voice ?over|narrat", WorkloadType.TEXT_TO_SPEECH),
                   (r"\bimages?\b|pictures|photos", WorkloadType.IMAGE_GENERATION), (r"\brerank", WorkloadType.RERANK),
                   (r"\bgpu[\s-]?hours?\b", WorkloadType.GPU_COMPUTE))


def _first_match(text: str, table: tuple) -> object | None:
    """The value of the first (pattern, value) row whose pattern occurs in the text."""
    return next((value for pat, value in table if re.search(pat, text)), None)


def _intents_and_use_case(text: str, p: Parsed) -> None:
    for intent, pats in INTENT_WORDS.items():
        hits = sum(1 for pat in pats if re.search(pat, text))
        if hits:
            p.intents[intent] = hits
    for pat, use_case, profile in USE_CASES:
        if re.search(pat, text):
            p.slots.setdefault("use_case", use_case)
            p.slots.setdefault("workload_profile", profile)
            break
    if re.search(r"\breasoning\b|\bmath\b", text):
        p.slots.setdefault("workload_profile", WorkloadProfile.REASONING)


def _deployment_and_pricing(text: str, p: Parsed) -> None:
    if re.search(r"self[\s-]?host|host (?:it )?ourselves|own gpus|on our gpus|our own hardware|\bvllm\b", text):
        both = re.search(r"\b(?:or|vs\.?|versus|compared? (?:to|with))\b[^.]{0,30}(?:api|hosted)|(?:api|hosted)"
                         r"[^.]{0,30}\b(?:or|vs\.?|versus)\b[^.]{0,12}self", text)
        p.slots["deployment"] = Deployment.BOTH if both else Deployment.SELF_HOSTED
    if (method := _first_match(text, _TRAINING_METHODS)) is not None:
        p.slots["training_method"] = method
    if (pricing := _first_match(text, _PRICING_MODELS)) is not None:
        p.slots["pricing_model"] = pricing
    if (workload_type := _first_match(text, _WORKLOAD_TYPES)) is not None:
        p.slots.setdefault("workload_type", workload_type)
    if re.search(r"\btop\s+(\d+)\b", text) and "top_k" not in p.slots:
        k = int(re.search(r"\btop\s+(\d+)\b", text).group(1))
        if 1 <= k <= 100:
            p.slots["top_k"] = k


def _moved_share(text: str, p: Parsed) -> None:
    """The share a scenario moves: "move half of it to ...", "a third in batch"."""
    if not (_MOVE.search(text) or re.search(r"\bbatch\b", text)):
        return
    for words, share in sorted(FRACTIONS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{words}\b(?:\s+(?:of\s+)?(?:it|that|the \w+|our \w+|\w+ traffic))?", text) and \
                re.search(rf"\b{words}\b[^.]{{0,40}}\b(?:to|onto|over|in batch|batch)\b|"
                          rf"{_MOVE.pattern}[^.]{{0,20}}\b{words}\b", text):
            p.slots.setdefault("share", share)
            break


def _keywords(text: str, p: Parsed) -> None:
    _intents_and_use_case(text, p)
    _deployment_and_pricing(text, p)
    _moved_share(text, p)
    for word, f in FACTORS.items():
        if re.search(rf"\b{word}\b", text) and "share" not in p.slots:
            target = "budget" if re.search(rf"\b{word}\b\s+(?:the\s+|our\s+|my\s+|that\s+)?budget|budget\s+"
                                           rf"(?:is\s+|was\s+|gets\s+)?{word}\b", text) else "volume"
            p.factors.setdefault(target, f)
            break
    if re.search(r"\bbatch\b", text) and ("share" in p.slots or "batch api" in text):
        p.slots.setdefault("scenario", ScenarioAction.BATCH_SHARE)


# A word shaped like a model id (letters, then "-" and a digit: "zzmodel-9") that no family in the registry starts.
_MODEL_LIKE = re.compile(r"\b[a-z]{3,}[a-z0-9]*-\d[a-z0-9.\-]*\b")


def _unknown_names(text: str, reg: Registry, p: Parsed) -> str:
    """A model-shaped name the registry does not know is asked about, never silently dropped (which would price
    the workload across every model as if none had been named)."""
    if "model" in p.slots or p.unmatched:
        return text
    for m in _MODEL_LIKE.finditer(text):
        slug = m.group()
        p.unmatched.append(NameMatch(requested=slug, canonical=None, exact=False, words=1,
                                     suggestions=tuple(i for i, _ in reg.closest(slug))))
        text = _mask(text, m.start(), m.end())
    return text


def parse(message: str, reg: Registry) -> Parsed:
    """The intent and slots of one message. Pure: the same message and registry give the same result."""
    p = Parsed()
    text = normalise(message)
    text = _names(text, reg, p)
    text = _unknown_names(text, reg, p)
    _keywords(text, p)
    training = CopilotIntent.PLAN_TRAINING in p.intents
    _numbers(text, p, training)
    _scenario(text, p)
    p.intent = _intent(p)
    return p


def _scenario(text: str, p: Parsed) -> None:
    s = p.slots
    if "scenario" in s:
        return
    if "target_model" in s:
        s["scenario"] = ScenarioAction.SWITCH_MODEL
    elif _MOVE.search(text) and s.get("providers") and "model" in s:
        s["target_provider"] = s["providers"][0]
        s["scenario"] = ScenarioAction.SWITCH_PROVIDER
    elif "cache_hit_rate" in s and "monthly_spend_usd" in s:
        s["scenario"] = ScenarioAction.CACHE_HIT_RATE
    elif "growth_pct" in s:
        s["scenario"] = ScenarioAction.VOLUME_GROWTH
    elif "monthly_spend_usd" in s and re.search(r"self[\s-]?host", text):
        s["scenario"] = ScenarioAction.MOVE_TO_SELF_HOSTED


def _intent(p: Parsed) -> CopilotIntent | None:
    hits, s = p.intents, p.slots
    if CopilotIntent.EXPLAIN in hits and not any(k in s for k in ("tokens_per_month", "input_tokens_per_month",
                                                                  "daily_users", "monthly_spend_usd")):
        return CopilotIntent.EXPLAIN
    if "monthly_spend_usd" in s or (CopilotIntent.INVOICE_SIMULATE in hits and "target_model" in s):
        return CopilotIntent.INVOICE_SIMULATE
    if CopilotIntent.PLAN_TRAINING in hits or "dataset_tokens" in s or "training_method" in s:
        return CopilotIntent.PLAN_TRAINING
    if "quantity_unit" in s or (CopilotIntent.RANK_CATALOG in hits and "workload_type" in s):
        return CopilotIntent.RANK_CATALOG
    monthly_tokens = any(k in s for k in ("tokens_per_month", "input_tokens_per_month", "output_tokens_per_month",
                                          "daily_users"))
    if CopilotIntent.PLAN_SCALING in hits and s.get("deployment") != Deployment.BOTH and not monthly_tokens:
        return CopilotIntent.PLAN_SCALING
    volume = any(k in s for k in ("tokens_per_month", "input_tokens_per_month", "output_tokens_per_month",
                                  "daily_users", "requests_per_month", "use_case"))
    if volume or CopilotIntent.PLAN_LLM in hits or "model" in s:
        return CopilotIntent.PLAN_LLM
    return None
