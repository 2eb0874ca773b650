"""Paths and settings, resolved from the project root and overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout the package runs from (editable install), else the working directory."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def default_db_path() -> Path:
    """`CASELIB_DB` if set, else ``data/caselib.duckdb`` under the project root."""
    env = os.environ.get("CASELIB_DB")
    if env:
        return Path(env).expanduser()
    return project_root() / "data" / "caselib.duckdb"


def pseudonym_key_path() -> Path:
    """Where the pseudonymisation key lives unless `CASELIB_PSEUDONYM_KEY` holds the key itself.

    Kept outside the project and the database on purpose: whoever holds the key can test a
    guessed e-mail address against the stored pseudonyms.
    """
    env = os.environ.get("CASELIB_PSEUDONYM_KEY_FILE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "caselib" / "pseudonym.key"
