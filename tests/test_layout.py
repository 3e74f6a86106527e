"""The layout docs/ARCHITECTURE.md describes, kept true: imports at the top of modules (the CLI's command
dispatch is the one lazy-import boundary), no import cycles, no module over ~450 lines."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    files = sorted((REPO / "bridge").rglob("*.py")) + sorted((REPO / "gui").rglob("*.py"))
    return {".".join(f.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): f for f in files}


def _top_level_imports(tree: ast.Module) -> list[str]:
    """Modules named by the imports of the module body, including those under a module-level if/try."""
    names = []
    for node in tree.body:
        for sub in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(sub, ast.ImportFrom) and sub.module:
                names += [sub.module] + [f"{sub.module}.{a.name}" for a in sub.names]
            elif isinstance(sub, ast.Import):
                names += [a.name for a in sub.names]
    return names


def test_imports_are_at_the_top_of_every_module():
    local = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                local += [
                    f"{path.relative_to(REPO)}:{sub.lineno}"
                    for sub in ast.walk(node)
                    if isinstance(sub, ast.Import | ast.ImportFrom)
                ]
    assert local == []


def test_only_the_cli_imports_modules_by_name():
    dynamic = [
        str(path.relative_to(REPO))
        for path in _modules().values()
        if "import_module(" in path.read_text(encoding="utf-8") or "__import__(" in path.read_text(encoding="utf-8")
    ]
    assert dynamic == ["bridge/cli.py"]


def test_there_are_no_import_cycles():
    modules = _modules()
    graph = {
        name: {m for m in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))) if m in modules} - {name}
        for name, path in modules.items()
    }
    cycles, state = [], {}

    def visit(name: str, stack: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                cycles.append(stack[stack.index(other) :] + [other])
            elif other not in state:
                visit(other, [*stack, other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_no_module_is_over_450_lines():
    big = {
        str(path.relative_to(REPO)): n
        for path in _modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}
