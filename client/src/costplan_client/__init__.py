"""CostPlan client: a typed Python client over the local (in-process) or http transport, and the `costplan` CLI."""

from costplan_client.client import Auth, CostPlanClient, Job
from costplan_client.errors import ApiError, CostPlanError, ErrorDetail, JobFailed
from costplan_client.numbers import parse_count, parse_number

__all__ = ["ApiError", "Auth", "CostPlanClient", "CostPlanError", "ErrorDetail", "Job", "JobFailed", "parse_count",
           "parse_number"]
