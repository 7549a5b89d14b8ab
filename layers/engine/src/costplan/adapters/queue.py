"""Report job queues: SQS and its dead-letter queue, or an in-process worker thread for ``make run``."""

import json
import queue
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from costplan.services.reports.jobs import DeadLetter

DLQ_PEEK_VISIBILITY_S = 60  # a peeked dead letter is hidden this long (< the DLQ handler's 5-minute schedule)


class SqsQueue:
    def __init__(self, url: str, client_factory: Callable) -> None:
        self.url, self._factory = url, client_factory

    @cached_property
    def client(self):  # built on first use
        return self._factory("sqs")

    def send(self, message: dict) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps(message, sort_keys=True))


class SqsDeadLetters(SqsQueue):
    """The DLQ: poison messages are sent here as received; the DLQ handler reads without deleting."""

    def send(self, body: str, attributes: dict[str, str]) -> None:  # type: ignore[override]
        self.client.send_message(QueueUrl=self.url, MessageBody=body, MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in sorted(attributes.items())})

    def peek(self, max_messages: int) -> list[DeadLetter]:
        seen: dict[str, DeadLetter] = {}
        while len(seen) < max_messages:
            got = self.client.receive_message(QueueUrl=self.url, MaxNumberOfMessages=min(10, max_messages - len(seen)),
                                              VisibilityTimeout=DLQ_PEEK_VISIBILITY_S, AttributeNames=["All"],
                                              MessageAttributeNames=["All"]).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh:  # never deleted: the message stays on the DLQ for a redrive
                seen[m["MessageId"]] = DeadLetter(
                    body=m["Body"], receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                    attributes={k: v.get("StringValue", "") for k, v in m.get("MessageAttributes", {}).items()})
        return list(seen.values())


class LocalDeadLetters:
    """Dead letters as files under ``<root>/dead-letters/`` (make run)."""

    def __init__(self, root: Path) -> None:
        self.root = root / "dead-letters"
        self._lock = threading.Lock()

    def send(self, body: str, attributes: dict[str, str]) -> None:
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            n = len(list(self.root.glob("*.json")))
            (self.root / f"{n:08d}.json").write_text(json.dumps({"body": body, "attributes": attributes}))

    def peek(self, max_messages: int) -> list[DeadLetter]:
        letters = [json.loads(p.read_text()) for p in sorted(self.root.glob("*.json"))[:max_messages]]
        return [DeadLetter(body=d["body"], attributes=d["attributes"], receive_count=1) for d in letters]


class InProcessQueue:
    """Runs ``worker(message, receive_count)`` on a daemon thread, redelivering a failed message up to
    ``max_receives`` times, as SQS with a redrive policy would; then ``dead_letter(message)``."""

    def __init__(self, worker: Callable[[dict, int], None], max_receives: int,
                 dead_letter: Callable[[dict], None] | None = None) -> None:
        self._worker, self._max, self._dead_letter = worker, max_receives, dead_letter
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
        if self._dead_letter is not None:
            self._dead_letter(message)

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
