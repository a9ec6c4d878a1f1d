"""labeler/argilla/ is the only code that talks to Argilla, and its modules import each other one way."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.import_graph import find_cycle

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "labeler" / "argilla"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions (lazy imports close circles too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    mods = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {m: {i.split(".")[2] for i in _imports(PACKAGE / f"{m}.py")
                if i.startswith("labeler.argilla.") and i.split(".")[2] in mods and i.split(".")[2] != m}
            for m in mods}


def test_cycle_finder_finds_a_circle_and_accepts_a_line():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_inside_labeler_argilla():
    graph = _graph()
    assert {"connection", "rest", "client", "datasets", "schema", "push", "pull", "annotate"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_only_labeler_argilla_uses_the_argilla_sdk():
    offenders = []
    for path in sorted((REPO / "labeler").rglob("*.py")) + sorted((REPO / "training").rglob("*.py")):
        if PACKAGE in path.parents:
            continue
        sdk = {i for i in _imports(path) if i == "argilla" or i.startswith("argilla.")}
        if sdk or ".datasets(name=" in path.read_text():
            offenders.append(f"{path.relative_to(REPO)}: {sorted(sdk) or 'client.datasets(name=...)'}")
    assert not offenders, "Argilla SDK used outside labeler/argilla/: " + "; ".join(offenders)
