"""`make run`'s server (tools.local_api under uvicorn) on a free loopback port, for tests that talk HTTP to it."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60  # 2 cores shared with other test runs: the first import can take a while


@dataclass(frozen=True)
class LocalServer:
    base: str  # http://127.0.0.1:<port>
    data_dir: Path  # COSTPLAN_LOCAL_DIR: what `make run` keeps in .local-data/ (s3://costplan-local/<key>)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(tmp: Path) -> Iterator[LocalServer]:
    """Start `python -m tools.local_api --port <free port>` as `make run` does; stop it on exit."""
    port = free_port()
    data_dir = tmp / "data"
    env = {**os.environ, "COSTPLAN_LOCAL_DIR": str(data_dir)}
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        proc = subprocess.Popen([sys.executable, "-m", "tools.local_api", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, proc, log_path)
            yield LocalServer(base, data_dir)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _wait_ready(base: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/api/v1/meta/bounds", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"local server did not start (exit code {proc.poll()}): {log_path.read_text()[-4000:]}")
