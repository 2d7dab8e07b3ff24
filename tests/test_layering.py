"""House rules a test can keep: one-way dependencies between the packages.

A dependency is an ``import`` or a module run in another process: ``python -m X``
(a ``"-m"`` followed by a module name in a list, tuple or command string),
``runpy.run_module("X")`` and ``importlib.import_module("X")`` with a literal name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_MODULE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$")
_DASH_M = re.compile(r"(?:^|\s)-m\s+([A-Za-z_][\w.]*)")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _run_targets(tree: ast.AST) -> set[str]:
    """Modules this file runs in another process or imports by name."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple):
            items = [_literal(item) for item in node.elts]
            for first, second in zip(items, items[1:], strict=False):
                if first == "-m" and second and _MODULE.match(second):
                    found.add(second)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(_DASH_M.findall(node.value))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target = _literal(node.args[0])
            if name in {"run_module", "import_module"} and target and _MODULE.match(target):
                found.add(target)
    return found


def _dependencies(path: Path) -> set[str]:
    """Top-level packages ``path`` imports or runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    names.update(target.split(".")[0] for target in _run_targets(tree))
    return names


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _offenders(package: str, forbidden: set[str]) -> dict[str, list[str]]:
    return {
        str(path.relative_to(ROOT)): sorted(_dependencies(path) & forbidden)
        for path in _python_files(package)
        if _dependencies(path) & forbidden
    }


@pytest.mark.parametrize("package", ["engine", "seed"])
def test_engine_and_seed_never_import_streamlit(package):
    assert _offenders(package, {"streamlit"}) == {}


def test_engine_does_not_depend_on_the_layers_above_it():
    forbidden = {"dashboard", "pages", "seed", "benchmarks", "streamlit", "plotly"}
    assert _offenders("engine", forbidden) == {}


def test_seed_depends_only_on_the_engine():
    assert _offenders("seed", {"dashboard", "pages", "benchmarks"}) == {}


def test_dashboard_never_imports_a_page():
    assert _offenders("dashboard", {"pages"}) == {}


@pytest.mark.parametrize(
    "source, expected",
    [
        ("subprocess.run([sys.executable, '-m', 'dashboard.cli', 'seed'])", {"dashboard"}),
        ("command = ('python', '-m', 'benchmarks.seed')", {"benchmarks"}),
        ("os.system('python -m dashboard.cli info')", {"dashboard"}),
        ("runpy.run_module('seed.world')", {"seed"}),
        ("importlib.import_module('pages.profiles')", {"pages"}),
        ("x = ['-m', 'not a module']", set()),
    ],
)
def test_a_module_run_in_another_process_counts_as_a_dependency(tmp_path, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert _dependencies(path) == expected


# --------------------------------------------------------------------------- import cycles

_PACKAGES = ("engine", "seed", "dashboard", "benchmarks", "pages")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project's modules that ``name`` imports anywhere (inside functions too: a
    lazy import still ties the two modules together), except for type checking only."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if target in modules:
                    found.add(target)
                elif module in modules:
                    found.add(module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    found.discard(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_between_modules():
    paths = {_module_name(p): p for package in _PACKAGES for p in _python_files(package)}
    modules = set(paths)
    graph = {name: _imports_of(name, path, modules) for name, path in paths.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
