"""The package shows its three layers, arrows point downwards, and the README names every module.

Layers, from the bottom: ``caselib.store`` (the only code that talks to DuckDB),
``caselib.domain`` (the campaign's rules and analyses: plain functions over query results)
and ``caselib.presentation`` (figures, widgets, the report). ``caselib.errors`` and
``caselib.config`` lie under all three; the command line and the package's front door
(``caselib/__init__.py``, ``cli.py``, ``extras.py``) sit on top and may use any layer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "caselib"
LAYERS = ["store", "domain", "presentation"]  # bottom to top
FOUNDATION = {"caselib.errors", "caselib.config"}
TOP = {"caselib", "caselib.__main__", "caselib.cli", "caselib.extras"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


def _imports(path: Path) -> set[str]:
    """Every caselib module ``path`` imports, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n == "caselib" or n.startswith("caselib.")}


def test_every_module_lives_in_a_layer():
    outside = sorted(m for m in _modules() if _layer(m) is None and m not in FOUNDATION | TOP)
    assert outside == [], f"modules outside the store, domain and presentation layers: {outside}"


def test_imports_point_downwards():
    modules = _modules()
    upward = []
    for name, path in modules.items():
        own = _layer(name)
        if own is None:
            continue
        for imported in _imports(path):
            target = _layer(imported)
            if imported in modules or imported.rsplit(".", 1)[0] in modules:
                if target is not None and target > own:
                    upward.append(f"{name} imports {imported}")
                elif target is None and imported not in FOUNDATION and imported.rsplit(".", 1)[0] not in FOUNDATION:
                    upward.append(f"{name} imports {imported} (above the layers)")
    assert upward == []


def test_readme_layout_names_every_module():
    """Every module and package of caselib is named in the README's layout section, by its
    path (``caselib/domain/closure.py``, ``caselib/store/`` for a package's ``__init__``), and
    every caselib path named there exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert section, "README.md has no '## Layout' section"
    named = set(re.findall(r"`(caselib/(?:[\w/]*(?:\.py|/))?)`", section.group(1)))
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if path.name in ("__init__.py", "__main__.py"):
            relative = path.parent.relative_to(ROOT).as_posix() + "/"
        if relative not in named:
            missing.append(relative)
    assert missing == [], f"README's layout section does not name: {sorted(set(missing))}"
    stale = sorted(n for n in named if not (ROOT / n).exists())
    assert stale == [], f"README's layout section names paths that do not exist: {stale}"
