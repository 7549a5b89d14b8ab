"""The fallback chain, provider filters, exclusions and relax warnings: one implementation, every ranking.

strict -> relax_unit -> relax_budget -> relax_provider -> relax_quality. Each step relaxes one more constraint
of the step before; the chain stops at the first step whose ranking admits a row, and every
step records what it did (produced_results, no_results, noop with the reason, or not_run).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from pydantic import TypeAdapter

from costplan.core.ranking import Candidates, Constraints, RankResult, Reason, Workload, rank_configs
from costplan.services.plan.rows import money
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import FallbackStep, ReasonCode, Severity, StepStatus, WarningCode
from costplan_contracts.ranking import ExclusionGroup, Exclusions, StepResult

EXCLUSION_EXAMPLES = 5
_REASON_CODE = {int(r): ReasonCode[r.name] for r in Reason if r != Reason.ADMITTED}
_REASON_DETAIL = {int(r): r.name.lower().replace("_", " ") for r in Reason}
_OVER_BUDGET = int(Reason.OVER_BUDGET)
_NOT_ALLOWED = int(Reason.PROVIDER_NOT_ALLOWED)
_STEPS = TypeAdapter(list[StepResult])
_GROUPS = TypeAdapter(dict[ReasonCode, ExclusionGroup])


@dataclass(frozen=True)
class ChainSpec:
    strict: Constraints  # every constraint, units admitted exactly as requested
    relaxed_units: np.ndarray  # bool per unit code: what relax_unit admits
    requested_unit: str
    relax_unit_note: str
    unit_noop_note: str
    budget_usd: float | None


@dataclass(frozen=True)
class ChainOutcome:
    steps: list[StepResult]
    result: RankResult
    final_step: FallbackStep
    strict_providers: set[str]  # providers the allow-list admitted in the strict step


def chain(spec: ChainSpec, unit_codes_in_scope: np.ndarray) -> Iterator[tuple[FallbackStep, Constraints | None, str]]:
    """Yield (step, constraints, note) in the fixed order; constraints is None for a no-op."""
    base = spec.strict
    yield FallbackStep.STRICT, base, f"offerings priced natively in {spec.requested_unit}, within every constraint"
    strict_units = base.admitted_units
    if not (spec.relaxed_units & ~strict_units)[unit_codes_in_scope].any():
        yield FallbackStep.RELAX_UNIT, None, spec.unit_noop_note
    else:
        base = replace(base, admitted_units=spec.relaxed_units)
        yield FallbackStep.RELAX_UNIT, base, spec.relax_unit_note
    if spec.budget_usd is None:
        yield FallbackStep.RELAX_BUDGET, None, "no budget was set"
    else:
        base = replace(base, budget_usd=float("inf"))
        yield FallbackStep.RELAX_BUDGET, base, f"drop the ${spec.budget_usd:g}/month budget cap"
    if base.allowed_providers is None:
        yield FallbackStep.RELAX_PROVIDER, None, "no provider allow-list was set"
    else:
        base = replace(base, allowed_providers=None)
        yield FallbackStep.RELAX_PROVIDER, base, "drop the provider allow-list (exclude_providers still applies)"
    if base.min_quality <= 0:
        yield FallbackStep.RELAX_QUALITY, None, "no min_quality was set"
    else:
        floor = base.min_quality
        base = replace(base, min_quality=0.0)
        yield FallbackStep.RELAX_QUALITY, base, f"drop the quality floor of {floor:g}"


def run_chain(candidates: Candidates, workload: Workload, spec: ChainSpec, providers: tuple[str, ...],
              top_k: int) -> ChainOutcome:
    steps: list[dict] = []  # validated in one call at the end (one Rust pass, not one model per step)
    result = final_step = None
    strict_providers: set[str] = set()
    # The unit codes and providers present, by counting (np.unique sorts, and its first call imports numpy.ma).
    units_in_scope = np.flatnonzero(np.bincount(candidates.unit_code, minlength=spec.relaxed_units.size))
    for step, constraints, note in chain(spec, units_in_scope):
        if result is not None and result.admitted:
            steps.append(dict(step=step, status=StepStatus.NOT_RUN, admitted=0, excluded=0,
                              note="an earlier step produced results"))
            continue
        if constraints is None:
            steps.append(dict(step=step, status=StepStatus.NOOP, admitted=0, excluded=0, note=note))
            continue
        result, final_step = rank_configs(candidates, workload, constraints, top_k=top_k), step
        status = StepStatus.PRODUCED_RESULTS if result.admitted else StepStatus.NO_RESULTS
        steps.append(dict(step=step, status=status, admitted=result.admitted,
                          excluded=len(candidates) - result.admitted, note=note))
        if step == FallbackStep.STRICT:
            codes = candidates.provider_code[result.reason != _NOT_ALLOWED]
            strict_providers = {providers[p] for p in np.flatnonzero(np.bincount(codes, minlength=len(providers)))}
    return ChainOutcome(_STEPS.validate_python(steps), result, final_step, strict_providers)


def provider_masks(providers: tuple[str, ...], allow: Sequence[str] | None, exclude: Sequence[str], warn: WarningCollector,
                   field_prefix: str = "constraints"):
    """Boolean tables over ``providers`` for the allow-list and the exclusions; unknown ids warn with close matches."""

    def table(ids: Sequence[str], field: str) -> np.ndarray:
        mask = np.zeros(len(providers), bool)
        for pid in ids:
            p = pid.lower()
            if p in providers:
                mask[providers.index(p)] = True
                continue
            import difflib  # lazy: cold start, only an unknown provider id needs close matches

            close = difflib.get_close_matches(p, providers, n=3, cutoff=0.6)
            warn.add(WarningCode.PROVIDER_UNKNOWN, field, f"Provider '{pid}' is not in the catalog"
                     + (f"; did you mean {', '.join(close)}?" if close else "."),
                     "Use a provider id from the catalog (each row's 'provider' field).")
        return mask

    allowed = table(allow, f"{field_prefix}.providers") if allow is not None else None
    excluded = table(exclude, f"{field_prefix}.exclude_providers")
    if allowed is not None and not allowed.any():
        warn.add(WarningCode.PROVIDER_FILTER_MATCHED_NOTHING, f"{field_prefix}.providers",
                 "No provider in constraints.providers is in the catalog.",
                 "Fix the provider ids or drop the filter; relax_provider will drop it if nothing else matches.")
    if allowed is not None and (both := allowed & excluded).any():
        names = [providers[i] for i in np.flatnonzero(both)]
        warn.add(WarningCode.PROVIDER_BOTH_ALLOWED_AND_EXCLUDED, f"{field_prefix}.exclude_providers",
                 f"{', '.join(names)} both allowed and excluded; exclusion wins.",
                 "Remove them from one of the two lists.")
    return allowed, excluded


def exclusions(result: RankResult, name_order: Callable[[], np.ndarray], label: Callable[[int], tuple[str, str]],
               step: FallbackStep | None, extra: dict[ReasonCode, ExclusionGroup] | None = None,
               detail: Callable[[int, int], str | None] | None = None) -> Exclusions:
    """Count per reason, with up to five examples each in (provider, model) order.

    ``detail(reason, j)`` may word an example's detail (e.g. the latency an SLO_UNREACHABLE row reaches)."""
    by_reason: dict[ReasonCode, ExclusionGroup] = dict(extra or {})
    found: dict[ReasonCode, dict] = {}
    counts = np.bincount(result.reason.astype(np.int64), minlength=len(Reason))
    present = [int(r) for r in np.flatnonzero(counts[1:]) + 1]
    order = name_order() if present else np.zeros(0, np.int64)
    reasons = result.reason[order]
    for r in present:
        examples = []
        for j in order[np.flatnonzero(reasons == r)[:EXCLUSION_EXAMPLES]]:
            provider, model = label(int(j))
            text = detail(r, int(j)) if detail is not None else None
            if text is None:
                text = f"costs ${money(result.cost[j]):,.2f}/month" if r == _OVER_BUDGET else _REASON_DETAIL[r]
            examples.append({"provider": provider, "model": model, "detail": text})
        found[_REASON_CODE[r]] = {"count": int(counts[r]), "examples": examples}
    by_reason.update(_GROUPS.validate_python(found))  # one validation call for every group and example
    total = int(counts[1:].sum()) + sum(g.count for g in (extra or {}).values())
    return Exclusions(total=total, step=step, by_reason=by_reason)


def budget_zero_warning(budget: float | None, warn: WarningCollector) -> None:
    if budget == 0:
        warn.add(WarningCode.BUDGET_ZERO, "constraints.monthly_budget_usd",
                 "The budget is $0/month: only offerings listed as free can fit.",
                 "Raise or remove constraints.monthly_budget_usd.")


def relaxed_warnings(step: FallbackStep, rows: list, budget: float | None, strict_providers: set[str],
                     warn: WarningCollector, offered_by: list[str] | None = None) -> None:
    """Warnings for the budget and provider relaxations (the unit relaxation words its own)."""
    if step == FallbackStep.RELAX_BUDGET:
        warn.add(WarningCode.BUDGET_RELAXED, "constraints.monthly_budget_usd",
                 f"No offering fits ${budget:,.2f}/month; showing the cheapest regardless. "
                 f"The cheapest is ${rows[0].over_budget_usd:,.2f} over.",
                 f"Raise the budget to at least ${rows[0].monthly_cost_usd:,.2f}/month, or reduce the workload.")
    elif step == FallbackStep.RELAX_PROVIDER:
        added = sorted({r.provider for r in rows} - strict_providers)
        offer = f" Providers that offer it: {', '.join(offered_by)}." if offered_by else ""
        warn.add(WarningCode.PROVIDERS_ADDED, "constraints.providers",
                 f"No allowed provider can serve this; added providers outside the allow-list: {', '.join(added)}."
                 + offer, "Add one of them to constraints.providers, or change the model.")


def no_candidates_warning(considered: int, warn: WarningCollector) -> None:
    warn.add(WarningCode.NO_CANDIDATES, None,
             f"Every one of {considered} offerings in scope was excluded, after every fallback step; "
             "see exclusions.by_reason.",
             "Relax the constraint named by the largest exclusion reason (context window, excluded providers, unit).",
             Severity.ERROR)
