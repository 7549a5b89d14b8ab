"""AWS Cost Explorer pull mode: get_cost_and_usage grouped by service and usage type, behind a guard.

Cost Explorer reads the account's own spend and bills about $0.01 per call, so the mode is off unless
the deployment turns it on (template.yaml ``CostExplorerEnabled``; the function then also gets
``ce:GetCostAndUsage``). When it is on, a request may only name services from the deployment's
allow-list, cover at most ``COSTPLAN_CE_MAX_MONTHS`` months, and make at most ``COSTPLAN_CE_MAX_CALLS``
calls (result pages). Every refusal is a :class:`RequestRejected` (HTTP 422) naming the field.

Environment (read per request, never at import time; template.yaml sets each from a parameter):
- ``COSTPLAN_CE_ENABLED``: ``true`` turns the mode on (default ``false``).
- ``COSTPLAN_CE_SERVICES``: comma-separated allow-list of Cost Explorer SERVICE values
  (default: the three services the invoice classifier knows, :data:`DEFAULT_SERVICES`).
- ``COSTPLAN_CE_MAX_MONTHS``: longest date range in months (default 13).
- ``COSTPLAN_CE_MAX_CALLS``: most get_cost_and_usage calls per request (default 3).
"""

import calendar
import datetime as dt
import os
from dataclasses import dataclass
from functools import cache

from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.invoice import COST_EXPLORER_DEFAULT_SERVICES

FIELD = "invoice.cost_explorer"
DEFAULT_SERVICES = COST_EXPLORER_DEFAULT_SERVICES
DEFAULT_MAX_MONTHS = 13
DEFAULT_MAX_CALLS = 3


@dataclass(frozen=True)
class Guard:
    enabled: bool
    services: frozenset[str]
    max_months: int
    max_calls: int

    @classmethod
    def from_env(cls, env=None) -> "Guard":
        env = os.environ if env is None else env
        services = [s.strip() for s in env.get("COSTPLAN_CE_SERVICES", ",".join(DEFAULT_SERVICES)).split(",")]
        return cls(enabled=env.get("COSTPLAN_CE_ENABLED", "false").strip().lower() == "true",
                   services=frozenset(s for s in services if s),
                   max_months=int(env.get("COSTPLAN_CE_MAX_MONTHS", DEFAULT_MAX_MONTHS)),
                   max_calls=int(env.get("COSTPLAN_CE_MAX_CALLS", DEFAULT_MAX_CALLS)))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to that month's last day (Jan 31 + 1 month = Feb 28 or 29)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return day.replace(year=year, month=month0 + 1, day=min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def check(query, guard: Guard) -> None:
    """Refuse, naming the field, any query the deployment does not allow. Makes no call."""
    if not guard.enabled:
        raise RequestRejected("Cost Explorer pull mode is off in this deployment", [FieldError(
            FIELD, "Cost Explorer pull mode is disabled (template parameter CostExplorerEnabled=false); "
                   "send the billing export as focus, cur or line_items instead")])
    errors = [FieldError(f"{FIELD}.services[{i}]", f"'{s}' is not in this deployment's Cost Explorer allow-list "
                                                   f"({', '.join(sorted(guard.services))})")
              for i, s in enumerate(query.services) if s not in guard.services]
    if not query.services:
        errors.append(FieldError(f"{FIELD}.services", "name at least one service"))
    if query.end <= query.start:
        errors.append(FieldError(f"{FIELD}.end", "end must be after start (Cost Explorer's end date is exclusive)"))
    elif query.end > add_months(query.start, guard.max_months):
        errors.append(FieldError(f"{FIELD}.end", f"the range from {query.start} to {query.end} is longer than "
                                                 f"{guard.max_months} months; split it into shorter requests"))
    if errors:
        raise RequestRejected("Cost Explorer query refused", errors)


@cache
def _client():  # built on first use, never at import time
    import boto3

    return boto3.client("ce", region_name="us-east-1")


def reset_client() -> None:
    """Forget the cached client (SnapStart restore, tests): the next call builds one with fresh credentials."""
    _client.cache_clear()


def fetch(query, guard: Guard | None = None, client=None) -> list[dict]:
    """Cost Explorer results as flat groups: {keys: [service, usage_type], cost, quantity, unit, currency, period}.

    ``guard`` defaults to the deployment's (environment) and ``client`` to the cached boto3 client.
    """
    guard = Guard.from_env() if guard is None else guard
    check(query, guard)
    client = _client() if client is None else client
    out, token, calls = [], None, 0
    while True:
        if calls == guard.max_calls:
            raise RequestRejected("Cost Explorer call cap reached", [FieldError(
                FIELD, f"the results need more than {guard.max_calls} Cost Explorer calls (the per-request cap); "
                       "narrow the date range or the services")])
        kwargs = dict(TimePeriod={"Start": query.start.isoformat(), "End": query.end.isoformat()}, Granularity="MONTHLY",
                      Metrics=["UnblendedCost", "UsageQuantity"],
                      GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
                      Filter={"Dimensions": {"Key": "SERVICE", "Values": list(query.services)}})
        if token:
            kwargs["NextPageToken"] = token
        page = client.get_cost_and_usage(**kwargs)
        calls += 1
        for result in page.get("ResultsByTime", []):
            period = result["TimePeriod"]["Start"][:7]
            for g in result.get("Groups", []):
                cost, qty = g["Metrics"]["UnblendedCost"], g["Metrics"]["UsageQuantity"]
                out.append({"keys": g["Keys"], "cost": cost["Amount"], "currency": cost.get("Unit", "USD"),
                            "quantity": qty["Amount"], "unit": qty.get("Unit", ""), "period": period})
        token = page.get("NextPageToken")
        if not token:
            return out
