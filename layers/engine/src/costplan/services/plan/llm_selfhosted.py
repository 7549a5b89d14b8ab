"""The self-hosted half of plan/llm: the request rate and shape a workload implies, and the sized configurations.

Imported only by requests that ask for self-hosted rows (``deployment`` self_hosted or both), so a hosted-only
cold start never loads the self-hosted catalog (CSV tables, calibration) or the throughput model.
"""

from dataclasses import replace

import numpy as np

from costplan.core.ranking import Reason
from costplan.core.throughput import Shape
from costplan.services.plan.domain import LlmPlan
from costplan.services.plan.selfhosted import (
    DEFAULT_SHAPE_PROFILE,
    DEFAULT_SHAPES,
    SECONDS_PER_MONTH,
    Traffic,
    scope_rows,
    size,
    slo_details,
)
from costplan.services.plan.warnings import self_hosted_warnings
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import Severity, WarningCode

__all__ = ["self_hosted", "self_hosted_warnings", "slo_details", "traffic_of"]


def traffic_of(p: LlmPlan) -> Traffic | None:
    """Request rate and shape for self-hosted sizing, or None when the workload cannot give one.

    With token volumes only, the workload profile's default shape (``DEFAULT_SHAPES``, chat when no
    profile is set) fixes the request count: its prompt length divides the input volume (its output
    length the output volume when there is no input); the other side follows from the volumes."""
    w = p.workload
    requests = w.requests_per_month
    if requests is None and w.avg_input_tokens_per_request:
        requests = w.input_tokens_per_month / w.avg_input_tokens_per_request
    if requests is None and w.avg_output_tokens_per_request:
        requests = w.output_tokens_per_month / w.avg_output_tokens_per_request
    assumed, source = False, "workload"
    if requests is None:
        profile = p.workload_profile.value if p.workload_profile else DEFAULT_SHAPE_PROFILE
        avg_in, avg_out = DEFAULT_SHAPES[profile]
        requests = (w.input_tokens_per_month / avg_in if w.input_tokens_per_month
                    else w.output_tokens_per_month / avg_out)
        assumed = True
        source = (f"assumed: the {profile} profile's default shape ({avg_in:,.0f} input / {avg_out:,.0f} output tokens"
                  f" per request) sets the request count, {requests:,.0f}/month; the tokens per request follow "
                  f"from the stated volumes")
    if not requests:
        return None
    avg_in = w.avg_input_tokens_per_request or w.input_tokens_per_month / requests
    avg_out = w.avg_output_tokens_per_request or w.output_tokens_per_month / requests
    if avg_out <= 0:
        return None
    slo = p.slo
    shape = Shape(avg_in, avg_out, ttft_s=slo.ttft_ms / 1e3 if slo.ttft_ms else float("inf"),
                  tpot_s=slo.tpot_ms / 1e3 if slo.tpot_ms else float("inf"))
    avg = requests / SECONDS_PER_MONTH
    return Traffic(avg_requests_per_s=avg, peak_requests_per_s=avg * w.peak_to_average_ratio, shape=shape,
                   shape_assumed=assumed, shape_source=source)


def self_hosted(p: LlmPlan, canonical: str | None, warn: WarningCollector):
    from costplan.catalog.selfhosted import get_selfhosted_catalog

    sh = get_selfhosted_catalog()
    opts = p.self_hosted
    if canonical is not None and sh.model_index(canonical) is None:
        warn.add(WarningCode.SELF_HOSTED_MODEL_UNKNOWN, "model",
                 f"No open-weight spec for '{canonical}' in the self-hosted catalog; only hosted APIs can serve it.",
                 "Pick an open-weight model, or set deployment to hosted_api.", Severity.INFO)
    scope = scope_rows(sh, None if canonical is None else {canonical}, list(opts.precisions),
                       None if opts.instance_types is None else list(opts.instance_types))
    traffic = traffic_of(p)
    if traffic is None:
        warn.add(WarningCode.SELF_HOSTED_NEEDS_SHAPE, "workload.requests_per_month",
                 "Self-hosted sizing needs the request rate and shape; every self-hosted configuration was excluded.",
                 "Set workload.requests_per_month, or avg_input_tokens_per_request / avg_output_tokens_per_request.")
        traffic = Traffic(0.0, 0.0, Shape(1.0, 1.0))
        sizing = size(sh, scope, traffic, opts.pricing_model.value, opts.target_utilisation)
        sizing = replace(sizing, blocked=np.full(scope.rows.size, Reason.REQUESTS_REQUIRED, np.int8))
        return sh, sizing
    return sh, size(sh, scope, traffic, opts.pricing_model.value, opts.target_utilisation, opts.measured_throughput)
