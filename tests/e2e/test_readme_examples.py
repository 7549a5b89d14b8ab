"""Every curl example in README.md runs against `make run`'s server, and the README shows what really comes back.

An example is a ```bash block that calls http://127.0.0.1:3000 (the README's `make run` address; the test's server
listens on a free port instead). Its shown output is the first fenced ```json block after it and before the next
example (a CLI block or text between is skipped), if any, or a `# {...}` comment line right after a command inside
the block (text after its object is a remark). How the block is run:

- `curl` with `-X`, `-H`, `-d '<json>'`, `-d @<file>` or `-d "<json with $VAR>"`, the URL, an optional `| jq ...`
  and `> file`; the request is sent with httpx exactly as the command states it (method, path, headers, body).
  `<report_id>` in a URL is the report id the block's last response returned, and a command that downloads a report
  file first polls the job until it is finished, as the README says to;
- `NAME=$(curl ... | jq -c .field)` keeps that field of the response for `$NAME` in later commands;
- `python3 -c '...' > <file>` runs with this interpreter in the repository and keeps its output as <file>;
- `mkdir -p` / `cp` into `.local-data/` (make run's s3://costplan-local/) act on the test server's data directory.

How the output is compared (structurally, after parsing both as JSON): every key and value the README shows must be
in the real response and equal to it; keys the README leaves out are not checked. Elision markers, for long parts:
a value "…" (or "...") stands for any value; a key "…" is allowed and ignored (it only tells the reader more keys
follow); an item "…" in a list stands for any number of items there (a list without one shows every item, in
order); inside a string, "…" stands for any text. A shown block of bare `"key": value` pairs (no braces), or the
output of a `jq` filter, must match the response or an object nested in it. Any request that is not an error example
must succeed (2xx).
"""

import json
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
LOCAL = "http://127.0.0.1:3000"
LOCAL_DATA = ".local-data/"
ELISIONS = ("…", "...")
ELISION_RE = re.compile(r"…|\.\.\.")
FENCE = re.compile(r"^```(\w*)\s*$")
POLL_S = 30


@dataclass
class Example:
    line: int  # of the opening fence, 1-based
    script: list[str]  # logical lines (continuations joined)
    shown: str | None  # the ```json block after it
    shown_line: int | None = None


@dataclass
class Run:
    base: str
    data_dir: Path
    files: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    last: object = None
    report_id: str | None = None


def _blocks(text: str) -> list[tuple[int, str, str]]:
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        out.append((i + 1, m.group(1), "\n".join(lines[i + 1:j])))
        i = j + 1
    return out


def examples() -> list[Example]:
    blocks = _blocks(README.read_text(encoding="utf-8"))
    found = []
    for k, (line, lang, body) in enumerate(blocks):
        if not _is_example(lang, body):
            continue
        shown = None
        for nxt_line, nxt_lang, nxt_body in blocks[k + 1:]:  # its output: the next json block, before the next example
            if _is_example(nxt_lang, nxt_body):
                break
            if nxt_lang == "json":
                shown = (nxt_line, nxt_body)
                break
        found.append(Example(line, _logical_lines(body), shown and shown[1], shown and shown[0]))
    return found


def _is_example(lang: str, body: str) -> bool:
    return lang == "bash" and "curl -s" in body and LOCAL in body


def _logical_lines(body: str) -> list[str]:
    """Shell lines: a trailing backslash continues a line, and so does an open quote (a multi-line -d '...')."""
    out, pending = [], ""
    for raw in body.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = pending + raw
        try:
            shlex.split(line, comments=not line.lstrip().startswith("# {"))
        except ValueError:  # No closing quotation: the quoted text goes on
            pending = line + "\n"
            continue
        pending = ""
        if line.strip():
            out.append(line.strip())
    assert not pending, f"unterminated shell line: {pending[:200]}"
    return out


# --- comparing ----------------------------------------------------------------------------------------------------

def mismatch(shown, real, path="$") -> str | None:
    """None when `real` has everything `shown` shows (with the elision rules above), else where it differs."""
    if isinstance(shown, str) and shown in ELISIONS:
        return None
    if isinstance(shown, dict):
        return _object_mismatch(shown, real, path)
    if isinstance(shown, list):
        return _list_mismatch(shown, real, path)
    if isinstance(shown, str):
        pattern = ".*".join(re.escape(p) for p in ELISION_RE.split(shown))
        ok = isinstance(real, str) and re.fullmatch(pattern, real, re.DOTALL) is not None
    elif isinstance(shown, bool) or shown is None or isinstance(real, bool):
        ok = shown is real
    else:
        ok = isinstance(real, int | float) and shown == real
    return None if ok else f"{path}: README shows {shown!r}, the response has {_brief(real)}"


def _object_mismatch(shown: dict, real, path: str) -> str | None:
    if not isinstance(real, dict):
        return f"{path}: README shows an object, the response has {_brief(real)}"
    for key, value in shown.items():
        if key in ELISIONS:
            continue
        if key not in real:
            return f"{path}.{key}: in the README, not in the response (keys: {sorted(real)})"
        if err := mismatch(value, real[key], f"{path}.{key}"):
            return err
    return None


def _list_mismatch(shown: list, real, path: str) -> str | None:
    if not isinstance(real, list):
        return f"{path}: README shows a list, the response has {_brief(real)}"
    if not any(_is_elision(s) for s in shown):
        if len(real) != len(shown):
            return f"{path}: README shows {len(shown)} items, the response has {len(real)}"
        return next((err for i, (s, r) in enumerate(zip(shown, real, strict=True))
                     if (err := mismatch(s, r, f"{path}[{i}]"))), None)
    if _in_order(shown, real, 0, 0):
        return None
    return f"{path}: the README's items (with … for any run of items) are not the response's {_brief(real)}"


def _is_elision(value) -> bool:
    return isinstance(value, str) and value in ELISIONS


def _in_order(shown: list, real: list, i: int, j: int) -> bool:
    """shown[i:] matches real[j:], a "…" item standing for any number of items (zero or more)."""
    if i == len(shown):
        return j == len(real)
    if _is_elision(shown[i]):
        return any(_in_order(shown, real, i + 1, k) for k in range(j, len(real) + 1))
    return j < len(real) and mismatch(shown[i], real[j]) is None and _in_order(shown, real, i + 1, j + 1)


def _brief(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 300 else text[:300] + "…"


def _nested(value):
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _nested(child)


def shown_documents(text: str) -> tuple[list, bool]:
    """The JSON documents a shown block holds, and whether it is a fragment (bare pairs, matched anywhere)."""
    decoder, docs, i, text = json.JSONDecoder(), [], 0, text.strip()
    try:
        while i < len(text):
            doc, i = decoder.raw_decode(text, i)
            docs.append(doc)
            while i < len(text) and text[i].isspace():
                i += 1
        return docs, False
    except json.JSONDecodeError:
        return [json.loads("{" + text + "}")], True


def check_shown(shown: str, real, anywhere: bool) -> str | None:
    docs, fragment = shown_documents(shown)
    for doc in docs:
        if fragment or anywhere:
            if not any(mismatch(doc, candidate) is None for candidate in _nested(real)):
                return f"nothing in the response matches {json.dumps(doc)[:300]}: " + (mismatch(doc, real) or "")
        elif err := mismatch(doc, real):
            return err
    return None


# --- running ------------------------------------------------------------------------------------------------------

def _local_path(run: Run, path: str) -> Path:
    return run.data_dir / path.removeprefix(LOCAL_DATA) if path.startswith(LOCAL_DATA) else ROOT / path


def _poll_report(run: Run) -> None:
    deadline = time.monotonic() + POLL_S
    while time.monotonic() < deadline:
        job = httpx.get(f"{run.base}/api/v1/report/{run.report_id}", timeout=30).json()
        if job["status"] not in ("queued", "running"):
            assert job["status"] == "succeeded", job
            return
        time.sleep(0.2)
    pytest.fail(f"report {run.report_id} did not finish in {POLL_S} s")


def curl(run: Run, tokens: list[str]) -> httpx.Response:
    method, headers, body, url = None, {}, None, None
    it = iter(tokens[1:])
    for tok in it:
        if tok == "-s":
            continue
        if tok == "-X":
            method = next(it)
        elif tok == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif tok in ("-d", "--data", "--data-binary"):
            body = next(it)
            if body.startswith("@"):  # a file the block wrote, else one in the repository
                body = run.files.get(body[1:]) or (ROOT / body[1:]).read_text(encoding="utf-8")
            for name, value in run.variables.items():
                body = body.replace(f"${name}", value)
        elif tok.startswith(LOCAL):
            url = tok
        else:
            raise AssertionError(f"curl option {tok!r} is not one this test knows how to run")
    assert url, f"no {LOCAL} URL in {tokens}"
    if "<report_id>" in url:
        assert run.report_id, "the block uses <report_id> before any response returned one"
        if "/files/" in url:
            _poll_report(run)
        url = url.replace("<report_id>", run.report_id)
    return httpx.request(method or ("POST" if body is not None else "GET"), run.base + url.removeprefix(LOCAL),
                         headers=headers, content=None if body is None else body.encode(), timeout=60)


def _jq_path(expr: str) -> list[str]:
    assert re.fullmatch(r"(\.\w+)+", expr), f"jq filter {expr!r} is not a plain .field path"
    return expr.split(".")[1:]


def execute(run: Run, line: str) -> tuple[object, bool] | None:
    """Run one logical line; for a curl, its JSON (or text) response and whether it went through jq."""
    if "curl " in line and LOCAL not in line:
        return None  # a command against a deployment ($API, SigV4): not make run's
    if m := re.fullmatch(r"(\w+)=\$\((.*)\)", line, re.DOTALL):
        name, inner = m.groups()
        command, _, jq = inner.partition("|")
        tokens = shlex.split(jq)
        assert tokens[:2] == ["jq", "-c"], f"{line}: only NAME=$(curl ... | jq -c .field) is supported"
        value = _response(run, shlex.split(command), line)
        for key in _jq_path(tokens[2]):
            value = value[key]
        run.variables[name] = json.dumps(value)
        return None
    tokens = shlex.split(line)
    if "&&" in tokens:  # a && b: each in turn (a failure raises, so b never runs after it)
        k = tokens.index("&&")
        execute(run, shlex.join(tokens[:k]))
        return execute(run, shlex.join(tokens[k + 1:]))
    if tokens[0] == "python3":
        assert tokens[1] == "-c" and tokens[3] == ">", line
        out = subprocess.run([sys.executable, "-c", tokens[2]], cwd=ROOT, capture_output=True, text=True, check=True)
        run.files[tokens[4]] = out.stdout
        return None
    if tokens[0] == "mkdir":
        _local_path(run, tokens[-1]).mkdir(parents=True, exist_ok=True)
        return None
    if tokens[0] == "cp":
        dest = _local_path(run, tokens[2])
        dest = dest / Path(tokens[1]).name if tokens[2].endswith("/") else dest
        dest.write_bytes((ROOT / tokens[1]).read_bytes())
        return None
    if tokens[0] == "costplan":  # the CLI against make run's server: it prints the response
        assert "--endpoint" in tokens and LOCAL in tokens, f"{line}: only the CLI against {LOCAL} is run here"
        args = [run.base if t == LOCAL else t for t in tokens[1:]]
        out = subprocess.run([str(Path(sys.executable).parent / "costplan"), *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, f"{line}\n-> exit {out.returncode}: {out.stderr[-1000:]}"
        return json.loads(out.stdout), False
    assert tokens[0] == "curl", f"README command {line!r} is not one this test knows how to run"
    piped = "|" in tokens
    command = tokens[:tokens.index("|")] if piped else tokens[:tokens.index(">")] if ">" in tokens else tokens
    return _response(run, command, line), piped


def _response(run: Run, command: list[str], line: str):
    r = curl(run, command)
    try:
        value = r.json()
    except ValueError:
        value = r.text
    if not (isinstance(value, dict) and "error" in value):
        assert r.status_code < 400, f"{line}\n-> {r.status_code} {r.text[:1000]}"
    if isinstance(value, dict) and isinstance(value.get("report_id"), str):
        run.report_id = value["report_id"]
    run.last = value
    return value


EXAMPLES = examples()


def test_the_readme_has_its_curl_examples():
    assert len(EXAMPLES) >= 15
    assert sum(e.shown is not None for e in EXAMPLES) >= 12


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{e.line}" for e in EXAMPLES])
def test_readme_curl_example_runs_and_shows_the_real_output(example, local_api):
    run = Run(local_api.base, local_api.data_dir)
    result, inline_checked = None, False
    for line in example.script:
        if line.startswith("#"):
            if line.startswith("# {") and result is not None:  # the output of the command above, as a comment
                shown = json.dumps(json.JSONDecoder().raw_decode(line[2:])[0])  # text after the object is a remark
                assert (err := check_shown(shown, result[0], result[1])) is None, f"{line}\n{err}"
                inline_checked = True
            continue
        result = execute(run, line) or result
    if example.shown is not None:
        assert result is not None, "a shown output needs a command before it"
        err = check_shown(example.shown, result[0], result[1])
        assert err is None, f"README.md:{example.shown_line}: {err}"
    assert result is not None or inline_checked
