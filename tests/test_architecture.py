"""The shape of the code, drawn from its imports: no cycle, small modules, arrows down the pipeline.

Imports are read with ``ast`` (nothing is imported), including imports inside functions, since a
lazy import is still a dependency; imports under ``if TYPE_CHECKING:`` are left out because they
never run. A module importing ``pkg.sub`` depends on ``pkg.sub``, not on ``pkg/__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "empiar_validate"
MAX_LINES = 520

# The pipeline, lowest first: a module may import only from its own layer or a lower one.
# walk (files) -> read headers -> group -> merge metadata -> emit -> validate -> findings -> report,
# with the CLI and the commands wiring the pieces on top.
LAYERS: list[tuple[str, ...]] = [
    # plain data and helpers every stage uses
    ("findings", "paths", "atomic", "records", "model", "vocab", "dates", "progress",
     "xmlsafe", "usage", "empiar", "rule_names", "rule_layers", "settings", "countries",
     "decompress", "textsafe"),
    # stage 1-2: walk the tree, read headers and companions
    ("walk", "formats", "mdoc", "remote", "lfs"),
    ("headers",),
    # stages 3-6: group, merge metadata, emit, validate
    ("validation",),
    ("scan", "acquisition"),
    ("package",),
    # rendering findings, then the thin CLI on top
    ("reporting", "reporters", "predeposition", "selection", "thumbnails"),
    ("commands",),
    ("cli", "__main__", "tools"),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str) -> str | None:
    """The project module an import names (the longest existing prefix), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _calls_import_module(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )


def _dynamic_targets(arg: ast.expr) -> set[str]:
    """``import_module("empiar_validate.x")`` or ``import_module(f"empiar_validate.x.{k}")``: the
    modules it can load (every module under the constant prefix), so a registry's lazy imports
    count as arrows too."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        prefix, exact = arg.value, True
    elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix, exact = str(arg.values[0].value), False
    else:
        return set()
    if exact:
        return {prefix} if prefix in MODULES else set()
    return {m for m in MODULES if m.startswith(prefix) and m != prefix.rstrip(".")}


def imports_of(module: str) -> set[str]:
    """Project modules that ``module`` imports at run time (lazily or not)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := _resolve(alias.name)) is not None:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") if base else None
                if target is not None and target == f"{base}.{alias.name}":
                    found.add(target)  # `from pkg import submodule`
                elif (target := _resolve(base)) is not None:
                    found.add(target)
        elif isinstance(node, ast.Call) and _calls_import_module(node) and node.args:
            found.update(_dynamic_targets(node.args[0]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def layer_of(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for i, names in enumerate(LAYERS):
        if key in names:
            return i
    raise AssertionError(f"{module}: not placed in a layer of tests/test_architecture.py")


def test_the_import_graph_has_no_cycle():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_the_size_limit(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module}: {lines} lines; split it by job"


def test_every_arrow_points_down_the_pipeline():
    upward = sorted(
        f"{m} -> {t}" for m, targets in GRAPH.items() if m != "empiar_validate"
        for t in targets if t != "empiar_validate" and layer_of(t) > layer_of(m)
    )
    assert upward == []


def test_the_package_root_imports_nothing_heavy():
    assert GRAPH["empiar_validate"] <= set()


def test_docs_index_names_the_modules_as_they_are():
    from empiar_validate.tools import modulemap

    committed = modulemap.INDEX.read_text(encoding="utf-8")
    assert modulemap.updated(committed) == committed, (
        "docs/index.md's module map is stale: run python -m empiar_validate.tools.modulemap"
    )
