"""Paths and settings, resolved from the project root and overridable by environment."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

from caselib.errors import CannotWrite, CaselibError

PACKAGE_DIR = Path(__file__).resolve().parent


@contextlib.contextmanager
def owner_only():
    """Files and folders created inside are readable by their owner only (0600, 0700),
    whatever the umask: reports, exports and folders hold case data."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``path`` owner-only and all at once: a temporary file beside it, then a rename
    (a reader never sees half a file, and a failure leaves the old one)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    with owner_only():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if isinstance(data, bytes):
                temporary.write_bytes(data)
            else:
                temporary.write_text(data, encoding="utf-8")
            os.chmod(temporary, 0o600)  # a leftover temporary from before may have had another mode
            os.replace(temporary, path)
        except BaseException as error:
            with contextlib.suppress(OSError):
                temporary.unlink()
            if isinstance(error, OSError):  # a full disk, a read-only folder: say so, leave nothing
                raise CannotWrite(f"cannot write {path}: {error.strerror or error}") from None
            raise
    return path


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


_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def configure_logging() -> None:
    """Send caselib's log to stderr at the level `CASELIB_LOG` names (``debug``, ``info``,
    ``warning``); unset or empty, leave logging as the application configured it.

    At ``debug`` the store logs every query with its name and duration
    (``caselib.store: closure/figures 12.3 ms``).
    """
    value = os.environ.get("CASELIB_LOG", "").strip().lower()
    if not value:
        return
    if value not in _LOG_LEVELS:
        raise CaselibError(f"CASELIB_LOG must be debug, info or warning, not {value!r}")
    logger = logging.getLogger("caselib")
    logger.setLevel(_LOG_LEVELS[value])
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)


class _StderrHandler(logging.StreamHandler):
    """caselib's own handler (added once), writing to the stderr of the moment."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass
