"""assist: workload estimation from an application description, and explanations of a ranking.

Public entry points (the copilot calls these): ``estimate_workload`` and ``explain``.
"""

from costplan.services.assist.explain import explain
from costplan.services.assist.workload import estimate_workload

__all__ = ["estimate_workload", "explain"]
