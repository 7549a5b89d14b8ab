"""Exact break-evens between plan/llm's #1 and #2: the output share, the cached share and the monthly volume at
which they swap, in closed form (``costplan.core.breakeven``) and then checked by running plan/llm there.

The closed form uses the prices the two rows were ranked at. Those are constant inside one price segment: a
long-context tier picked by the average prompt (which moves with the output share) or a self-hosted replica count
(which moves with the volume) can change between here and the crossing. The run at the crossing tells: where both
costs agree to the cent the segment held (prices and replica counts only step monotonically, so agreeing at the
crossing means agreeing all the way); where they do not, the break-even is declined with both costs.
"""

from costplan.core.breakeven import (
    Line,
    RowPrices,
    cached_share_line,
    crossing,
    output_share_line,
    volume_line,
)
from costplan.services.warnings import WarningCollector
from costplan_contracts import bounds as B
from costplan_contracts.assist import BreakEven
from costplan_contracts.enums import BreakEvenStatus, BreakEvenVariable, Deployment, Objective, Severity, WarningCode
from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse, PlanRow

V = BreakEvenVariable
SEGMENTS = 6  # price segments walked before a break-even is declined
CENT = 0.005  # "equal to the cent": the two costs round to the same cent, or differ by less than half of one


def _key(row: PlanRow) -> tuple[str, str, str]:
    return row.provider, row.model, row.deployment.value


def _prices(row: PlanRow) -> RowPrices | None:
    if row.deployment == Deployment.SELF_HOSTED:
        return RowPrices(0.0, 0.0, 0.0, 0.0, fixed=row.monthly_cost_usd)
    u = row.unit_prices
    if u.input_per_1m is None or u.output_per_1m is None:
        return None
    return RowPrices(input=u.input_per_1m, output=u.output_per_1m,
                     cache_read=u.input_per_1m if u.cache_read_per_1m is None else u.cache_read_per_1m,
                     request_per_1k=u.request_per_1k or 0.0)


def _result(variable: V, status: BreakEvenStatus, current: float, text: str, value: float | None = None,
            side: str | None = None, costs: tuple[float, float] | None = None, checked: bool = False) -> BreakEven:
    return BreakEven(variable=variable, status=status, current=current, value=value, first_cheaper=side,
                     first_cost_usd=costs[0] if costs else None, second_cost_usd=costs[1] if costs else None,
                     checked=checked, explanation=text)


def _at(req: PlanLlmRequest, variable: V, x: float) -> PlanLlmRequest:
    """The request with the variable set to x, no budget (so neither row drops out) and the longest list."""
    w = req.workload
    if variable == V.OUTPUT_SHARE:
        total = w.input_tokens_per_month + w.output_tokens_per_month
        w = w.model_copy(update={"input_tokens_per_month": total * (1 - x), "output_tokens_per_month": total * x,
                                 "avg_input_tokens_per_request": None, "avg_output_tokens_per_request": None})
    elif variable == V.CACHED_SHARE:
        w = w.model_copy(update={"cached_input_share": x})
    else:
        w = w.model_copy(update={"input_tokens_per_month": w.input_tokens_per_month * x,
                                 "output_tokens_per_month": w.output_tokens_per_month * x,
                                 "requests_per_month": None if w.requests_per_month is None
                                 else w.requests_per_month * x})
    return req.model_copy(update={"workload": w, "top_k": B.TOP_K_MAX,
                                  "constraints": req.constraints.model_copy(update={"monthly_budget_usd": None})})


def _run_at(req: PlanLlmRequest, variable: V, x: float, keys) -> tuple[PlanRow, PlanRow] | None:
    """The two rows as plan/llm ranks them with the variable at x; None when one is not ranked there."""
    from costplan.services.plan import plan_llm  # lazy: cold start, an explanation imports only its endpoint's domain

    rows = {_key(r): r for r in plan_llm(_at(req, variable, x)).rows}
    return (rows[keys[0]], rows[keys[1]]) if keys[0] in rows and keys[1] in rows else None


def _found(req, variable: V, current: float, bounds: tuple[float, float], line, rows: tuple[PlanRow, PlanRow],
           weights, unit: str, labels: tuple[str, str]) -> BreakEven:
    """Cross the two lines, run plan/llm there; where a price segment changed, cross again with that segment's
    prices (a tier or a replica count), up to SEGMENTS times."""
    keys = (_key(rows[0]), _key(rows[1]))
    first, second = line(_prices(rows[0])), line(_prices(rows[1]))
    gap_now = weights[1] * second.at(current) - weights[0] * first.at(current)
    tried = []
    for hop in range(SEGMENTS):
        x = crossing(first, second, *weights)
        if x is None or not bounds[0] < x < bounds[1] or x in tried:
            break
        tried.append(x)
        there = _run_at(req, variable, x, keys)
        value = f"{x:.6g}{unit}"
        if there is None:
            return _result(variable, BreakEvenStatus.FOUND, current, f"{labels[0]} and {labels[1]} swap at {value} "
                           "(closed form); not checked: one of them is not ranked in plan/llm's run there.", x,
                           "below" if (x > current) == (gap_now >= 0) else "above")
        costs = (there[0].monthly_cost_usd, there[1].monthly_cost_usd)
        if abs(weights[0] * costs[0] - weights[1] * costs[1]) <= CENT * max(weights):
            side = "below" if (x > current) == (gap_now >= 0) else "above"
            steps = "" if hop == 0 else f", after {hop} step(s) to the price segment the crossing lies in"
            return _result(variable, BreakEvenStatus.FOUND, current, (
                f"{labels[0]} stays first {side} {value}; there both cost ${costs[0]:,.2f}/month (closed form{steps}, "
                "checked by running plan/llm at the break-even)."), x, side, costs, True)
        p1, p2 = _prices(there[0]), _prices(there[1])
        if p1 is None or p2 is None:
            break
        first, second = line(p1), line(p2)
    if not tried:
        return _result(variable, BreakEvenStatus.DECLINED, current, "The price segments do not cross: no closed form.")
    last = f"{tried[-1]:.6g}{unit}"
    order = ("#1 is still cheaper there" if costs[0] * weights[0] <= costs[1] * weights[1]
             else "#2 is cheaper there")
    return _result(variable, BreakEvenStatus.DECLINED, current, (
        f"No equal-cost point within {len(tried)} price segment(s): the closed form at the current prices gives "
        f"{tried[0]:.6g}{unit}, but a long-context tier or a self-hosted replica count steps in between, and each "
        f"later segment's crossing lies outside it (at {last} plan/llm costs {labels[0]} ${costs[0]:,.2f} and "
        f"{labels[1]} ${costs[1]:,.2f}; {order}). Where a step is crossed the order flips at the step, not at an "
        "equal cost. The closed form holds inside one segment only."))


def plan_llm_break_evens(req: PlanLlmRequest, result: PlanLlmResponse, warn: WarningCollector) -> list[BreakEven]:
    rows = result.rows
    if len(rows) < 2:
        return []
    one, two = rows[0], rows[1]
    labels = (f"{one.provider} / {one.model}", f"{two.provider} / {two.model}")
    w = req.workload
    total = w.input_tokens_per_month + w.output_tokens_per_month
    current = {V.OUTPUT_SHARE: w.output_tokens_per_month / total, V.CACHED_SHARE: w.cached_input_share,
               V.MONTHLY_VOLUME: 1.0}
    if req.objective == Objective.BALANCED:
        why = ("The balanced objective scores cost against the dearest admitted row, which changes with the "
               "variable too: the order is not a linear function of it, so no closed form.")
        out = [_result(v, BreakEvenStatus.DECLINED, current[v], why) for v in V]
        warn.add(WarningCode.BREAK_EVEN_DECLINED, "objective", why, "Use min_cost or max_quality_per_dollar.",
                 Severity.INFO)
        return out
    weights = (1.0, 1.0)
    if req.objective == Objective.MAX_QUALITY_PER_DOLLAR:
        if one.quality is None or two.quality is None:
            why = "The order is by quality per dollar and a ranked row has no quality index: no closed form."
            return [_result(v, BreakEvenStatus.DECLINED, current[v], why) for v in V]
        weights = (two.quality.index, one.quality.index)  # q1 / c1 >= q2 / c2  <=>  q2 c1 <= q1 c2
    p1, p2 = _prices(one), _prices(two)
    if p1 is None or p2 is None:
        why = "A ranked row has no input or output price (its direction carries no tokens here): no crossing to find."
        return [_result(v, BreakEvenStatus.DECLINED, current[v], why) for v in V]
    requests = w.requests_per_month or 0.0
    self_hosted = Deployment.SELF_HOSTED in (one.deployment, two.deployment)
    out = []
    specs = [
        (V.OUTPUT_SHARE, (0.0, 1.0), lambda p: output_share_line(p, total, w.cached_input_share, requests), ""),
        (V.CACHED_SHARE, (0.0, 1.0), lambda p: cached_share_line(p, w.input_tokens_per_month,
                                                                 w.output_tokens_per_month, requests), ""),
        (V.MONTHLY_VOLUME, (0.0, _volume_max(req)), lambda p: volume_line(
            p, w.input_tokens_per_month, w.output_tokens_per_month, w.cached_input_share, requests), "x"),
    ]
    for variable, (lo, hi), line, unit in specs:
        if variable == V.OUTPUT_SHARE and self_hosted:
            out.append(_result(variable, BreakEvenStatus.DECLINED, current[variable], (
                "A self-hosted row is sized for the request shape (replicas = ceil(peak / capacity), and capacity "
                "depends on the input/output split): its cost is a step function of the mix, with no closed form.")))
            continue
        x = crossing(line(p1), line(p2), *weights)
        if x is None or not lo < x < hi or x == current[variable]:
            text = {V.MONTHLY_VOLUME: "Both costs scale with the volume (no fixed term)"
                    if not self_hosted else "The costs do not meet at any volume plan/llm accepts",
                    V.CACHED_SHARE: "The costs do not cross at any cached share from 0 to 1",
                    V.OUTPUT_SHARE: "The costs do not cross at any output share from 0 to 1"}[variable]
            out.append(_result(variable, BreakEvenStatus.NONE_IN_RANGE, current[variable],
                               f"{text}: {labels[0]} stays first throughout."))
            continue
        out.append(_found(req, variable, current[variable], (lo, hi), line, (one, two), weights, unit, labels))
    if any(b.status == BreakEvenStatus.DECLINED for b in out):
        warn.add(WarningCode.BREAK_EVEN_DECLINED, "break_evens",
                 "Some break-evens have no closed form here; each says why.",
                 "Pin the tier with workload.max_context_tokens, or compare at the load you expect.", Severity.INFO)
    return out


def _volume_max(req: PlanLlmRequest) -> float:
    w = req.workload
    most = max(w.input_tokens_per_month, w.output_tokens_per_month)
    caps = [B.TOKENS_PER_MONTH_MAX / most]
    if w.requests_per_month:
        caps.append(B.REQUESTS_PER_MONTH_MAX / w.requests_per_month)
    return min(caps)


def result_only_break_evens() -> list[BreakEven]:
    why = ("A result carries its mix rounded to 6 decimals and not its volumes: exact break-evens need the request "
           "(send plan_llm).")
    return [_result(v, BreakEvenStatus.DECLINED, None, why) for v in V]


def rank_catalog_output_share(req, result) -> BreakEven:
    """llm_tokens on rank/catalog: each row costs Q x ((1 - s) input + s output) at output share s, a line in s;
    the crossing is checked by running rank/catalog there."""
    # lazy: cold start, an explanation imports only its endpoint's domain
    from costplan.catalog.services import offerings
    from costplan.services.catalog_rank import rank_catalog

    one, two = result.rows[0], result.rows[1]
    by = {(o.provider, o.service, o.offering, o.tier): o for o in offerings("llm_tokens")}
    found = [by.get((r.provider, r.service, r.offering, r.tier)) for r in (one, two)]
    current = req.output_token_share
    if any(o is None or o.input_price is None or o.output_price is None for o in found):
        return _result(V.OUTPUT_SHARE, BreakEvenStatus.DECLINED, current,
                       "A ranked offering has no separate input and output price: no crossing to find.")
    # the same terms as rank/catalog's cost: native quantity x ((1 - s) input_price + s output_price)
    lines = [Line(a=r.quantity_in_native_units * o.input_price, b=r.quantity_in_native_units * (o.output_price
                                                                                              - o.input_price))
             for r, o in zip((one, two), found, strict=True)]
    x = crossing(*lines)
    labels = (f"{one.provider} / {one.offering}", f"{two.provider} / {two.offering}")
    if x is None or not 0.0 < x < 1.0 or x == current:
        return _result(V.OUTPUT_SHARE, BreakEvenStatus.NONE_IN_RANGE, current,
                       f"The costs do not cross at any output share from 0 to 1: {labels[0]} stays first throughout.")
    again = rank_catalog(req.model_copy(update={
        "output_token_share": x, "top_k": B.TOP_K_MAX,
        "constraints": req.constraints.model_copy(update={"monthly_budget_usd": None})}))
    rows = {(r.provider, r.offering, r.tier): r.monthly_cost_usd for r in again.rows}
    costs = tuple(rows.get((r.provider, r.offering, r.tier)) for r in (one, two))
    side = "below" if x > current else "above"
    if None in costs or abs(costs[0] - costs[1]) > CENT:
        return _result(V.OUTPUT_SHARE, BreakEvenStatus.FOUND, current, f"{labels[0]} and {labels[1]} swap at output "
                       f"share {x:.6g} (closed form); not checked: rank/catalog does not rank both there.", x, side)
    return _result(V.OUTPUT_SHARE, BreakEvenStatus.FOUND, current, (
        f"{labels[0]} stays first {side} output share {x:.6g}; there both cost ${costs[0]:,.2f}/month (closed form, "
        "checked by running rank/catalog at the break-even)."), x, side, costs, True)
