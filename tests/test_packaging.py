"""The project's setup files agree with each other and the core stays light."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _normalised(spec: str) -> tuple[str, str]:
    requirement = Requirement(spec)
    return requirement.name.lower().replace("_", "-"), str(requirement.specifier)


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
HEAVY = {"plotly", "geopandas", "ipywidgets", "anywidget", "jupyterlab", "voila", "ipykernel", "shapely"}


def _extra(name: str) -> set[tuple[str, str]]:
    """The requirements of one extra, with its references to other extras of caselib expanded."""
    wanted = set()
    for spec in PROJECT["optional-dependencies"][name]:
        requirement = Requirement(spec)
        if requirement.name == "caselib":
            for other in requirement.extras:
                wanted |= _extra(other)
        else:
            wanted.add(_normalised(spec))
    return wanted


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = PROJECT
    wanted = {_normalised(s) for s in project["dependencies"]} | _extra("all") | _extra("test")
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {_normalised(s) for s in pip_section if not s.startswith("-")}
    assert listed == wanted
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python=3.11"
    assert project["requires-python"] == ">=3.11"


def test_the_core_is_light_and_the_extras_hold_the_rest():
    core = {_normalised(s)[0] for s in PROJECT["dependencies"]}
    assert core.isdisjoint(HEAVY)
    extras = set(PROJECT["optional-dependencies"])
    assert extras == {"report", "notebooks", "dashboard", "all", "test"}
    assert _extra("all") == _extra("report") | _extra("notebooks") | _extra("dashboard")
    assert {name for name, _ in _extra("all")} == HEAVY - {"shapely"}
    # One version range per library, whichever extra names it.
    every = _extra("all") | _extra("test") | {_normalised(s) for s in PROJECT["dependencies"]}
    assert len({name for name, _ in every}) == len(every)


def test_the_missing_extra_check_names_the_libraries_each_extra_installs():
    from caselib.extras import EXTRAS

    assert set(EXTRAS) == set(PROJECT["optional-dependencies"]) - {"all", "test"}
    for extra, modules in EXTRAS.items():
        assert set(modules) == {name for name, _ in _extra(extra)}, extra


def test_make_setup_installs_every_extra():
    assert "-e '.[all,test]'" in (ROOT / "Makefile").read_text()


def test_import_caselib_loads_no_plotting_or_widget_library():
    core = (
        "caselib, caselib.cli, caselib.domain.ingest, caselib.domain.demo, caselib.domain.closure, caselib.domain.management, "
        "caselib.domain.geography, caselib.domain.response, caselib.domain.status, caselib.domain.audit, caselib.domain.filters, "
        "caselib.store.session, caselib.extras"
    )
    code = (
        f"import sys, {core}\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(HEAVY)!r}))\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_only_the_store_imports_duckdb():
    offenders = []
    for path in (ROOT / "caselib").rglob("*.py"):
        text = path.read_text()
        if path.parent.name != "store" and ("import duckdb" in text or "from duckdb" in text):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_makefile_has_the_documented_targets_and_ci_calls_make_test():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup:", "lab:", "test:", "demo:"):
        assert f"\n{target}" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_package_data_globs_cover_every_file_the_package_reads():
    """What an installed (not editable) caselib carries besides .py: every SQL, data and
    widget JavaScript file must match a package-data glob of pyproject.toml."""
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["caselib"]
    package = ROOT / "caselib"
    covered = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    needed = {p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert needed and sorted(str(p.relative_to(package)) for p in needed - covered) == []
