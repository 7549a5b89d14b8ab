"""Warnings as data: deduplicated by code and field, capped, with a summary of what was dropped."""

from collections import Counter

from costplan_contracts.common import Warning
from costplan_contracts.enums import Severity, WarningCode

WARNINGS_CAP = 20


class WarningCollector:
    def __init__(self, cap: int = WARNINGS_CAP) -> None:
        self._cap = cap
        self._items: dict[tuple[WarningCode, str | None], Warning] = {}
        self._repeats: Counter[tuple[WarningCode, str | None]] = Counter()
        self._dropped: Counter[WarningCode] = Counter()

    def add(self, code: WarningCode, field: str | None, message: str, action: str,
            severity: Severity = Severity.WARNING) -> None:
        key = (code, field)
        if key in self._items:
            self._repeats[key] += 1
        elif len(self._items) >= self._cap:
            self._dropped[code] += 1
        else:
            self._items[key] = Warning(code=code, severity=severity, field=field, message=message, action=action)

    def codes(self) -> list[WarningCode]:
        return [code for code, _ in self._items]

    def result(self) -> list[Warning]:
        out = []
        for key, w in self._items.items():
            extra = self._repeats[key]
            out.append(w if not extra else w.model_copy(update={"message": f"{w.message} (repeated {extra} more times)"}))
        if self._dropped:
            summary = ", ".join(f"{code.value} x{n}" for code, n in sorted(self._dropped.items()))
            out.append(Warning(
                code=WarningCode.WARNINGS_TRUNCATED, severity=Severity.INFO, field=None,
                message=f"{sum(self._dropped.values())} further warnings were dropped after the first {self._cap}: {summary}",
                action="Narrow the request (model, providers) to see every warning.",
            ))
        return out
