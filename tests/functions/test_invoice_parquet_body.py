"""invoice/analyze takes a Parquet export as the whole body (base64 through API Gateway, as binary media is)."""

import base64
import io
import json

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from conftest import load_event
from invoice_data import focus_csv

from tools.template import load_function_module

invoice_analyze = load_function_module("functions/invoice_analyze")


def _event(body: bytes, content_type: str, query: str = "") -> dict:
    event = load_event("invoice_analyze")
    event["headers"]["content-type"] = content_type
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    event["rawQueryString"] = query
    return event


def _call(event, ctx):
    response = invoice_analyze.handler(event, ctx)
    return response["statusCode"], json.loads(response["body"])


def test_a_parquet_body_gets_the_same_analysis_as_its_csv(lambda_context):
    text = focus_csv("1.2")
    buf = io.BytesIO()
    pq.write_table(pacsv.read_csv(io.BytesIO(text.encode())), buf)
    status, parquet = _call(_event(buf.getvalue(), "application/vnd.apache.parquet"), lambda_context)
    csv_status, csv_body = _call(_event(text.encode(), "text/csv"), lambda_context)
    assert status == csv_status == 200
    for key in ("reconciliation", "line_groups", "findings", "breakdowns", "unrecognised"):
        assert parquet[key] == csv_body[key], key


def test_bytes_that_are_not_parquet_are_a_422_naming_the_field(lambda_context):
    status, body = _call(_event(b"BilledCost,x\n1,2\n", "application/vnd.apache.parquet"), lambda_context)
    assert status == 422 and body["error"]["details"][0]["field"] == "invoice.parquet_base64"
    status, body = _call(_event(b"PAR1 not really PAR1", "application/vnd.apache.parquet", "invoice_format=line_items"),
                         lambda_context)
    assert status == 422
