"""Run the rule set in DuckDB over a source: the aggregate rows, then (only when rows were rejected) their errors."""

import os

from costplan.services.invoice import rules as R
from costplan.services.invoice.sources import Source
from costplan_contracts.bounds import ROW_ERRORS_MAX

RELATION = "invoice_rows"


def _connect():
    import duckdb  # lazy: cold start, only an analysis runs SQL; duckdb ships in the invoice layer only

    con = duckdb.connect(config={"threads": max(1, os.cpu_count() or 1)})
    return con


def _fetch(con, source: Source, sql: str) -> list[dict]:
    con.register(RELATION, source.open())
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.unregister(RELATION)


def run(source: Source) -> tuple[list[dict], list[tuple[int | None, str, str]], int]:
    """(aggregate rows, the first ROW_ERRORS_MAX row errors, how many row errors in all)."""
    con = _connect()
    try:
        rows = _fetch(con, source, R.aggregate_sql(RELATION, source.fmt, source.columns))
        if not any(r["rejected"] for r in rows):
            return rows, [], 0
        errs = _fetch(con, source, R.errors_sql(RELATION, source.fmt, source.columns, ROW_ERRORS_MAX))
        return rows, [(e["row_no"], e["column_name"], e["reason"]) for e in errs], int(errs[0]["total"]) if errs else 0
    finally:
        con.close()
