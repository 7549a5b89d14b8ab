"""The invoice rules as SQL: the Trino (Athena) query parses, and DuckDB running it agrees with the DuckDB query."""

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from invoice_data import focus_csv

from costplan.services.invoice import analyze_aggregates, analyze_bytes, export_sql
from costplan_contracts.enums import InvoiceFormat

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_focus_1_2.csv"
CUR_ROWS = [  # CUR 2.0 column names, typed as an AWS Data Exports Parquet table would be
    {"line_item_usage_type": "USE1-Claude3.5Sonnet-input-tokens", "line_item_usage_amount": 200000.0,
     "line_item_unblended_cost": 600.0, "line_item_usage_start_date": "2026-10-01 00:00:00",
     "line_item_product_code": "AmazonBedrock", "line_item_line_item_type": "Usage", "line_item_currency_code": "USD",
     "line_item_line_item_description": "Claude 3.5 Sonnet input tokens", "pricing_unit": "1K tokens"},
    {"line_item_usage_type": "USE1-BoxUsage:p4d.24xlarge", "line_item_usage_amount": 100.0,
     "line_item_unblended_cost": 2194.6, "line_item_usage_start_date": "2026-10-01 00:00:00",
     "line_item_product_code": "AmazonEC2", "line_item_line_item_type": "Usage", "line_item_currency_code": "USD",
     "line_item_line_item_description": "p4d.24xlarge Instance Hour", "pricing_unit": "Hrs",
     "product_instance_type": "p4d.24xlarge"},
    {"line_item_usage_type": "", "line_item_usage_amount": None, "line_item_unblended_cost": -50.0,
     "line_item_usage_start_date": "2026-10-01 00:00:00", "line_item_product_code": "AmazonBedrock",
     "line_item_line_item_type": "Credit", "line_item_currency_code": "USD"},
]


def _focus_table(text: str) -> pa.Table:
    rows = list(csv.DictReader(text.splitlines()))
    return pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})


def _run(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return sorted((dict(zip(names, r, strict=True)) for r in cur.fetchall()), key=lambda r: tuple(map(str, r.values())))


def _both(table: pa.Table, fmt: str, columns: dict[str, str]) -> tuple[list[dict], list[dict], str]:
    con = duckdb.connect()
    con.register("export_table", table)
    trino = export_sql("export_table", "trino", fmt=fmt, columns=columns)
    sqlglot.parse_one(trino, read="trino")  # Athena's dialect parses
    back = sqlglot.transpile(trino, read="trino", write="duckdb")[0]
    return _run(con, export_sql("export_table", "duckdb", fmt=fmt, columns=columns)), _run(con, back), trino


@pytest.mark.parametrize("text", [focus_csv("1.2"), SAMPLE.read_text()], ids=["fixture", "sample"])
def test_trino_sql_parses_and_agrees_with_duckdb_on_focus_text(text):
    table = _focus_table(text)
    duck, via_trino, trino = _both(table, "focus", dict.fromkeys(table.column_names, "text"))
    assert duck == via_trino and duck
    assert "REGEXP_LIKE" in trino and "GROUP BY" in trino


def test_trino_sql_on_a_typed_cur_export_agrees_and_analyses():
    table = pa.Table.from_pylist(CUR_ROWS)
    table = table.set_column(table.schema.get_field_index("line_item_usage_start_date"), "line_item_usage_start_date",
                             table.column("line_item_usage_start_date").cast(pa.timestamp("s")))
    kinds = {"double": "number", "timestamp[s]": "time"}
    duck, via_trino, _ = _both(table, "cur", {f.name: kinds.get(str(f.type), "text") for f in table.schema})
    assert duck == via_trino
    out = analyze_aggregates(via_trino, fmt=InvoiceFormat.CUR)
    kinds = {(g.model, g.usage_kind.value): g.quantity for g in out.line_groups}
    assert kinds == {("claude-3.5-sonnet", "input_tokens"): 200_000_000, ("p4d.24xlarge", "gpu_hours"): 100}
    assert out.reconciliation.credits_and_adjustments_billed_cost == {"USD": -50.0}
    assert out.reconciliation.input_billed_cost_total == {"USD": 2744.6}


def test_the_default_export_schema_is_the_focus_parquet_export():
    sql = export_sql('"focus_db"."focus_export"', "trino")
    sqlglot.parse_one(sql, read="trino")
    assert 'FROM "focus_db"."focus_export"' in sql and "TRY_CAST" not in sql.split("FROM \"focus_db\"")[0][:200]


def test_analyze_aggregates_accepts_athena_shaped_rows():
    """Athena returns every value as text and cannot number rows: the same analysis follows."""
    table = _focus_table(focus_csv("1.2"))
    duck, _, _ = _both(table, "focus", dict.fromkeys(table.column_names, "text"))
    as_text = [{k: (None if v is None else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in r.items()}
               for r in duck]
    for r in as_text:
        r["evidence_rows"] = None
    a, b = analyze_aggregates(duck, fmt=InvoiceFormat.FOCUS), analyze_aggregates(as_text, fmt=InvoiceFormat.FOCUS)
    assert a.reconciliation == b.reconciliation and a.line_groups == b.line_groups
    assert [f.title for f in a.findings] == [f.title for f in b.findings] and a.findings


def test_the_default_cur_export_schema_names_only_columns_every_cur_2_table_has():
    sql = export_sql('"cur_db"."cur_export"', "trino", fmt="cur")
    sqlglot.parse_one(sql, read="trino")
    assert '"product_model"' not in sql and '"line_item_net_unblended_cost"' not in sql
    assert '"line_item_unblended_cost"' in sql and '"product_instance_type"' in sql


def test_the_analysis_does_not_depend_on_the_order_of_the_aggregate_rows():
    table = _focus_table(focus_csv("1.2"))
    duck, _, _ = _both(table, "focus", dict.fromkeys(table.column_names, "text"))
    a = analyze_aggregates(duck, fmt=InvoiceFormat.FOCUS).model_dump_json()
    assert analyze_aggregates(list(reversed(duck)), fmt=InvoiceFormat.FOCUS).model_dump_json() == a


def test_the_same_rows_in_another_order_give_the_same_money():
    """A float SUM depends on the order it adds in ((1e15 + 0.37) - 1e15 is 0.375); money is summed exactly."""
    header, *rows = (Path(__file__).parents[1] / "data" / "sample_focus_1_2.csv").read_text().splitlines(keepends=True)
    names = next(csv.reader([header]))
    row = next(csv.reader([rows[0]]))

    def line(cost: str) -> str:
        out = row[:]
        out[names.index("BilledCost")] = out[names.index("EffectiveCost")] = cost
        return ",".join(f'"{v}"' for v in out) + "\n"

    big, small, minus = line("1000000000000000.00"), line("0.37"), line("-1000000000000000.00")

    def money(lines: list[str]) -> str:
        r = analyze_bytes((header + "".join(lines)).encode(), InvoiceFormat.FOCUS).model_dump(mode="json")
        return json.dumps([r["reconciliation"], r["breakdowns"], r["line_groups"]], sort_keys=True)

    assert money([big, small, minus]) == money([big, minus, small])
