"""The warnings plan/llm attaches to its rows and fallback steps."""

import numpy as np

from costplan.catalog.llm import NATIVE_UNIT
from costplan.core.ranking import RankResult, Reason
from costplan.core.units import convertible
from costplan.services.plan.candidates import CandidateSet
from costplan.services.plan.domain import LlmPlan
from costplan.services.warnings import WarningCollector
from costplan_contracts.bounds import HOURS_PER_MONTH
from costplan_contracts.enums import Deployment, PriceBasis, Severity, ThroughputBasis, WarningCode
from costplan_contracts.plan_llm import PlanRow

_BASIS_NOTES = {
    PriceBasis.TIER_SHARE_ASSUMED: (
        WarningCode.TIER_SHARE_ASSUMED, "workload.context_shares",
        "have long-context tiers and the share of traffic above them is unknown; monthly_cost_range runs from no "
        "request above the tier to all of them, and monthly_cost_usd is the end the prompt size points to",
        "Set workload.context_shares (share of input and output tokens above each tier threshold), or "
        "workload.max_context_tokens if no prompt reaches the tier."),
    PriceBasis.SOURCES_DISAGREE: (
        WarningCode.PRICE_SOURCES_DISAGREE, None,
        "are priced differently (by more than 5%) by the two price sources; ranked at the newer price where a dated "
        "entry or a provider's dated price announcement shows it (price_sources[].used and evidence say which and "
        "why), else at the primary source, with both in price_sources and the spread in monthly_cost_range",
        "Check the provider's pricing page before committing; see price_sources on each row."),
    PriceBasis.EXTENDED_CONTEXT: (
        WarningCode.EXTENDED_CONTEXT_PRICED, "workload.max_context_tokens",
        "are priced beyond their stated context window from the second source's long-context tier; the extended "
        "window's size is not published in the catalog",
        "Confirm the provider serves your prompt size before relying on it."),
    PriceBasis.CACHE_READ_AS_INPUT: (
        WarningCode.CACHE_READ_PRICED_AS_INPUT, "workload.cached_input_share",
        "have no cache-read price in the catalog; cached input tokens are charged at the full input price",
        "Treat the cost as an upper bound, or check the provider's caching price."),
    PriceBasis.TIME_OF_DAY_PEAK: (
        WarningCode.TIME_OF_DAY_PEAK_PRICE, None,
        "price by time of day; ranked at the peak (highest) rate, so off-peak traffic costs less",
        "Treat the cost as an upper bound."),
}


def _names(rows: list[PlanRow]) -> str:
    names = [f"{r.provider}/{r.model}" for r in rows]
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def row_warnings(rows: list[PlanRow], p: LlmPlan, warn: WarningCollector) -> None:
    for basis, (code, field, text, action) in _BASIS_NOTES.items():
        if hit := [r for r in rows if basis in r.price_basis]:
            warn.add(code, field, f"{len(hit)} ranked offering(s) ({_names(hit)}) {text}.", action, Severity.INFO)
    if p.workload.max_context_tokens and (unverified := [r for r in rows if r.context_window is None]):
        warn.add(WarningCode.CONTEXT_WINDOW_UNVERIFIED, "workload.max_context_tokens",
                 f"{len(unverified)} ranked offering(s) have no published context window in the catalog "
                 f"({_names(unverified)}); they may not fit {p.workload.max_context_tokens} tokens.",
                 "Set constraints.min_context_window to exclude offerings whose window is unknown.", Severity.INFO)
    if free := [r for r in rows if r.monthly_cost_usd == 0]:
        warn.add(WarningCode.LISTED_FREE, None,
                 f"{len(free)} ranked offering(s) are listed at $0 by the source ({_names(free)}); "
                 "free tiers are rate-limited.",
                 "Check the provider's rate limits before relying on a free tier.", Severity.INFO)
    if p.constraints.include_deprecated and any(r.deprecated for r in rows):
        warn.add(WarningCode.DEPRECATED_INCLUDED, "constraints.include_deprecated",
                 "Some ranked offerings are deprecated by their provider.", "Plan a migration before relying on them.")


def price_age_warnings(rows: list[PlanRow], p: LlmPlan, built_on: str | None,
                       warn: WarningCollector) -> None:
    """STALE_PRICE: rows whose price_as_of is older than max_price_age_days before the catalog's build date."""
    from datetime import date

    if not built_on:
        return
    limit = p.constraints.max_price_age_days
    ref = date.fromisoformat(built_on)
    stale = [r for r in rows if r.deployment == Deployment.HOSTED_API
             and (ref - date.fromisoformat(r.provenance.as_of)).days > limit]
    if stale:
        oldest = min(r.provenance.as_of for r in stale)
        warn.add(WarningCode.STALE_PRICE, "constraints.max_price_age_days",
                 f"{len(stale)} ranked offering(s) ({_names(stale)}) carry prices older than {limit} days at the "
                 f"catalog's build date {built_on} (oldest price_as_of {oldest}).",
                 "Check the provider's current price; the scheduled catalog refresh updates prices daily.")


def unit_warning(p: LlmPlan, rows: list[PlanRow], warn: WarningCollector) -> None:
    """The warning for a relax_unit result: which conversion made the rows comparable."""
    c = p.constraints
    if any(r.deployment == Deployment.SELF_HOSTED for r in rows):
        warn.add(WarningCode.UNIT_CONVERTED, "constraints.pricing_unit",
                 f"Nothing is priced natively in {c.pricing_unit.value}; self-hosted hourly prices were converted "
                 f"to cost per token through the throughput model (instances x $/hour x {HOURS_PER_MONTH:g} h, "
                 "over this workload's tokens).",
                 "See effective_price_per_1m and self_hosted.capacity_per_replica on each row.", Severity.INFO)
    else:
        warn.add(WarningCode.UNIT_CONVERTED, "constraints.pricing_unit",
                 f"No offering is priced natively in {c.pricing_unit.value}; prices were converted exactly "
                 f"from {NATIVE_UNIT}.", "See requested_unit_prices on each row.", Severity.INFO)


def self_hosted_warnings(cs: CandidateSet, result: RankResult, rows: list[PlanRow], p: LlmPlan,
                         warn: WarningCollector) -> None:
    # lazy: cold start, only self-hosted rows need the sizing module (and the catalog and model it imports)
    from costplan.services.plan.selfhosted import estimated_capacity_warning

    sh, sz = cs.sh_catalog, cs.sizing
    opts, w = p.self_hosted, p.workload
    f = sh.efficiency
    if any(r.deployment == Deployment.SELF_HOSTED for r in rows) and convertible(p.constraints.pricing_unit.value,
                                                                                 NATIVE_UNIT):
        warn.add(WarningCode.UNIT_CONVERTED, "constraints.pricing_unit",
                 f"Self-hosted rows are priced per GPU-hour; their cost per token comes from the throughput model "
                 f"(instances x $/hour x {HOURS_PER_MONTH:g} h, over this workload's tokens).",
                 "See effective_price_per_1m and self_hosted.capacity_per_replica on each row.", Severity.INFO)
    if any(r.deployment == Deployment.SELF_HOSTED for r in rows):
        warn.add(WarningCode.SELF_HOSTED_ASSUMPTIONS, None,
                 f"Self-hosted rows assume {HOURS_PER_MONTH:g} h/month always on, replicas sized for the peak "
                 f"({w.peak_to_average_ratio:g}x the average request rate) at {opts.target_utilisation:.0%} target "
                 f"utilisation of offline capacity and within the TTFT/TPOT targets, and a serving model (continuous "
                 f"batching with chunked prefill, decode at {f.eff_bw:.0%} of peak bandwidth, prefill at "
                 f"{f.eff_flops:.0%} of peak FLOPs, M/D/1 queueing for TTFT) fitted on "
                 f"{len(sh.calibration['benchmarks'])} public throughput and "
                 f"{len(sh.calibration['latency_benchmarks'])} latency results.",
                 "Supply self_hosted.measured_throughput from your own load test to replace the model.", Severity.INFO)
    ranked_sh = [j - cs.n_hosted for j in result.order.tolist() if not cs.is_hosted(j)]
    estimated_capacity_warning(sh, sz, ranked_sh, warn, "self_hosted.measured_throughput")
    if sz.shape_assumed and ranked_sh:
        warn.add(WarningCode.SHAPE_ASSUMED, "workload.requests_per_month",
                 f"No request shape was given; self-hosted rows were sized with a default shape ({sz.shape_source}). Latency, "
                 "batch and replica counts depend on it, so those rows are estimates.",
                 "Set workload.requests_per_month, or avg_input_tokens_per_request and "
                 "avg_output_tokens_per_request, to size self-hosted rows for your real shape.")
    blocked = sz.blocked
    missing = np.flatnonzero(blocked == Reason.MISSING_THROUGHPUT)
    if missing.size:
        names = sorted(sh.instances[i].instance_type for i in np.unique(sh.grid.instance[sz.rows[missing]]))
        warn.add(WarningCode.MISSING_THROUGHPUT, "self_hosted.measured_throughput",
                 f"{missing.size} self-hosted configurations have no calibrated throughput model "
                 f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}); they were excluded, not guessed.",
                 "Supply self_hosted.measured_throughput (output tokens/s per replica) for these instance types.")
    if sz.measured.any() and any(r.self_hosted and r.self_hosted.throughput_basis == ThroughputBasis.MEASURED
                                 for r in rows):
        warn.add(WarningCode.MEASURED_THROUGHPUT_USED, "self_hosted.measured_throughput",
                 "Rows marked throughput_basis=measured_by_caller use your measured tokens/s instead of the model.",
                 "Keep the measurement's request shape equal to this workload's.", Severity.INFO)
    g = sh.grid
    for i, m in enumerate(opts.measured_throughput):
        hit = any(sh.instances[g.instance[r]].instance_type.lower() == m.instance_type.lower() for r in sz.rows)
        if not hit:
            warn.add(WarningCode.MEASURED_THROUGHPUT_UNMATCHED, f"self_hosted.measured_throughput[{i}]",
                     f"No configuration in scope runs on '{m.instance_type}'; the measurement was not used.",
                     "Use an instance_type from the self-hosted catalog.")


def catalog_snapshot_warning(catalog, warn: WarningCollector) -> None:
    """CATALOG_SNAPSHOT_FALLBACK when a refreshed snapshot was configured but could not be used."""
    if catalog.snapshot.startswith("bundled; "):
        warn.add(WarningCode.CATALOG_SNAPSHOT_FALLBACK, None,
                 f"The refreshed price catalog could not be loaded ({catalog.snapshot.removeprefix('bundled; ')}); "
                 f"prices come from the catalog bundled with this release, as of {catalog.as_of}.",
                 "Check the refresh_catalog function's last run and the catalog/ prefix of the bucket.")
