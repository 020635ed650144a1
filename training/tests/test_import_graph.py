"""No import circles in photoverse_train (module-level imports), and stage 2's inputs.py and
train.py keep every import at the top of the file (issue 2.2: they used to import each other
behind function-local imports)."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "photoverse_train"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> list:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = mod.split(".")
        if not is_pkg:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    out = [base]
    for alias in node.names:  # `from . import x` / `from .pkg import submodule`
        out.append(f"{base}.{alias.name}")
    return out


def _graph() -> dict:
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph = {}
    for mod, path in files.items():
        tree = ast.parse(path.read_text())
        deps = set()
        for node in tree.body:  # module level only
            if isinstance(node, ast.ImportFrom):
                deps.update(d for d in _resolve(mod, path.name == "__init__.py", node) if d in files)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in files)
        graph[mod] = deps - {mod}
    return graph


def test_no_import_cycles():
    graph = _graph()
    state: dict = {}
    stack: list = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_stage2_inputs_and_train_import_at_the_top():
    for name in ("inputs.py", "train.py"):
        tree = ast.parse((PKG / "stage2" / name).read_text())
        top = set(id(n) for n in tree.body)
        late = [n.lineno for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in top]
        assert not late, f"stage2/{name}: imports inside functions at lines {late}"
    graph = _graph()
    assert "photoverse_train.stage2.train" not in graph["photoverse_train.stage2.inputs"]
