"""Quality on plan/llm rows: the index, coverage and estimated flag, and the relax_quality warning."""

import numpy as np

from costplan.core.ranking import RankResult
from costplan.services.plan.candidates import CandidateSet
from costplan.services.plan.domain import LlmPlan
from costplan.services.warnings import WarningCollector
from costplan_contracts.common import Provenance
from costplan_contracts.enums import Severity, WarningCode, WorkloadProfile
from costplan_contracts.plan_llm import PlanRow, RowQuality


def quality_rows(rows: list[PlanRow], cs: CandidateSet, result: RankResult, profile: str,
                 warn: WarningCollector) -> list[PlanRow]:
    from costplan.catalog.quality import profile_quality

    scores = profile_quality(profile)
    out = []
    for row, j in zip(rows, result.order.tolist(), strict=True):
        q = scores.get(cs.model_id(int(j)))  # shown even below the coverage floor: coverage says how far to trust it
        quality = None if q is None else RowQuality(
            workload_profile=WorkloadProfile(profile), index=round(q.index, 4), coverage=round(q.coverage, 4),
            estimated=q.estimated, sources=[Provenance(source=s, as_of=a) for s, a in q.sources])
        out.append(row.model_copy(update={"quality": quality}))
    if estimated := [r for r in out if r.quality and r.quality.estimated]:
        warn.add(WarningCode.QUALITY_ESTIMATED, "workload_profile",
                 f"{len(estimated)} ranked rows use a benchmark score borrowed from a sibling model "
                 f"({', '.join(f'{r.provider}/{r.model}' for r in estimated[:3])}).",
                 "Treat their quality index as an estimate.", Severity.INFO)
    return out


def quality_relaxed_warning(p: LlmPlan, rows: list[PlanRow], cs: CandidateSet, result: RankResult,
                            warn: WarningCollector) -> None:
    q = cs.candidates.quality
    admitted = np.flatnonzero(result.reason == 0)
    known = admitted[~np.isnan(q[admitted])] if q is not None else admitted[:0]
    best = int(known[np.argmax(q[known])]) if known.size else None
    reach = (f"the best reachable under the other constraints is {q[best]:.1f} "
             f"({cs.label(best)[0]}/{cs.label(best)[1]})") if best is not None else "no offering has a known quality"
    warn.add(WarningCode.QUALITY_RELAXED, "min_quality",
             f"No offering reaches quality {p.min_quality:g}; {reach}. The floor was dropped.",
             "Lower min_quality, widen the providers or the budget, or change the workload profile.")
