"""AWS Cost Explorer pull mode: get_cost_and_usage for Bedrock, SageMaker and EC2, grouped by service and usage type."""

from functools import cache


@cache
def _client():  # built on first use, never at import time
    import boto3

    return boto3.client("ce", region_name="us-east-1")


def fetch(query) -> list[dict]:
    """Cost Explorer results as flat groups: {keys: [service, usage_type], cost, quantity, unit, currency, period}."""
    out, token = [], None
    while True:
        kwargs = dict(TimePeriod={"Start": query.start.isoformat(), "End": query.end.isoformat()}, Granularity="MONTHLY",
                      Metrics=["UnblendedCost", "UsageQuantity"],
                      GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
                      Filter={"Dimensions": {"Key": "SERVICE", "Values": list(query.services)}})
        if token:
            kwargs["NextPageToken"] = token
        page = _client().get_cost_and_usage(**kwargs)
        for result in page.get("ResultsByTime", []):
            period = result["TimePeriod"]["Start"][:7]
            for g in result.get("Groups", []):
                cost, qty = g["Metrics"]["UnblendedCost"], g["Metrics"]["UsageQuantity"]
                out.append({"keys": g["Keys"], "cost": cost["Amount"], "currency": cost.get("Unit", "USD"),
                            "quantity": qty["Amount"], "unit": qty.get("Unit", ""), "period": period})
        token = page.get("NextPageToken")
        if not token:
            return out
