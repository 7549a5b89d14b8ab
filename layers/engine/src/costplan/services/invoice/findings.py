"""Findings and the opportunities they open, from recognised usage groups priced against the catalog."""

import math
from collections import defaultdict

from costplan.catalog.billing import batch_discounts
from costplan.services.invoice.prices import (
    PER_MILLION,
    cheaper_instances,
    cheapest_quote,
    hosted_quote,
    instance_quote,
)
from costplan.services.invoice.rules import HOUR_KINDS, TOKEN_KINDS
from costplan.services.plan import money, sig
from costplan_contracts.common import Provenance
from costplan_contracts.enums import Confidence, FindingType, UsageKind
from costplan_contracts.invoice import Evidence, Finding, LineGroup, Opportunity

ABOVE_LIST_TOLERANCE = 0.02
CACHEABLE_SHARE = 0.3  # assumed share of input tokens a prompt cache would serve
BATCHABLE_SHARE = 0.3  # assumed share of an offline-looking workload that tolerates batch latency
INPUT_DOMINATES = 0.7


def _evidence(g: LineGroup, rows: list[int], observed: float | None, catalog: float | None, unit: str,
              provenance: Provenance | None) -> Evidence:
    return Evidence(rows=rows, provider=g.provider, model=g.model, usage_kind=g.usage_kind, quantity=g.quantity,
                    observed_unit_price=None if observed is None else sig(observed),
                    catalog_unit_price=None if catalog is None else sig(catalog), unit=unit,
                    catalog_provenance=provenance)


CATALOG_CURRENCY = "USD"  # every catalog price is in USD; other currencies are never compared with it


def _pair(ftype: FindingType, title: str, evidence: Evidence, save: float, steps: list[str], confidence: Confidence,
          assumptions: list[str]) -> tuple[Finding, Opportunity]:
    """A finding and the opportunity it opens: the same title and savings, plus what to do and on what basis."""
    return (Finding(type=ftype, title=title, evidence=evidence, estimated_monthly_savings_usd=money(save)),
            Opportunity(finding_type=ftype, title=title, estimated_monthly_savings_usd=money(save),
                        remediation_steps=steps, confidence=confidence, assumptions=assumptions))


def _unit_price(g: LineGroup, per: float) -> float | None:
    """Effective cost per unit (x ``per``); None when the quantity is too small to give a finite price (5e-324)."""
    if g.quantity <= 0:
        return None
    price = g.effective_cost / g.quantity * per
    return price if math.isfinite(price) else None


def _token_findings(g: LineGroup, ev_rows: list[int], observed: float, months: int) -> list[tuple[Finding, Opportunity]]:
    """A token group billed above its list price, and a cheaper provider for the same model."""
    out = []
    kind = g.usage_kind.value
    quote = hosted_quote(g.provider, g.model, kind)
    if quote and observed > quote.price * (1 + ABOVE_LIST_TOLERANCE):
        save = (observed - quote.price) * g.quantity / PER_MILLION / months
        out.append(_pair(FindingType.PRICE_ABOVE_LIST,
                         f"{g.provider}/{g.model} {kind} billed at ${observed:.4g}/1M, "
                         f"above the ${quote.price:.4g}/1M list price",
                         _evidence(g, ev_rows, observed, quote.price, "USD per 1M tokens", quote.provenance), save,
                         [f"Compare invoice rows {ev_rows[:5]} with the provider's price list.",
                          "Ask the provider or reseller for the list rate, or a credit for the difference.",
                          "Check whether a premium tier, region or priority service level is enabled."],
                         Confidence.HIGH, [f"list price from {quote.provenance.source} as of {quote.provenance.as_of}"]))
    best = cheapest_quote(g.model, kind)
    if best and best.provider != g.provider and best.price < observed * (1 - ABOVE_LIST_TOLERANCE):
        save = (observed - best.price) * g.quantity / PER_MILLION / months
        out.append(_pair(FindingType.CHEAPER_PROVIDER,
                         f"{g.model} {kind} costs ${best.price:.4g}/1M at {best.provider} "
                         f"vs ${observed:.4g}/1M at {g.provider}",
                         _evidence(g, ev_rows, observed, best.price, "USD per 1M tokens", best.provenance), save,
                         [f"Route {g.model} traffic to {best.provider} (model id {best.model}).",
                          "Run your evaluation set against it first: serving stacks and quantisation differ.",
                          "Move traffic gradually and compare latency and error rates."],
                         Confidence.MEDIUM, ["the same canonical model serves your prompts equally well at both providers",
                                             f"price from {best.provenance.source} as of {best.provenance.as_of}"]))
    return out


def _hour_findings(g: LineGroup, ev_rows: list[int], observed: float, months: int) -> list[tuple[Finding, Opportunity]]:
    """GPU instance-hours: a 1-year commitment or a cheaper instance below the observed hourly price."""
    hit = instance_quote(g.model)
    if not hit:
        return []
    inst, acc = hit
    options = []
    if inst.prices["committed_1y"] == inst.prices["committed_1y"]:
        options.append(("a 1-year commitment", inst.prices["committed_1y"], inst))
    cheaper = cheaper_instances(g.model)
    if cheaper:
        options.append((f"{cheaper[0].provider} {cheaper[0].instance_type}", cheaper[0].prices["on_demand"],
                        cheaper[0]))
    options = [o for o in options if o[1] < observed * (1 - ABOVE_LIST_TOLERANCE)]
    if not options:
        return []
    label, price, ref = min(options, key=lambda o: (o[1], o[0]))
    save = (observed - price) * g.quantity / months
    prov = Provenance(source=ref.source, as_of=ref.price_as_of)
    return [_pair(FindingType.GPU_COMMITMENT_OR_CHEAPER_INSTANCE,
                  f"{g.quantity:,.0f} {acc.name} instance-hours on {g.model} at ${observed:.4g}/h; "
                  f"{label} is ${price:.4g}/h",
                  _evidence(g, ev_rows, observed, price, "USD per instance-hour", prov), save,
                  [f"Check utilisation of the {g.model} fleet over the last 30 days.",
                   f"If the base load is steady, cover it with {label}.",
                   "Keep bursts on on-demand capacity."],
                  Confidence.MEDIUM, ["the hours billed recur every month at this level",
                                      f"price from {prov.source} as of {prov.as_of}"])]


def _caching_finding(provider: str, model: str, kinds: dict[str, LineGroup], ev_rows: list[int],
                     months: int) -> list[tuple[Finding, Opportunity]]:
    """Input-heavy traffic with no cache reads where the model has a cheaper cache-read price."""
    inp, outp = kinds[UsageKind.INPUT_TOKENS.value], kinds.get(UsageKind.OUTPUT_TOKENS.value)
    total = inp.quantity + (outp.quantity if outp else 0.0)
    cache = hosted_quote(provider, model, UsageKind.CACHED_INPUT_TOKENS.value)
    input_quote = hosted_quote(provider, model, UsageKind.INPUT_TOKENS.value)
    cached = kinds.get(UsageKind.CACHED_INPUT_TOKENS.value)
    if not ((cached is None or cached.quantity <= 0) and inp.quantity / total >= INPUT_DOMINATES and cache
            and input_quote and cache.price < input_quote.price):
        return []
    save = CACHEABLE_SHARE * inp.quantity * (input_quote.price - cache.price) / PER_MILLION / months
    return [_pair(FindingType.PROMPT_CACHING_ABSENT,
                  f"{provider}/{model}: {inp.quantity / total:.0%} of tokens are input and none are cache reads",
                  _evidence(inp, ev_rows, input_quote.price, cache.price, "USD per 1M tokens", cache.provenance), save,
                  ["Put the stable part of each prompt (system prompt, tools, documents) first.",
                   f"Enable prompt caching for {model} at {provider}.",
                   "Watch the cached-token share on the next invoice."],
                  Confidence.MEDIUM, [f"{CACHEABLE_SHARE:.0%} of input tokens would be served from cache",
                                      f"cache-read price ${cache.price:.4g}/1M from {cache.provenance.source}"])]


def _batch_finding(provider: str, model: str, kinds: dict[str, LineGroup], ev_rows: list[int],
                   months: int) -> list[tuple[Finding, Opportunity]]:
    """Output-light traffic (bulk processing) at a provider with a batch discount, and no batch usage."""
    inp, outp = kinds[UsageKind.INPUT_TOKENS.value], kinds.get(UsageKind.OUTPUT_TOKENS.value)
    discount = batch_discounts().get(provider)
    batch_used = any(g.batch for g in kinds.values())
    if not (discount and not batch_used and outp and outp.quantity <= 0.25 * inp.quantity):
        return []
    billed = inp.billed_cost + outp.billed_cost
    save = BATCHABLE_SHARE * discount.discount * billed / months
    return [_pair(FindingType.BATCH_DISCOUNT_UNUSED,
                  f"{provider}/{model} looks like bulk processing (output {outp.quantity / inp.quantity:.0%} of input) "
                  "with no batch usage",
                  _evidence(inp, ev_rows, None, None, "USD", Provenance(source=discount.source, as_of=discount.as_of)),
                  save,
                  ["Identify jobs that do not need an answer within seconds (classification, "
                   "extraction, evaluations, backfills).",
                   f"Submit them through {provider}'s batch API ({discount.discount:.0%} off).",
                   "Keep interactive traffic on the synchronous API."],
                  Confidence.LOW, [f"{BATCHABLE_SHARE:.0%} of this traffic tolerates up to 24 h of latency",
                                   "a low output:input ratio suggests offline summarisation or extraction"])]


def findings(groups: list[LineGroup], rows: dict, months: int) -> list[tuple[Finding, Opportunity]]:
    out: list[tuple[Finding, Opportunity]] = []
    by_model: dict[tuple[str, str, str], dict[str, LineGroup]] = defaultdict(dict)
    groups = [g for g in groups if g.currency == CATALOG_CURRENCY]
    for g in groups:
        by_model[(g.provider, g.model, g.currency)][g.usage_kind.value] = g
    for g in groups:
        kind = g.usage_kind.value
        ev_rows = rows[(g.provider, g.model, kind, g.currency)]
        if kind in TOKEN_KINDS and (observed := _unit_price(g, PER_MILLION)) is not None:
            out += _token_findings(g, ev_rows, observed, months)
        if kind in HOUR_KINDS and (observed := _unit_price(g, 1.0)) is not None:
            out += _hour_findings(g, ev_rows, observed, months)
    for (provider, model, currency), kinds in sorted(by_model.items()):
        inp = kinds.get(UsageKind.INPUT_TOKENS.value)
        if not inp or inp.quantity <= 0:
            continue
        ev_rows = rows[(provider, model, UsageKind.INPUT_TOKENS.value, currency)]
        out += _caching_finding(provider, model, kinds, ev_rows, months)
        out += _batch_finding(provider, model, kinds, ev_rows, months)
    out.sort(key=lambda fo: (-fo[0].estimated_monthly_savings_usd, fo[0].type.value, fo[0].title))
    return out
