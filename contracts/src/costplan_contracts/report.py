"""POST /api/v1/report/generate and GET /api/v1/report/{id}."""

import datetime as dt
from typing import Any

from pydantic import Field, field_validator, model_validator

from costplan_contracts import bounds as B
from costplan_contracts.common import ContractModel, Number, Warning
from costplan_contracts.enums import JobErrorCode, JobStatus, ReportFormat, ReportKind, ReportMode


class ReportSource(ContractModel):
    kind: ReportKind
    request: dict[str, Any] | None = Field(default=None, description="A request for the endpoint named by kind; "
                                                                         "the report runs it")
    result: dict[str, Any] | None = Field(default=None, description="A response that endpoint already returned")

    @model_validator(mode="after")
    def _exactly_one(self) -> "ReportSource":
        if (self.request is None) == (self.result is None):
            raise ValueError("give exactly one of source.request and source.result")
        return self


class ReportRequest(ContractModel):
    source: ReportSource
    formats: list[ReportFormat] = Field(min_length=1, max_length=len(ReportFormat))
    title: str = Field(default="CostPlan report", min_length=1, max_length=B.REPORT_TITLE_MAX)
    mode: ReportMode = ReportMode.SYNC
    as_of: dt.date | None = Field(default=None, description="Printed in the report; omitted otherwise, so the "
                                                            "same input gives byte-identical files")
    baseline_monthly_usd: Number | None = Field(default=None, ge=0, le=B.BUDGET_USD_MAX,
                                               description="What the team pays today; savings are shown against it")

    @field_validator("formats")
    @classmethod
    def _unique(cls, v: list[ReportFormat]) -> list[ReportFormat]:
        if len(set(v)) != len(v):
            raise ValueError("formats must not repeat")
        return v


class ReportFile(ContractModel):
    format: ReportFormat
    content_type: str
    bytes: int
    sha256: str
    content: str | None = Field(default=None, description="Inline content (sync mode)")
    download_url: str | None = Field(default=None, description="Where to fetch it (async mode, once succeeded)")


class ReportJob(ContractModel):
    report_id: str
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    status_url: str
    files: list[ReportFile] = Field(default_factory=list)
    error: str | None = Field(default=None, description="A safe message: why the job failed, or why its last "
                                                      "attempt failed while it retries. Never exception text")
    error_code: JobErrorCode | None = Field(default=None, description="The machine-readable reason; set with error")
    attempts: int = 0
    created_at: str | None = Field(default=None, description="Job metadata only; never in a report body")
    updated_at: str | None = None
    warnings: list[Warning] = Field(default_factory=list)
