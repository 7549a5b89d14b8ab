"""Job records: DynamoDB (conditional writes throughout) or local JSON files.

A job item holds metadata and pointers only (the request lives in the object store). While a job is
open (queued or running) its ``pending`` attribute holds the status; a terminal status removes it.
``PendingJobs`` is a sparse index on (pending, updated_at), so the sweeper's search for stale open
jobs is a Query over open jobs only, never a Scan of the table.
"""

import json
import os
import threading
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from costplan_contracts.enums import JobStatus

PENDING = "pending"  # the sparse index's partition key (see JobsTable in template.yaml)
PENDING_INDEX = "PendingJobs"
UPDATED_AT = "updated_at"  # the index's sort key
OPEN = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def _with_pending(fields: dict) -> dict:
    """The index attribute follows the status: set while open, removed (None) once terminal."""
    if "status" not in fields:
        return fields
    return {**fields, PENDING: fields["status"] if fields["status"] in OPEN else None}


def _matches(job: dict, when: dict | None) -> bool:
    return all(job.get(name) in tuple(allowed) for name, allowed in (when or {}).items())


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
        job = {k: v for k, v in _with_pending(job).items() if v is not None}
        try:
            self.table.put_item(Item=_to_dynamo(job), ConditionExpression="attribute_not_exists(report_id)")
            return job, True
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return self.get(job[self.KEY]), False

    def get(self, report_id: str) -> dict | None:
        item = self.table.get_item(Key={self.KEY: report_id}, ConsistentRead=True).get("Item")
        return _from_dynamo(item) if item else None

    def update(self, report_id: str, fields: dict, when: dict | None = None) -> dict | None:
        fields = _with_pending(fields)
        names, values, sets, removes = {}, {}, [], []
        for i, (k, v) in enumerate(fields.items()):
            names[f"#f{i}"] = k
            if v is None:
                removes.append(f"#f{i}")
            else:
                values[f":v{i}"] = _to_dynamo(v)
                sets.append(f"#f{i} = :v{i}")
        expr = " ".join(part for part in ("SET " + ", ".join(sets) if sets else "",
                                          "REMOVE " + ", ".join(removes) if removes else "") if part)
        conditions = ["attribute_exists(report_id)"]
        for j, (name, allowed) in enumerate((when or {}).items()):
            names[f"#c{j}"] = name
            options = []
            for n, value in enumerate(allowed):
                values[f":c{j}_{n}"] = _to_dynamo(value)
                options.append(f":c{j}_{n}")
            conditions.append(f"#c{j} IN ({', '.join(options)})")
        try:
            out = self.table.update_item(Key={self.KEY: report_id}, UpdateExpression=expr,
                                         ExpressionAttributeNames=names, ConditionExpression=" AND ".join(conditions),
                                         ReturnValues="ALL_NEW", **({"ExpressionAttributeValues": values} if values
                                                                    else {}))
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return None  # a lost race (or no such job): somebody else moved the job on
        return _from_dynamo(out["Attributes"])

    def pending(self, status: str, updated_before: str, limit: int) -> list[dict]:
        from boto3.dynamodb.conditions import Key

        jobs, start = [], None
        while len(jobs) < limit:
            page = self.table.query(IndexName=PENDING_INDEX, Limit=limit - len(jobs),
                                    KeyConditionExpression=Key(PENDING).eq(status) & Key(UPDATED_AT).lt(updated_before),
                                    **({"ExclusiveStartKey": start} if start else {}))
            jobs += [_from_dynamo(item) for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return jobs


class LocalJobStore:
    """One JSON file per job; creation is an atomic link, so a resubmission finds the existing, complete job."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _path(self, report_id: str) -> Path:
        if not report_id.isalnum() or len(report_id) > 64:
            raise ValueError("report ids are alphanumeric, at most 64 characters")
        return self.root / "jobs" / f"{report_id}.json"

    def create_if_absent(self, job: dict) -> tuple[dict, bool]:
        job = {k: v for k, v in _with_pending(job).items() if v is not None}
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

    def update(self, report_id: str, fields: dict, when: dict | None = None) -> dict | None:
        path = self._path(report_id)
        with self._lock:
            if not path.exists():
                return None
            job = json.loads(path.read_text())
            if not _matches(job, when):
                return None
            for k, v in _with_pending(fields).items():
                if v is None:
                    job.pop(k, None)
                else:
                    job[k] = v
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(job, sort_keys=True))
            os.replace(tmp, path)
            return job

    def pending(self, status: str, updated_before: str, limit: int) -> list[dict]:
        jobs = [json.loads(p.read_text()) for p in sorted((self.root / "jobs").glob("*.json"))]
        due = [j for j in jobs if j.get(PENDING) == status and j[UPDATED_AT] < updated_before]
        return sorted(due, key=lambda j: (j[UPDATED_AT], j["report_id"]))[:limit]
