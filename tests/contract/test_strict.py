"""Strict contracts: the bad inputs of issue 10, each with the answer a client relies on.

Every request goes through the app `make run` serves (the function apps behind tools.local_api), in-process.
"""

import gzip
import json
import math

import pytest
from fastapi.testclient import TestClient

from costplan_contracts.bounds import INVOICE_BODY_MAX_BYTES, REQUEST_BODY_MAX_BYTES
from tools.local_api import build_app
from tools.openapi import merged_openapi
from tools.template import ROOT, load_function_module

EVENTS = ROOT / "events"
FOCUS_CSV = (ROOT / "tests" / "data" / "sample_focus_1_2.csv").read_text()


def event_body(name: str) -> dict:
    return json.loads(json.loads((EVENTS / f"{name}.json").read_text())["body"])


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COSTPLAN_STORAGE", "local")
    mp.setenv("COSTPLAN_LOCAL_DIR", str(tmp_path_factory.mktemp("strict")))
    with TestClient(build_app(), raise_server_exceptions=False) as c:
        yield c
    mp.undo()


def details(response) -> dict[str, str]:
    return {d["field"]: d["reason"] for d in response.json()["error"]["details"]}


def with_value(body: dict, path: str, value) -> dict:
    out = json.loads(json.dumps(body))
    node = out
    *parents, last = path.split(".")
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[last] = value
    return out


# (route, event file, field path): a number in every request contract
NUMBER_FIELDS = [
    ("/api/v1/plan/llm", "plan_llm", "top_k"),
    ("/api/v1/plan/llm", "plan_llm", "workload.input_tokens_per_month"),
    ("/api/v1/plan/scaling", "plan_scaling", "avg_input_tokens"),
    ("/api/v1/plan/scaling", "plan_scaling", "top_k"),
    ("/api/v1/rank/catalog", "rank_catalog", "quantity.value"),
    ("/api/v1/insights/quality-price", "insights_quality_price", "workload.output_tokens_per_month"),
    ("/api/v1/report/generate", "report_generate", "baseline_monthly_usd"),
]


@pytest.mark.parametrize("bad", ["5", True, "1e6", False], ids=repr)
@pytest.mark.parametrize(("route", "event", "field"), NUMBER_FIELDS, ids=lambda v: str(v))
def test_a_string_or_boolean_is_never_a_number(client, route, event, field, bad):
    r = client.post(route, json=with_value(event_body(event), field, bad))
    assert r.status_code == 422, r.text
    assert field in details(r) and "valid" in details(r)[field]


def test_a_string_is_not_a_number_inside_a_line_item_either(client):
    body = {"invoice": {"format": "line_items", "data": [
        {"provider": "openai", "usage_kind": "input_tokens", "quantity": "1000", "billed_cost": 1,
         "period_start": "2026-10-01"}]}}
    r = client.post("/api/v1/invoice/analyze", json=body)
    assert r.status_code == 200 and r.json()["row_errors"][0]["column"] == "quantity"


def test_an_integral_json_float_is_an_integer_and_a_fraction_is_not(client):
    """JSON has one number type and JSON Schema's integer is a number without a fraction: 5.0 is 5, 5.5 is not."""
    ok = client.post("/api/v1/plan/llm", json=with_value(event_body("plan_llm"), "top_k", 5.0))
    same = client.post("/api/v1/plan/llm", json=with_value(event_body("plan_llm"), "top_k", 5))
    assert ok.status_code == 200 and ok.json() == same.json()
    bad = client.post("/api/v1/plan/llm", json=with_value(event_body("plan_llm"), "top_k", 5.5))
    assert bad.status_code == 422 and "top_k" in details(bad)


def test_enums_still_take_their_string_values(client):
    r = client.post("/api/v1/plan/llm", json=with_value(event_body("plan_llm"), "constraints.pricing_unit",
                                                        "per_1k_tokens"))
    assert r.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x", "text/csv"])
def test_a_wrong_media_type_is_a_415_envelope(client, content_type):
    r = client.post("/api/v1/plan/llm", content=json.dumps(event_body("plan_llm")),
                    headers={"content-type": content_type})
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE" and "content-type" in details(r)
    assert r.json()["correlation_id"] == r.headers["x-correlation-id"]
    assert r.headers["accept-post"] == "application/json"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/merge-patch+json"])
def test_json_media_types_are_accepted(client, content_type):
    r = client.post("/api/v1/plan/llm", content=json.dumps(event_body("plan_llm")),
                    headers={"content-type": content_type})
    assert r.status_code == 200


def test_an_unknown_content_encoding_is_a_415(client):
    r = client.post("/api/v1/plan/llm", content=json.dumps(event_body("plan_llm")),
                    headers={"content-type": "application/json", "content-encoding": "br"})
    assert r.status_code == 415 and "content-encoding" in details(r) and r.headers["accept-encoding"] == "gzip"


@pytest.mark.parametrize(("method", "route", "allow"), [
    ("GET", "/api/v1/plan/llm", "POST"), ("PUT", "/api/v1/invoice/analyze", "POST"),
    ("POST", "/api/v1/meta/bounds", "GET"), ("DELETE", "/api/v1/report/0123456789abcdef0123456789abcdef", "GET")])
def test_a_wrong_method_is_a_405_with_allow(client, method, route, allow):
    r = client.request(method, route)
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert allow in r.headers["allow"].split(", ")


@pytest.mark.parametrize("route", ["/api/v1/report/{}", "/api/v1/report/{}/files/html"])
@pytest.mark.parametrize("report_id", ["a" * 300, "A" * 32, "0123456789abcdef0123456789abcde", "z" * 32, "%00" * 11])
def test_a_bad_report_id_is_a_422_naming_it(client, route, report_id):
    r = client.get(route.format(report_id))
    assert r.status_code == 422 and set(details(r)) == {"report_id"}


def test_a_well_formed_unknown_report_id_is_a_404(client):
    r = client.get("/api/v1/report/0123456789abcdef0123456789abcdef")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


SCALING_TINY = ["peak_requests_per_second", "avg_requests_per_second", "avg_input_tokens", "avg_output_tokens"]


@pytest.mark.parametrize("fields", [[f] for f in SCALING_TINY[2:]] + [SCALING_TINY[:2], SCALING_TINY],
                         ids=lambda f: "+".join(f))
def test_subnormal_rates_and_token_counts_are_a_422_naming_the_field(client, fields):
    body = event_body("plan_scaling")
    for f in fields:
        body[f] = 5e-324
    r = client.post("/api/v1/plan/scaling", json=body)
    assert r.status_code == 422 and fields[0] in details(r)


def _numbers(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _numbers(v)
    elif isinstance(node, list):
        for v in node:
            yield from _numbers(v)
    elif isinstance(node, float):
        yield node


@pytest.mark.parametrize("value", [5e-324, 1e-300, 1e-9])
def test_tiny_line_item_quantities_give_finite_numbers(client, value):
    body = with_value(event_body("invoice_analyze_line_items"), "invoice.data.0.quantity", value)
    r = client.post("/api/v1/invoice/analyze", json=body)
    assert r.status_code == 200 and all(math.isfinite(x) for x in _numbers(r.json()))


def test_a_non_finite_result_from_extreme_input_is_a_422_naming_that_input(client, monkeypatch):
    """The last line of defence: no response carries NaN or infinity. The input's most extreme number is named."""
    from costplan_contracts.plan_llm import IoMix

    def overflowing(_request):  # what an overflow inside a service looks like: a response model refuses infinity
        return IoMix(input_share=math.inf, output_share=0.0, cached_share_of_input=0.0, label="overflow")

    monkeypatch.setattr(load_function_module("functions/plan_llm"), "plan_llm", overflowing)
    body = with_value(event_body("plan_llm"), "workload.cached_input_share", 1e-12)
    r = client.post("/api/v1/plan/llm", json=body)
    assert r.status_code == 422 and set(details(r)) == {"workload.cached_input_share"}
    ordinary = client.post("/api/v1/plan/llm", json={"workload": {"input_tokens_per_month": 1000,
                                                                  "output_tokens_per_month": 1000}})
    assert ordinary.status_code == 500  # ordinary numbers cannot overflow: that NaN is our fault, not the caller's


@pytest.mark.parametrize(("raw", "where"), [
    (b'{"workload": {\n  "input_tokens_per_month": 1,,\n}}', "line 2 column 31 (char 45)"),
    (b'{"top_k": 5', "line 1 column 12 (char 11)"),
    (b"{", "line 1 column 2 (char 1)"),
    ('{"model": "llama",\n "x": \u00e9}'.encode(), "line 2 column 7 (char 25)"),
])
def test_a_body_that_will_not_parse_is_a_400_naming_the_position(client, raw, where):
    r = client.post("/api/v1/plan/llm", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "MALFORMED_JSON"
    assert details(r)["body"].endswith(f" at {where}")


def test_a_csv_invoice_is_analysed_like_the_same_csv_in_json(client):
    as_json = client.post("/api/v1/invoice/analyze", json={"invoice": {"format": "focus", "csv": FOCUS_CSV}})
    as_csv = client.post("/api/v1/invoice/analyze", content=FOCUS_CSV, headers={"content-type": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.json()["format"] == "focus"
    assert as_csv.content == as_json.content


def test_the_csv_format_comes_from_the_query_when_given(client):
    r = client.post("/api/v1/invoice/analyze?invoice_format=cur", content=FOCUS_CSV,
                    headers={"content-type": "text/csv; charset=utf-8"})
    assert r.status_code == 422 and "missing CUR 2.0 column" in details(r)["invoice.csv"]
    bad = client.post("/api/v1/invoice/analyze?invoice_format=pdf", content=FOCUS_CSV,
                      headers={"content-type": "text/csv"})
    assert bad.status_code == 422 and "invoice_format" in details(bad)


def test_line_items_can_come_as_csv_columns(client):
    csv_text = ("provider,model,usage_kind,quantity,unit,billed_cost,period_start\n"
                "openai,gpt-4o-mini,input_tokens,2000000000,tokens,300,2026-10-01\n"
                "openai,gpt-4o-mini,output_tokens,lots,tokens,60,2026-10-01\n")
    r = client.post("/api/v1/invoice/analyze?invoice_format=line_items", content=csv_text,
                    headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["reconciliation"]["rejected_rows"] == 1
    assert r.json()["row_errors"][0] == {"row": 2, "column": "quantity", "reason": "Input should be a valid number"}


def test_a_csv_that_is_not_utf8_is_a_422_naming_the_field(client):
    r = client.post("/api/v1/invoice/analyze", content=b"BilledCost\n\xff\xfe", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and "invoice.csv" in details(r)


def test_a_csv_with_bare_carriage_returns_is_not_a_500(client):
    r = client.post("/api/v1/invoice/analyze", content="a\rb\n\"c\rd", headers={"content-type": "text/csv"})
    assert r.status_code == 422


def test_a_gzip_invoice_is_accepted(client):
    plain = client.post("/api/v1/invoice/analyze", content=FOCUS_CSV, headers={"content-type": "text/csv"})
    zipped = client.post("/api/v1/invoice/analyze", content=gzip.compress(FOCUS_CSV.encode()),
                         headers={"content-type": "text/csv", "content-encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.content == plain.content
    as_json = client.post("/api/v1/invoice/analyze", headers={"content-type": "application/json",
                                                              "content-encoding": "gzip"},
                          content=gzip.compress(json.dumps({"invoice": {"format": "focus", "csv": FOCUS_CSV}}).encode()))
    assert as_json.content == plain.content


def test_a_broken_gzip_stream_is_a_400(client):
    r = client.post("/api/v1/invoice/analyze", content=gzip.compress(FOCUS_CSV.encode())[:-20],
                    headers={"content-type": "text/csv", "content-encoding": "gzip"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "MALFORMED_BODY"


@pytest.mark.parametrize(("route", "content", "headers"), [
    ("/api/v1/plan/llm", b"x" * (REQUEST_BODY_MAX_BYTES + 1), {"content-type": "application/json"}),
    ("/api/v1/invoice/analyze", b"x" * (INVOICE_BODY_MAX_BYTES + 1), {"content-type": "text/csv"}),
    # a zip bomb: 61 KiB on the wire, 60 MiB once decoded; refused at the limit, never held in memory
    ("/api/v1/invoice/analyze", gzip.compress(b"0" * (60 * 1024 * 1024)),
     {"content-type": "text/csv", "content-encoding": "gzip"}),
    ("/api/v1/plan/llm", gzip.compress(b" " * (REQUEST_BODY_MAX_BYTES + 1)),
     {"content-type": "application/json", "content-encoding": "gzip"}),
], ids=["json", "csv", "gzip-bomb", "gzip-json"])
def test_an_oversize_body_is_a_413(client, route, content, headers):
    r = client.post(route, content=content, headers=headers)
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_every_operation_documents_every_error_status_with_the_envelope():
    doc = merged_openapi()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status in ("400", "404", "405", "413", "415", "422", "500"):
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, status)


def test_openapi_documents_the_csv_body_and_its_query():
    op = merged_openapi()["paths"]["/api/v1/invoice/analyze"]["post"]
    assert op["requestBody"]["content"]["text/csv"]["schema"]["type"] == "string"
    params = {p["name"]: p for p in op["parameters"]}
    assert params["invoice_format"]["schema"]["enum"] == ["focus", "cur", "line_items"]
    report = merged_openapi()["paths"]["/api/v1/report/{report_id}"]["get"]["parameters"][0]["schema"]
    assert report["pattern"] == "^[0-9a-f]{32}$" and report["maxLength"] == 32


SUBNORMAL_PLAN = {  # the request schemathesis found: a subnormal target utilisation made the replica count NaN (a 500)
    "deployment": "self_hosted",
    "workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 1e8},
    "self_hosted": {"measured_throughput": [{"instance_type": "0", "output_tokens_per_s": 100.0, "precision": "fp4"}],
                    "precisions": ["bf16"], "pricing_model": "spot", "target_utilisation": 0.7},
}


@pytest.mark.parametrize(("path", "value", "field"), [
    ("self_hosted.target_utilisation", 5e-324, "self_hosted.target_utilisation"),
    ("self_hosted.target_utilisation", 0.001, "self_hosted.target_utilisation"),
    ("self_hosted.measured_throughput.0.output_tokens_per_s", 5e-324,
     "self_hosted.measured_throughput[0].output_tokens_per_s")])
def test_subnormal_utilisation_or_measured_throughput_is_a_422_naming_the_field(client, path, value, field):
    r = client.post("/api/v1/plan/llm", json=with_value(SUBNORMAL_PLAN, path, value))
    assert r.status_code == 422 and set(details(r)) == {field}


def test_the_smallest_accepted_utilisation_and_throughput_give_finite_replicas(client):
    body = with_value(with_value(SUBNORMAL_PLAN, "self_hosted.target_utilisation", 0.01),
                      "self_hosted.measured_throughput.0.output_tokens_per_s", 0.01)
    r = client.post("/api/v1/plan/llm", json=body)
    assert r.status_code == 200 and all(math.isfinite(x) for x in _numbers(r.json()))


def test_scaling_refuses_a_subnormal_target_utilisation(client):
    r = client.post("/api/v1/plan/scaling", json={**event_body("plan_scaling"), "target_utilisation": 5e-324})
    assert r.status_code == 422 and "target_utilisation" in details(r)
