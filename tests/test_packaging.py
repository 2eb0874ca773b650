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


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_normalised(s) for s in project["dependencies"]}
    wanted |= {_normalised(s) for s in project["optional-dependencies"]["test"]}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {_normalised(s) for s in pip_section if not s.startswith("-")}
    assert listed == wanted
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python=3.11"
    assert project["requires-python"] == ">=3.11"


def test_import_caselib_loads_no_plotting_or_widget_library():
    code = (
        "import sys, caselib, caselib.cli, caselib.ingest, caselib.demo\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'plotly', 'ipywidgets', 'geopandas', 'anywidget', 'shapely'})\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_only_the_store_module_imports_duckdb():
    offenders = []
    for path in (ROOT / "caselib").rglob("*.py"):
        text = path.read_text()
        if path.name != "store.py" and ("import duckdb" in text or "from duckdb" in text):
            offenders.append(path.name)
    assert offenders == []


def test_makefile_has_the_documented_targets_and_ci_calls_make_test():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup:", "lab:", "test:", "demo:"):
        assert f"\n{target}" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
