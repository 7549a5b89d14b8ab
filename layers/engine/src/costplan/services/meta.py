"""meta: the request bounds, read from the contracts so the UI and the API cannot disagree.

``operations`` walks every operation's request model (costplan_contracts.operations) through its fields' own
constraints (pydantic's ge/le/gt/lt/min_length/max_length metadata), so a bound changed in a contract is published
here without another edit. The plan/llm fields at the top level (the first version of this endpoint) come from the
same walk."""

import types
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from costplan_contracts import bounds as B
from costplan_contracts.enums import PricingUnit
from costplan_contracts.meta import BoundsResponse, FieldBounds, NumericBound
from costplan_contracts.operations import REQUEST_BODIES

_NUMERIC = {at.Ge: ("ge", "minimum"), at.Le: ("le", "maximum"), at.Gt: ("gt", "exclusive_minimum"),
            at.Lt: ("lt", "exclusive_maximum")}
_SIZED = {"string": ("min_length", "max_length"), "array": ("min_items", "max_items"),
          "object": ("min_properties", "max_properties")}


def _flat(metadata: Iterable[Any]) -> list[Any]:
    out = []
    for m in metadata:
        if isinstance(m, FieldInfo):
            out += _flat(m.metadata)
        elif isinstance(m, at.GroupedMetadata):  # StringConstraints, Interval, Len
            out += _flat(m)
        else:
            out.append(m)
    return out


def _kind(tp: Any) -> str | None:
    origin = get_origin(tp) or tp
    if origin in (str, bytes):
        return "string"
    if origin in (list, tuple, set, frozenset):
        return "array"
    if origin in (dict, Mapping):
        return "object"
    return None


def _record(out: dict[str, dict], path: str, kind: str | None, metadata: list[Any]) -> None:
    found = {}
    for m in metadata:
        for cls, (attr, key) in _NUMERIC.items():
            if isinstance(m, cls):
                found[key] = getattr(m, attr)
        if kind in _SIZED and isinstance(m, at.MinLen | at.MaxLen):
            found[_SIZED[kind][isinstance(m, at.MaxLen)]] = (
                m.min_length if isinstance(m, at.MinLen) else m.max_length)
    if found:
        slot = out.setdefault(path, {})
        for key, value in found.items():
            if slot.setdefault(key, value) != value:
                raise ValueError(f"{path}: two different {key} ({slot[key]} and {value}) in one request")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(tp: Any, metadata: list[Any], path: str, out: dict[str, dict], models: tuple = ()) -> None:
    origin = get_origin(tp)
    if origin is Annotated:
        inner, *extra = get_args(tp)
        return _walk(inner, metadata + _flat(extra), path, out, models)
    if origin in (Union, types.UnionType):
        for arg in get_args(tp):
            if arg is not type(None):
                _walk(arg, metadata, path, out, models)
        return None
    kind = _kind(tp)
    _record(out, path, kind, metadata)
    args = get_args(tp)
    if kind == "array" and args:
        _walk(args[0], [], f"{path}[]", out, models)
    elif kind == "object" and len(args) == 2:
        _walk(args[0], [], f"{path}{{key}}", out, models)
        _walk(args[1], [], f"{path}{{}}", out, models)
    elif isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in models:
        for name, f in tp.model_fields.items():
            key = f.validation_alias if isinstance(f.validation_alias, str) else (f.alias or name)
            _walk(f.annotation, _flat(f.metadata), _join(path, key), out, (*models, tp))
    return None


def field_bounds(model: type[BaseModel]) -> dict[str, FieldBounds]:
    """Every bounded field of a request model, by dotted JSON path, in path order."""
    out: dict[str, dict] = {}
    _walk(model, [], "", out)
    return {path: FieldBounds(**out[path]) for path in sorted(out)}


def _numeric(f: FieldBounds, default: Any = None) -> NumericBound:
    low = f.minimum if f.minimum is not None else f.exclusive_minimum
    high = f.maximum if f.maximum is not None else f.exclusive_maximum
    return NumericBound(min=low, max=high, default=default)


@cache
def bounds() -> BoundsResponse:
    operations = {route: field_bounds(model) for route, model in sorted(REQUEST_BODIES.items())}
    llm = operations["/api/v1/plan/llm"]
    plan = REQUEST_BODIES["/api/v1/plan/llm"]
    workload, constraints = plan.model_fields["workload"].annotation, plan.model_fields["constraints"].annotation

    def top(path: str, model: type[BaseModel], name: str) -> NumericBound:
        default = model.model_fields[name].default
        return _numeric(llm[path], default if isinstance(default, int | float) else None)

    return BoundsResponse(
        input_tokens_per_month=top("workload.input_tokens_per_month", workload, "input_tokens_per_month"),
        output_tokens_per_month=top("workload.output_tokens_per_month", workload, "output_tokens_per_month"),
        cached_input_share=top("workload.cached_input_share", workload, "cached_input_share"),
        requests_per_month=top("workload.requests_per_month", workload, "requests_per_month"),
        max_context_tokens=top("workload.max_context_tokens", workload, "max_context_tokens"),
        monthly_budget_usd=top("constraints.monthly_budget_usd", constraints, "monthly_budget_usd"),
        min_context_window=top("constraints.min_context_window", constraints, "min_context_window"),
        top_k=top("top_k", plan, "top_k"),
        providers_max_items=llm["constraints.providers"].max_items,
        request_body_max_bytes=B.REQUEST_BODY_MAX_BYTES,
        pricing_units=list(PricingUnit),
        operations=operations,
    )
