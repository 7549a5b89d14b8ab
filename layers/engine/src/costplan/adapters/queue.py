"""Report job queues: SQS, or an in-process worker thread for ``make run``."""

import json
import queue
import threading
from collections.abc import Callable
from functools import cached_property


class SqsQueue:
    def __init__(self, url: str, client_factory: Callable) -> None:
        self.url, self._factory = url, client_factory

    @cached_property
    def client(self):  # built on first use
        return self._factory("sqs")

    def send(self, message: dict) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps(message, sort_keys=True))


class InProcessQueue:
    """Runs ``worker(message, receive_count)`` on a daemon thread, redelivering a failed message up to
    ``max_receives`` times, as SQS with a redrive policy would."""

    def __init__(self, worker: Callable[[dict, int], None], max_receives: int) -> None:
        self._worker, self._max = worker, max_receives
        self._q: queue.Queue = queue.Queue()
        self._started = False
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        self._q.put(message)
        with self._lock:
            if not self._started:
                threading.Thread(target=self._run, name="report-worker", daemon=True).start()
                self._started = True

    def _deliver(self, message: dict) -> None:
        for receive_count in range(1, self._max + 1):
            try:
                self._worker(message, receive_count)
                return
            except Exception:  # noqa: BLE001 - the worker records the reason on the job; redeliver
                continue

    def _run(self) -> None:
        while True:
            message = self._q.get()
            try:
                self._deliver(message)
            finally:
                self._q.task_done()

    def join(self) -> None:
        """Wait until every sent message has been handled (tests and shutdown)."""
        self._q.join()
