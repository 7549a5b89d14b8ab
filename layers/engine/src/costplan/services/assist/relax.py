"""The smallest relaxation of each constraint that admits N more options, and how far each is from binding.

For each constraint the request sets (budget, providers, context, quality): run the endpoint with that constraint
dropped (everything else as asked) and take the options only it excluded. The smallest change that admits N of
them is read from their own values: the N-th cheapest cost (budget), the N-th largest context window (context), the
N-th highest quality index (quality), the fewest providers that together offer N (providers, largest first). The
changed request is then run, and the options it really admits are what the response reports.

Runs return at most top_k = 100 rows; past that many, the smallest change is sought among the 100 shown (and the
check still reports what the change admits).
"""

import math

from costplan_contracts import bounds as B
from costplan_contracts.assist import ConstraintSlack, Relaxation
from costplan_contracts.enums import ConstraintKind, FallbackStep, StepStatus, WorkloadProfile
from costplan_contracts.plan_llm import PlanLlmRequest, PlanLlmResponse
from costplan_contracts.rank_catalog import RankCatalogRequest, RankCatalogResponse

K = ConstraintKind
LISTED = 10


def strict_admitted(steps) -> int:
    """Options the ranking admits with every constraint in force (the strict step)."""
    return next((s.admitted for s in steps if s.step == FallbackStep.STRICT and s.status != StepStatus.NOOP), 0)


def _label(row) -> str:
    return f"{row.provider} / {getattr(row, 'model', None) or row.offering}"


def _fewer(available: int, n: int, what: str) -> str:
    return f"; only {available} option(s) are excluded by {what} alone" if available < n else ""


def _cents_up(x: float) -> float:
    return math.ceil(round(x * 100, 6)) / 100


class _Runner:
    """Runs one endpoint's request with changed constraints, longest list, and remembers the base run."""

    def __init__(self, service, req, base):
        self.service, self.req, self.base = service, req, strict_admitted(base.fallback_steps)

    def run(self, **constraints):
        c = self.req.constraints.model_copy(update=constraints)
        return self.service(self.req.model_copy(update={"constraints": c, "top_k": B.TOP_K_MAX}))

    def run_request(self, req):
        return self.service(req.model_copy(update={"top_k": B.TOP_K_MAX}))


def _relaxation(kind: K, field: str, current, proposed, verify, newly, change: str, base: int) -> Relaxation:
    admitted = sorted((r for r in verify.rows if newly(r)), key=lambda r: (r.monthly_cost_usd, _label(r)))
    return Relaxation(constraint=kind, field=field, current=current, proposed=proposed,
                      admits=max(0, strict_admitted(verify.fallback_steps) - base),
                      options=[_label(r) for r in admitted[:LISTED]], change=change)


def _slack(kind: K, is_set: bool, excluded: int, best_relaxed: float | None, first_cost: float | None,
           slack: float | None, unit: str | None, detail: str) -> ConstraintSlack:
    cost = None
    if best_relaxed is not None and first_cost is not None:
        cost = round(max(0.0, first_cost - best_relaxed), 6)
    return ConstraintSlack(constraint=kind, set=is_set, binding=excluded > 0, excluded=excluded, slack=slack,
                           unit=unit, cost_of_constraint_usd=cost, detail=detail)


def _budget(run: _Runner, budget: float | None, n: int, first_cost: float | None):
    if budget is None:
        return None, _slack(K.BUDGET, False, 0, None, first_cost, None, None, "no budget is set")
    free = run.run(monthly_budget_usd=None)
    over = sorted((r for r in free.rows if r.monthly_cost_usd > budget), key=lambda r: (r.monthly_cost_usd, _label(r)))
    excluded = strict_admitted(free.fallback_steps) - run.base
    best = min((r.monthly_cost_usd for r in free.rows), default=None)
    head = None if first_cost is None else round(budget - first_cost, 6)
    detail = (f"#1 costs ${first_cost:,.2f} of the ${budget:,.2f} budget: the volume can grow x{budget / first_cost:.4g} "
              "before #1 itself is over" if first_cost and head is not None and head >= 0
              else f"the budget is ${budget:,.2f}")
    slack = _slack(K.BUDGET, True, excluded, best, first_cost, head, "usd", detail)
    if not over:
        return None, slack
    target = over[min(n, len(over)) - 1]
    proposed = _cents_up(target.monthly_cost_usd)
    verify = run.run(monthly_budget_usd=proposed)
    change = (f"raise constraints.monthly_budget_usd from {budget:,.2f} to {proposed:,.2f} "
              f"(+${proposed - budget:,.2f}/month)" + _fewer(len(over), n, "the budget"))
    return _relaxation(K.BUDGET, "constraints.monthly_budget_usd", budget, proposed, verify,
                       lambda r: r.monthly_cost_usd > budget, change, run.base), slack


def _providers(run: _Runner, allow: list[str] | None, exclude: list[str], n: int, first_cost: float | None):
    allowed = None if allow is None else {p.lower() for p in allow}
    excluded_ids = {p.lower() for p in exclude}
    if allowed is None and not excluded_ids:
        return None, _slack(K.PROVIDERS, False, 0, None, first_cost, None, None, "no provider filter is set")
    blocked = lambda r: r.provider in excluded_ids or (allowed is not None and r.provider not in allowed)  # noqa: E731
    free = run.run(providers=None, exclude_providers=[])
    excluded = strict_admitted(free.fallback_steps) - run.base
    best = min((r.monthly_cost_usd for r in free.rows), default=None)
    slack = _slack(K.PROVIDERS, True, excluded, best, first_cost, None, None,
                   f"the provider filter excludes {excluded} option(s) the other constraints admit")
    counts: dict[str, int] = {}
    for r in free.rows:
        if blocked(r):
            counts[r.provider] = counts.get(r.provider, 0) + 1
    if not counts:
        return None, slack
    chosen, total = [], 0
    for provider, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        chosen.append(provider)
        total += count
        if total >= n:
            break
    new_allow = None if allowed is None else sorted(allowed | set(chosen))
    new_exclude = sorted(excluded_ids - set(chosen))
    verify = run.run(providers=new_allow, exclude_providers=new_exclude)
    parts = []
    if allowed is not None and (added := [p for p in chosen if p not in allowed]):
        parts.append(f"add {', '.join(added)} to constraints.providers")
    if removed := [p for p in chosen if p in excluded_ids]:
        parts.append(f"remove {', '.join(removed)} from constraints.exclude_providers")
    field = "constraints.providers" if allowed is not None else "constraints.exclude_providers"
    return _relaxation(K.PROVIDERS, field, None, chosen, verify, blocked,
                       "; ".join(parts) + _fewer(total, n, "the provider filter"), run.base), slack


def _context(run: _Runner, req: PlanLlmRequest, n: int, first, first_cost: float | None):
    w, c = req.workload, req.constraints
    required = max(w.max_context_tokens or 0, c.min_context_window or 0)
    if not required:
        return None, _slack(K.CONTEXT, False, 0, None, first_cost, None, None, "no context length is required")
    loose = req.model_copy(update={"workload": w.model_copy(update={"max_context_tokens": None}),
                                   "constraints": c.model_copy(update={"min_context_window": None})})
    free = run.run_request(loose)
    excluded = strict_admitted(free.fallback_steps) - run.base
    best = min((r.monthly_cost_usd for r in free.rows), default=None)
    window = first.context_window if first is not None else None
    slack = _slack(K.CONTEXT, True, excluded, best, first_cost, None if window is None else window - required,
                   None if window is None else "tokens",
                   f"{required:,} tokens are required; #1's window is "
                   + ("unpublished" if window is None else f"{window:,} tokens"))
    short = sorted({r.context_window for r in free.rows if r.context_window is not None and r.context_window < required},
                   reverse=True)
    if not short:
        return None, slack
    counts = [sum(1 for r in free.rows if r.context_window == s) for s in short]
    target, seen = short[-1], 0
    for s, k in zip(short, counts, strict=True):
        seen += k
        if seen >= n:
            target = s
            break
    changes = {}
    if w.max_context_tokens and w.max_context_tokens > target:
        changes["workload"] = w.model_copy(update={"max_context_tokens": target})
    if c.min_context_window and c.min_context_window > target:
        changes["constraints"] = c.model_copy(update={"min_context_window": target})
    verify = run.run_request(req.model_copy(update=changes))
    newly = lambda r: r.context_window is not None and r.context_window < required  # noqa: E731
    return _relaxation(K.CONTEXT, "workload.max_context_tokens" if "workload" in changes
                       else "constraints.min_context_window", float(required), float(target), verify, newly,
                       f"lower the required context from {required:,} to {target:,} tokens (prompts longer than "
                       f"{target:,} tokens would no longer fit those models)" + _fewer(seen, n, "the context length"),
                       run.base), slack


def _quality(run: _Runner, req: PlanLlmRequest, n: int, first, first_cost: float | None):
    floor = req.min_quality
    if floor is None:
        return None, _slack(K.QUALITY, False, 0, None, first_cost, None, None, "no quality floor is set")
    profile = req.workload_profile or WorkloadProfile.CHAT
    free = run.run_request(req.model_copy(update={"min_quality": 0.0, "workload_profile": profile}))
    excluded = strict_admitted(free.fallback_steps) - run.base
    best = min((r.monthly_cost_usd for r in free.rows), default=None)
    index = first.quality.index if first is not None and first.quality is not None else None
    slack = _slack(K.QUALITY, True, excluded, best, first_cost, None if index is None else round(index - floor, 4),
                   None if index is None else "index points",
                   f"the floor is {floor:g}" + ("" if index is None else f"; #1 scores {index:g}"))
    below = sorted((r for r in free.rows if r.quality is not None and r.quality.index < floor),
                   key=lambda r: (-r.quality.index, _label(r)))
    if not below:
        return None, slack
    target = below[min(n, len(below)) - 1].quality.index
    proposed = max(0.0, math.floor((target - 5e-5) * 1e4) / 1e4)  # the index is shown to 4 decimals
    verify = run.run_request(req.model_copy(update={"min_quality": proposed, "workload_profile": profile}))
    return _relaxation(K.QUALITY, "min_quality", floor, proposed, verify,
                       lambda r: r.quality is not None and r.quality.index < floor,
                       f"lower min_quality from {floor:g} to {proposed:g}" + _fewer(len(below), n, "the floor"),
                       run.base), slack


def plan_llm_constraints(req: PlanLlmRequest, result: PlanLlmResponse, n: int):
    from costplan.services.plan import plan_llm  # lazy: cold start, an explanation imports only its endpoint's domain

    run = _Runner(plan_llm, req, result)
    first = result.rows[0] if result.rows else None
    first_cost = first.monthly_cost_usd if first is not None else None
    c = req.constraints
    pairs = [_budget(run, c.monthly_budget_usd, n, first_cost),
             _providers(run, c.providers, c.exclude_providers, n, first_cost),
             _context(run, req, n, first, first_cost), _quality(run, req, n, first, first_cost)]
    return [r for r, _ in pairs if r is not None], [s for _, s in pairs]


def rank_catalog_constraints(req: RankCatalogRequest, result: RankCatalogResponse, n: int):
    from costplan.services.catalog_rank import rank_catalog  # lazy: as plan_llm_constraints

    run = _Runner(rank_catalog, req, result)
    first_cost = result.rows[0].monthly_cost_usd if result.rows else None
    c = req.constraints
    pairs = [_budget(run, c.monthly_budget_usd, n, first_cost),
             _providers(run, c.providers, c.exclude_providers, n, first_cost)]
    return [r for r, _ in pairs if r is not None], [s for _, s in pairs]
