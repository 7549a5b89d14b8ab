"""Transports: ``local`` runs the API in-process, ``http`` talks to a deployed or ``make run`` server.

The local transport is an httpx transport over the very ASGI apps the Lambdas run (functions/<name>/app.py,
routed by template.yaml exactly as ``make run`` routes them), so a response in-process is the server's
response: same validation, same error envelope, same bytes. Each function app is imported on its first call.
It needs a CostPlan checkout (template.yaml and functions/): found from ``COSTPLAN_ROOT``, else upwards from
the working directory, else beside this package (the editable dev install).
"""

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import httpx

from costplan_client.errors import CostPlanError

ROOT_ENV = "COSTPLAN_ROOT"
LOCAL_BASE_URL = "http://costplan.local"


def _is_root(path: Path) -> bool:
    return (path / "template.yaml").is_file() and (path / "functions").is_dir() and (path / "tools").is_dir()


def find_root() -> Path:
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV]).resolve()
        if not _is_root(root):
            raise CostPlanError("NO_CHECKOUT", f"{ROOT_ENV}={root} holds no template.yaml, functions/ and tools/")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents, *Path(__file__).resolve().parents):
        if _is_root(candidate):
            return candidate
    raise CostPlanError("NO_CHECKOUT", "the local transport runs the API in-process and needs a CostPlan checkout "
                                       f"(set {ROOT_ENV}); or pass --endpoint URL for the http transport")


class _LazyFunction:
    """An ASGI app that imports functions/<name>/app.py on its first request (make run imports them all)."""

    def __init__(self, code_uri: str) -> None:
        self.code_uri = code_uri

    async def __call__(self, scope, receive, send) -> None:
        from tools.template import load_function_module

        await load_function_module(self.code_uri).app(scope, receive, send)


def local_app(root: Path):
    """make run's dispatcher (tools.local_api.build_app) without the docs routes, its functions imported lazily."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # make run's embedded defaults: local-disk reports and an in-process queue under <root>/.local-data.
    os.environ.setdefault("COSTPLAN_LOCAL_DIR", str(root / ".local-data"))
    os.environ.setdefault("COSTPLAN_PUBLIC_URL", LOCAL_BASE_URL)  # report download links name this transport's base
    from tools.dispatch import dispatcher

    return dispatcher(_LazyFunction, root / "template.yaml")


@contextmanager
def engine_logs_to_stderr(level: int = logging.ERROR) -> Iterator[None]:
    """While a command runs in-process: the engine's structured log lines (each returned warning, job events; the
    response already carries the warnings) only from ``level`` up, and on stderr, since stdout is the command's
    output. Both are restored afterwards."""
    from costplan.adapters.observability import logger

    handler, old_level = logger.registered_handler, logger.log_level
    old_stream = handler.setStream(sys.stderr) if isinstance(handler, logging.StreamHandler) else None
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old_level)
        if old_stream is not None:
            handler.setStream(old_stream)


class LocalTransport(httpx.BaseTransport):
    """A synchronous httpx transport over an ASGI app (httpx's ASGITransport is async-only)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @cached_property
    def root(self) -> Path:
        return self._root or find_root()

    @cached_property
    def _asgi(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=local_app(self.root))

    def local_dir(self) -> Path:
        """Where the in-process API keeps reports and stands in for the report bucket (s3://costplan-local/)."""
        self._asgi  # noqa: B018 - sets the defaults
        return Path(os.environ["COSTPLAN_LOCAL_DIR"])

    def _call(self, fn):
        """Run the coroutine ``fn()`` on this transport's own event loop, in a daemon thread of its own: the
        caller's thread keeps its event loop state (asyncio.run would leave none behind), a caller already inside a
        running loop (a notebook) works too, and an unclosed transport cannot hold the process open at exit."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="costplan-local", daemon=True)
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def run() -> httpx.Response:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._asgi.handle_async_request(inner)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._call(run)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._loop = self._thread = None
