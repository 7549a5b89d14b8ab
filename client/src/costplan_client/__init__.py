"""CostPlan client: a typed Python client over the local (in-process) or http transport, and the `costplan` CLI.

Names resolve on first use (PEP 562), so `costplan --help` does not build every contract model."""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load on first use
    from costplan_client.client import Auth, CostPlanClient, Job
    from costplan_client.errors import ApiError, CostPlanError, ErrorDetail, JobFailed
    from costplan_client.numbers import parse_count, parse_number

_WHERE = {"Auth": "client", "CostPlanClient": "client", "Job": "client", "ApiError": "errors",
          "CostPlanError": "errors", "ErrorDetail": "errors", "JobFailed": "errors", "parse_count": "numbers",
          "parse_number": "numbers"}
__all__ = ["ApiError", "Auth", "CostPlanClient", "CostPlanError", "ErrorDetail", "Job", "JobFailed", "parse_count",
           "parse_number"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"costplan_client.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'costplan_client' has no attribute {name!r}")
