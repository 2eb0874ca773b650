"""Exports that are safe to open in a spreadsheet.

Tip text is untrusted: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by Excel and LibreOffice. Such cells are prefixed with
an apostrophe, which spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

import io

__all__ = ["safe_cell", "safe_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> object:
    """``value`` unchanged, unless it is text a spreadsheet would evaluate as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame) -> str:
    """A DataFrame as CSV text with every text cell made formula-safe."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or str(safe[column].dtype).startswith("str"):
            safe[column] = safe[column].map(safe_cell)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue()
