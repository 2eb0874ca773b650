"""Every notebook and dashboard notebook runs top to bottom on a fresh demo database, in a
real Jupyter kernel, without an error or anything written to stderr."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from caselib.domain.demo import build_demo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "dashboards") for p in (ROOT / folder).glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    return build_demo(folder / "demo.duckdb", tips=5000, progress=False).db_path


def test_there_are_notebooks_to_run():
    assert any(p.parent.name == "notebooks" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs_cleanly(path: Path, demo_db: Path, monkeypatch, tmp_path):
    monkeypatch.setenv("CASELIB_DB", str(demo_db))
    notebook = nbformat.read(path, as_version=4)
    # Run in a scratch folder: notebooks that write files (the report) write there.
    workdir = tmp_path / "run" / "notebooks"
    workdir.mkdir(parents=True)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    problems = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" or (output["output_type"] == "stream" and output["name"] == "stderr"):
                problems.append((index, output.get("ename") or output.get("text", "")[:300]))
    assert problems == []
    # The start notebook shows the demo's counts, not an empty database.
    if path.name == "00_start_here.ipynb":
        summary = notebook.cells[1]["outputs"][0]["data"]["text/plain"]
        assert "'contents': 'demo'" in summary


def test_without_a_database_a_notebook_says_to_run_caselib_demo(tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("CASELIB_DB", str(tmp_path / "missing.duckdb"))
    path = ROOT / "notebooks" / "01_tip_explorer.ipynb"
    notebook = nbformat.read(path, as_version=4)
    with pytest.raises(CellExecutionError):
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 1
    # One line, no traceback: IPython shows the message the library wrote.
    assert len(errors[0]["traceback"]) == 1
    assert "caselib demo" in errors[0]["traceback"][0]
    assert not (tmp_path / "missing.duckdb").exists()


def test_tracked_notebooks_carry_no_outputs():
    """What git tracks is the notebook as written, never a run of it (analysts run copies,
    `make lab`'s work/; a tracked notebook saved from JupyterLab is stripped)."""
    import json
    import subprocess

    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert {f"{p.parent.name}/{p.name}" for p in NOTEBOOKS} <= set(tracked)
    run = []
    for name in tracked:
        notebook = json.loads((ROOT / name).read_text(encoding="utf-8"))
        for index, cell in enumerate(notebook["cells"]):
            if cell.get("outputs") or cell.get("execution_count") is not None or "execution" in cell.get("metadata", {}):
                run.append((name, index))
        if "widgets" in notebook["metadata"]:
            run.append((name, "widget state"))
    assert run == []
