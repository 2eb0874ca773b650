"""Exceptions a user can cause. Each message is one sentence that says what was wrong and
what to do; the CLI prints it on one line, without a traceback."""


class CaselibError(Exception):
    """Base class of every error caused by input or usage rather than by a bug."""


class StoreError(CaselibError):
    """The database cannot be opened or written (missing, locked, newer schema)."""

    locked = False  # True when another process holds the file


class FileLoadError(CaselibError):
    """A file cannot be loaded as a whole (unreadable, unknown format, missing columns)."""


class MappingError(CaselibError):
    """A mapping file is malformed."""


class DemoRefused(CaselibError):
    """`caselib demo` would overwrite a database holding non-demo data."""
