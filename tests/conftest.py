"""Shared fixtures: real DuckDB files in temporary folders, and small contract files."""

from __future__ import annotations

import contextlib
import csv
import os
from pathlib import Path

import pytest

# One headless Chromium for the whole session (Playwright's sync API allows one per thread).
from browser import browser  # noqa: F401  (a fixture)
from caselib import Store, load_file

os.environ.setdefault("CASELIB_PSEUDONYM_KEY", "test-key-not-secret-0123456789")

WAVES = [
    {"wave_id": "2017-06", "name": "June 2017", "launched_on": "2017-06-01"},
    {"wave_id": "2019-03", "name": "March 2019", "launched_on": "2019-03-01"},
]
OBJECTS = [
    {"object_id": "G01", "title": "blue soap wrapper", "first_published": "2017-06-01", "wave_id": "2017-06"},
    {"object_id": "G02", "title": "hotel towel", "first_published": "2017-06-01", "wave_id": "2017-06"},
    {"object_id": "G03", "title": "shop bag", "first_published": "2019-03-01", "wave_id": "2019-03"},
]


def write_csv(path: Path, rows: list[dict], *, delimiter: str = ",", bom: bool = False, columns=None) -> Path:
    """Write ``rows`` as a CSV contract file; ``columns`` fixes the header order."""
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def tip(tip_id: str, **fields) -> dict:
    """A valid tip row for object G01, overridable field by field."""
    row = {
        "tip_id": tip_id,
        "object_id": "G01",
        "received_at": "2017-06-01T10:00:00Z",
        "reporter_country": "DE",
        "suggested_country": "FR",
        "triage_status": "new",
    }
    row.update(fields)
    return row


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "case.duckdb"


@pytest.fixture
def fresh_store(db_path: Path):
    """An empty database with the current schema."""
    store = Store(db_path)
    yield store
    store.close()


@pytest.fixture
def campaign_store(fresh_store: Store, tmp_path: Path):
    """A database with two waves and three objects loaded, ready for tips."""
    load_file(fresh_store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
    load_file(fresh_store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)
    return fresh_store


@contextlib.contextmanager
def small_filesystem(folder: Path, options: str = "size=1m"):
    """A tmpfs mounted at ``folder`` with ``options`` (``size=1m``: a full disk; ``ro``: a
    read-only one), unmounted on the way out. Needs root: skips the test otherwise, saying why."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
