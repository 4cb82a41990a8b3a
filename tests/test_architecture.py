"""The package's shape: no import circle (function-local imports included), technologies
import only what lies below them, and the solver does not load the technologies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pecopt"


def _modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.with_suffix("").relative_to(PACKAGE.parent).parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _graph() -> dict[str, set[str]]:
    """Module -> the pecopt modules it imports anywhere (module level or inside a
    function; ``if TYPE_CHECKING:`` blocks excluded)."""
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        tree = ast.parse(path.read_text())
        skip = {
            id(sub)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in ast.walk(node)
        }
        pkg = m if path.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                names = [f"{base}.{a.name}" for a in node.names] or [base]
            for n in names:
                r = resolve(n)
                if r is not None and r != m and r != "pecopt":
                    graph[m].add(r)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    assert _cycles(_graph()) == []


def test_technologies_import_only_what_lies_below_them() -> None:
    above = ("pecopt.workflows", "pecopt.cli", "pecopt.api", "pecopt.results", "pecopt.report",
             "pecopt.model.registry", "pecopt.model.core", "pecopt.model.transforms",
             "pecopt.ingest.district", "pecopt.scenario.schema", "pecopt.scenario.loader",
             "pecopt.scenario.layouts", "pecopt.solver")  # fmt: skip
    graph = _graph()
    lower = [m for m in graph if m.startswith("pecopt.model.blocks.")]
    lower += ["pecopt.model.technology", "pecopt.model.carry", "pecopt.model.capacity"]
    lower += [m for m in graph if m.startswith("pecopt.ingest.") and m != "pecopt.ingest.district"]
    bad = {m: sorted(d for d in graph[m] if d.startswith(above)) for m in lower}
    assert {m: d for m, d in bad.items() if d} == {}


def test_the_solver_does_not_load_the_technologies() -> None:
    code = (
        "import sys, pecopt.solver\n"
        "print(sorted(m for m in sys.modules if m.startswith('pecopt.model.blocks')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
