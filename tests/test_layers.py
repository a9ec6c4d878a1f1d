"""The architecture, checked: no two modules import each other (directly or through a chain, lazy imports
included), ``training/`` imports nothing from ``labeler``, and no source file grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.import_graph import find_cycle

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("labeler", "training")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere in it (``from a import b``: ``a.b`` when that is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                     for alias in node.names]
        out.update(n for n in names if n in known)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    # a package's __init__ re-exporting its own modules is not a dependency of those modules on the package
    return {m: {i for i in imports_of(p, known) if i != m and not (p.name == "__init__.py" and i.startswith(m + "."))}
            for m, p in mods.items()}


def test_no_import_circle_anywhere():
    cycle = find_cycle(graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_training_imports_nothing_from_labeler():
    offenders = sorted(f"{m} -> {i}" for m, deps in graph().items() if m.startswith("training")
                       for i in deps if i.startswith("labeler"))
    assert not offenders, offenders


def test_no_source_file_over_400_lines():
    long = {str(p.relative_to(REPO)): n for p in modules().values() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these: {long}"


# -- where imports sit -----------------------------------------------------------------------------------
HEAVY = ("torch", "transformers", "setfit", "sentence_transformers", "spacy", "cleanlab", "onnxruntime")


def function_body_imports(path: Path) -> list[tuple[int, str]]:
    """Imports that are plain statements of a function body (not inside an ``if`` / ``try`` of it)."""
    out = []
    for fn in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in fn.body:
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    out.append((node.lineno, node.module))
                elif isinstance(node, ast.Import):
                    out += [(node.lineno, alias.name) for alias in node.names]
    return out


def test_project_imports_sit_at_the_top_of_each_module():
    """A module's head says what it uses: project modules are imported at the top. The exceptions: the thin
    commands in labeler/cli/ import the function they call when they run (so `labeler --help` reads only
    click), and imports inside an ``if`` / ``try`` (a fallback, a side effect needed only on that path)."""
    late = sorted(f"{p.relative_to(REPO)}:{line} {mod}" for name, p in modules().items()
                  if not name.startswith("labeler.cli") and not name.startswith("labeler.server.run_")
                  for line, mod in function_body_imports(p) if mod.split(".")[0] in PACKAGES)
    assert not late, f"{len(late)} project imports inside functions: {late[:10]}"


def test_heavy_libraries_stay_lazy():
    """torch, transformers, setfit, spaCy, cleanlab, onnxruntime load on first use, never at a module's top."""
    eager = sorted(f"{p.relative_to(REPO)}:{node.lineno}" for p in modules().values()
                   for node in ast.parse(p.read_text(), str(p)).body
                   if isinstance(node, (ast.Import, ast.ImportFrom))
                   and any(m.split(".")[0] in HEAVY for m in ([a.name for a in node.names] if isinstance(node, ast.Import)
                                                               else [node.module or ""])))
    assert not eager, eager
