"""The worker's clock: a deadline before Lambda's own, as a plain ``time.monotonic()`` value for the
service, and a one-shot SIGALRM that raises the service's timeout inside a long step (a render)."""

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from costplan.services.reports.jobs import DEADLINE_MARGIN_S, JobTimeout


def remaining_s(context) -> float | None:
    """Seconds left in this invocation, or None for a context without a clock (local runs)."""
    clock = getattr(context, "get_remaining_time_in_millis", None)
    return clock() / 1000.0 if callable(clock) else None


@contextmanager
def deadline(context, margin_s: float = DEADLINE_MARGIN_S) -> Iterator[float | None]:
    """Yield the monotonic time by which the work must stop, and arm an alarm for it. The alarm fires
    once (the outcome write after it cannot be interrupted) and is disarmed on exit. Off the main
    thread (no signals there) only the value is given."""
    left = remaining_s(context)
    if left is None:
        yield None
        return
    budget = max(left - margin_s, 0.001)
    armed = threading.current_thread() is threading.main_thread()

    def _ring(signum, frame):
        raise JobTimeout("the worker's deadline passed")

    if armed:
        previous = signal.signal(signal.SIGALRM, _ring)
        signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        yield time.monotonic() + budget
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
