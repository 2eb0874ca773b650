"""Mapping files: how an analyst loads an export that does not follow the contract.

A mapping file (TOML or YAML) may hold::

    contact = ["Absender", "Telefon"]   # extra columns that hold contact data
    skip_rows = 1                       # rows under the header that are not data

    [columns]                 # header in the file -> contract column
    "Hinweis-ID" = "tip_id"
    "Eingang" = "received_at"

    [first_of]                # contract column <- the first non-empty of these headers
    suggested_place = ["Ort", "Adresse"]

    [constants]               # contract column <- this value, in every row
    object_id = "G19"

    [formats]                 # date or timestamp column -> its strptime format
    received_at = "%d/%m/%Y %H:%M"

    [values.channel]          # value in the file -> contract value, per column
    Webformular = "web"

    [values.country]          # applies to every country column of the kind
    Deutschland = "DEU"

Headers and values are matched case-insensitively after trimming white space.

``skip_rows`` (0 to :data:`MAX_SKIP_ROWS`): that many rows right under the header are not
data (an HXL hashtag row, a row of units): they are not read as records, not checked and not
stored; the load summary counts them as *skipped*, apart from the reconciliation (rows read =
inserted + updated + unchanged + rejected counts the data rows only). Record numbers still
count from the first row under the header, skipped rows included, so a record number points
at the same row with or without them.

``first_of``: the contract column takes, row by row, the first of the named headers whose
value is not empty (after trimming); headers the file lacks are passed over. None of them
may be a contact column, and no other column of the file may feed the same contract column.

``constants``: a contract column the file lacks gets this value in every row (an export per
deployment has no ``object_id`` column: the mapping names the object). It is an error if the
file also has a column for it. Value maps apply to a constant as to a file value.

``formats``: a date or timestamp column is parsed with this format instead of the
contract's ISO 8601, by DuckDB's ``try_strptime`` (directives ``%d %m %Y %y %H %I %M %S %f
%p %b %B %a %A %j %z %%``, as Python's ``strptime``). A value that does not match
rejects its row with a reason naming the format. A timestamp without ``%z`` means UTC; one
with ``%z`` is converted to UTC.

A mapping file is read within limits, so that a hostile one is refused at once with one line
(:class:`MappingLimitError`) instead of exhausting time, memory or the stack: at most
:data:`MAX_BYTES` bytes, nesting at most :data:`MAX_DEPTH` levels (a mapping needs 3), at
most :data:`MAX_ENTRIES` entries (keys and list items at any level), and no YAML anchors or
aliases (which expand exponentially). YAML is composed without recursion from the parser's
events and constructed by PyYAML's safe constructor, so no tag can run code.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from caselib.domain.contract import CONTACT_COLUMNS, Kind
from caselib.errors import MappingError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_SKIP_ROWS",
    "Mapping",
    "MappingLimitError",
    "read_mapping",
]

MAX_BYTES = 1_000_000  # a mapping holds headers and values, not data
MAX_DEPTH = 10  # nesting levels, the top-level table being 1; a mapping needs 3
MAX_ENTRIES = 10_000  # keys and list items at any level
MAX_SKIP_ROWS = 1_000  # rows under the header that are not data (an HXL row, a units row)
SECTIONS = ("columns", "values", "contact", "first_of", "constants", "formats", "skip_rows")
# The strptime directives a format may use: those DuckDB's strptime and Python's agree on.
_FORMAT_DIRECTIVES = frozenset("dmYyHIMSfpbBaAjz%")
_DIRECTIVE = re.compile(r"%(.?)", re.DOTALL)


class MappingLimitError(MappingError):
    """A mapping file exceeds a limit; ``limit`` names it: size, depth, entries or aliases."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit

    def __reduce__(self):
        return type(self), (str(self), self.limit)


def _key(text: object) -> str:
    return str(text).strip().lower()


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping: header renames, value maps, extra contact columns."""

    columns: dict[str, str] = field(default_factory=dict)  # file header key -> contract column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {value key: value}
    contact: frozenset[str] = frozenset()  # header keys
    first_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # contract column -> header keys
    constants: dict[str, str] = field(default_factory=dict)  # contract column -> value
    formats: dict[str, str] = field(default_factory=dict)  # date/timestamp column -> strptime format
    skip_rows: int = 0
    name: str | None = None
    sha256: str | None = None

    def value_rows(self, kind: Kind) -> list[tuple[str, str, str]]:
        """(contract column, lower-cased trimmed value, replacement) rows for ``kind``.

        Entries under ``country`` apply to each country column unless the column has its
        own entry for the same value.
        """
        rows: dict[tuple[str, str], str] = {}
        country_columns = [c.name for c in kind.columns if c.type == "country"]
        for value, target in self.values.get("country", {}).items():
            for column in country_columns:
                rows[(column, value)] = target
        for column, table in self.values.items():
            if column == "country" or column not in kind.names:
                continue
            for value, target in table.items():
                rows[(column, value)] = target
        return [(c, v, t) for (c, v), t in sorted(rows.items())]

    def check_for(self, kind: Kind) -> None:
        """Raise MappingError when the mapping names a column ``kind`` does not have."""
        for header, target in self.columns.items():
            if target not in kind.names and target not in CONTACT_COLUMNS:  # a contact column is dropped
                raise MappingError(
                    f"the mapping renames {header!r} to {target!r}, which is not a "
                    f"{kind.name} column ({', '.join(kind.names)})"
                )
        for column in self.values:
            if column != "country" and column not in kind.names:
                raise MappingError(
                    f"the mapping has values for {column!r}, which is not a {kind.name} column"
                )
        for section, targets in (("first_of", self.first_of), ("constants", self.constants)):
            for column in targets:
                if column not in kind.names:
                    raise MappingError(
                        f"the mapping's {section} names {column!r}, which is not a {kind.name} "
                        f"column ({', '.join(kind.names)})"
                    )
        both = sorted(set(self.first_of) & set(self.constants))
        if both:
            raise MappingError(f"the mapping gives {both[0]} both a constant and first_of columns; keep one")
        for column in self.formats:
            if column not in kind.names or kind.column(column).type not in ("date", "timestamp"):
                dated = ", ".join(c.name for c in kind.columns if c.type in ("date", "timestamp"))
                raise MappingError(
                    f"the mapping has a format for {column!r}, which is not a date or timestamp "
                    f"column of {kind.name} ({dated})"
                )


def _too_deep(name: str, line: int | None = None) -> MappingLimitError:
    where = f" (line {line})" if line else ""
    return MappingLimitError(
        f"the mapping file {name} is nested deeper than the limit of {MAX_DEPTH} levels{where}; "
        "a mapping needs 3 (columns, values.<column>, contact)",
        "depth",
    )


def _too_many(name: str, line: int | None = None) -> MappingLimitError:
    where = f" (line {line})" if line else ""
    return MappingLimitError(
        f"the mapping file {name} has more than the limit of {MAX_ENTRIES:,} entries{where} "
        "(keys and list items at any level)",
        "entries",
    )


# What the TOML pre-scan must tell apart: strings and comments (whose brackets and dots are
# text) from the characters that nest ([ { ] }) or separate keys (. = , newline); runs of
# the same kind are one token, so that no file of 1 MB takes long. A lone quote is an
# unterminated string: the scan ends there, and tomllib stops with an error there.
_TOML_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*""""{0,2}'
    r"|'''(?:[^']|'(?!''))*''''{0,2}"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
    r"|(?:#[^\n]*|\n)+|\.+|,+|[\]}]+|[\[{=\"']",
    re.DOTALL,
)


def _scan_toml(text: str, name: str) -> None:
    """Refuse TOML nested (brackets, or parts of a dotted key) deeper than MAX_DEPTH before
    tomllib sees it: tomllib recurses on brackets and is quadratic in a dotted key's length."""
    stack: list[str] = []  # "[" array, "{" inline table, "h" table header
    key = True  # whether a "." here separates the parts of a key (not a float's digits)
    dots = 0
    line = 1
    entries = 0  # a lower bound: one per "=", per "," in an array and per table header
    for match in _TOML_TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first in "#\n":  # comments and line ends
            line += token.count("\n")
            if not stack and "\n" in token:
                key, dots = True, 0
        elif first == ".":
            if key:
                dots += len(token)
                if len(stack) + dots + 1 > MAX_DEPTH:
                    raise _too_deep(name, line)
        elif first == ",":
            if stack and stack[-1] == "{":
                key, dots = True, 0
            elif stack and stack[-1] == "[":
                entries += len(token)
        elif first in "]}":
            del stack[max(0, len(stack) - len(token)) :]
            key = bool(stack) and stack[-1] == "h"
        elif len(token) > 1:  # a string
            line += token.count("\n")
        elif token == "=":
            key, dots = False, 0
            entries += 1
        elif token in "[{":
            if token == "{":
                stack.append("{")
                key, dots = True, 0
            elif key and (not stack or stack[-1] == "h"):
                if not stack:  # a table header declares a table of its own: an entry
                    entries += 1
                stack.append("h")
            else:
                stack.append("[")
                key = False
            if len(stack) + 1 > MAX_DEPTH:
                raise _too_deep(name, line)
        else:  # a lone quote: an unterminated string, where tomllib will stop
            return
        if entries > MAX_ENTRIES:
            raise _too_many(name, line)


def _anchor_refused(name: str, line: int) -> MappingLimitError:
    return MappingLimitError(
        f"the mapping file {name} uses a YAML anchor or alias (line {line}), which a mapping "
        "file may not (aliases can expand without bound); write each value out",
        "aliases",
    )


def _load_yaml(text: str, name: str) -> object:
    """Compose the YAML document from the parser's events without recursion, refusing
    anchors and aliases and keeping to the depth and entries limits as it goes, then
    construct it with PyYAML's safe constructor (on libyaml's parser when available)."""
    loader = (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)(text)
    try:
        loader.get_event()  # StreamStartEvent
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # DocumentStartEvent
        stack: list[list] = []  # [collection node, its pending mapping key node]
        entries = 0
        root = None
        while root is None:
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _anchor_refused(name, line)
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node = stack.pop()[0]
                node.end_mark = event.end_mark
                if not stack:
                    root = node
                continue
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(
                    tag, event.value, event.start_mark, event.end_mark, style=event.style
                )
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                kind = (
                    yaml.SequenceNode
                    if isinstance(event, yaml.SequenceStartEvent)
                    else yaml.MappingNode
                )
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(kind, None, event.implicit)
                node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            else:  # nothing else comes inside a document
                raise yaml.YAMLError(f"unexpected {type(event).__name__} at line {line}")
            if stack:
                parent = stack[-1]
                if isinstance(parent[0], yaml.SequenceNode):
                    parent[0].value.append(node)
                    entries += 1
                elif parent[1] is None:
                    parent[1] = node
                    entries += 1
                else:
                    parent[0].value.append((parent[1], node))
                    parent[1] = None
                if entries > MAX_ENTRIES:
                    raise _too_many(name, line)
            if isinstance(node, yaml.ScalarNode):
                if not stack:
                    root = node
            else:
                stack.append([node, None])
                if len(stack) > MAX_DEPTH:
                    raise _too_deep(name, line)
        loader.get_event()  # DocumentEndEvent
        if not loader.check_event(yaml.StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                None,
                "but found another document",
                loader.peek_event().start_mark,
            )
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _check_shape(data: object, name: str) -> None:
    """Depth and entries of the parsed data, walked without recursion (in TOML, dotted keys
    and table headers nest without brackets)."""
    entries = 0
    todo = [(data, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(name)
        entries += len(children)
        if entries > MAX_ENTRIES:
            raise _too_many(name)
        todo.extend((child, depth + 1) for child in children)


def _read_limited(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            raw_bytes = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise MappingError(f"cannot read the mapping file {path}: {error.strerror}") from None
    if len(raw_bytes) > MAX_BYTES:
        raise MappingLimitError(
            f"the mapping file {path.name} is larger than the limit of {MAX_BYTES:,} bytes; "
            "a mapping holds headers and values, not data",
            "size",
        )
    return raw_bytes


def read_mapping(path: str | Path) -> Mapping:
    """Parse a TOML (``.toml``) or YAML (``.yaml``/``.yml``) mapping file.

    Raises :class:`MappingError` when the file is malformed, and its subclass
    :class:`MappingLimitError` when it exceeds a limit (size, depth, entries, aliases).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise MappingError(f"the mapping file {path.name} must end in .toml, .yaml or .yml")
    raw_bytes = _read_limited(path)
    try:
        text = raw_bytes.decode("utf-8-sig")
        if suffix == ".toml":
            _scan_toml(text, path.name)
            data = tomllib.loads(text)
        else:
            data = _load_yaml(text, path.name) or {}
    except RecursionError:  # a backstop: the limits above leave nothing to recurse on
        raise _too_deep(path.name) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        if "nesting depth" in (error.problem or ""):  # libyaml's own limit (1,000) came first
            raise _too_deep(path.name, line) from None
        problem = " ".join(str(error.problem or error.context or "").split())
        where = f" (line {line})" if line else ""
        raise MappingError(f"the mapping file {path.name} is not valid: {problem}{where}") from None
    except (yaml.YAMLError, ValueError, OverflowError) as error:
        # ValueError: tomllib's errors, bytes that are not UTF-8, and values Python refuses
        # (an integer of over 4,300 digits, a date such as 2017-02-30)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise MappingError(f"the mapping file {path.name} is not valid: {first}") from None
    _check_shape(data, path.name)
    if not isinstance(data, dict):
        raise MappingError(f"the mapping file {path.name} must hold a table at top level")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise MappingError(
            f"the mapping file {path.name} has unknown section(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(SECTIONS[:-1])} and {SECTIONS[-1]}"
        )
    columns = data.get("columns", {}) or {}
    values = data.get("values", {}) or {}
    contact = data.get("contact", []) or []
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise MappingError(f"in {path.name}, 'columns' must map file headers to column names")
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise MappingError(f"in {path.name}, 'values' must hold one table per column")
    for column, table in values.items():
        for value, target in table.items():
            if isinstance(target, (dict, list)):
                raise MappingError(
                    f"in {path.name}, values.{column}.{value} must be one value, not a "
                    f"{'table' if isinstance(target, dict) else 'list'}"
                )
    if not isinstance(contact, list) or not all(isinstance(c, str) for c in contact):
        raise MappingError(f"in {path.name}, 'contact' must be a list of column headers")
    first_of = _first_of(data.get("first_of", {}) or {}, path.name)
    constants = _constants(data.get("constants", {}) or {}, path.name)
    formats = _formats(data.get("formats", {}) or {}, path.name)
    skip_rows = _skip_rows(data.get("skip_rows", 0), path.name)
    return Mapping(
        columns={_key(k): _key(v) for k, v in columns.items()},
        first_of=first_of,
        constants=constants,
        formats=formats,
        skip_rows=skip_rows,
        values={
            _key(col): {_key(k): str(v).strip() for k, v in table.items()}
            for col, table in values.items()
        },
        contact=frozenset(_key(c) for c in contact),
        name=path.name,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _first_of(table: object, name: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict) or not all(
        isinstance(v, list) and v and all(isinstance(h, str) for h in v) for v in table.values()
    ):
        raise MappingError(
            f"in {name}, 'first_of' must map each contract column to a list of file headers"
        )
    found: dict[str, tuple[str, ...]] = {}
    for column, headers in table.items():
        keys = tuple(dict.fromkeys(_key(h) for h in headers))
        found[_key(column)] = keys
    return found


def _constants(table: object, name: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in table.values()
    ):
        raise MappingError(f"in {name}, 'constants' must map contract columns to one value each (text)")
    found = {_key(k): str(v).strip() for k, v in table.items()}
    empty = [k for k, v in found.items() if not v]
    if empty:
        raise MappingError(f"in {name}, constants.{empty[0]} is empty; give it a value or leave it out")
    return found


def _formats(table: object, name: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise MappingError(f"in {name}, 'formats' must map date or timestamp columns to a format text")
    for column, fmt in table.items():
        directives = _DIRECTIVE.findall(fmt)
        bad = next((d for d in directives if d not in _FORMAT_DIRECTIVES), None)
        if bad is not None or not directives:
            what = "no directive" if bad is None else f"the directive %{bad}" if bad else "a lone % at its end"
            raise MappingError(
                f"in {name}, formats.{column} = {fmt!r} has {what}; use strptime directives "
                f"({' '.join('%' + d for d in sorted(_FORMAT_DIRECTIVES))})"
            )
    return {_key(k): v for k, v in table.items()}


def _skip_rows(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SKIP_ROWS:
        raise MappingError(
            f"in {name}, skip_rows must be a whole number from 0 to {MAX_SKIP_ROWS:,} (rows under "
            "the header that are not data)"
        )
    return value
