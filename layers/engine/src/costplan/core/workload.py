"""Token volumes of an LLM application from its conversation structure (assist/workload). Pure, no validation.

A session has ``turns`` user turns; each turn makes ``steps`` model calls (1 unless an agent loops). The prompt of
call k (0-based) in turn t (1-based) is laid out as

    [system][history of the last min(t-1, H) turns][context + retrieved chunks][user prompt][k x (answer + tool)]

    input(t, k)  = s + min(t-1, H) x (u + a) + d + K x m + u + k x (a + x)
    output(t, k) = a

with s system, u user prompt, d attached context, K chunks of m tokens, a answer, x tool result, H the history
kept (None: all). The largest prompt is input(turns, steps - 1).

Prompt caching (providers cache a prompt's longest previously seen prefix, once it is at least ``cache_min``
tokens long) reads this prefix of each call from the cache:

    k >= 1                 : the previous call's whole prompt, input(t, k-1)
    k = 0, t >= 2, no slide: s + history(t-1) (+ u of the previous turn when nothing sits between history and it)
    otherwise              : s (the system prompt, shared by every session)

and nothing when that prefix is shorter than ``cache_min``. "No slide" means the history still starts at turn 1
(t - 1 <= H); once the oldest turn drops, only the system prompt repeats.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Conversation:
    system: float
    prompt: float
    context: float
    chunks: float
    chunk: float
    answer: float
    turns: int
    history: int | None  # turns kept; None keeps them all
    steps: int
    tool: float
    cache_min: float


@dataclass(frozen=True)
class SessionTokens:
    input: float
    output: float
    cached: float
    calls: int
    max_prompt: float


def _history(c: Conversation, t):
    return t - 1 if c.history is None else np.minimum(t - 1, c.history)


def call_input(c: Conversation, t, k):
    """input(t, k); t and k may be arrays."""
    return (c.system + _history(c, t) * (c.prompt + c.answer) + c.context + c.chunks * c.chunk + c.prompt
            + k * (c.answer + c.tool))


def cached_prefix(c: Conversation, t, k):
    """Tokens of call (t, k)'s prompt that repeat a prompt already sent (before the cache minimum applies)."""
    t, k = np.asarray(t, float), np.asarray(k, float)
    between = c.context + c.chunks * c.chunk
    first = c.system + _history(c, t - 1) * (c.prompt + c.answer) + (c.prompt if between == 0 else 0.0)
    no_slide = (t >= 2) & ((t - 1 <= c.history) if c.history is not None else True)
    return np.where(k >= 1, call_input(c, t, k - 1), np.where(no_slide, first, c.system))


def session_tokens(c: Conversation) -> SessionTokens:
    """Input, output and cache-read tokens of one session, summed over its turns x steps grid."""
    t, k = np.meshgrid(np.arange(1, c.turns + 1, dtype=float), np.arange(c.steps, dtype=float), indexing="ij")
    prefix = cached_prefix(c, t, k)
    calls = c.turns * c.steps
    return SessionTokens(input=float(call_input(c, t, k).sum()), output=calls * c.answer,
                         cached=float(np.where(prefix >= c.cache_min, prefix, 0.0).sum()), calls=calls,
                         max_prompt=float(call_input(c, c.turns, c.steps - 1)))


def grown(volume: float, monthly_rate: float, months: int) -> float:
    """Volume in month ``months`` (month 1 is today's) at a compound monthly growth rate."""
    return volume * (1.0 + monthly_rate) ** (months - 1)
