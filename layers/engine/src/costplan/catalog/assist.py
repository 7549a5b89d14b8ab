"""Cited default sizes per use case (assist/workload), from data/assist_use_cases.json. Loaded once per process.

Every figure has a value, a low-high range and a source key; the sources carry a title (the cited statement),
a URL and an as_of date. A source named ``assumption`` is an engineering default whose note says why.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "assist_use_cases.json"


@dataclass(frozen=True)
class Figure:
    value: float | None
    low: float | None
    high: float | None
    source: str
    note: str


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None
    as_of: str


@dataclass(frozen=True)
class UseCaseDefaults:
    as_of: str
    sources: dict[str, Source]
    conversions: dict[str, Figure]
    profiles: dict[str, str]  # use case -> workload profile
    figures: dict[str, dict[str, Figure]]  # use case -> figure name -> figure


def _figure(d: dict) -> Figure:
    return Figure(value=d["value"], low=d["low"], high=d["high"], source=d["source"], note=d["note"])


@cache
def use_case_defaults() -> UseCaseDefaults:
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    sources = {k: Source(title=v["title"], url=v["url"], as_of=v["as_of"]) for k, v in doc["sources"].items()}
    figures = {u: {n: _figure(f) for n, f in spec["figures"].items()} for u, spec in doc["use_cases"].items()}
    for u, figs in figures.items():
        for n, f in figs.items():
            if f.source not in sources:
                raise ValueError(f"{DATA.name}: {u}.{n} cites unknown source '{f.source}'")
    return UseCaseDefaults(as_of=doc["as_of"], sources=sources,
                           conversions={n: _figure(f) for n, f in doc["conversions"].items()},
                           profiles={u: spec["workload_profile"] for u, spec in doc["use_cases"].items()},
                           figures=figures)
