"""The hand-written modules import one another without a circle (imports inside functions included,
so a circle cannot hide behind a lazy import), and the kernel stays plumbing: it imports no service,
gateway or CLI package and no provider SDK."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = [
    ROOT / "kernel/src",
    ROOT / "providers/src",
    ROOT / "video/src",
    ROOT / "gateway/src",
    ROOT / "embedded/src",
    ROOT / "cli/src",
    *sorted((ROOT / "services").glob("*/src")),
]
PROVIDER_SDKS = {"replicate", "openai", "pgvector", "piper", "open_clip", "torch"}


def modules() -> dict[str, Path]:
    found = {}
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules `name` imports anywhere in its body (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def test_no_import_circle_among_hand_written_modules() -> None:
    known = modules()
    assert len(known) > 100, "the walk found the packages"
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    state: dict[str, int] = {}  # 1 on the path, 2 done
    circles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == [], "\n".join(" -> ".join(c) for c in circles)


def test_the_kernel_imports_no_service_and_no_provider_sdk() -> None:
    for path in (ROOT / "kernel/src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top not in PROVIDER_SDKS, f"{path.name} imports {name}"
                assert not (top.startswith("adgen_") and top != "adgen_kernel"), f"{path.name} imports {name}"
