"""Exceptions a user can cause, and the one a query's bug raises.

Each :class:`CaselibError` message is one sentence that says what was wrong and what to
do; the CLI prints it on one line, without a traceback. A :class:`QueryError` is a bug: the
CLI prints it as a one-line internal error.

Each class has the exit status the CLI ends with (``exit_code``), so a script can tell the
failures apart: 1 bad input or usage, 3 a bug (internal error), 4 a tampered audit, 5 a
damaged database or a file that is not a caselib database, 6 a database in use by another
process, 7 a file that cannot be written (disk full, read-only, no permission), 8 another
analyst decided first (a team's shared store: nothing written), 9 the shared store refused it
to the user's role; click's own
usage errors exit 2, an interrupt 130, a closed pipe 141."""


class CaselibError(Exception):
    """Base class of every error caused by input or usage rather than by a bug."""

    exit_code = 1


class StoreError(CaselibError):
    """The database cannot be opened or written (missing, locked, newer schema)."""

    locked = False  # True when another process holds the file


class DatabaseLocked(StoreError):
    """Another process holds the database file (DuckDB allows one writer)."""

    locked = True
    exit_code = 6


class DatabaseDamaged(StoreError):
    """The database file is corrupt, truncated or not a caselib (DuckDB) database at all."""

    exit_code = 5


class CannotWrite(CaselibError):
    """A file or folder cannot be written: the disk is full, the target is read-only, or
    permission is denied. Nothing partial is left behind."""

    exit_code = 7


class DatabaseUnwritable(StoreError, CannotWrite):
    """The database cannot be opened for writing: its file system is read-only (or full).
    A :class:`StoreError` (opening failed) that exits as :class:`CannotWrite`; nothing is
    changed."""

    exit_code = 7


class SchemaAltered(DatabaseDamaged):
    """A table or column the schema version promises is missing or changed: tampering or
    damage (``caselib audit verify`` reports it as a broken chain)."""

    exit_code = 5


class FileLoadError(CaselibError):
    """A file cannot be loaded as a whole (unreadable, unknown format, missing columns)."""


class MappingError(CaselibError):
    """A mapping file is malformed."""


class DemoRefused(CaselibError):
    """`caselib demo` would overwrite a database holding non-demo data."""


class QueryError(Exception):
    """A named query failed: ``query closure/figures failed: Binder Error: …``.

    Not a :class:`CaselibError`: SQL that fails is a bug, whatever the data. DuckDB's own
    exception, when there is one, is the ``__cause__``.

    Attributes
    ----------
    name
        The query's name (``closure/figures``), or the name the caller gave ad-hoc SQL.
    sql
        The SQL text that failed (with ``{{filtered_tips}}`` already filled in).
    reason
        The first line of DuckDB's message (``Binder Error: …``), or what else was wrong.
    """

    def __init__(self, name: str, sql: str, reason: str) -> None:
        super().__init__(f"query {name} failed: {reason}")
        self.name = name
        self.sql = sql
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.name, self.sql, self.reason)


class SharedError(CaselibError):
    """A team's shared store cannot be reached, is not initialised, or refused what was asked."""


class Conflict(SharedError):
    """Another analyst decided first: nothing was written (the message says who, what, when).
    Its own status, so that a script can sync and look again."""

    exit_code = 8


class NotAllowed(SharedError):
    """The shared store refused the write to this user's role."""

    exit_code = 9
