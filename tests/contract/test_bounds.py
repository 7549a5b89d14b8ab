"""GET /api/v1/meta/bounds publishes every operation's bounded request fields with the limits validation enforces.

The endpoint walks the pydantic contracts (costplan.services.meta); this test walks the merged OpenAPI document
the functions serve, an independent route to the same constraints, so a missing operation, a renamed path or a
changed limit fails here."""

import json

import pytest
from fastapi.testclient import TestClient

from costplan.services.meta import bounds, field_bounds
from costplan_contracts.operations import REQUEST_BODIES
from tools.openapi import merged_openapi
from tools.template import load_function_module

KEYWORDS = {"minimum": "minimum", "maximum": "maximum", "exclusiveMinimum": "exclusive_minimum",
            "exclusiveMaximum": "exclusive_maximum", "minLength": "min_length", "maxLength": "max_length",
            "minItems": "min_items", "maxItems": "max_items", "minProperties": "min_properties",
            "maxProperties": "max_properties"}
DOC = merged_openapi()


def _walk(node: dict, path: str, out: dict, refs: tuple = ()) -> None:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in refs:
            _walk(DOC["components"]["schemas"][name], path, out, (*refs, name))
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, []):
            _walk(branch, path, out, refs)
    found = {KEYWORDS[k]: v for k, v in node.items() if k in KEYWORDS}
    if found:
        slot = out.setdefault(path, {})
        for k, v in found.items():
            assert slot.setdefault(k, v) == v, f"{path}: two {k}"
    for name, prop in node.get("properties", {}).items():
        _walk(prop, f"{path}.{name}" if path else name, out, refs)
    if isinstance(node.get("items"), dict):
        _walk(node["items"], f"{path}[]", out, refs)
    if isinstance(node.get("additionalProperties"), dict):
        _walk(node["additionalProperties"], f"{path}{{}}", out, refs)
    if isinstance(node.get("propertyNames"), dict):
        _walk(node["propertyNames"], f"{path}{{key}}", out, refs)


def _json_bodies() -> dict[str, dict]:
    out = {}
    for route, ops in DOC["paths"].items():
        for op in ops.values():
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema:
                out[route] = schema
    return out


def _published() -> dict[str, dict[str, dict]]:
    response = TestClient(load_function_module("functions/meta_bounds").app).get("/api/v1/meta/bounds")
    assert response.status_code == 200
    return {route: {path: {k: v for k, v in b.items() if v is not None} for path, b in fields.items()}
            for route, fields in response.json()["operations"].items()}


def test_every_operation_with_a_json_body_is_walked():
    assert set(_json_bodies()) == set(REQUEST_BODIES)


@pytest.mark.parametrize("route", sorted(_json_bodies()))
def test_every_bounded_request_field_is_published_with_its_limits(route):
    expected: dict = {}
    _walk(_json_bodies()[route], "", expected)
    assert expected, f"{route}: no bounded field at all?"
    assert _published()[route] == expected


def test_the_plan_llm_fields_keep_their_first_shape():
    """The top-level fields predate `operations`; they stay, with the values the plan/llm contract enforces."""
    got = bounds().model_dump(mode="json")
    llm = got["operations"]["/api/v1/plan/llm"]
    assert got["input_tokens_per_month"] == {"min": 0.0, "max": 1e15, "default": None}
    assert got["cached_input_share"] == {"min": 0.0, "max": 1.0, "default": 0.0}
    assert got["requests_per_month"]["min"] == llm["workload.requests_per_month"]["exclusive_minimum"] == 0
    assert got["top_k"] == {"min": 1.0, "max": 100.0, "default": 10.0}
    assert got["providers_max_items"] == llm["constraints.providers"]["max_items"] == 100
    assert got["request_body_max_bytes"] == 256 * 1024


def test_a_bound_changed_in_a_contract_is_published_without_another_edit():
    from pydantic import Field

    from costplan_contracts.common import ContractModel, Number

    class Probe(ContractModel):
        share: Number = Field(gt=0, lt=0.5)
        names: list[str] = Field(min_length=2, max_length=3)

    got = {p: {k: v for k, v in b.model_dump().items() if v is not None} for p, b in field_bounds(Probe).items()}
    assert got == {"share": {"exclusive_minimum": 0, "exclusive_maximum": 0.5}, "names": {"min_items": 2, "max_items": 3}}


def test_the_bounds_response_is_deterministic():
    a = TestClient(load_function_module("functions/meta_bounds").app).get("/api/v1/meta/bounds").content
    b = TestClient(load_function_module("functions/meta_bounds").app).get("/api/v1/meta/bounds").content
    assert a == b and json.loads(a)["operations"]
