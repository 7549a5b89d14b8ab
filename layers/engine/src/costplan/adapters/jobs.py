"""Job records: DynamoDB (conditional put, so a resubmission never duplicates a job) or local JSON files."""

import json
import os
import threading
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from pathlib import Path


def _to_dynamo(value):
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


class DynamoJobStore:
    KEY = "report_id"

    def __init__(self, table: str, resource_factory: Callable) -> None:
        self.table_name, self._factory = table, resource_factory

    @cached_property
    def table(self):  # built on first use
        return self._factory("dynamodb").Table(self.table_name)

    def create_if_absent(self, job: dict) -> tuple[dict, bool]:
        try:
            self.table.put_item(Item=_to_dynamo(job), ConditionExpression="attribute_not_exists(report_id)")
            return job, True
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return self.get(job[self.KEY]), False

    def get(self, report_id: str) -> dict | None:
        item = self.table.get_item(Key={self.KEY: report_id}, ConsistentRead=True).get("Item")
        return _from_dynamo(item) if item else None

    def update(self, report_id: str, **fields) -> dict:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": _to_dynamo(v) for i, v in enumerate(fields.values())}
        expr = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        out = self.table.update_item(Key={self.KEY: report_id}, UpdateExpression=expr,
                                     ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                                     ConditionExpression="attribute_exists(report_id)", ReturnValues="ALL_NEW")
        return _from_dynamo(out["Attributes"])


class LocalJobStore:
    """One JSON file per job; creation is an atomic link, so a resubmission finds the existing, complete job."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _path(self, report_id: str) -> Path:
        if not report_id.isalnum():
            raise ValueError("report ids are alphanumeric")
        return self.root / "jobs" / f"{report_id}.json"

    def create_if_absent(self, job: dict) -> tuple[dict, bool]:
        path = self._path(job["report_id"])
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.new")
            tmp.write_text(json.dumps(job, sort_keys=True))
            try:
                os.link(tmp, path)  # atomic create-if-absent: readers never see a half-written job
            except FileExistsError:
                return json.loads(path.read_text()), False
            finally:
                tmp.unlink()
            return job, True

    def get(self, report_id: str) -> dict | None:
        path = self._path(report_id)
        return json.loads(path.read_text()) if path.exists() else None

    def update(self, report_id: str, **fields) -> dict:
        path = self._path(report_id)
        with self._lock:
            job = {**json.loads(path.read_text()), **fields}
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(job, sort_keys=True))
            os.replace(tmp, path)
            return job
