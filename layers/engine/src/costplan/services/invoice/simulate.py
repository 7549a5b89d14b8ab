"""What-if scenarios over an analysed invoice: replayable (scenario_id hashes the inputs), applied in order."""

import hashlib
import json
from dataclasses import dataclass
from typing import Self

from costplan.catalog.billing import batch_discounts
from costplan.catalog.selfhosted import get_selfhosted_catalog
from costplan.core.throughput import Shape
from costplan.services.errors import RequestRejected
from costplan.services.invoice.models import resolve_model
from costplan.services.invoice.prices import PER_MILLION, cheapest_quote, hosted_quote, instance_quote
from costplan.services.invoice.rules import HOUR_KINDS, TOKEN_KINDS
from costplan.services.plan import SECONDS_PER_MONTH, Traffic, money, resolve_open_model, scope_rows, size
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import ScenarioAction, Severity, UsageKind, WarningCode
from costplan_contracts.invoice import AnalyzeResponse, GroupDelta, Scenario, ScenarioStep, SimulateResponse


@dataclass
class _Group:
    provider: str
    model: str
    kind: str
    quantity: float  # per month
    cost: float  # per month

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}/{self.kind}"


@dataclass(frozen=True)
class WhatIf:
    """One scenario as plain values, built once at the entry from the request's ``Scenario``: below ``simulate`` no
    pydantic request travels."""

    action: ScenarioAction
    from_provider: str | None
    to: str | None
    share: float | None
    rate: float | None
    pct: float | None
    pricing_model: str | None  # the PricingModel's value
    model: str | None
    instance_type: str | None
    avg_input_tokens_per_request: float | None
    avg_output_tokens_per_request: float | None

    @classmethod
    def of(cls, s: Scenario) -> Self:
        return cls(action=s.action, from_provider=s.from_provider, to=s.to, share=s.share, rate=s.rate, pct=s.pct,
                   pricing_model=s.pricing_model.value if s.pricing_model else None, model=s.model,
                   instance_type=s.instance_type, avg_input_tokens_per_request=s.avg_input_tokens_per_request,
                   avg_output_tokens_per_request=s.avg_output_tokens_per_request)


PRICED_ACTIONS = {ScenarioAction.SWITCH_PROVIDER, ScenarioAction.SWITCH_MODEL, ScenarioAction.CACHE_HIT_RATE,
                  ScenarioAction.COMMITMENT, ScenarioAction.MOVE_TO_SELF_HOSTED}


def scenario_id(analysis: AnalyzeResponse, scenarios: list[Scenario]) -> str:
    doc = {"groups": [g.model_dump(mode="json") for g in analysis.line_groups], "months": analysis.months,
           "scenarios": [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in scenarios]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def _token_price(provider: str, model: str, kind: str) -> float | None:
    q = hosted_quote(provider, model, kind)
    return q.price if q else None


def _not_applicable(warn: WarningCollector, field: str, note: str) -> None:
    warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, field, note, "Check the scenario's parameters.")


def _volume_growth(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str) -> tuple[list[_Group], str]:
    f = 1 + (s.pct or 0) / 100
    return [_Group(g.provider, g.model, g.kind, g.quantity * f, g.cost * f) for g in groups], f"all volumes x{f:g}"


def _switch(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str) -> tuple[list[_Group], str]:
    """switch_provider / switch_model: a share of the matching token groups moves at the destination's price."""
    a = s.action
    src, dst, share = (s.from_provider or "").lower(), (s.to or "").lower(), 1.0 if s.share is None else s.share
    if a == ScenarioAction.SWITCH_MODEL:
        src, dst = resolve_model(src) or src, resolve_model(dst) or dst
    out, moved, missing = [], 0.0, set()
    for g in groups:
        hit = g.kind in TOKEN_KINDS and (g.provider == src if a == ScenarioAction.SWITCH_PROVIDER else g.model == src)
        if not hit:
            out.append(g)
            continue
        to_provider, to_model = (dst, g.model) if a == ScenarioAction.SWITCH_PROVIDER else (g.provider, dst)
        price = _token_price(to_provider, to_model, g.kind)
        if price is None and a == ScenarioAction.SWITCH_MODEL and (q := cheapest_quote(to_model, g.kind)):
            to_provider, price = q.provider, q.price
            warn.add(WarningCode.SCENARIO_ASSUMPTION, field,
                     f"{g.provider} does not sell {to_model}; priced at {q.provider}, the cheapest that does.",
                     "Name a provider with switch_provider if you mean another.", Severity.INFO)
        if price is None:
            missing.add(f"{to_provider}/{to_model} {g.kind}")
            out.append(g)
            continue
        q = g.quantity * share
        out.append(_Group(g.provider, g.model, g.kind, g.quantity - q, g.cost * (1 - share)))
        out.append(_Group(to_provider, to_model, g.kind, q, q * price / PER_MILLION))
        moved += q
    if missing:
        _not_applicable(warn, field, f"No catalog price for {', '.join(sorted(missing))}; those lines were left as they are.")
    if not moved:
        return out, f"not applied: no {src} token usage could move to {dst}"
    return out, f"moved {moved:,.0f} tokens/month at {share:.0%} share"


def _batch_share(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str) -> tuple[list[_Group], str]:
    share = s.share or 0.0
    out = []
    for g in groups:
        d = batch_discounts().get(g.provider)
        factor = 1 - share * d.discount if d and g.kind in TOKEN_KINDS else 1.0
        out.append(_Group(g.provider, g.model, g.kind, g.quantity, g.cost * factor))
    return out, f"{share:.0%} of token traffic at each provider's batch discount"


def _cache_hit_rate(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str) -> tuple[list[_Group], str]:
    rate = s.rate or 0.0
    out = []
    for g in groups:
        cache = _token_price(g.provider, g.model, UsageKind.CACHED_INPUT_TOKENS.value)
        if g.kind != UsageKind.INPUT_TOKENS.value or cache is None:
            out.append(g)
            continue
        q = g.quantity * rate
        out.append(_Group(g.provider, g.model, g.kind, g.quantity - q, g.cost * (1 - rate)))
        out.append(_Group(g.provider, g.model, UsageKind.CACHED_INPUT_TOKENS.value, q, q * cache / PER_MILLION))
    return out, f"{rate:.0%} of input tokens served as cache reads"


def _commitment(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str) -> tuple[list[_Group], str]:
    p = (s.pct or 0) / 100
    out, skipped = [], []
    for g in groups:
        hit = instance_quote(g.model) if g.kind in HOUR_KINDS else None
        committed = hit[0].prices["committed_1y"] if hit else float("nan")
        if committed != committed:
            if g.kind in HOUR_KINDS:
                skipped.append(g.model)
            out.append(g)
            continue
        out.append(_Group(g.provider, g.model, g.kind, g.quantity, g.cost * (1 - p) + g.quantity * p * committed))
    if skipped:
        _not_applicable(warn, field, f"No published 1-year commitment price for {', '.join(sorted(set(skipped)))}.")
    if all(g.kind not in HOUR_KINDS or g.model in skipped for g in groups):
        return out, "not applied: no GPU hours with a published commitment price"
    return out, f"{p:.0%} of GPU hours on a 1-year commitment"


def _apply(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str) -> tuple[list[_Group], str]:
    return _APPLY.get(s.action, _self_hosted)(s, groups, warn, field)


def _self_hosted(s: WhatIf, groups: list[_Group], warn: WarningCollector, field: str):
    cat = get_selfhosted_catalog()
    if not (s.model and s.avg_input_tokens_per_request and s.avg_output_tokens_per_request):
        warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, field,
                 "move_to_self_hosted needs model, avg_input_tokens_per_request and avg_output_tokens_per_request.",
                 "Add them.")
        return groups, "not applied: parameters missing"
    try:
        model = resolve_open_model(cat, s.model)
    except RequestRejected:
        warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, field, f"No open-weight spec for {s.model}.",
                 "Pick an open-weight model.")
        return groups, "not applied: not an open-weight model"
    moved = [g for g in groups if g.model == model and g.kind in TOKEN_KINDS]
    inp = sum(g.quantity for g in moved if g.kind != UsageKind.OUTPUT_TOKENS.value)
    if not moved or inp <= 0:
        warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, field, f"The invoice has no token usage of {model}.",
                 "Name a model that appears in the invoice.")
        return groups, "not applied: no usage"
    requests = inp / s.avg_input_tokens_per_request
    avg = requests / SECONDS_PER_MONTH
    scope = scope_rows(cat, {model}, ["bf16", "fp8"], [s.instance_type] if s.instance_type else None)
    pricing = s.pricing_model or "on_demand"
    shape = Shape(s.avg_input_tokens_per_request, s.avg_output_tokens_per_request)
    sized = size(cat, scope, Traffic(avg, avg * 2.0, shape), pricing, 0.7)
    ok = [k for k in range(scope.rows.size) if sized.blocked[k] == 0]
    if not ok:
        warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, field, f"No self-hosted configuration can serve {model}.",
                 "Try another instance type or precision.")
        return groups, "not applied: no configuration fits"
    best = min(ok, key=lambda k: (sized.monthly_usd[k], int(scope.rows[k])))
    inst = cat.instances[cat.grid.instance[scope.rows[best]]]
    warn.add(WarningCode.SCENARIO_ASSUMPTION, field,
             f"Self-hosting {model} on {int(sized.instances[best])} x {inst.instance_type} ({pricing}, peak = 2x average, "
             "70% target utilisation, modelled throughput).", "Validate with POST /api/v1/plan/scaling.", Severity.INFO)
    rest = [g for g in groups if g not in moved]
    return rest + [_Group("self_hosted", model, UsageKind.GPU_HOURS.value, float(sized.instances[best]) * 730,
                          float(sized.monthly_usd[best]))], f"{model} moved to {inst.instance_type}"


_APPLY = {ScenarioAction.VOLUME_GROWTH: _volume_growth, ScenarioAction.SWITCH_PROVIDER: _switch,
          ScenarioAction.SWITCH_MODEL: _switch, ScenarioAction.BATCH_SHARE: _batch_share,
          ScenarioAction.CACHE_HIT_RATE: _cache_hit_rate, ScenarioAction.COMMITMENT: _commitment}


def _cost_by_key(gs: list[_Group]) -> dict[str, float]:
    return {k: sum(g.cost for g in gs if g.key == k) for k in {g.key for g in gs}}


def simulate(analysis: AnalyzeResponse, scenarios: list[Scenario]) -> SimulateResponse:
    warn = WarningCollector()
    months = max(1, analysis.months)
    currencies = sorted({g.currency for g in analysis.line_groups}) or ["USD"]
    cur = max(currencies, key=lambda c: (sum(g.billed_cost for g in analysis.line_groups if g.currency == c), c))
    if len(currencies) > 1:
        warn.add(WarningCode.MIXED_CURRENCIES, "invoice", f"Simulating {cur} lines only; other currencies unchanged.",
                 "Convert to one currency upstream.")
    base = [_Group(g.provider, g.model, g.usage_kind.value, g.quantity / months, g.effective_cost / months)
            for g in analysis.line_groups if g.currency == cur]
    whatifs = [WhatIf.of(scenario) for scenario in scenarios]  # the request's scenarios, as values, once
    groups, steps = list(base), []
    for i, s in enumerate(whatifs):
        before = sum(g.cost for g in groups)
        if cur != "USD" and s.action in PRICED_ACTIONS:
            warn.add(WarningCode.SCENARIO_NOT_APPLICABLE, f"scenarios[{i}]",
                     f"{s.action.value} prices lines at catalog USD prices; this invoice is in {cur}.",
                     "Convert the invoice to USD to simulate it.")
            steps.append(ScenarioStep(action=s.action, applied=False, delta=0.0,
                                      note=f"not applied: catalog prices are USD, the invoice is {cur}"))
            continue
        groups, note = _apply(s, groups, warn, f"scenarios[{i}]")
        delta = sum(g.cost for g in groups) - before
        steps.append(ScenarioStep(action=s.action, applied=not note.startswith("not applied"), delta=money(delta),
                                  note=note))
    b, n = _cost_by_key(base), _cost_by_key(groups)
    rows = [GroupDelta(key=k, currency=cur, baseline_monthly=money(b.get(k, 0.0)), scenario_monthly=money(n.get(k, 0.0)),
                       delta=money(n.get(k, 0.0) - b.get(k, 0.0))) for k in sorted(set(b) | set(n))]
    bt, nt = sum(b.values()), sum(n.values())
    return SimulateResponse(scenario_id=scenario_id(analysis, scenarios), currency=cur, baseline_monthly=money(bt),
                            scenario_monthly=money(nt), delta=money(nt - bt),
                            delta_pct=None if bt == 0 else round((nt - bt) / bt * 100, 4), steps=steps, groups=rows,
                            warnings=warn.result())
