"""What `make lab` does around JupyterLab so that running a notebook leaves git clean.

Analysts open working copies: `prepare_working_copies` copies each tracked notebook of
``notebooks/`` into an ignored folder (``work/``) the first time, and never overwrites a copy
afterwards, so their outputs and edits stay theirs and the tracked notebooks stay as
committed. When a tracked notebook changes after its copy was made, it says so and how to
get the new one. As a second guard, `strip_tracked_on_save` (JupyterLab's pre-save hook)
saves a tracked notebook opened from the file browser without what running it added:
outputs, execution counts, widget state, the kernel's language details.

``python -m caselib.presentation.lab WORK`` prepares the copies (standard library only).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

from caselib.config import project_root

__all__ = ["TRACKED_FOLDERS", "prepare_working_copies", "strip_outputs", "strip_tracked_on_save"]

# Folders (relative to the server's root, the checkout) whose notebooks git tracks.
TRACKED_FOLDERS = ("notebooks", "dashboards")
# What a kernel run writes into a notebook's metadata; a tracked notebook keeps its own.
_RUN_METADATA = ("kernelspec", "language_info", "widgets")
# Where the copies record which version of each tracked notebook they were made from.
_SOURCES = ".copied-from.json"


def strip_outputs(notebook: dict) -> dict:
    """Remove outputs, execution counts and run timings from ``notebook`` (an nbformat 4
    dict), in place; returns it."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    return notebook


def _is_tracked(path: str) -> bool:
    parts = Path(path.strip("/")).parts
    return len(parts) == 2 and parts[0] in TRACKED_FOLDERS and parts[1].endswith(".ipynb")


def strip_tracked_on_save(model: dict, path: str, contents_manager, **kwargs) -> None:
    """Jupyter's ``ContentsManager.pre_save_hook``: a tracked notebook (``notebooks/*.ipynb``,
    ``dashboards/*.ipynb``) is saved without outputs, execution counts, and with the run
    metadata (``kernelspec``, ``language_info``, ``widgets``) it has on disk, so that opening and running
    it leaves ``git status`` clean. Other notebooks (the copies in ``work/``) are saved as
    they are."""
    if model.get("type") != "notebook" or not _is_tracked(path):
        return
    notebook = model["content"]
    strip_outputs(notebook)
    # Read from the file itself: the server's contents manager is asynchronous (its get()
    # returns a coroutine), and a failed read popped the metadata the file has.
    try:
        root = Path(getattr(contents_manager, "root_dir", "."))
        on_disk = json.loads((root / path.strip("/")).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):  # a new notebook: nothing to keep
        on_disk = {}
    metadata = notebook.setdefault("metadata", {})
    for key in _RUN_METADATA:
        if key in on_disk:
            metadata[key] = on_disk[key]
        else:
            metadata.pop(key, None)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare_working_copies(work: Path, source: Path | None = None) -> list[str]:
    """Copy every ``source/*.ipynb`` (default: the checkout's ``notebooks/``) into ``work``
    that has no copy there yet; returns one line per copy made and per tracked notebook
    changed since its copy was made (a copy is never overwritten)."""
    source = Path(source) if source else project_root() / "notebooks"
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    record_path = work / _SOURCES
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    lines = []
    for notebook in sorted(source.glob("*.ipynb")):
        copy = work / notebook.name
        digest = _digest(notebook)
        if not copy.exists():
            shutil.copyfile(notebook, copy)
            record[notebook.name] = digest
            lines.append(f"Copied {notebook.name} into {work}/ (your working copy).")
        elif record.get(notebook.name) not in (None, digest):
            lines.append(
                f"{source.name}/{notebook.name} changed since {work}/{notebook.name} was copied; "
                f"your copy is kept. For the new one, move yours away (mv {work}/{notebook.name} "
                f"{work}/{notebook.stem}.old.ipynb) and run make lab again."
            )
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return lines


if __name__ == "__main__":
    for line in prepare_working_copies(Path(sys.argv[1] if len(sys.argv) > 1 else "work")):
        print(line)
