"""Which column of a file feeds which contract column: decided from the headers, before any SQL.

Headers stay in Python (the reader names the file's columns ``c0``, ``c1``, …), so the plan
is what lets :mod:`caselib.domain.ingest.statements` write SQL about a file without a header's
text ever entering it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from caselib.domain.contract import CONTACT_COLUMNS, Kind
from caselib.domain.ingest.mapping import Mapping
from caselib.errors import FileLoadError

__all__ = ["Plan", "plan_columns"]


@dataclass(frozen=True)
class Plan:
    """Which file column feeds which contract column."""

    sources: dict[str, int]  # contract column -> index into the file's columns
    contact: list[int]  # indexes of contact columns, in priority order
    ignored: list[str]
    # The contract name of each contact column ("contact" for one a mapping marks), in the
    # order of ``contact``: what a pseudonym is keyed by, so it does not depend on where
    # the column sits in the file.
    contact_names: list[str] = field(default_factory=list)
    # Contract columns fed by the first non-empty of several file columns (mapping's
    # first_of), in the mapping's order; these columns are not in ``sources``.
    first_of: dict[str, list[int]] = field(default_factory=dict)


def plan_columns(headers: Sequence[str], spec: Kind, mapping: Mapping, file_name: str) -> Plan:
    """The plan for a file of ``spec`` with these headers (in ``c0…`` order).

    Raises :class:`~caselib.errors.FileLoadError` (naming ``file_name``) when two columns
    feed one contract column or a required column is missing.
    """
    sources: dict[str, int] = {}
    contact: list[tuple[int, int, str]] = []  # (priority, index, contract name)
    ignored: list[str] = []
    keys = [str(header).strip().lower() for header in headers]
    first_of: dict[str, list[int]] = {}
    feeds: dict[int, str] = {}  # index -> the first_of column it feeds
    for column, wanted in mapping.first_of.items():
        first_of[column] = []
        for header_key in wanted:
            index = next((i for i, k in enumerate(keys) if k == header_key), None)
            if index is None:
                continue
            if index in feeds:
                raise FileLoadError(
                    f"{file_name}: the mapping's first_of names {headers[index]!r} for both "
                    f"{feeds[index]} and {column}"
                )
            feeds[index] = column
            first_of[column].append(index)
    for index, header in enumerate(headers):
        key = keys[index]
        target = mapping.columns.get(key, key)
        if key in mapping.contact or key in CONTACT_COLUMNS or target in CONTACT_COLUMNS:
            if index in feeds:
                raise FileLoadError(
                    f"{file_name}: {header!r} is a contact column; the mapping's first_of "
                    f"may not feed {feeds[index]} from it"
                )
            name = target if target in CONTACT_COLUMNS else key
            priority = CONTACT_COLUMNS.index(name) if name in CONTACT_COLUMNS else len(CONTACT_COLUMNS)
            contact.append((priority, index, name if name in CONTACT_COLUMNS else "contact"))
        elif index in feeds:
            continue
        elif target in first_of or target in mapping.constants:
            how = "first_of columns" if target in first_of else f"the constant {mapping.constants[target]!r}"
            raise FileLoadError(
                f"{file_name} has a column for {target} ({header!r}), which the mapping gives "
                f"{how}; remove one from the mapping"
            )
        elif target in spec.names:
            if target in sources:
                first = headers[sources[target]]
                raise FileLoadError(
                    f"{file_name} has two columns for {target}: {first!r} and {header!r}"
                )
            sources[target] = index
        else:
            ignored.append(str(header) if str(header).strip() else f"(unnamed column {index + 1})")
    first_of = {column: indexes for column, indexes in first_of.items() if indexes}
    fed = set(sources) | set(first_of) | set(mapping.constants)
    missing = [c.name for c in spec.columns if c.required and c.name not in fed]
    if missing:
        found = ", ".join(repr(h) for h in headers) or "none"
        raise FileLoadError(
            f"{file_name} has no {', '.join(missing)} column, which {spec.name} files must have "
            f"(columns found: {found}); rename it or pass a mapping file"
        )
    contact.sort()
    return Plan(sources, [i for _, i, _ in contact], ignored, [n for _, _, n in contact], first_of)
