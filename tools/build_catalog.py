"""Build the hosted-LLM catalog artifact with its second price source (build time only; not shipped).

    python -m tools.build_catalog --as-of 2026-11-26

1. ``pip download litellm==<LITELLM_VERSION> --no-deps`` (one pinned platform wheel) into a cache directory
   outside git (``$COSTPLAN_CACHE`` or ``~/.cache/costplan``), and refuse it unless its sha256 equals
   ``LITELLM_SHA256``. The wheel is opened as a zip and only its price map JSON is read: litellm is never
   installed or imported.
2. Trim the map to the entries that match a genai-prices offering (``crosscheck.trim`` + ``match``), and write
   them to ``tools/data/litellm_extract.json`` (committed: it is what tests and the artifact test rebuild from).
3. Build ``layers/engine/src/costplan/catalog/data/llm_offerings.json`` and print the match rate.

``--offline`` skips 1 and 2: it rebuilds the artifact from the installed genai-prices and the committed extract.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

from costplan.catalog import build_llm
from costplan.catalog import crosscheck as X

LITELLM_VERSION = "1.110.2"
LITELLM_RELEASED = "2026-11-20"  # PyPI upload date of the wheel below
LITELLM_WHEEL = f"litellm-{LITELLM_VERSION}-cp310-abi3-manylinux_2_28_x86_64.whl"
LITELLM_SHA256 = "9d94d1c7d524b6fd10c14f9c8c6c4f0ac31705f9964ac59dcfd8337c046d8917"
MAP_MEMBER = "litellm/model_prices_and_context_window_backup.json"
LITELLM_URL = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
EXTRACT = Path(__file__).parent / "data" / "litellm_extract.json"


def cache_dir() -> Path:
    return Path(os.environ.get("COSTPLAN_CACHE", Path.home() / ".cache" / "costplan")) / "litellm"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(directory: Path) -> Path:
    """The pinned wheel, downloaded once; raises unless its hash matches the pin."""
    wheel = directory / LITELLM_WHEEL
    if not wheel.exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", f"litellm=={LITELLM_VERSION}", "--no-deps",
                        "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64", "--python-version", "3.13",
                        "-d", str(directory)], check=True)
    digest = sha256(wheel)
    if digest != LITELLM_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest} does not match the pinned {LITELLM_SHA256}; refusing to read it")
    return wheel


def read_map(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z:
        return json.loads(z.read(MAP_MEMBER))


def render_extract(doc: dict) -> str:
    """One entry per line: small diffs when the pin moves, readable in review."""
    head = {k: v for k, v in doc.items() if k != "entries"}
    lines = [json.dumps(head, sort_keys=True)[:-1] + ', "entries": {']
    items = [f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in doc["entries"].items()]
    return "\n".join(lines + [",\n".join(items), "}}"]) + "\n"


def summary_line(catalog: dict, out) -> str:
    names = " + ".join(f"{s['name']} {s['version']} ({s['as_of']})" for s in catalog["sources"])
    line = f"wrote {len(catalog['offerings'])} offerings from {names}; catalog as_of {catalog['as_of']} to {out}"
    if cc := catalog.get("cross_check"):
        line += (f"\ncross-check vs LiteLLM: matched {cc['matched']}/{cc['mappable']} offerings of mapped providers "
                 f"(match rate {cc['match_rate']:.1%}); compared {cc['compared']}, agree within "
                 f"{X.TOLERANCE:.0%} {cc['agree']} ({cc['agreement_rate']:.1%}), disagree {cc['disagree']} "
                 f"(primary newer {cc['primary_newer']}, second newer {cc.get('second_newer', 0)}, "
                 f"undetermined {cc['undetermined']}); "
                 f"extended context windows priced from LiteLLM tiers: {cc['extended_context']}; context windows "
                 f"filled from LiteLLM where genai-prices has none: {cc['context_window_from_second']}")
    return line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--offline", action="store_true",
                        help=f"no download: rebuild from the installed genai-prices and the committed {EXTRACT.name}")
    args = parser.parse_args(argv)
    if args.offline:
        catalog = build_llm.build(args.as_of, second=json.loads(EXTRACT.read_text(encoding="utf-8")))
        build_llm.ARTIFACT.write_text(build_llm.render(catalog), encoding="utf-8")
        print(summary_line(catalog, build_llm.ARTIFACT))
        return
    full = read_map(fetch_wheel(args.cache or cache_dir()))
    primary = build_llm.build(args.as_of)  # offerings to match against
    doc = X.extract(full, primary["offerings"], f"litellm {LITELLM_VERSION}", LITELLM_VERSION, LITELLM_RELEASED,
                  LITELLM_URL)
    EXTRACT.write_text(render_extract(doc), encoding="utf-8")
    catalog = build_llm.build(args.as_of, second=json.loads(EXTRACT.read_text(encoding="utf-8")))
    build_llm.ARTIFACT.write_text(build_llm.render(catalog), encoding="utf-8")
    print(f"LiteLLM {LITELLM_VERSION}: {len(full)} map entries, {len(doc['entries'])} matched kept in {EXTRACT}")
    print(summary_line(catalog, build_llm.ARTIFACT))


if __name__ == "__main__":
    main()
