"""The store: the only module that talks to DuckDB.

Everything else in caselib hands SQL text (loaded by name from ``caselib/sql``) and named
parameters to a :class:`Store`, and gets pandas frames or plain tuples back. Keeping the
engine behind this one class is what lets a later team mode put shared case state on
PostgreSQL while DuckDB stays the analytic engine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import duckdb

from caselib.config import configure_logging
from caselib.errors import CannotWrite, DatabaseDamaged, DatabaseLocked, QueryError, SchemaAltered, StoreError

__all__ = ["Store", "others_waiting", "quote_ident", "sql_text", "SCHEMA_VERSION"]

Params = Mapping[str, Any] | Sequence[Any] | None

# At DEBUG (CASELIB_LOG=debug) every query is logged with its name and duration.
_log = logging.getLogger(__name__)


class TipSource(Protocol):
    """Chooses tips for a query: a declared SELECT over tips and its named parameters."""

    def sql(self) -> tuple[str, dict[str, Any]]: ...

# Every tip, one row each: what a query reading {{filtered_tips}} gets without a filter, and
# what caselib.domain.filters.TipFilter narrows.
ALL_TIPS = "SELECT t.* FROM tips AS t"

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB SQL; the one place identifiers from files meet SQL text."""
    return '"' + str(name).replace('"', '""') + '"'


_INCLUDE = re.compile(r"\{\{include ([a-z0-9_/]+)\}\}")


@cache
def sql_text(name: str) -> str:
    """The text of ``caselib/sql/<name>.sql``, e.g. ``sql_text("ingest/tips_normalise")``.

    ``{{include other/name}}`` in it is replaced by that file's text: SQL that several
    queries share (``response/_wave_days``).
    """
    path = resources.files("caselib").joinpath(f"sql/{name}.sql")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(f"no query named {name!r}") from None
    return _INCLUDE.sub(lambda match: sql_text(match.group(1)).rstrip(), text)


def _migrations(folder_name: str = "sql/schema") -> list[tuple[int, str, str]]:
    """(version, name, SQL) of the migrations in ``folder_name`` (DuckDB's; a team's shared
    store's are ``sql/shared``), numbered 1..n."""
    folder = resources.files("caselib").joinpath(folder_name)
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"the migrations of {folder_name} are not numbered 1..n: {versions}")
    return found


SCHEMA_VERSION = len(_migrations())
_UNREAD = object()


@cache
def schema_columns() -> dict[str, tuple[tuple[str, str, bool], ...]]:
    """table -> ((column, DuckDB type, nullable), ...), in order, as this caselib's
    migrations define the tables (read from an empty in-memory database): what a team's
    shared store mirrors (:mod:`caselib.store.shared.schema`)."""
    con = duckdb.connect()
    try:
        for _, _, text in _migrations():
            con.execute(text)
        rows = con.execute(
            "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    found: dict[str, list] = {}
    for name, column, kind, nullable in rows:
        found.setdefault(name, []).append((column, kind, nullable))
    return {name: tuple(columns) for name, columns in found.items()}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _label(name: str | None, sql: str) -> str:
    """How the log names a statement: its query name, else the start of its SQL."""
    if name is not None:
        return name
    text = " ".join(sql.split())
    return "sql: " + (text if len(text) <= 60 else text[:57] + "...")


# DuckDB's words for another process holding the file (IO Error: Could not set lock on
# file "…": Conflicting lock is held in … (PID …)), and for a file it cannot trust. Matched
# precisely: a loose "lock" also matched "Corrupt … in block" and sent a damaged file into
# ten seconds of waiting before calling it "in use".
_LOCK_CONFLICT = "Could not set lock on file"
_DAMAGED = ("Corrupt database file", "Could not read enough bytes from file")


def _is_damage(error: BaseException) -> bool:
    text = str(error)
    return any(words in text for words in _DAMAGED)


# What DuckDB says when the disk refuses a write (its own words, then the system's).
_CANNOT_WRITE = ("No space left on device", "Disk quota exceeded", "Read-only file system")


def _cannot_write(error: BaseException, path: Path) -> CannotWrite | None:
    """A :class:`CannotWrite` when ``error`` is the disk refusing a write, else None."""
    text = str(error)
    for words in _CANNOT_WRITE:
        if words in text:
            return CannotWrite(
                f"cannot write the database {path}: {words.lower()}; nothing of the unfinished "
                "step was kept (free some space, or choose a writable place, and try again)"
            )
    return None


def _damaged(error: BaseException, path: Path) -> StoreError:
    return DatabaseDamaged(
        f"the database {path} is damaged ({_first_line(error)}); restore it from a backup, "
        "or move it aside and start a new one"
    )


def _friendly(error: duckdb.Error, path: Path) -> StoreError:
    text = str(error)
    if _LOCK_CONFLICT in text:
        return DatabaseLocked(
            f"the database {path} is in use by another process (DuckDB allows one writer); "
            "wait for it to finish or close it, then try again"
        )
    if _is_damage(error):
        return _damaged(error, path)
    refused = _cannot_write(error, path)
    if refused is not None:  # opened for writing on a read-only file system: exit 7, not 1
        from caselib.errors import DatabaseUnwritable

        return DatabaseUnwritable(str(refused))
    return StoreError(f"cannot open the database {path}: {_first_line(error)}")


# Called with a database path when this process already has that file open with another
# configuration (read-only beside read-write): each may close idle connections of its own
# (caselib.store.session registers one), after which the open is tried again.
_IN_PROCESS_HOLDERS: list = []


def on_in_process_conflict(release) -> None:
    """Register ``release(path) -> bool``: close this process's idle connections to ``path``."""
    _IN_PROCESS_HOLDERS.append(release)


def _in_process_conflict(error: duckdb.Error) -> bool:
    return "different configuration" in str(error)


def _marker_prefix(path: Path) -> str:
    return path.name + ".wanted."


@contextlib.contextmanager
def _waiting_marker(path: Path) -> Iterator:
    """Yields ``mark()``: it creates ``<db>.wanted.<pid>`` (once); removed on the way out."""
    created: list[Path] = []

    def mark() -> None:
        if created:
            return
        marker = path.with_name(_marker_prefix(path) + str(os.getpid()))
        with contextlib.suppress(OSError):  # a directory we may not write to: we just wait
            marker.touch()
            created.append(marker)

    try:
        yield mark
    finally:
        for marker in created:
            with contextlib.suppress(OSError):
                marker.unlink()


def others_waiting(path: str | os.PathLike[str]) -> bool:
    """Whether another live process is waiting to open the database at ``path``.

    Markers of processes that died while waiting are removed.
    """
    path = Path(path)
    prefix = _marker_prefix(path)
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return False
    for marker in candidates:
        pid_text = marker.name[len(prefix):]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                marker.unlink()
            continue
        except PermissionError:
            pass  # alive, another user's
        return True
    return False


def _lock_wait() -> float:
    """Seconds to wait for another process's lock: ``CASELIB_LOCK_WAIT``, default 10."""
    value = os.environ.get("CASELIB_LOCK_WAIT", "10")
    try:
        seconds = float(value)
    except ValueError:
        raise StoreError(f"CASELIB_LOCK_WAIT must be a number of seconds, not {value!r}") from None
    return max(0.0, seconds)


# Every DuckDB database file carries this at offset 8 of its first header.
_DUCKDB_MAGIC = b"DUCK"
_MAGIC_AT = 8


def _database_file(path: Path, *, read_only: bool) -> bool:
    """Whether ``path`` holds a DuckDB database; False for a new path (or an empty file,
    removed when opening for writing so that DuckDB creates the database in its place).

    Anything else (a CSV or Parquet file named by mistake, a folder) is refused before
    DuckDB touches it: DuckDB would open such a path as an empty in-memory database, so a
    load would report success and keep nothing, and closing would chmod someone's file.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StoreError(f"cannot open the database {path}: {error.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseDamaged(f"{path} is a folder, not a caselib database; name a database file (e.g. {path / 'caselib.duckdb'})")
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseDamaged(f"{path} is not a regular file, so not a caselib database; name a database file or a new path")
    if info.st_size == 0:
        if not read_only:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return False
    try:
        with path.open("rb") as f:
            header = f.read(_MAGIC_AT + len(_DUCKDB_MAGIC))
    except OSError as error:
        raise StoreError(f"cannot open the database {path}: {error.strerror}") from None
    if header[_MAGIC_AT:] != _DUCKDB_MAGIC:
        raise DatabaseDamaged(
            f"{path} is not a caselib database (it is not a DuckDB file; a CSV or Parquet file "
            "is loaded with `caselib load`); name a database file or a new path"
        )
    return True


# -- spill folders -------------------------------------------------------------------------
#
# DuckDB writes what does not fit in memory (a large load's temporary tables, which hold the
# file's values) to a temporary directory, ``<db>.tmp`` by default, shared by every process
# and left behind by a killed one. Each connection gets its own instead, created owner-only
# beside the database: DuckDB deletes a temporary table's spill files when the table is
# dropped (a load drops its tables, or its transaction rolls them back), the folder goes
# when the store closes, and the next open sweeps folders a killed process left.


def _spill_prefix(path: Path) -> str:
    return f".{path.name}.spill-"


def _new_spill_folder(path: Path) -> Path:
    """A new owner-only (0700, whatever the umask) spill folder for one connection to ``path``."""
    folder = path.parent / f"{_spill_prefix(path)}{os.getpid()}-{secrets.token_hex(6)}"
    try:
        os.mkdir(folder, 0o700)
    except OSError:  # a read-only folder (a database opened read-only from shared media)
        return Path(tempfile.mkdtemp(prefix="caselib-spill-"))  # 0700
    os.chmod(folder, 0o700)
    return folder


# The watcher of a load's spill folder (see Store.guard_spill): it reads its stdin, a pipe
# from the store, until the store's end closes, which the kernel does however the store's
# process ends (kill -9 included), then removes the folder. Isolated (-I -S) and with no
# import of ours, it starts in a few milliseconds.
_WATCHER = "import shutil, sys\nsys.stdin.buffer.read()\nshutil.rmtree(sys.argv[1], ignore_errors=True)\n"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_spill_folders(path: Path, *, keep: Path | None = None, writing: bool = False) -> list[Path]:
    """Remove the spill folders of ``path`` that no open connection uses; return them.

    A folder is stale when its process is gone (a killed load). While ``writing`` (this
    process holds the write lock, so no other process has the file open) every folder but
    ``keep`` is stale, and so is DuckDB's default ``<db>.tmp``.
    """
    prefix = _spill_prefix(path)
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry == keep:
            continue
        if entry.name.startswith(prefix):
            pid = entry.name[len(prefix):].split("-", 1)[0]
            if not writing and (not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid))):
                continue
        elif not (writing and entry.name == path.name + ".tmp"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


_PRIVATE = {"writers": 0, "umask": None}
_PRIVATE_LOCK = threading.Lock()


def _private_files(opening: bool) -> None:
    """Count the stores of this process that may write; while there is one, the umask is 077."""
    with _PRIVATE_LOCK:
        if opening:
            if _PRIVATE["writers"] == 0:
                _PRIVATE["umask"] = os.umask(0o077)
            _PRIVATE["writers"] += 1
        else:
            _PRIVATE["writers"] -= 1
            if _PRIVATE["writers"] == 0 and _PRIVATE["umask"] is not None:
                os.umask(_PRIVATE["umask"])
                _PRIVATE["umask"] = None


class Store:
    """A DuckDB database file holding one campaign's waves, objects, tips and load history.

    Parameters
    ----------
    path
        The database file. Created (owner-only) with the current schema when missing,
        unless ``read_only``.
    read_only
        Open without taking the write lock, so several readers can work beside a loader
        between its loads.
    wait
        Seconds to keep retrying while another process holds the file (default
        ``CASELIB_LOCK_WAIT``, else 10): DuckDB lets one process write, or several read.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False, wait: float | None = None) -> None:
        configure_logging()
        self.path = Path(path).expanduser().resolve()
        self.read_only = read_only
        self._in_transaction = False
        self._copy_of = _UNREAD
        self._shared_writer = False
        self._private = False
        self._spill: Path | None = None
        self._watcher: subprocess.Popen | None = None
        created = not _database_file(self.path, read_only=read_only)
        if read_only and created:
            raise StoreError(
                f"there is no database at {self.path}; run `caselib demo` or `caselib load` first"
            )
        if not read_only:
            # DuckDB creates the WAL, and spill files, when it writes: while this store may
            # write, whatever this process creates is owner-only (the umask is the process's;
            # it is restored when the last writing store closes).
            _private_files(True)
            self._private = True
        try:
            self._open(created, wait)
        except BaseException:
            self._release_private()
            raise

    def _open(self, created: bool, wait: float | None) -> None:
        read_only = self.read_only
        if created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config = {
            # Air-gapped machines: never try to download an extension. Everything we use
            # (json, parquet, icu) is statically linked into the Python package.
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
            "allow_community_extensions": "false",
        }
        self._spill = _new_spill_folder(self.path)
        config["temp_directory"] = str(self._spill)
        try:
            self._con = self._connect(config, wait if wait is not None else _lock_wait())
        except BaseException:
            self._remove_spill()
            raise
        sweep_spill_folders(self.path, keep=self._spill, writing=not read_only)
        self._settle()
        if created:
            self.secure_files()
        if not read_only:
            self._migrate()
        else:
            self._upgrade_if_older(config, wait)
            self._check_version()
        # The campaign's rules as macros every query calls (sql/rules/campaign.sql); they
        # are bound to the tables, so they come once the schema is in place.
        try:
            self.execute(sql_text("rules/campaign"), name="rules/campaign")
        except QueryError as error:
            # The schema version promises the tables; one is missing or changed by hand.
            self.close()
            raise SchemaAltered(
                f"the database {self.path} lacks a table or column of its schema ({error.reason}): "
                "it was dropped or altered; restore the database from a backup"
            ) from None

    def _connect(self, config: dict, wait: float):
        """Connect; while another process holds the file, retry for up to ``wait`` seconds.

        While it waits, a marker file says so (see :func:`others_waiting`): a session in
        the process holding the file then lets go of it.
        """
        with _waiting_marker(self.path) as mark:
            return self._connect_retrying(config, wait, mark)

    def _connect_retrying(self, config: dict, wait: float, mark):
        deadline = time.monotonic() + wait
        delay = 0.02
        released = False
        while True:
            old_umask = os.umask(0o077)
            try:
                return duckdb.connect(str(self.path), read_only=self.read_only, config=config)
            except duckdb.Error as error:
                if _in_process_conflict(error) and not released:
                    # A session of this process holds the file the other way; an idle one lets go.
                    released = any([release(self.path) for release in _IN_PROCESS_HOLDERS])
                    if released:
                        continue
                if _in_process_conflict(error):
                    raise StoreError(
                        f"this process already has {self.path} open "
                        f"{'read-write' if self.read_only else 'read-only'} and in use; "
                        "close that store or session first"
                    ) from None
                friendly = _friendly(error, self.path)
                if not friendly.locked or time.monotonic() + delay > deadline:
                    raise friendly from None
            finally:
                os.umask(old_umask)
            mark()
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        self._con.close()
        self._remove_spill()
        if not self.read_only:
            self.secure_files()
        self._release_private()

    def _remove_spill(self) -> None:
        if self._spill is not None:
            shutil.rmtree(self._spill, ignore_errors=True)
            self._spill = None
        if self._watcher is not None:
            watcher, self._watcher = self._watcher, None
            with contextlib.suppress(OSError):
                watcher.stdin.close()  # it wakes, finds the folder gone, and ends
            with contextlib.suppress(subprocess.TimeoutExpired):
                watcher.wait(timeout=5)

    def guard_spill(self) -> None:
        """Have this store's spill folder removed however this process ends, kill -9 included.

        A load calls it: its spill files hold the file's values (and whatever DuckDB's
        freed memory held before, which may be contact text the reader pseudonymised). A
        watcher process, in a session of its own so that killing this process's group
        spares it, removes the folder as soon as this process is gone; the next open sweeps
        what even that missed (the watcher killed too).
        """
        if self._spill is None or (self._watcher is not None and self._watcher.poll() is None):
            return
        try:
            self._watcher = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHER, str(self._spill)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True,
            )
        except OSError:  # no process to spare: the next open still sweeps
            self._watcher = None

    def _release_private(self) -> None:
        if self._private:
            self._private = False
            _private_files(False)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def secure_files(self) -> None:
        """Make the database and its write-ahead log readable by the owner only."""
        for candidate in (self.path, self.path.with_name(self.path.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(candidate, 0o600)

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The version of the schema applied to this database (0 for an empty file)."""
        # Asked directly (information_schema took longer than the rest of opening the file).
        try:
            return int(self.scalar("SELECT coalesce(max(version), 0) FROM main.schema_version"))
        except duckdb.CatalogException:
            return 0

    def _upgrade_if_older(self, config: dict, wait: float | None) -> None:
        """Opened for reading, a database of an older schema is upgraded first (a short write
        that applies the migrations), then read: a new caselib reads the files of an older one."""
        version = self.schema_version()
        if version >= SCHEMA_VERSION:
            return
        self._con.close()
        try:
            Store(self.path, wait=wait).close()
        except StoreError as error:
            raise StoreError(
                f"the database {self.path} has schema version {version}, older than this caselib's "
                f"({SCHEMA_VERSION}), and could not be upgraded: {error}"
            ) from None
        self._con = self._connect(config, wait if wait is not None else _lock_wait())
        self._settle()

    def _settle(self) -> None:
        """The connection's settings. query_progress() only reports while the progress bar is
        enabled (we draw our own); naive timestamps in files mean UTC, and days are UTC days."""
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = true")
        self._con.execute("SET enable_progress_bar_print = false")

    def _check_version(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the database {self.path} has schema version {version}, newer than this "
                f"caselib knows ({SCHEMA_VERSION}); upgrade caselib"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(f"the database {self.path} has schema version {version}; it could not be upgraded")

    def _migrate(self) -> None:
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            self._check_version()
        for version, name, text in _migrations():
            if version <= current:
                continue
            with self.transaction():
                self._con.execute(text)
                self._con.execute(
                    "INSERT INTO schema_version VALUES ($v, $n, now()::TIMESTAMP)",
                    {"v": version, "n": name},
                )

    # -- queries ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _query(self, name: str | None, sql: str) -> Iterator[None]:
        """Times the statement run inside (logged at DEBUG) and names its failure.

        A DuckDB error of a named statement becomes a :class:`~caselib.errors.QueryError`
        carrying the name and the SQL, DuckDB's exception as its cause. Unnamed ad-hoc SQL
        keeps DuckDB's exception: callers catch particular ones (``CatalogException``).
        """
        started = time.perf_counter()
        try:
            yield
        except duckdb.Error as error:
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("%s failed after %.1f ms", _label(name, sql), (time.perf_counter() - started) * 1000)
            if _is_damage(error):  # not a bug in the query: the file is damaged
                raise _damaged(error, self.path) from error
            refused = _cannot_write(error, self.path)
            if refused is not None:  # nor is a full disk
                raise refused from error
            if name is None or isinstance(error, duckdb.InterruptException):
                raise
            raise QueryError(name, sql, _first_line(error)) from error
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %.1f ms", _label(name, sql), (time.perf_counter() - started) * 1000)

    def _result(self, sql: str, params: Params):
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def execute(self, sql: str, params: Params = None, *, name: str | None = None) -> None:
        """Run one statement (or several, without parameters) for its effect.

        With ``name``, a failure raises :class:`~caselib.errors.QueryError` naming it (as
        for :meth:`rows`, :meth:`scalar` and :meth:`df`); without, DuckDB's own error.
        """
        with self._query(name, sql):
            self._result(sql, params)

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        """Run the named query file for its effect, statement by statement.

        Each statement receives only the named parameters it mentions.
        """
        for statement in self._con.extract_statements(sql_text(name)):
            text = statement.query
            used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", text)}
            self.execute(text, used or None, name=name)

    def rows(self, sql: str, params: Params = None, *, name: str | None = None) -> list[tuple[Any, ...]]:
        """All result rows as tuples."""
        with self._query(name, sql):
            return self._result(sql, params).fetchall()

    def scalar(self, sql: str, params: Params = None, *, name: str | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        with self._query(name, sql):
            result = self._result(sql, params)
            row = result.fetchone()
            result.complete()
        return None if row is None else row[0]

    def arrow(self, sql: str, params: Params = None, *, name: str | None = None):
        """The result as a pyarrow Table."""
        with self._query(name, sql):
            return self._con.sql(sql, params=params).to_arrow_table()

    def df(self, sql: str, params: Params = None, *, name: str | None = None):
        """The result as a pandas DataFrame."""
        with self._query(name, sql):
            return self._result(sql, params).df()

    def query_df(self, name: str, params: Params = None, *, tips: TipSource | None = None):
        """The named query's result as a pandas DataFrame.

        A query that reads ``{{filtered_tips}}`` gets the tips chosen by ``tips`` (an object
        with ``sql()`` returning a declared SELECT and its parameters, e.g.
        :class:`caselib.domain.filters.TipFilter`); every query receives only the parameters it uses.
        The filter's parameters and ``params`` must not share a name (the filter's start
        with ``tips_``): a clash raises :class:`~caselib.errors.QueryError`, as does a
        failure in DuckDB.
        """
        return self.df(*self._named(name, params, tips), name=name)

    def query_rows(self, name: str, params: Params = None, *, tips: TipSource | None = None) -> list[tuple[Any, ...]]:
        """The named query's result as tuples (as :meth:`query_df`, without building a frame)."""
        return self.rows(*self._named(name, params, tips), name=name)

    def _named(self, name: str, params: Params, tips: TipSource | None) -> tuple[str, dict[str, Any] | None]:
        text = sql_text(name)
        params = dict(params or {})
        if "{{filtered_tips}}" in text:
            select, tip_params = tips.sql() if tips is not None else (ALL_TIPS, {})
            text = text.replace("{{filtered_tips}}", f"({select})")
            shared = sorted(set(params) & set(tip_params))
            if shared:
                raise QueryError(
                    name,
                    text,
                    f"the caller and the tip filter both give the parameter{'s' if len(shared) > 1 else ''} "
                    + ", ".join("$" + k for k in shared),
                )
            params.update(tip_params)
        used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", text)}
        return text, used or None

    def columns(self, table: str) -> list[str]:
        """Column names of a table or temporary table, in order."""
        result = self._con.execute(f"SELECT * FROM {quote_ident(table)} LIMIT 0")
        names = [d[0] for d in result.description]
        result.complete()
        return names

    def register(self, name: str, data: Any) -> None:
        """Expose an Arrow table or pandas frame to SQL under ``name`` until unregistered."""
        self._con.register(name, data)

    def unregister(self, name: str) -> None:
        self._con.unregister(name)

    def create_function(self, name: str, function: Any) -> None:
        """Expose a Python function VARCHAR -> VARCHAR, called value by value, to SQL under
        ``name`` until removed: what it holds (a key) stays in Python.

        Not a vectorised (Arrow) function: DuckDB would copy each batch of its input into
        Arrow buffers of its own memory, freed afterwards and reused for blocks it spills,
        and a killed load's spill files were seen holding hundreds of the contact values
        it had pseudonymised (none when called value by value, in the same kill test)."""
        self._con.create_function(
            name, function, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"),
            type="native", null_handling="special", side_effects=False,
        )

    def remove_function(self, name: str) -> None:
        with contextlib.suppress(duckdb.InvalidInputException):
            self._con.remove_function(name)

    def query_progress(self) -> float:
        """Percent done of the running statement, or -1 when none runs; safe from another thread."""
        return self._con.query_progress()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together, or none does.

        A transaction opened inside another is part of it (it commits with the outer one):
        a write to a team's shared store wraps a whole load or decision in one
        (:mod:`caselib.store.shared.push`)."""
        if self._in_transaction:
            yield
            return
        self.refuse_on_copy()
        self._con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            with contextlib.suppress(duckdb.Error):
                self._con.execute("ROLLBACK")
            raise
        self._in_transaction = False
        with self._query("commit", "COMMIT"):
            self._con.execute("COMMIT")

    # -- a team's copy ----------------------------------------------------------------------

    def shared_copy_of(self) -> str | None:
        """The id of the team's shared store this database is a copy of (``meta``), else None."""
        if self._copy_of is _UNREAD:
            try:
                self._copy_of = self.scalar("SELECT value FROM meta WHERE key = 'shared_store_id'")
            except duckdb.CatalogException:  # not yet migrated
                return None
        return self._copy_of

    @contextlib.contextmanager
    def shared_writing(self, store_id: str) -> Iterator[None]:
        """Writes inside are a sync from, or a write of, the team's shared store ``store_id``
        (:mod:`caselib.store.shared`): the only writes a copy takes."""
        previous = self._shared_writer
        self._shared_writer = True
        try:
            yield
            self._copy_of = store_id
        finally:
            self._shared_writer = previous

    def refuse_on_copy(self, what: str = "a change") -> None:
        """A copy of a team's shared store is written only by its sync and the server's own
        writes: anything else would make it differ from the server for good."""
        if not self._shared_writer and self.shared_copy_of() is not None:
            raise StoreError(
                f"{self.path.name} is a copy of a team's shared store: {what} goes to the server; "
                "give its URL (--shared or CASELIB_SHARED_URL), or use a database of your own"
            )

    def checkpoint(self) -> None:
        """Write the WAL into the database file (a full disk is :class:`CannotWrite`)."""
        with self._query("checkpoint", "CHECKPOINT"):
            self._con.execute("CHECKPOINT")
