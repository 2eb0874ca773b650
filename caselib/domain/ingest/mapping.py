"""Mapping files: how an analyst loads an export that does not follow the contract.

A mapping file (TOML or YAML) may hold three things::

    [columns]                 # header in the file -> contract column
    "Hinweis-ID" = "tip_id"
    "Eingang" = "received_at"

    [values.channel]          # value in the file -> contract value, per column
    Webformular = "web"

    [values.country]          # applies to every country column of the kind
    Deutschland = "DEU"

    contact = ["Absender", "Telefon"]   # extra columns that hold contact data

Headers and values are matched case-insensitively after trimming white space.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from caselib.domain.contract import Kind
from caselib.errors import MappingError

__all__ = ["Mapping", "read_mapping"]


def _key(text: object) -> str:
    return str(text).strip().lower()


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping: header renames, value maps, extra contact columns."""

    columns: dict[str, str] = field(default_factory=dict)  # file header key -> contract column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {value key: value}
    contact: frozenset[str] = frozenset()  # header keys
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
            if target not in kind.names:
                raise MappingError(
                    f"the mapping renames {header!r} to {target!r}, which is not a "
                    f"{kind.name} column ({', '.join(kind.names)})"
                )
        for column in self.values:
            if column != "country" and column not in kind.names:
                raise MappingError(
                    f"the mapping has values for {column!r}, which is not a {kind.name} column"
                )


def read_mapping(path: str | Path) -> Mapping:
    """Parse a TOML (``.toml``) or YAML (``.yaml``/``.yml``) mapping file."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise MappingError(f"cannot read the mapping file {path}: {error.strerror}") from None
    try:
        text = raw_bytes.decode("utf-8-sig")
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise MappingError(
                f"the mapping file {path.name} must end in .toml, .yaml or .yml"
            )
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0]
        raise MappingError(f"the mapping file {path.name} is not valid: {first}") from None
    if not isinstance(data, dict):
        raise MappingError(f"the mapping file {path.name} must hold a table at top level")
    unknown = set(data) - {"columns", "values", "contact"}
    if unknown:
        raise MappingError(
            f"the mapping file {path.name} has unknown section(s) {', '.join(sorted(unknown))}; "
            "use columns, values and contact"
        )
    columns = data.get("columns", {}) or {}
    values = data.get("values", {}) or {}
    contact = data.get("contact", []) or []
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise MappingError(f"in {path.name}, 'columns' must map file headers to column names")
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise MappingError(f"in {path.name}, 'values' must hold one table per column")
    if not isinstance(contact, list) or not all(isinstance(c, str) for c in contact):
        raise MappingError(f"in {path.name}, 'contact' must be a list of column headers")
    return Mapping(
        columns={_key(k): _key(v) for k, v in columns.items()},
        values={
            _key(col): {_key(k): str(v).strip() for k, v in table.items()}
            for col, table in values.items()
        },
        contact=frozenset(_key(c) for c in contact),
        name=path.name,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
    )
