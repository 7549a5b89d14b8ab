"""One spelling per concept across endpoints (contracts/README.md).

A deprecated spelling is accepted on input, returned next to the canonical one with the same value, marked
`deprecated: true` in the OpenAPI document and listed in contracts/README.md; giving both spellings with
different values is a 422 naming the deprecated field."""

import copy
import importlib
import json
import pkgutil
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import costplan_contracts
from costplan_contracts.common import Aliased
from tools.openapi import OPENAPI
from tools.template import ROOT, load_function_module

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from invoice_data import focus_csv  # noqa: E402

README = ROOT / "contracts" / "README.md"
DOC = json.loads(OPENAPI.read_text())
SCHEMAS = DOC["components"]["schemas"]
WORKLOAD = {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8}
SCALING = {"model": "llama-3.1-70b-instruct", "peak_requests_per_second": 20, "avg_requests_per_second": 8,
           "slo": {"ttft_ms": 2000}, "top_k": 3}


def client(name: str) -> TestClient:
    return TestClient(load_function_module(f"functions/{name}").app)


def post(name: str, route: str, body: dict):
    return client(name).post(route, json=body)


def aliased_models() -> list[type[Aliased]]:
    for info in pkgutil.iter_modules(costplan_contracts.__path__):
        importlib.import_module(f"costplan_contracts.{info.name}")
    seen, todo = [], list(Aliased.__subclasses__())
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.append(m)
            todo += m.__subclasses__()
    return sorted((m for m in seen if m.renamed), key=lambda m: m.__name__)


def deprecated_in_openapi() -> set[tuple[str, str]]:
    return {(name, prop) for name, s in SCHEMAS.items() for prop, p in s.get("properties", {}).items()
            if p.get("deprecated")}


def _property(schema: dict, path: list[str]) -> dict:
    node = schema
    for key in path:
        node = node["properties"][key]
        refs = [node] + node.get("anyOf", [])
        ref = next((r["$ref"] for r in refs if "$ref" in r), None)
        if ref and key != path[-1]:
            node = SCHEMAS[ref.rsplit("/", 1)[-1]]
    return node


# --- the OpenAPI document and the README -------------------------------------------------------------------------

def test_every_deprecated_spelling_is_marked_in_the_openapi_and_its_canonical_one_is_not():
    declared = {(m.__name__, r.old) for m in aliased_models() for r in m.renamed}
    assert declared and deprecated_in_openapi() == declared
    for m in aliased_models():
        for r in m.renamed:
            canonical = _property(SCHEMAS[m.__name__], r.new.split("."))
            assert not canonical.get("deprecated"), (m.__name__, r.new)
            assert f"Deprecated spelling of {r.new}" in SCHEMAS[m.__name__]["properties"][r.old]["description"]


def test_every_deprecated_alias_in_the_openapi_is_documented_in_the_contracts_readme():
    """The README's table cannot drift: each `Schema.field` the OpenAPI deprecates is listed with its canonical."""
    text = README.read_text()
    renamed = {(m.__name__, r.old): r.new for m in aliased_models() for r in m.renamed}
    for schema, prop in sorted(deprecated_in_openapi()):
        rows = [line for line in text.splitlines() if f"`{schema}.{prop}`" in line]
        assert rows, f"`{schema}.{prop}` (deprecated in contracts/openapi.json) is missing from contracts/README.md"
        assert any(f"`{renamed[schema, prop]}`" in line for line in rows), (schema, prop)


# --- old and new spellings give byte-identical responses ----------------------------------------------------------

INSIGHTS_OLD = {"workload": WORKLOAD, "profile": "coding", "monthly_budget_usd": 2000, "providers": ["openai", "google"]}
INSIGHTS_NEW = {"workload": WORKLOAD, "workload_profile": "coding",
                "constraints": {"monthly_budget_usd": 2000, "providers": ["openai", "google"]}}
SCALING_OLD = {**SCALING, "avg_input_tokens": 2000, "avg_output_tokens": 400, "precision": "fp8"}
SCALING_NEW = {**SCALING, "avg_input_tokens_per_request": 2000, "avg_output_tokens_per_request": 400,
               "precisions": ["fp8"]}


def _simulate(**tokens) -> dict:
    scenario = {"action": "move_to_self_hosted", "model": "llama-3.1-70b-instruct", **tokens}
    return {"invoice": {"format": "focus", "csv": focus_csv("1.2")}, "scenarios": [scenario]}


CASES = {
    "insights": ("insights_quality_price", "/api/v1/insights/quality-price", INSIGHTS_OLD, INSIGHTS_NEW),
    "scaling": ("plan_scaling", "/api/v1/plan/scaling", SCALING_OLD, SCALING_NEW),
    "simulate": ("invoice_simulate", "/api/v1/invoice/simulate", _simulate(avg_input_tokens=1500, avg_output_tokens=300),
                 _simulate(avg_input_tokens_per_request=1500, avg_output_tokens_per_request=300)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_old_and_the_new_spelling_give_byte_identical_responses(case):
    name, route, old, new = CASES[case]
    a, b = post(name, route, old), post(name, route, new)
    assert a.status_code == b.status_code == 200, a.text[:300]
    assert a.content == b.content


def test_the_insights_response_carries_both_spellings_with_one_value():
    body = post("insights_quality_price", "/api/v1/insights/quality-price", INSIGHTS_NEW).json()
    assert body["profile"] == body["workload_profile"] == "coding"
    assert body["excluded"] == {k: g["count"] for k, g in body["exclusions"]["by_reason"].items()}
    assert body["exclusions"]["total"] == sum(body["excluded"].values()) > 0
    assert {a["kind"] for a in body["annotations"]} == {"cheapest_at_or_above", "best_quality_under_budget"}


def test_the_scaling_response_carries_both_spellings_with_one_value():
    body = post("plan_scaling", "/api/v1/plan/scaling", SCALING_NEW).json()
    assert body["configurations"]
    for c in body["configurations"]:
        assert c["usd_per_1m_tokens"] == c["effective_price_per_1m"] > 0
        assert c["replicas"] == c["replicas_by_load"] and c["instances_at_peak"] == c["instances"]
        assert c["precision"] == "fp8"
        # utilisation (average load, plan/llm's figure) and utilisation_at_peak are two figures, not two spellings
        assert c["utilisation"] < c["utilisation_at_peak"]


def test_a_response_given_back_in_either_spelling_is_explained_alike():
    """assist/explain takes a plan/scaling result as input: the old and the new field names both validate."""
    request = {k: v for k, v in SCALING_NEW.items() if k != "top_k"}
    result = post("plan_scaling", "/api/v1/plan/scaling", SCALING_NEW).json()
    old, new = copy.deepcopy(result), copy.deepcopy(result)
    for c in old["configurations"]:
        for key in ("effective_price_per_1m", "replicas_by_load", "instances"):
            del c[key]
    for c in new["configurations"]:
        for key in ("usd_per_1m_tokens", "replicas", "instances_at_peak"):
            del c[key]
    route = "/api/v1/assist/explain"
    a = post("assist_explain", route, {"plan_scaling": request, "plan_scaling_result": old})
    b = post("assist_explain", route, {"plan_scaling": request, "plan_scaling_result": new})
    assert a.status_code == b.status_code == 200, a.text[:300]
    assert a.content == b.content


def test_several_precisions_have_no_single_old_spelling():
    body = {**SCALING_NEW, "precisions": ["bf16", "fp8"]}
    from costplan_contracts.plan_scaling import PlanScalingRequest

    req = PlanScalingRequest.model_validate(body)
    assert req.precision is None and PlanScalingRequest.model_validate(req.model_dump(mode="json")) == req
    assert post("plan_scaling", "/api/v1/plan/scaling", body).status_code == 200


# --- both spellings, different values: a 422 naming the deprecated field ------------------------------------------

CONFLICTS = [
    ("insights_quality_price", "/api/v1/insights/quality-price", {**INSIGHTS_NEW, "profile": "chat"}, "profile"),
    ("insights_quality_price", "/api/v1/insights/quality-price", {**INSIGHTS_NEW, "monthly_budget_usd": 10},
     "monthly_budget_usd"),
    ("insights_quality_price", "/api/v1/insights/quality-price", {**INSIGHTS_NEW, "providers": ["openai"]}, "providers"),
    ("plan_scaling", "/api/v1/plan/scaling", {**SCALING_NEW, "avg_input_tokens": 2001}, "avg_input_tokens"),
    ("plan_scaling", "/api/v1/plan/scaling", {**SCALING_NEW, "precision": "bf16"}, "precision"),
    ("invoice_simulate", "/api/v1/invoice/simulate",
     _simulate(avg_input_tokens=1, avg_input_tokens_per_request=2, avg_output_tokens=3), "scenarios[0].avg_input_tokens"),
]


@pytest.mark.parametrize(("name", "route", "body", "field"), CONFLICTS, ids=[c[3] for c in CONFLICTS])
def test_both_spellings_with_different_values_are_a_422_naming_the_field(name, route, body, field):
    r = post(name, route, body)
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert [d["field"] for d in details] == [field]
    assert "deprecated spelling of" in details[0]["reason"]


def test_both_spellings_with_the_same_value_are_accepted():
    assert post("insights_quality_price", "/api/v1/insights/quality-price",
                {**INSIGHTS_NEW, "profile": "coding", "monthly_budget_usd": 2000}).status_code == 200


def test_an_invalid_old_spelling_is_reported_once_under_the_name_sent():
    r = post("plan_scaling", "/api/v1/plan/scaling", {**SCALING_OLD, "avg_input_tokens": 0})
    assert r.status_code == 422 and [d["field"] for d in r.json()["error"]["details"]] == ["avg_input_tokens"]


@pytest.mark.parametrize("constraints", [7, [None, None], "x"], ids=repr)
def test_an_old_spelling_beside_a_malformed_canonical_object_is_a_422_not_a_500(constraints):
    """schemathesis found it: the old top-level budget was moved into a `constraints` that was not an object."""
    body = {"workload": WORKLOAD, "monthly_budget_usd": 0.0, "constraints": constraints}
    r = post("insights_quality_price", "/api/v1/insights/quality-price", body)
    assert r.status_code == 422 and [d["field"] for d in r.json()["error"]["details"]] == ["constraints"]
