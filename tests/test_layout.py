"""The package's layout: its modules import one another one way (no import cycle, lazy
imports inside functions included), and no module imports another's private name."""

from __future__ import annotations

import ast
from pathlib import Path

import gradgen

PACKAGE = Path(gradgen.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _imports() -> dict:
    """module -> {(imported module, names taken from it)}."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for module, path in modules.items():
        edges = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = _resolve(
                    module, path.name == "__init__.py", node.level, node.module
                )
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.append((sub if sub in modules else target, alias.name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                source = node.module if isinstance(node, ast.ImportFrom) else None
                for name in names:
                    full = source if source else name
                    if full and full.startswith("gradgen"):
                        sub = f"{source}.{name}" if source else name
                        edges.append((sub if sub in modules else full, name))
        graph[module] = [(t, n) for t, n in edges if t in modules and t != module]
    return graph


def _cycle(graph: dict) -> list | None:
    """One import cycle, or None (a depth-first search)."""
    state: dict = {}

    def visit(module, path):
        state[module] = "open"
        for target, _ in graph[module]:
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return None


def test_no_import_cycle():
    graph = _imports()
    # a package imports its own modules to gather them; they may import its siblings
    for package in [
        m for m in graph if (PACKAGE.parent / m.replace(".", "/")).is_dir()
    ]:
        graph[package] = [
            (t, n) for t, n in graph[package] if not t.startswith(package)
        ]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_private_name_is_imported_from_another_module():
    taken = [
        f"{module} imports {name} from {target}"
        for module, edges in _imports().items()
        for target, name in edges
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not taken, "\n".join(taken)


def test_every_package_is_installed():
    """pyproject.toml lists packages by name: a sub-package missing from the list is left out
    of the wheel (`pip install .`), while the editable install the tests run from still finds
    it."""
    import tomllib

    root = PACKAGE.parent
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
            "packages"
        ]
    )
    packages = {_module_name(init) for init in PACKAGE.rglob("__init__.py")} | {
        "gradgen.templates"
    }
    assert packages == listed, packages ^ listed


def _folder(module: str) -> str:
    """The sub-package a module is in (``gradgen.codegen``), or the module itself for the
    modules at the top (``gradgen.ir``)."""
    parts = module.split(".")
    folder = ".".join(parts[:2])
    return folder if (PACKAGE.parent / folder.replace(".", "/")).is_dir() else module


def test_sub_packages_import_one_another_one_way():
    """The stages are layers: no two sub-packages (or a sub-package and a top module)
    import each other, so the folders read top to bottom as the pipeline runs."""
    graph: dict = {}
    for module, edges in _imports().items():
        for target, _ in edges:
            a, b = _folder(module), _folder(target)
            if a != b and a != "gradgen" and b != "gradgen":
                graph.setdefault(a, set()).add(b)
    graph = {m: [(t, "") for t in sorted(ts)] for m, ts in graph.items()}
    for targets in list(graph.values()):
        for t, _ in targets:
            graph.setdefault(t, [])
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
