"""The core works without the notebook stack: installed alone in a fresh virtual environment,
the loader, the analyses and the command line run, and a command needing an extra says so
in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from caselib.cli import cli
from caselib.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[1]
PRESENTATION = ("plotly", "ipywidgets", "geopandas", "anywidget", "jupyterlab", "voila", "ipykernel")


def test_a_command_whose_extra_is_missing_fails_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(EXTRAS, "report", ("plotly", "caselib_no_such_library"))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.duckdb"), "report", "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert result.output == (
        "caselib: error: the report needs caselib_no_such_library: pip install 'caselib[report]'\n"
    )
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def light(tmp_path_factory) -> Path:
    """The bin folder of a fresh venv holding caselib installed from this tree, without extras."""
    folder = tmp_path_factory.mktemp("light")
    # Install from a copy of what the package is built from, so that the build writes
    # nothing (build/, *.egg-info) into the work tree.
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "caselib", source / "caselib", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
    bin_dir = folder / "venv" / "bin"
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q", str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return bin_dir


def _caselib(bin_dir: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [bin_dir / "caselib", "--db", str(db), *args],
        capture_output=True,
        text=True,
        cwd=db.parent,
        env=environment,
        timeout=300,
    )


@pytest.mark.slow
def test_the_core_installed_alone_loads_analyses_and_decides(light, tmp_path):
    found = subprocess.run(
        [light / "python", "-c", f"import importlib.util as u; print([m for m in {PRESENTATION!r} if u.find_spec(m)])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"

    db = tmp_path / "x.duckdb"
    # 4000 tips is about the fewest the demo campaign's scenarios accept.
    demo = _caselib(light, db, "demo", "--tips", "4000", "--no-progress")
    assert demo.returncode == 0, demo.stderr
    assert "Demo database (synthetic data) ready" in demo.stdout

    status = json.loads(_caselib(light, db, "status", "--format", "json").stdout)
    assert (status["contents"], status["tips"], status["waves"]) == ("demo", 4000, 6)
    assert status["objects"] > 0 and status["loads"] == len(status["recent_loads"]) == 4

    flags = json.loads(_caselib(light, db, "flags", "--format", "json").stdout)
    assert len(flags) == status["objects"]
    ready = [flag for flag in flags if flag["ready"]]
    assert ready and all(flag["outcome"] != "not_ready" for flag in ready)

    rejected = json.loads(_caselib(light, db, "rejected", "--format", "json").stdout)
    assert len(rejected) == status["rejected_rows"]

    before = _caselib(light, db, "audit", "verify")
    assert before.returncode == 0, before.stderr
    records = int(before.stdout.split(":")[1].split()[0])  # the demo's re-delivery records its triage changes

    first = ready[0]
    closed = _caselib(light, db, "close", first["object_id"], "--outcome", first["outcome"], "--reason", "checked")
    assert closed.returncode == 0, closed.stderr
    reopened = _caselib(light, db, "reopen", first["object_id"], "--reason", "new tips expected")
    assert reopened.returncode == 0, reopened.stderr
    verify = _caselib(light, db, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith(f"Audit chain intact: {records + 2} records")

    report = _caselib(light, db, "report", "-o", str(tmp_path / "r.html"))
    assert report.returncode == 1
    assert report.stderr == "caselib: error: the report needs plotly and geopandas: pip install 'caselib[report]'\n"
    assert report.stdout == ""
    assert not (tmp_path / "r.html").exists()
