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
    # The start notebook shows the demo's counts, not an empty database, in a sentence.
    if path.name == "00_start_here.ipynb":
        summary = notebook.cells[1]["outputs"][0]["data"]["text/plain"]
        assert summary.startswith("The database holds the synthetic demo campaign: "), summary
    assert raw_outputs(notebook) == []


def raw_outputs(notebook) -> list[tuple[int, str]]:
    """Outputs a person should not be shown: a pandas frame's or a dict's repr, an outcome
    or status code (``not_ready``), NaN or a microsecond timestamp."""
    import re

    from caselib.domain.closure import OUTCOMES
    from caselib.domain.contract import TRIAGE_STATUSES

    codes = [c for c in (*OUTCOMES, *TRIAGE_STATUSES) if "_" in c]
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html, plain = data.get("text/html", ""), data.get("text/plain", "")
            if 'class="dataframe"' in html or "<pandas.io.formats.style" in plain:
                found.append((index, "a raw DataFrame"))
            if plain.lstrip().startswith(("{", "[")) and "application/vnd.jupyter.widget-view+json" not in data:
                found.append((index, "a raw dict or list"))
            shown = html or plain
            if re.search(r"\bNaN\b|\bstd\b|\d\d:\d\d:\d\d\.\d{6}", shown):
                found.append((index, "NaN, std or a microsecond timestamp"))
            if "application/vnd.jupyter.widget-view+json" not in data:
                found += [(index, code) for code in codes if re.search(rf"\b{code}\b", shown)]
    return found


def test_notebook_03s_hints_work_when_followed(demo_db: Path, monkeypatch):
    """Each ``e.g.`` in the parameters cell, typed in as the value, runs the notebook."""
    import re

    monkeypatch.setenv("CASELIB_DB", str(demo_db))
    notebook = nbformat.read(ROOT / "notebooks" / "03_closure_review.ipynb", as_version=4)
    lines = notebook.cells[1].source.splitlines()
    followed = []
    for line in lines:
        hint = re.search(r"^(\w+)\s*=.*#.*\be\.g\. (.+?)(;|$)", line)
        assert hint or "=" not in line, line
        followed.append(f"{hint.group(1)} = {hint.group(2)}")
    assert followed == ["as_of = '2024-06-30'", "reviewer = 'A. Analyst'"]
    notebook.cells[1].source = "\n".join(followed)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    assert "objects, " in notebook.cells[4]["outputs"][0]["data"]["text/plain"]


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
