"""The engine package's import structure: no cycles, no private names across modules, every module importable.

The graph is read from the source with ``ast`` (no import side effects): an edge a -> b for every ``import`` or
``from ... import`` of a costplan module, at module top and inside functions (lazy imports count: a cycle through a
lazy import is still two modules that need each other). ``if TYPE_CHECKING:`` blocks are left out. A submodule's
import of its own parent package is no edge (Python initialises the parent first), unless it takes a name the
parent's ``__init__`` defines.
"""

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "layers" / "engine" / "src"

# Lazy-import cycles that are known and documented at the import (``# lazy: ...``), each with its reason. Keep empty
# where possible; a new cycle fails the test.
DOCUMENTED_CYCLES = {
    # costplan.catalog.binary's build-time CLI (``main``) reads the JSON catalog through catalog.llm, which loads
    # the binary at run time; snapshot <-> llm: the refreshed snapshot is read only when a bucket is configured.
    frozenset({"costplan.catalog.binary", "costplan.catalog.llm", "costplan.catalog.snapshot"}),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if parts and parts[0] == "costplan":
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import outside TYPE_CHECKING blocks, at any depth."""
    out = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((a.name, None, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join(pkg[:len(pkg) - node.level + 1] + ([base] if base else []))
            out.extend((base, a.name, node.lineno) for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


def _lazy_surface(path: Path) -> dict[str, str]:
    """A package's PEP 562 surface (``_SURFACE = {name: submodule}``): the module a name is resolved from."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_SURFACE" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    surfaces = {name: _lazy_surface(path) for name, path in modules.items() if path.name == "__init__.py"}
    graph = {}
    for name, path in modules.items():
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        deps = set()
        for base, attr, _ in _imports(name, path):
            if attr in surfaces.get(base, {}):  # a lazily resolved name: the edge is to the module it comes from
                base, attr = f"{base}.{surfaces[base][attr]}", None
            target = f"{base}.{attr}" if attr and f"{base}.{attr}" in modules else base
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                cand = ".".join(parts[:i])
                if cand in modules and cand != name and (cand not in ancestors or cand == target):
                    deps.add(cand)
        graph[name] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, the first repeated at the end), or None (graphlib's own check)."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as e:
        return e.args[1]
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import():
    assert sorted(set(_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}))) == ["a", "b", "c"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    modules = {"pkg.x": SRC / "costplan" / "__init__.py"}  # no imports: no edges
    assert _graph(modules) == {"pkg.x": set()}
    # a name taken from the plan package's lazy surface is an edge to the module that defines it
    graph = _graph(_modules())
    assert "costplan.services.plan.rows" in graph["costplan.services.invoice.findings"]
    assert "costplan.services.plan.llm" in graph["costplan.services.training.estimate"]


def test_no_costplan_module_imports_another_in_a_cycle():
    graph = _graph(_modules())
    for known in DOCUMENTED_CYCLES:  # only the documented edges inside a known cycle are let through
        for a in known & graph.keys():
            graph[a] -= known
    assert _cycle(graph) is None


def test_calibration_is_a_build_tool_the_layer_does_not_ship():
    modules = _modules()
    assert "costplan.catalog.calibrate" not in modules and (ROOT / "tools" / "calibrate.py").is_file()
    # nothing in the layer imports tools/ (it is not shipped): selfhosted has its own group_key
    offenders = [f"{n}:{line}" for n, p in modules.items() for base, _, line in _imports(n, p)
                 if base == "tools" or base.startswith("tools.")]
    assert offenders == []


def test_no_module_imports_another_modules_private_names():
    """``from costplan.x import _y`` (or ``import costplan._x``) across modules: make it public where it is owned."""
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        for base, attr, line in _imports(name, path):
            if not base.startswith("costplan"):
                continue
            private = [p for p in base.split(".") + [attr or ""] if p.startswith("_") and not p.startswith("__")]
            if private:
                offenders.append(f"{name}:{line} imports {base}.{attr}")
    for path in (ROOT / "tools").glob("*.py"):  # the build tools too: the layer's private names are not their API
        for base, attr, line in _imports("tools." + path.stem, path):
            if base.startswith("costplan") and (attr or "").startswith("_") and not (attr or "").startswith("__"):
                offenders.append(f"tools/{path.name}:{line} imports {base}.{attr}")
    assert offenders == []


SHARED = {"errors", "warnings", "meta"}  # costplan.services.<shared>: every domain may import them
# A domain reaching into another's module instead of its package surface, while it is being switched over (an
# importer another change is editing): none left. A new one fails the test.
CROSS_DOMAIN_PENDING: set[tuple[str, str]] = set()
# Modules a domain exposes whole to other domains (its package __init__ would import too much at cold start).
CROSS_DOMAIN_MODULES = {
    "costplan.services.invoice.exports",  # the export analysis: the report worker runs it, invoice_jobs checks prefixes
    "costplan.services.reports.events",  # the report bucket's drop folders (invoice.exports reads only there)
}


def test_service_domains_import_one_another_through_their_surfaces():
    """A service domain imports another as ``costplan.services.<domain>`` (the names its __init__ exports), never
    one of its modules; adapters, which implement a domain's ports, are not services and may import the port modules."""
    offenders = set()
    for name, path in _modules().items():
        parts = name.split(".")
        if parts[:2] != ["costplan", "services"] or len(parts) < 3:
            continue
        for base, _, _ in _imports(name, path):
            b = base.split(".")
            if (b[:2] == ["costplan", "services"] and len(b) > 3 and b[2] not in SHARED and b[2] != parts[2]
                    and base not in CROSS_DOMAIN_MODULES):
                offenders.add((name, base))
    assert sorted(offenders - CROSS_DOMAIN_PENDING) == []


def test_each_domain_package_names_its_public_surface():
    import costplan.services.catalog_rank as catalog_rank
    import costplan.services.plan as plan
    import costplan.services.training as training

    assert sorted(plan.__all__) == sorted(plan._SURFACE)  # the lazy surface and its declared names agree
    for name in plan.__all__:
        assert getattr(plan, name) is getattr(sys.modules[f"costplan.services.plan.{plan._SURFACE[name]}"], name)
    with pytest.raises(AttributeError):
        _ = plan.build_rows  # internal to the package
    assert catalog_rank.__all__ == ["rank_catalog"] and callable(catalog_rank.rank_catalog)
    assert training.__all__ == ["plan_training"] and callable(training.plan_training)


@pytest.mark.integration  # one interpreter per module: about a minute on two cores
def test_every_costplan_module_imports_on_its_own_in_a_fresh_interpreter():
    """Each module imported first, alone: an import-order dependency or a cycle at module top fails here."""
    names = sorted(_modules())
    script = (
        "import importlib, subprocess, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    r = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
        "    if r.returncode:\n"
        "        failed.append(name + ': ' + r.stderr.strip().splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n")
    r = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout
