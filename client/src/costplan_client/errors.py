"""Errors the client raises: the API's error envelope as an exception, and a failed job."""

from dataclasses import dataclass, field

# Statuses that mean "your input": the CLI exits 2 on these, as it does for input refused before sending.
INPUT_STATUSES = frozenset({400, 404, 405, 413, 415, 422})


@dataclass(frozen=True)
class ErrorDetail:
    field: str
    reason: str


@dataclass
class CostPlanError(Exception):
    """Anything the client could not do; ``code`` is machine-readable."""

    code: str
    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    status: int | None = None  # HTTP status; None when refused before sending (client-side validation)
    correlation_id: str | None = None  # x-correlation-id: quote it when reporting a fault

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        head = f"{self.code}" + (f" ({self.status})" if self.status else "") + f": {self.message}"
        lines = [head, *(f"  {d.field}: {d.reason}" for d in self.details)]
        if self.correlation_id:
            lines.append(f"  correlation id: {self.correlation_id}")
        return "\n".join(lines)

    @property
    def is_input_error(self) -> bool:
        return self.status is None and self.code == "VALIDATION_ERROR" or (self.status in INPUT_STATUSES)


class ApiError(CostPlanError):
    """The API answered with its error envelope ``{error: {code, message, details}, correlation_id}``."""


class JobFailed(CostPlanError):
    """An accepted job ended ``failed``: ``code`` is its error_code and ``message`` its safe error."""


def validation_error(exc) -> CostPlanError:
    """A pydantic ValidationError raised while building a request, named like the API names it (dotted paths)."""
    details = []
    for err in exc.errors():
        out = ""
        for p in err.get("loc", ()):
            out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
        details.append(ErrorDetail(field=out or "body", reason=err.get("msg", "invalid")))
    return CostPlanError(code="VALIDATION_ERROR", message="Request failed validation", details=details)
