"""Exceptions a user can cause, and the one a query's bug raises.

Each :class:`CaselibError` message is one sentence that says what was wrong and what to
do; the CLI prints it on one line, without a traceback. A :class:`QueryError` is a bug: the
CLI prints it as a one-line internal error."""


class CaselibError(Exception):
    """Base class of every error caused by input or usage rather than by a bug."""


class StoreError(CaselibError):
    """The database cannot be opened or written (missing, locked, newer schema)."""

    locked = False  # True when another process holds the file


class SchemaAltered(StoreError):
    """A table or column the schema version promises is missing or changed: tampering or
    damage (``caselib audit verify`` reports it as a broken chain)."""


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
