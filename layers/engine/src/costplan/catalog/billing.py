"""Billing-format reference data: FOCUS columns per version, CUR usage-type patterns, batch discounts."""

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
FOCUS_VERSIONS = ("1.0", "1.1", "1.2")
_LEVEL_COLUMN = {"1.0": "feature_level_v1_0", "1.1": "feature_level_v1_1", "1.2": "feature_level_v1_2"}


def _rows(name: str) -> list[dict]:
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def focus_columns(version: str) -> dict[str, str]:
    """Column id -> feature level (Mandatory, Conditional, Recommended, Optional) in one FOCUS version."""
    col = _LEVEL_COLUMN[version]
    return {r["column_id"]: r[col] for r in _rows("focus_columns.csv") if r[col]}


def focus_mandatory(version: str) -> frozenset[str]:
    return frozenset(c for c, level in focus_columns(version).items() if level == "Mandatory")


@cache
def focus_known() -> frozenset[str]:
    return frozenset(c for v in FOCUS_VERSIONS for c in focus_columns(v))


@dataclass(frozen=True)
class UsagePattern:
    service: str
    pattern: re.Pattern
    usage_kind: str
    unit: str


@cache
def cur_patterns() -> tuple[UsagePattern, ...]:
    return tuple(UsagePattern(r["service"], re.compile(r["usage_type_pattern"]), r["usage_kind"], r["unit"])
                 for r in _rows("cur_usage_types.csv"))


@dataclass(frozen=True)
class BatchDiscount:
    provider: str
    discount: float
    source: str
    as_of: str


@cache
def batch_discounts() -> dict[str, BatchDiscount]:
    return {r["provider"]: BatchDiscount(r["provider"], float(r["discount"]), r["source"], r["as_of"])
            for r in _rows("batch_discounts.csv")}
