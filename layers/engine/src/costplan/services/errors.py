"""Domain errors. The HTTP adapter turns each into the one error envelope, in one place."""

from dataclasses import dataclass, field

from costplan_contracts.enums import ErrorCode


@dataclass
class FieldError:
    field: str
    reason: str


@dataclass
class RequestRejected(Exception):
    """The request is well-formed but cannot be served as asked (HTTP 422)."""

    message: str
    details: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


@dataclass
class NotFound(Exception):
    """The resource named in the path does not exist (HTTP 404)."""

    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class NotConfigured(Exception):
    """This deployment does not offer what the request needs (HTTP 409); ``code`` says what, ``details`` what to do
    instead (e.g. UPLOADS_NOT_CONFIGURED under ``make run``, which has no bucket to presign for)."""

    code: ErrorCode
    message: str
    details: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message
