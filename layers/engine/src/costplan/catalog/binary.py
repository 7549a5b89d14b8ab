"""Catalogs as a compact binary: built once from their reviewable JSON source, and trusted only while it matches.

The JSON under ``catalog/data/`` stays the source a reviewer reads and diffs. Parsing it and building the numpy
arrays costs tens of milliseconds at cold start; unpickling the built catalog (zlib-compressed) costs a few. So:

- ``layers/engine/Makefile`` (``sam build``) writes ``<source>.pickle`` next to the JSON in the layer, with this
  module's CLI: ``python -m costplan.catalog.binary <dir with the catalog JSON>``. The Lambda path loads that file.
- Anywhere else (tests, ``make run``, the benchmark), the binary is built on first use into a per-user cache
  outside the git tree (``$COSTPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/costplan``, else ``~/.cache/costplan``).
- A binary records the SHA-256 of the JSON it was built from. A binary whose hash does not match the JSON beside
  it (the JSON was edited after the build), or that does not unpickle, is never used: the catalog is rebuilt from
  the JSON (and the cache rewritten), so a stale binary cannot serve old prices.

Pickles are read only from the package's own directory and the user's cache directory, never from a shared
temporary directory or from S3 (refreshed snapshots stay JSON). The binaries are build outputs: never committed
(``.gitignore``).
"""

import contextlib
import hashlib
import os
import pickle
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 2  # bump when the layout changes, so old binaries are rebuilt (2: zlib-compressed pickle)
# zlib: the layer stays small (about 0.1 MB against 0.9 MB raw; the invoice functions are within 1 MB of Lambda's
# 250 MiB unzipped limit) for about 2 ms more at cold start.
ZLIB_LEVEL = 6
SUFFIX = ".pickle"
CACHE_ENV = "COSTPLAN_CACHE_DIR"
MAGIC = b"costplan-catalog\n"  # first bytes of every binary: anything else is not one of ours


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def packaged_path(source: Path) -> Path:
    """Where the layer build puts the binary of ``source``: beside it."""
    return source.with_suffix(SUFFIX)


def cache_dir() -> Path | None:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "costplan"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "costplan" if home else None


def cache_path(source: Path) -> Path | None:
    d = cache_dir()
    return None if d is None else d / (source.stem + SUFFIX)


def dump(value: Any, source_digest: str, out: Path) -> None:
    """Write ``value`` with the digest of its source, atomically (a reader never sees half a file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    payload = pickle.dumps({"format": FORMAT, "source_sha256": source_digest, "value": value},
                           protocol=pickle.HIGHEST_PROTOCOL)
    tmp.write_bytes(MAGIC + zlib.compress(payload, ZLIB_LEVEL))
    tmp.replace(out)


def read(path: Path, source_digest: str) -> Any | None:
    """The value in ``path`` if it was built from a source with ``source_digest``; None if absent, stale or broken."""
    try:
        raw = path.read_bytes()
        if not raw.startswith(MAGIC):
            return None
        payload = pickle.loads(zlib.decompress(raw[len(MAGIC):]))
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a truncated or foreign binary is rebuilt from the JSON, never trusted
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None
    if payload.get("source_sha256") != source_digest:
        return None
    return payload.get("value")


def load(source: Path, build: Callable[[bytes], Any], *, write_cache: bool = True) -> tuple[Any, str]:
    """(the catalog built from ``source``, where it came from: "packaged", "cache" or "json").

    ``build`` turns the JSON bytes into the catalog; it runs only when no matching binary exists, and then the
    result is written to the user cache (when ``write_cache`` and the cache is writable)."""
    raw = source.read_bytes()
    source_digest = digest(raw)
    value = read(packaged_path(source), source_digest)
    if value is not None:
        return value, "packaged"
    cached = cache_path(source)
    if cached is not None:
        value = read(cached, source_digest)
        if value is not None:
            return value, "cache"
    value = build(raw)
    if write_cache and cached is not None:
        with contextlib.suppress(OSError):  # a read-only home (e.g. Lambda): the JSON-built catalog serves
            dump(value, source_digest, cached)
    return value, "json"


def write_packaged(source: Path, build: Callable[[bytes], Any]) -> Path:
    """Build the binary of ``source`` beside it (layer build time)."""
    raw = source.read_bytes()
    out = packaged_path(source)
    dump(build(raw), digest(raw), out)
    return out


def main(argv: list[str]) -> int:
    """``python -m costplan.catalog.binary DATA_DIR``: write the binary of every catalog JSON the Lambda path loads."""
    # lazy: build-time CLI only; costplan.catalog.llm imports this module, so a top-level import would be a cycle
    from costplan.catalog import llm

    data = Path(argv[0]) if argv else llm.ARTIFACT.parent
    out = write_packaged(data / llm.ARTIFACT.name, llm.from_json_bytes)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
