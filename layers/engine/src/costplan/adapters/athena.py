"""A QueryRunner over Amazon Athena (boto3): start in the workgroup, poll with bounded backoff, page the results.

- ``start_query_execution`` in the deployment's workgroup (template.yaml ``InvoiceAthenaWorkGroup``: its
  result location, encryption and limits are enforced by the workgroup, so the request names none).
- ``get_query_execution`` polled with exponential backoff (``POLL_FIRST_S`` doubling to ``POLL_MAX_S``)
  until SUCCEEDED, FAILED or CANCELLED, or the deadline: then the query is stopped and QUERY_TIMEOUT raised.
- ``get_query_results`` paged into dicts, each value typed from the result metadata (bigint -> int,
  double -> float, decimal -> Decimal, boolean, date; NULL -> None).

Every failure is a :class:`QueryError` with a stable code and a safe message: Athena's own reason (which
can quote table paths and account ids) goes to the server log by the caller, never into the message.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property

from costplan.adapters.aws_errors import error_code
from costplan.services.invoice.export_ports import QUERY_CANCELLED, QUERY_FAILED, QUERY_TIMEOUT, QueryError

POLL_FIRST_S, POLL_MAX_S = 0.25, 4.0
DEFAULT_TIMEOUT_S = 600.0  # the report worker passes a shorter one
ERROR_CATEGORIES = {1: "system", 2: "user", 3: "other"}  # AthenaError.ErrorCategory

_INT = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT = {"double", "float", "real"}


def typed(value: str | None, athena_type: str):
    """One result cell as a Python value (Athena returns every cell as text plus the column's type)."""
    if value is None:
        return None
    t = athena_type.lower()
    if t in _INT:
        return int(value)
    if t in _FLOAT:
        return float(value)
    if t.startswith("decimal"):
        return Decimal(value)
    if t == "boolean":
        return value.lower() == "true"
    if t == "date":
        return dt.date.fromisoformat(value)
    return value  # varchar, char, timestamp (kept as its text), anything else


class AthenaQueryRunner:
    def __init__(self, workgroup: str, client_factory: Callable, database: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.workgroup, self.database, self.timeout_s = workgroup, database, timeout_s
        self._factory, self._clock, self._sleep = client_factory, clock, sleep

    @cached_property
    def client(self):  # built on first use
        return self._factory("athena")

    def run(self, sql: str) -> list[dict]:
        from botocore.exceptions import BotoCoreError, ClientError

        until = self._clock() + self.timeout_s  # below the worker's own deadline (backends.ATHENA_TIMEOUT_S)
        context = {"QueryExecutionContext": {"Database": self.database}} if self.database else {}
        try:
            qid = self.client.start_query_execution(QueryString=sql, WorkGroup=self.workgroup,
                                                    **context)["QueryExecutionId"]
            self._wait(qid, until)
            return self._rows(qid)
        except (BotoCoreError, ClientError) as e:
            raise QueryError(QUERY_FAILED, f"Athena refused the call ({error_code(e)})") from e

    def _wait(self, qid: str, until: float) -> None:
        pause = POLL_FIRST_S
        while True:
            status = self.client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state == "FAILED":
                category = ERROR_CATEGORIES.get(status.get("AthenaError", {}).get("ErrorCategory"))
                raise QueryError(QUERY_FAILED, "the Athena query failed" + (f" ({category} error)" if category
                                                                             else ""))
            if state == "CANCELLED":
                raise QueryError(QUERY_CANCELLED, "the Athena query was cancelled")
            now = self._clock()
            if now >= until:
                self.client.stop_query_execution(QueryExecutionId=qid)
                raise QueryError(QUERY_TIMEOUT, "the Athena query did not finish before the deadline; it was stopped")
            self._sleep(min(pause, max(0.0, until - now)))
            pause = min(pause * 2, POLL_MAX_S)

    def _rows(self, qid: str) -> list[dict]:
        rows: list[dict] = []
        names: list[str] | None = None
        types: list[str] = []
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            result = page["ResultSet"]
            data = result.get("Rows", [])
            if names is None:
                info = result["ResultSetMetadata"]["ColumnInfo"]
                names, types = [c["Name"] for c in info], [c["Type"] for c in info]
                data = data[1:]  # a SELECT's first row repeats the column names
            for row in data:
                cells = [c.get("VarCharValue") for c in row["Data"]]
                rows.append({n: typed(v, t) for n, v, t in zip(names, cells, types, strict=True)})
        return rows
