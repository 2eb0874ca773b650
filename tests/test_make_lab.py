"""`make lab` builds the demo database when there is none and serves JupyterLab locally."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.request
import uuid

import nbformat
from nbclient import NotebookClient

from caselib import Store
from caselib.domain.rules import today_utc
from caselib.presentation.lab import prepare_working_copies
from servers import ROOT, free_port, lab_token, make_target, wait_for

TRACKED = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _git_status(*paths: str) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def _save(port: int, token: str, path: str, notebook) -> dict:
    """Save ``notebook`` at ``path`` through the server's contents API, as JupyterLab does."""
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/{path}", data=body, method="PUT",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def test_make_lab_builds_the_demo_and_serves_the_notebooks(tmp_path, monkeypatch):
    db = tmp_path / "lab.duckdb"
    port = free_port()
    log = tmp_path / "lab.log"
    # The working copies go into a folder of their own inside the ignored work/, never an analyst's.
    work = f"work/pytest-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CASELIB_DB": str(db), "PORT": str(port), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "LAB_WORK": work}
    env.pop("DISPLAY", None)
    tracked_before = {path: path.read_bytes() for path in TRACKED}
    status_before = _git_status("notebooks", "work")
    try:
        with make_target("lab", env, log) as process:
            token = wait_for(lambda: lab_token(log, port), process, log, what="make lab")
            _serves_the_notebooks_and_the_demo(port, token, db, env)
            _running_a_notebook_leaves_git_clean(port, token, db, work, log, monkeypatch)
    finally:
        for path, data in tracked_before.items():  # whatever failed, the tracked notebooks stay as they were
            if path.read_bytes() != data:
                path.write_bytes(data)
        shutil.rmtree(ROOT / work, ignore_errors=True)
    assert _git_status("notebooks", "work") == status_before


def _serves_the_notebooks_and_the_demo(port, token, db, env):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/notebooks?token={token}", timeout=30) as response:
        listing = json.load(response)
    assert "00_start_here.ipynb" in {item["name"] for item in listing["content"]}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=30) as response:
        assert response.status == 200
    # Air-gapped: JupyterLab neither asks to fetch Jupyter's news nor checks for updates.
    settings = f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
    with urllib.request.urlopen(settings, timeout=30) as response:
        defaults = json.load(response)["schema"]["properties"]  # overrides.json sets the defaults
    assert defaults["fetchNews"]["default"] == "false" and defaults["checkForUpdates"]["default"] is False
    # bound to loopback only
    with socket.socket() as sock:
        addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
        for address in addresses:
            assert sock.connect_ex((address, port)) != 0
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tips") > 20_000
        assert store.scalar("SELECT count(*) FROM load_batches WHERE origin <> 'demo'") == 0
        # The demo runs up to today, so "as of today" shows a live campaign.
        assert store.scalar("SELECT value FROM meta WHERE key = 'demo_until'") == today_utc().isoformat()
    assert "--no-browser" in subprocess.run(["make", "-n", "lab"], cwd=ROOT, env=env, capture_output=True, text=True).stdout


def _running_a_notebook_leaves_git_clean(port, token, db, work, log, monkeypatch):
    # make lab copied every tracked notebook into the working folder, and opens JupyterLab there.
    copies = ROOT / work
    assert sorted(p.name for p in copies.glob("*.ipynb")) == [p.name for p in TRACKED]
    assert all((copies / p.name).read_bytes() == p.read_bytes() for p in TRACKED)
    assert f"Copied 00_start_here.ipynb into {work}/" in log.read_text()
    assert f"--LabApp.default_url=/lab/tree/{work}" in subprocess.run(
        ["make", "-n", "lab"], cwd=ROOT, env={**os.environ, "LAB_WORK": work}, capture_output=True, text=True).stdout
    assert subprocess.run(["git", "check-ignore", "-q", f"{work}/00_start_here.ipynb"], cwd=ROOT).returncode == 0

    # Run the start notebook in a kernel, then save it as JupyterLab would: into the copy,
    # and (opened from the file browser) into the tracked notebook itself.
    monkeypatch.setenv("CASELIB_DB", str(db))
    tracked = ROOT / "notebooks" / "00_start_here.ipynb"
    before = tracked.read_bytes()
    notebook = nbformat.read(copies / "00_start_here.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(copies)}}).execute()
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    assert any(cell.get("outputs") for cell in notebook.cells)

    _save(port, token, f"{work}/00_start_here.ipynb", notebook)
    saved = nbformat.read(copies / "00_start_here.ipynb", as_version=4)
    assert any(cell.get("outputs") for cell in saved.cells)  # the analyst's copy keeps its outputs

    _save(port, token, "notebooks/00_start_here.ipynb", notebook)
    assert tracked.read_bytes() == before  # the tracked notebook is saved without what the run added


def test_working_copies_are_made_once_and_never_overwritten(tmp_path):
    source, work = tmp_path / "notebooks", tmp_path / "work"
    source.mkdir()
    shutil.copy(TRACKED[0], source / TRACKED[0].name)
    assert prepare_working_copies(work, source) == [f"Copied {TRACKED[0].name} into {work}/ (your working copy)."]
    copy = work / TRACKED[0].name
    copy.write_text(copy.read_text() + " ")  # the analyst's work
    mine = copy.read_bytes()
    assert prepare_working_copies(work, source) == []
    (source / TRACKED[0].name).write_text((source / TRACKED[0].name).read_text() + "\n")  # a new version
    lines = prepare_working_copies(work, source)
    assert copy.read_bytes() == mine
    assert len(lines) == 1 and "changed since" in lines[0] and "move yours away" in lines[0]
    copy.rename(work / "old.ipynb")
    assert prepare_working_copies(work, source)[0].startswith("Copied")
    assert copy.read_bytes() == (source / TRACKED[0].name).read_bytes()


def test_the_save_hook_keeps_a_tracked_notebooks_metadata_with_the_servers_async_contents_manager(tmp_path):
    """Jupyter Server's contents manager is asynchronous: the hook's get() returned a
    coroutine, its failure was taken for a new notebook, and a save through the server
    dropped language_info and took the kernel's display name (git status dirty)."""
    import asyncio
    from pathlib import Path

    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

    from caselib.presentation.lab import strip_tracked_on_save

    root = tmp_path / "checkout"
    (root / "notebooks").mkdir(parents=True)
    source = Path(__file__).resolve().parents[1] / "notebooks" / "01_tip_explorer.ipynb"
    shutil.copy(source, root / "notebooks" / source.name)
    before = (root / "notebooks" / source.name).read_bytes()
    manager = AsyncLargeFileManager(root_dir=str(root), pre_save_hook=strip_tracked_on_save)

    async def save_as_a_run_would():
        model = await manager.get(f"notebooks/{source.name}", content=True, type="notebook")
        metadata = model["content"]["metadata"]
        metadata["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
        metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
        await manager.save(model, f"notebooks/{source.name}")

    # in a thread of its own: the suite's browser keeps an event loop running in this one
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, save_as_a_run_would()).result(timeout=60)
    after = json.loads((root / "notebooks" / source.name).read_text())
    assert after["metadata"] == json.loads(before)["metadata"]
