"""Shapes shared by every endpoint: warnings, provenance, the error envelope, and the strict scalar types."""

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from costplan_contracts.enums import ErrorCode, Severity, WarningCode


def _integral(value):
    """JSON has one number type, and JSON Schema's "integer" is any number without a fraction: 5.0 is the integer 5.

    5.5, "5" and true are still refused (by the strict int that follows). NumPy integers, which the engine builds
    response models from, count as integers too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
        return int(value)
    return value


# Request numbers are JSON numbers: strings ("5") and booleans (true) are refused, never coerced. Enums, dates and
# strings keep their usual validation; only these scalars are strict. The JSON schema types are unchanged.
Number = Annotated[float, Strict()]
Integer = Annotated[int, Strict(), BeforeValidator(_integral)]
Boolean = Annotated[bool, Strict()]


class ContractModel(BaseModel):
    # NaN and infinities are refused in requests and can never reach a response: no price is ever "NaN".
    model_config = ConfigDict(extra="forbid", use_enum_values=False, allow_inf_nan=False)


class Warning(ContractModel):
    code: WarningCode
    severity: Severity
    field: str | None = Field(description="Dotted path of the request field the warning concerns")
    message: str
    action: str = Field(description="What the caller can do about it")


class Provenance(ContractModel):
    source: str = Field(description="Where the figure comes from, e.g. 'genai-prices 0.2.3'")
    as_of: str = Field(description="ISO date the figure was taken from its source")
    url: str | None = Field(default=None, description="Public page the figure can be checked against")


class ErrorDetail(ContractModel):
    field: str
    reason: str


class ErrorBody(ContractModel):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] = []


class ErrorEnvelope(ContractModel):
    error: ErrorBody
    correlation_id: str


# --- Deprecated spellings -------------------------------------------------------------------------------------------
# One concept has one spelling across endpoints (contracts/README.md). An older spelling stays as an additive alias:
# accepted on input, emitted on output with the same value, and marked ``deprecated: true`` in the OpenAPI document.


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Renamed:
    """``old`` is the deprecated spelling of ``new`` (a dotted path where the field moved into a nested object).

    ``to_new`` turns an old value into the canonical one (``...``: leave the canonical field at its default);
    ``to_old`` does the reverse for output, or returns ``None`` where the old spelling cannot express the value."""

    old: str
    new: str
    to_new: Callable[[Any], Any] = _same
    to_old: Callable[[Any], Any] = _same

    path: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", tuple(self.new.split(".")))


def _conflict(renamed: Renamed, old: Any, new: Any) -> str:
    return (f"is the deprecated spelling of {renamed.new} and differs from it ({old!r} against {new!r}); "
            f"give {renamed.new} only")


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _get(data: Mapping, path: tuple[str, ...]) -> tuple[bool, Any]:
    for i, key in enumerate(path):
        if isinstance(data, BaseModel):
            if key not in data.model_fields_set:
                return False, None
            data = getattr(data, key)
        elif isinstance(data, Mapping) and key in data:
            data = data[key]
        else:
            return False, None
        if i < len(path) - 1 and data is None:
            return False, None
    return True, data


def _set(data: dict, path: list[str], value: Any) -> None:
    head, *rest = path
    if not rest:
        data[head] = value
        return
    inner = data.get(head)
    if isinstance(inner, BaseModel):
        inner = inner.model_dump(exclude_unset=True)
    elif inner is None or isinstance(inner, Mapping):
        inner = dict(inner or {})
    else:  # not an object: its own validation error names it
        return
    _set(inner, rest, value)
    data[head] = inner


def deprecated(canonical: str, *, required: bool = False, **kwargs: Any) -> Any:
    """A field kept for an older spelling of ``canonical``, marked deprecated in the OpenAPI document: optional on
    input; ``required`` for a response field, which is always emitted (derived from the canonical one)."""
    if not required:
        kwargs.setdefault("default", None)
    note = f"Deprecated spelling of {canonical}: accepted on input, and returned next to it with the same value."
    kwargs["description"] = f"{kwargs['description'].rstrip('.')}. {note}" if kwargs.get("description") else note
    return Field(json_schema_extra={"deprecated": True}, **kwargs)


class Aliased(ContractModel):
    """A model with deprecated spellings (``renamed``): old and new are accepted, and after validation both hold one
    value (the old one derived from the canonical one), so a request or response reads and dumps the same either way.

    Giving both with different values is refused, naming the deprecated field. An invalid value sent in the old
    spelling is reported under the old spelling, once."""

    renamed: ClassVar[tuple[Renamed, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _one_spelling(cls, data: Any, handler: ModelWrapValidatorHandler) -> Any:
        if not isinstance(data, Mapping):
            return handler(data)
        data, sent_old, conflicts = _canonical(cls.renamed, dict(data))
        if conflicts:
            raise ValidationError.from_exception_data(cls.__name__, conflicts)
        try:
            model = handler(data)
        except ValidationError as e:
            raise _as_sent(e, sent_old) from None
        values, fields_set = model.__dict__, model.__pydantic_fields_set__
        for r in cls.renamed:  # the old spelling from the validated canonical value (no second validation)
            value: Any = model
            for key in r.path:
                value = getattr(value, key)
            values[r.old] = r.to_old(value)
            fields_set.add(r.old)
        return model


_FAILED = object()


def _try(fn: Callable[[Any], Any], value: Any) -> Any:
    try:
        return fn(value)
    except Exception:  # noqa: BLE001 - a malformed value: field validation reports it, in the spelling sent
        return _FAILED


def _canonical(renamed: tuple[Renamed, ...], data: dict) -> tuple[dict, list, list]:
    """Old spellings moved to their canonical place. Returns the data, the (old, canonical path) pairs sent in the
    old spelling only, and a line error for each pair sent in both spellings with different values."""
    sent_old, conflicts = [], []
    for r in renamed:
        has_old, old = r.old in data, data.get(r.old)
        has_new, new = _get(data, r.path)
        if has_old and has_new:
            old, new = _plain(old), _plain(new)
            # Consistent when either reads as the other: a dump of this model (old = to_old(new)) validates again.
            if _plain(_try(r.to_new, old)) != new and _plain(_try(r.to_old, new)) != old:
                conflicts.append({"type": PydanticCustomError("value_error", _conflict(r, old, new)), "loc": (r.old,),
                                  "input": old})
        elif has_old:
            sent_old.append((r.old, r.path))
            value = _try(r.to_new, old)
            if value is not ...:  # ...: the canonical field keeps its default
                _set(data, list(r.path), old if value is _FAILED else value)
        elif has_new and (value := _try(r.to_old, new)) is not _FAILED:
            data[r.old] = value  # a response field that is required in both spellings
    return data, sent_old, conflicts


def _as_sent(error: ValidationError, sent_old: list[tuple[str, tuple[str, ...]]]) -> ValidationError:
    """Errors of a canonical field whose value came in the old spelling, moved under the old spelling (once)."""
    if not sent_old:
        return error
    errors = error.errors()
    reported = {err["loc"][0] for err in errors if err["loc"]}
    out = []
    for err in errors:
        loc = tuple(err["loc"])
        for old, path in sent_old:
            if loc[:len(path)] == path:
                loc = None if old in reported else (old, *loc[len(path):])
                break
        if loc is not None:
            line = {"type": err["type"], "loc": loc, "input": err["input"]}
            if "ctx" in err:
                line["ctx"] = err["ctx"]
            out.append(line)
    try:
        return ValidationError.from_exception_data(error.title, out)
    except (TypeError, KeyError, ValueError):  # an error type pydantic-core cannot rebuild: keep the original
        return error
