"""The SQL of a load, built from the contract: text and named parameters, nothing run.

Each function here is pure. From a record kind (:mod:`caselib.domain.contract`), the
:class:`~caselib.domain.ingest.plan.Plan` saying which file column feeds which contract column,
and the load's options, it returns a :class:`Statement`. :func:`caselib.domain.ingest.load_file`
runs them (the sections below follow a load's steps), and ``tests/snapshots/`` holds what they build for
typical loads, so a change to the SQL of a load shows as a diff.

No value from a file goes into SQL text. File values are rows of ``_raw`` (and of the
``_value_rows`` and ``_country_rows`` tables the loader registers), headers and run-time
values are parameters. What is written into the text is ours: contract column and table
names (quoted by :func:`~caselib.store.quote_ident`), the reader's column numbers, and
the words of rejection reasons (string literals, :func:`literal`).

Examples
--------
>>> from caselib.domain import contract
>>> print(duplicates(contract.kind("waves")).sql.splitlines()[0])
CREATE OR REPLACE TEMP TABLE _dups AS
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from caselib.domain import contract
from caselib.domain.contract import Column, Kind
from caselib.domain.countries import language_codes
from caselib.domain.ingest.mapping import Mapping
from caselib.domain.ingest.plan import Plan
from caselib.domain.ingest.pseudonym import PSEUDONYM_FUNCTION
from caselib.store import quote_ident

__all__ = [
    "FINGERPRINTED",
    "ANALYST_HELD",
    "disagreements",
    "can_match",
    "delete_same",
    "raw_first",
    "fingerprint_columns",
    "fingerprint_of",
    "fingerprint_rules",
    "same_rows",
    "same_kept_raw",
    "same_table",
    "fingerprinted",
    "fingerprints",
    "AFTER_LOADING",
    "NOT_KNOWN",
    "previous_outcome",
    "future_from",
    "CONSTANT_ROWS",
    "COUNTRY_ROWS",
    "DATE_PATTERN",
    "TEMP_TABLES",
    "TIMESTAMP_PATTERN",
    "VALUE_ROWS",
    "Statement",
    "batch_number",
    "compare",
    "constants",
    "coordinates_dropped",
    "counts",
    "country_columns",
    "country_map",
    "country_map_fill",
    "country_values",
    "drop_stage",
    "drop_temporary",
    "duplicates",
    "history",
    "inserts",
    "literal",
    "memory_limit",
    "normalise",
    "objects_stored",
    "previous_batch",
    "pseudonym_of",
    "raw_records",
    "raw_rows_before",
    "reader_rejects",
    "reader_rejects_within",
    "record_batch",
    "rejects",
    "reset_memory_limit",
    "skip_rows",
    "stage",
    "offset_macro",
    "text_macro",
    "unrecognised_count",
    "unrecognised_examples",
    "updates",
    "value_map",
    "value_map_fill",
]

# Contract v1.1: date, then optionally T (or t, or a space) and hh:mm[:ss[.fraction]], then
# optionally an offset Z, z, ±hh:mm, ±hhmm or ±hh. The groups, in TIMESTAMP_PARTS' order,
# are read by regexp_extract; a part that is not there is ''.
TIMESTAMP_PATTERN = (
    r"^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r" ?(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
TIMESTAMP_PARTS = ("day", "hour", "minute", "second", "fraction", "offset")
# The same forms as DuckDB's TIMESTAMPTZ cast reads them right: T or a space, a decimal point,
# no space before the offset, and only valid offsets (within ±14:00, minutes below 60). A value
# of this form is cast directly; any other is parsed from its parts (the slower way).
TIMESTAMP_PLAIN = (
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-](?:(?:0\d|1[0-3])(?::?[0-5]\d)?|14(?::?00)?))?)?$"
)
# The words of the two rejection reasons that depend on more than the row: on the time of
# loading and on what else is stored. A re-load of the same file may not repeat an earlier
# load's outcome when its quarantine holds either (see previous_outcome).
AFTER_LOADING = " is more than one day after the time of loading"
NOT_KNOWN = " is not a known "
# The largest offset the contract accepts, in minutes (±14:00).
MAX_OFFSET_MINUTES = 14 * 60
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
# The temporary tables a load leaves behind until it drops them (``_stage`` is a view).
TEMP_TABLES = ("_raw", "_reader_rejects", "_country_map", "_value_map", "_constants", "_raw_first", "_fingerprint_rules", "_same", "_same_raw", "_norm", "_dups", "_cmp")
# The kinds whose stored rows keep a fingerprint of the text they were made from (in
# ``tip_fingerprints``): re-delivered rows with the same fingerprint are unchanged, found
# without being parsed again (:func:`same_rows`). Tips: the kind re-exported in millions.
FINGERPRINTED = {"tips": "tip_fingerprints"}
# A row's fingerprint: a hash of the loader's rules (the one-row table _fingerprint_rules:
# the rules digest and the mapping) and of the row's contract columns as _raw has them.
_FINGERPRINT_RULES = "(SELECT v FROM _fingerprint_rules)"
# The records an analyst has decided on in the workbench (a query of their keys): a
# re-delivery that would change what an analyst decided is a disagreement ('disagree' in
# ``_cmp``), kept in the history and counted, never applied (issue 14).
ANALYST_HELD = {"tips": "SELECT tip_id FROM tip_triage_history WHERE source = 'analyst'"}
# Names under which the loader registers rows it computed in Python (Arrow tables).
VALUE_ROWS = "_value_rows"
COUNTRY_ROWS = "_country_rows"
CONSTANT_ROWS = "_constant_rows"

# Spaces, tabs, line breaks and the no-break spaces spreadsheets leave behind, as chr()
# codes so the SQL text holds no invisible characters; DuckDB folds them to one constant.
_WHITESPACE = " \t\r\n\u00a0\u2007\u202f\ufeff"
_WHITESPACE_SQL = " || ".join(f"chr({ord(c)})" for c in _WHITESPACE)
# A macro, not a view, because views take no parameters; the macro is inlined where it is
# called, so each column's expression is the same as if written out.
_TEXT_MACRO = "_contract_text"


@dataclass(frozen=True)
class Statement:
    """One SQL statement, its named parameters (names without ``$``) and its name
    (``ingest/<the builder>``), which a failure and ``CASELIB_LOG=debug`` report."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str = "ingest"


def _step(builder):
    """Names the statements ``builder`` returns after it: ``ingest/normalise``, ..."""

    @functools.wraps(builder)
    def build(*args, **kwargs):
        made = builder(*args, **kwargs)
        name = f"ingest/{builder.__name__}"
        if isinstance(made, list):
            return [replace(statement, name=name) for statement in made]
        return None if made is None else replace(made, name=name)

    return build


def literal(text: str) -> str:
    """One of our own words (a contract name, part of a rejection reason) as a SQL string."""
    return "'" + text.replace("'", "''") + "'"


def _col(alias: str, name: str) -> str:
    return f"{alias}.{quote_ident(name)}"


def _lines(items: Sequence[str], indent: int = 1, separator: str = ",") -> str:
    """``items`` one per line, indented by ``indent`` levels of four spaces."""
    pad = "    " * indent
    return f"{separator}\n".join(pad + item for item in items)


def _conditions(items: Sequence[str], indent: int) -> str:
    """``items`` joined by AND, one per line (``true`` when there is none)."""
    if not items:
        return "true"
    pad = "    " * indent
    return "(\n" + f"\n{pad}AND ".join([pad + items[0], *items[1:]]) + "\n" + "    " * (indent - 1) + ")"


def _has_coordinates(spec: Kind) -> bool:
    return "latitude" in spec.names


def country_columns(spec: Kind) -> list[Column]:
    return [c for c in spec.columns if c.type == "country"]


def _stored_columns(spec: Kind) -> list[str]:
    """The table's data columns: each contract column, plus ``<name>_raw`` for countries."""
    names = []
    for column in spec.columns:
        names.append(column.name)
        if column.type == "country":
            names.append(f"{column.name}_raw")
    return names


def _fixed_and_updatable(spec: Kind) -> tuple[list[str], list[str]]:
    """The stored columns a re-delivery must repeat, and those it may change."""
    fixed, updatable = [], []
    for column in spec.columns:
        target = updatable if column.updatable else fixed
        target.append(column.name)
        if column.type == "country":
            target.append(f"{column.name}_raw")
    return fixed, updatable


# -- before the load ------------------------------------------------------------------------


# The head of both statements that put rows into the quarantine.
_INSERT_REJECTED = (
        "INSERT INTO rejected_rows (batch_id, kind, record_no, line_no, reason, raw_record, file_sha256, "
        "reason_template)\n"
        "SELECT\n"
        "    $batch,\n"
        "    $kind,\n"
        "    x.record_no,\n"
        "    x.line_no,\n"
        "    x.reason,\n"
)


@_step
def objects_stored() -> Statement:
    """How many objects are stored: tips need them."""
    return Statement("SELECT count(*) FROM objects")


@_step
def memory_limit(limit: str) -> Statement:
    """Cap DuckDB's memory for the load's temporary tables (it spills them to disk)."""
    return Statement("SET memory_limit = $limit", {"limit": limit})


@_step
def reset_memory_limit() -> Statement:
    return Statement("RESET memory_limit")


@_step
def batch_number() -> Statement:
    """The load's batch id."""
    return Statement("SELECT nextval('load_batch_seq')")


# -- _stage: contract columns as trimmed text -----------------------------------------------


@_step
def value_map() -> Statement:
    """``_value_map``: the mapping file's value replacements, filled from :data:`VALUE_ROWS`."""
    return Statement("CREATE OR REPLACE TEMP TABLE _value_map (col VARCHAR, from_key VARCHAR, to_value VARCHAR)")


@_step
def value_map_fill() -> Statement:
    return Statement(f"INSERT INTO _value_map SELECT * FROM {VALUE_ROWS}")


@_step
def constants() -> Statement:
    """``_constants``: the mapping's constant per contract column, filled from :data:`CONSTANT_ROWS`
    (a table, so that no mapping value is written into the SQL text)."""
    return Statement(
        "CREATE OR REPLACE TEMP TABLE _constants AS\n"
        f"SELECT col, value FROM {CONSTANT_ROWS}"
    )


@_step
def skip_rows(count: int) -> Statement:
    """Delete the first ``count`` rows of ``_raw`` (the mapping's ``skip_rows``: not data)."""
    return Statement(
        "DELETE FROM _raw WHERE rowid < (SELECT min(rowid) FROM _raw) + $skip", {"skip": count}
    )


@_step
def reader_rejects_within(lines: int) -> Statement:
    """The first line among the first ``lines`` of a CSV file the reader could not split, or NULL."""
    return Statement("SELECT min(line_no) FROM _reader_rejects WHERE line_no <= $lines", {"lines": lines})


@_step
def raw_rows_before(count: int) -> Statement:
    """How many of the first ``count`` rows ``_raw`` has (what skip_rows will skip)."""
    return Statement(
        "SELECT count(*) FROM _raw WHERE rowid < (SELECT min(rowid) FROM _raw) + $skip", {"skip": count}
    )


@_step
def text_macro() -> Statement:
    """``_contract_text(v)``: a file value as contract text, trimmed, empty meaning no value."""
    # Trimming with a character set costs several times a plain scan; most values need none.
    # A value can start with white space only if its first byte is below "!" (space, tab, CR,
    # LF) or it is at least U+00A0 (the no-break spaces and the BOM): one comparison of bytes
    # (a left(v, 1) costs more); only those, and those ending in white space, are trimmed.
    return Statement(
        f"CREATE OR REPLACE TEMP MACRO {_TEXT_MACRO}(v) AS nullif(\n"
        "    -- the white space: space, tab, CR, LF, no-break spaces (U+00A0, U+2007, U+202F), BOM\n"
        "    CASE\n"
        "        WHEN v < '!' OR v >= chr(160)\n"
        f"          OR contains({_WHITESPACE_SQL}, right(v, 1))\n"
        f"        THEN trim(v, {_WHITESPACE_SQL})\n"
        "        ELSE v\n"
        "    END,\n"
        "    ''\n"
        ")"
    )


_OFFSET_MACRO = "_contract_offset"


def offset_macro() -> Statement:
    """``_contract_offset(o)``: the minutes east of UTC of an offset as TIMESTAMP_PATTERN splits
    it (``''`` for none, ``Z``, ``z``, ``±hh:mm``, ``±hhmm``, ``±hh``); NULL when it lies
    outside ±14:00 or has 60 or more minutes (contract v1.1: such a row is rejected)."""
    hours = "try_cast(substr(o, 2, 2) AS INTEGER)"
    minutes = "coalesce(try_cast(nullif(right(replace(o, ':', ''), -3), '') AS INTEGER), 0)"
    return Statement(
        f"CREATE OR REPLACE TEMP MACRO {_OFFSET_MACRO}(o) AS CASE\n"
        "    WHEN o IN ('', 'Z', 'z') THEN 0\n"
        f"    WHEN {minutes} < 60 AND {hours} * 60 + {minutes} <= {MAX_OFFSET_MINUTES}\n"
        f"    THEN CASE WHEN starts_with(o, '-') THEN -1 ELSE 1 END * ({hours} * 60 + {minutes})\n"
        "END"
    )


def _value(index: int | None) -> str:
    """The file's column ``index`` as contract text."""
    if index is None:
        return "NULL::VARCHAR"
    return f"{_TEXT_MACRO}({_col('r', f'c{index}')})"


def _record_number(alias: str = "r") -> str:
    """A row's record number: from 1 for the first row under the header, counted from the
    first row ``_raw`` had (``_raw_first``, kept before any row is deleted: the rows a
    mapping's skip_rows passes over, the rows found unchanged by fingerprint), so it holds
    whatever is deleted."""
    rowid = f"{alias}.rowid" if alias else "rowid"
    return f"{rowid} - (SELECT first FROM _raw_first) + 1"


@_step
def raw_first() -> Statement:
    """``_raw_first``: the rowid of ``_raw``'s first row, before any is deleted."""
    return Statement("CREATE OR REPLACE TEMP TABLE _raw_first AS SELECT min(rowid) AS first FROM _raw")


@_step
def delete_same() -> Statement:
    """Delete the rows found unchanged by fingerprint (``_same``) from ``_raw``: they are
    not parsed (their record numbers stay, :func:`_record_number`)."""
    return Statement("DELETE FROM _raw WHERE rowid IN (SELECT _rowid FROM _same)")


def pseudonym_of(plan: Plan, alias: str = "r") -> str:
    """A row's pseudonym: :data:`~caselib.domain.ingest.pseudonym.PSEUDONYM_FUNCTION` of the
    text ``column:value`` of the first contact column the row has a value in (columns
    ``c<i>`` of ``alias``; the value as contract text, lower-cased)."""
    parts = [
        f"{literal(name + ':')} || lower({_TEXT_MACRO}({_col(alias, f'c{i}')}))"
        for i, name in zip(plan.contact, plan.contact_names, strict=True)
    ]
    return f"{PSEUDONYM_FUNCTION}(coalesce(\n{_lines(parts, 2)}\n    ))"


@_step
def stage(
    spec: Kind, plan: Plan, mapping: Mapping, *, line_numbers: bool | str, pseudonymize: bool, contact_in_raw: bool = True,
    fingerprint: Sequence[int | None] | None = None,
) -> Statement:
    """``_stage``: one text column per contract column, picked by ``plan``, values mapped.

    ``_rec`` is the record number (from 1, in file order), ``_line`` the line number when
    the reader knows it (``line_numbers``: True for ``_raw._line``, ``"records"`` when each
    record is the line of its number), ``_pseudonym`` the row's pseudonym (:func:`pseudonym_of`). A
    reader that leaves the contact columns out of ``_raw`` (``contact_in_raw`` false)
    computes the pseudonym in its own projection, as ``_raw._pseudonym``. With
    ``fingerprint`` (the ``_raw`` columns a fingerprint hashes, for a kind that keeps them)
    each row has its ``_fingerprint`` (the rows found unchanged by theirs are deleted from
    ``_raw`` before: :func:`delete_same`).
    """
    mapped = {c for c, _, _ in mapping.value_rows(spec)}
    # Temporary tables number their rows from a large base; records count from 1.
    select = [
        f"{_record_number()} AS _rec",
        "r._line AS _line" if line_numbers is True
        else f"{_record_number()} AS _line" if line_numbers == "records" else "NULL::BIGINT AS _line",
    ]
    joins = []
    for column in spec.columns:
        expr = _value(plan.sources.get(column.name))
        if column.name in plan.first_of:  # the first non-empty, in the mapping's order
            expr = f"coalesce({', '.join(_value(i) for i in plan.first_of[column.name])})"
        elif column.name in mapping.constants:
            expr = f"(SELECT value FROM _constants WHERE col = {literal(column.name)})"
        fed = column.name in plan.sources or column.name in plan.first_of or column.name in mapping.constants
        if column.name in mapped and fed:
            alias = quote_ident(f"vm_{column.name}")
            joins.append(
                f"LEFT JOIN _value_map {alias}\n"
                f"    ON {alias}.col = {literal(column.name)} AND {alias}.from_key = lower({expr})"
            )
            expr = f"coalesce(nullif({alias}.to_value, ''), {expr})"
        select.append(f"{expr} AS {quote_ident(column.name)}")
    if pseudonymize and plan.contact:
        select.append(f"{pseudonym_of(plan) if contact_in_raw else 'r._pseudonym'} AS _pseudonym")
    else:
        select.append("NULL::VARCHAR AS _pseudonym")
    if fingerprint is not None:
        select.append(f"{fingerprint_of(fingerprint)} AS _fingerprint")
    sql = f"CREATE OR REPLACE TEMP VIEW _stage AS\nSELECT\n{_lines(select)}\nFROM _raw r"
    return Statement(sql + "".join("\n" + j for j in joins))


@_step
def drop_stage() -> list[Statement]:
    """Drop the view ``_stage`` and the macro it calls (views outlive a transaction's end)."""
    return [Statement("DROP VIEW IF EXISTS _stage"), Statement(f"DROP MACRO IF EXISTS {_TEXT_MACRO}")]


# -- _same: re-delivered rows found unchanged by their fingerprint --------------------------


def fingerprint_columns(spec: Kind, plan: Plan) -> list[int | None]:
    """The ``_raw`` columns a row's fingerprint hashes: the file column of each contract
    column in contract order (each of a mapping's first_of; None for one the file lacks or a
    mapping's constant, whose value the mapping's digest covers). Other columns, and the
    order of the file's, change no fingerprint."""
    columns: list[int | None] = []
    for column in spec.columns:
        if column.name in plan.sources:
            columns.append(plan.sources[column.name])
        elif column.name in plan.first_of:
            columns.extend(plan.first_of[column.name])
        else:
            columns.append(None)
    return columns


def fingerprint_of(columns: Sequence[int | None], alias: str = "r") -> str:
    """A row's fingerprint: a hash of the loader's rules and the mapping (the one-row table
    ``_fingerprint_rules``) and of the row's ``columns`` of ``_raw`` as read
    (:func:`fingerprint_columns`)."""
    values = ["NULL::VARCHAR" if i is None else _col(alias, f"c{i}") for i in columns]
    return f"hash({_FINGERPRINT_RULES}, " + ", ".join(values) + ")"


@_step
def fingerprint_rules(rules: str) -> Statement:
    """``_fingerprint_rules``: what every fingerprint of the load hashes beside the row
    (``rules``: the rules digest and the mapping's digest; a parameter)."""
    return Statement("CREATE OR REPLACE TEMP TABLE _fingerprint_rules AS SELECT $rules::VARCHAR AS v", {"rules": rules})


@_step
def same_table(spec: Kind) -> list[Statement]:
    """``_same``: the rows of the file that are a stored record unchanged, found by their
    fingerprint (filled by :func:`same_rows`; deleted from ``_raw`` then), with what the
    summary counts of them (whether coordinates were dropped, whether it kept an
    unrecognised country), and ``_same_raw``, those countries (:func:`same_kept_raw`)."""
    raws = [f"{quote_ident(c.name + '_raw')} VARCHAR" for c in country_columns(spec)]
    return [
        Statement("CREATE OR REPLACE TEMP TABLE _same (_rowid BIGINT, k VARCHAR, coords_dropped BOOLEAN, kept_raw BOOLEAN)"),
        Statement(f"CREATE OR REPLACE TEMP TABLE _same_raw ({', '.join(raws) or '_none VARCHAR'})"),
    ]


@_step
def fingerprinted(spec: Kind) -> Statement:
    """Whether any stored record of ``spec`` has a fingerprint (a first load has none)."""
    return Statement(f"SELECT EXISTS (SELECT 1 FROM {FINGERPRINTED[spec.name]})")


def can_match(spec: Kind, plan: Plan, mapping: Mapping) -> bool:
    """Whether rows of this file can be found unchanged by fingerprint: the key comes
    straight from one file column, so :func:`same_rows` reads it as ``_stage`` would."""
    mapped = {c for c, _, _ in mapping.value_rows(spec)} | set(mapping.constants) | set(plan.first_of)
    return spec.name in FINGERPRINTED and spec.key in plan.sources and spec.key not in mapped


@_step
def same_rows(spec: Kind, plan: Plan, columns: Sequence[int | None]) -> Statement:
    """Fill ``_same``: each row whose fingerprint (:func:`fingerprint_of` its ``columns``)
    is its stored record's, and whose key appears once in the file (a key given twice goes
    through the duplicate check). Such a row is the text the stored record was made from,
    under the same rules, so it is unchanged: it is neither parsed nor compared again."""
    key = quote_ident(spec.key)
    given = _value(plan.sources[spec.key])
    inner = ["r.rowid AS _rowid", f"{given} AS k", f"{fingerprint_of(columns)} AS fp"]
    # joined on the fingerprint alone (a number, the faster join), the key checked after; a
    # key given twice is found by its hash (a collision only sends rows to the full check)
    return Statement(
        "INSERT INTO _same\n"
        "SELECT s._rowid, s.k, f.coords_dropped, f.kept_raw\n"
        f"FROM (SELECT {', '.join(inner)} FROM _raw r) s\n"
        f"JOIN {FINGERPRINTED[spec.name]} f ON f.fingerprint = s.fp\n"
        f"WHERE f.{key} = s.k\n"
        f"  AND hash(s.k) NOT IN (SELECT hash({given}) FROM _raw r GROUP BY 1 HAVING count(*) > 1)",
    )


@_step
def same_kept_raw(spec: Kind) -> Statement:
    """``_same_raw``: the stored ``*_raw`` values (unrecognised countries) of the rows in
    ``_same`` that kept one, for the summary, which counts them as a full load would."""
    key = quote_ident(spec.key)
    raws = [_col("t", c.name + "_raw") for c in country_columns(spec)]
    return Statement(
        "CREATE OR REPLACE TEMP TABLE _same_raw AS\n"
        f"SELECT {', '.join(raws)}\n"
        f"FROM {quote_ident(spec.name)} t\n"
        f"WHERE t.{key} IN (SELECT k FROM _same WHERE kept_raw)"
    )


# -- _country_map: each distinct country spelling, normalised in Python ---------------------


@_step
def country_map() -> Statement:
    """``_country_map``: raw spelling -> alpha-3 code, filled from :data:`COUNTRY_ROWS`."""
    return Statement("CREATE OR REPLACE TEMP TABLE _country_map (raw VARCHAR PRIMARY KEY, alpha3 VARCHAR)")


@_step
def country_values(spec: Kind) -> Statement | None:
    """The distinct country spellings in ``_stage`` (None when ``spec`` has no country column)."""
    columns = country_columns(spec)
    if not columns:
        return None
    union = "\n    UNION\n".join(f"    SELECT {quote_ident(c.name)} AS v FROM _stage" for c in columns)
    return Statement(f"SELECT DISTINCT v\nFROM (\n{union}\n)\nWHERE v IS NOT NULL")


@_step
def country_map_fill() -> Statement:
    return Statement(f"INSERT INTO _country_map SELECT * FROM {COUNTRY_ROWS}")


# -- _norm: typed values and the reasons a row is rejected ----------------------------------


def _quoted(expr: str) -> str:
    """A value shown inside a rejection reason, shortened."""
    return f"'\"' || left({expr}, 60) || '\"'"


def _because(condition: str, column: str, value: str, rest: str) -> tuple[str, str]:
    """A rejection reason about ``value`` of ``column`` when ``condition`` holds, and its
    template: the same wording with ``"…"`` for the value. Both come from this one wording,
    so the template is the reason without anything from the file, by construction; the
    report groups by it (a value may hold anything, quotes included)."""

    def word(shown: str) -> str:
        return f"CASE WHEN {condition}\n            THEN {literal(column + ' ')} || {shown} || {rest} END"

    return word(_quoted(value)), word(literal('"…"'))


@_step
def normalise(spec: Kind, *, now: dt.datetime, formats: dict[str, str] | None = None) -> Statement:
    """``_norm``: typed values, and ``_reason`` listing everything wrong with a row.

    The inner query parses each value once (``p.<name>__v``); the outer one picks the
    stored values and words the reasons, so no value is parsed twice; the pseudonym comes
    from ``_stage``. ``now`` is the time of loading (naive UTC). ``formats`` (the mapping's)
    gives a date or timestamp column a strptime format in place of ISO 8601.
    """
    formats = formats or {}
    parts = []  # innermost: what a value is split into before it is parsed
    parsed = ["s.*"]  # inner: the stage's text columns, plus parsed values
    select = ["p._rec", "p._line"]  # outer: what _norm holds
    reasons = []
    joins = []
    for column in spec.columns:
        name = column.name
        ident = quote_ident(name)
        text, value, source = _col("p", name), _col("p", f"{name}__v"), _col("s", name)
        parsed_as = quote_ident(f"{name}__v")
        if column.required:
            missing = f"CASE WHEN {text} IS NULL THEN {literal('missing ' + name)} END"
            reasons.append((missing, missing))
        if column.type == "text":
            select.append(f"{text} AS {ident}")
        elif column.type == "enum":
            default = literal(column.default) if column.default else "NULL"
            values = f"$values_{name}"
            select.append(f"coalesce(lower({text}), {default}) AS {ident}")
            reasons.append(_because(
                f"{text} IS NOT NULL AND NOT list_contains({values}, lower({text}))",
                name, text, f"' is not one of ' || array_to_string({values}, ', ')",
            ))
        elif column.type in ("date", "timestamp") and name in formats:
            # The mapping's format instead of ISO 8601 (a parameter: the mapping's text is
            # never SQL); with %z the time is converted to UTC, without it is UTC.
            fmt = f"$format_{name}"
            parse = f"try_strptime({source}, {fmt})"
            if column.type == "date":
                parse = f"CAST({parse} AS DATE)"
            elif "%z" in formats[name]:
                parse = f"timezone('UTC', {parse})"
            parsed.append(f"{parse} AS {parsed_as}")
            select.append(f"{value} AS {ident}")
            if column.type == "timestamp":
                reasons.append(_because(
                    f"{value} > $now + INTERVAL 1 DAY",
                    name, text, literal(AFTER_LOADING),
                ))
            reasons.append(_because(
                f"{text} IS NOT NULL AND {value} IS NULL", name, text,
                f"' does not match the format ' || {fmt}",
            ))
        elif column.type in ("date", "timestamp"):
            if column.type == "date":
                parse = f"CASE WHEN regexp_full_match({source}, $date_pattern) THEN try_cast({source} AS DATE) END"
                wanted = "a date (YYYY-MM-DD)"
            else:
                # Most values have the plain form DuckDB's own cast reads right (and fast); only
                # the others are split into their parts and parsed from those.
                parts.append(f"regexp_full_match({ident}, $timestamp_plain) AS {quote_ident(f'{name}__plain')}")
                plain = _col("s", f"{name}__plain")
                split = f"regexp_extract({source}, $timestamp_pattern, $timestamp_parts)"
                slow, offset_invalid = _timestamp(split)
                parse = (f"CASE WHEN {plain} THEN try_cast({source} AS TIMESTAMPTZ)::TIMESTAMP\n"
                         f"            ELSE {slow} END")
                bad_offset = _col("p", f"{name}__bad_offset")
                parsed.append(f"CASE WHEN {plain} THEN false ELSE struct_extract({split}, 'day') <> '' AND {offset_invalid} END"
                              f" AS {quote_ident(f'{name}__bad_offset')}")
                wanted = "an ISO 8601 timestamp"
                reasons.append(_because(
                    f"{value} > $now + INTERVAL 1 DAY",
                    name, text, literal(AFTER_LOADING),
                ))
                reasons.append(_because(
                    bad_offset, name, text,
                    literal(" has an offset outside -14:00 to +14:00 or with 60 or more minutes"),
                ))
            parsed.append(f"{parse} AS {parsed_as}")
            select.append(f"{value} AS {ident}")
            invalid = f"{text} IS NOT NULL AND {value} IS NULL"
            if column.type == "timestamp":
                invalid += f" AND NOT {_col('p', f'{name}__bad_offset')}"
            reasons.append(_because(invalid, name, text, literal(" is not " + wanted)))
        elif column.type == "country":
            alias = quote_ident(f"cm_{name}")
            joins.append(f"LEFT JOIN _country_map {alias} ON {alias}.raw = {source}")
            parsed.append(f"{alias}.alpha3 AS {parsed_as}")
            select.append(f"{value} AS {ident}")
            select.append(f"CASE WHEN {value} IS NULL THEN {text} END AS {quote_ident(name + '_raw')}")
        elif column.type == "language":
            parsed.append(f"lower(split_part(replace({source}, '_', '-'), '-', 1)) AS {parsed_as}")
            select.append(f"CASE WHEN list_contains($languages, {value}) THEN {value} END AS {ident}")
            reasons.append(_because(
                f"{text} IS NOT NULL AND NOT list_contains($languages, {value})",
                name, text, literal(" is not an ISO 639-1 language code"),
            ))
    if _has_coordinates(spec):
        parsed.append(f"try_cast({_col('s', 'latitude')} AS DOUBLE) AS {quote_ident('latitude__v')}")
        parsed.append(f"try_cast({_col('s', 'longitude')} AS DOUBLE) AS {quote_ident('longitude__v')}")
        lat, lon = _col("p", "latitude__v"), _col("p", "longitude__v")
        valid = (
            f"(\n        {lat} BETWEEN -90 AND 90 AND {lon} BETWEEN -180 AND 180\n"
            f"        AND isfinite({lat}) AND isfinite({lon})\n    )"
        )
        select.append(f"CASE WHEN {valid} THEN {lat} END AS {quote_ident('latitude')}")
        select.append(f"CASE WHEN {valid} THEN {lon} END AS {quote_ident('longitude')}")
        select.append(
            f"({_col('p', 'latitude')} IS NOT NULL OR {_col('p', 'longitude')} IS NOT NULL)"
            f" AND NOT coalesce({valid}, false) AS _coords_dropped"
        )
    if spec.reference:
        column, target = spec.reference
        target_key = contract.kind(target).key
        ref_key = _col("ref", target_key)
        joins.append(f"LEFT JOIN {quote_ident(target)} ref ON {ref_key} = {_col('s', column)}")
        parsed.append(f"{ref_key} IS NOT NULL AS _known_reference")
        reasons.append(_because(
            f"{_col('p', column)} IS NOT NULL AND NOT p._known_reference",
            column, _col("p", column), literal(NOT_KNOWN + target[:-1]),
        ))
    select.append("p._pseudonym")
    if spec.name in FINGERPRINTED:
        select.append("p._fingerprint")
    select.append(f"nullif(concat_ws('; ',\n{_lines([r for r, _ in reasons], 2)}\n    ), '') AS _reason")
    select.append(f"nullif(concat_ws('; ',\n{_lines([t for _, t in reasons], 2)}\n    ), '') AS _reason_template")
    stage = f"(SELECT *, {', '.join(parts)} FROM _stage)" if parts else "_stage"
    inner = f"    SELECT\n{_lines(parsed, 2)}\n    FROM {stage} s" + "".join(f"\n    {j}" for j in joins)
    sql = f"CREATE OR REPLACE TEMP TABLE _norm AS\nSELECT\n{_lines(select)}\nFROM (\n{inner}\n) p"
    return Statement(sql, _normalise_params(spec, now, formats))


def _timestamp(parts: str) -> tuple[str, str]:
    """(the UTC timestamp, whether the offset is invalid) of a value split by TIMESTAMP_PATTERN
    into the struct ``parts``: the local time, fraction kept to the microsecond, minus the
    offset. A missing time is midnight, a missing offset UTC; an invalid offset
    (:func:`offset_macro`) gives no timestamp and is never applied."""
    def part(name: str) -> str:
        return f"struct_extract({parts}, '{name}')"

    offset = f"{_OFFSET_MACRO}({part('offset')})"
    local = (
        f"try_cast({part('day')} || ' ' || coalesce(nullif({part('hour')}, ''), '00') || ':'"
        f" || coalesce(nullif({part('minute')}, ''), '00') || ':' || coalesce(nullif({part('second')}, ''), '00')"
        f" || CASE WHEN {part('fraction')} <> '' THEN '.' || left({part('fraction')}, 6) ELSE '' END AS TIMESTAMP)"
    )
    return f"{local} - to_minutes({offset})", f"{offset} IS NULL"


def _normalise_params(spec: Kind, now: dt.datetime, formats: dict[str, str]) -> dict:
    params: dict[str, Any] = {}
    for column in spec.columns:
        if column.name in formats:
            params[f"format_{column.name}"] = formats[column.name]
            if column.type == "timestamp":
                params["now"] = now
        elif column.type == "enum":
            params[f"values_{column.name}"] = list(column.values)
        elif column.type == "date":
            params["date_pattern"] = DATE_PATTERN
        elif column.type == "timestamp":
            params["timestamp_pattern"] = TIMESTAMP_PATTERN
            params["timestamp_parts"] = list(TIMESTAMP_PARTS)
            params["timestamp_plain"] = TIMESTAMP_PLAIN
            params["now"] = now
        elif column.type == "language":
            params["languages"] = sorted(language_codes())
    return params


# -- _dups and _cmp: each valid row against the file's others and the stored one ------------


@_step
def duplicates(spec: Kind) -> Statement:
    """``_dups``: valid rows whose key an earlier row of the file has; ``same`` if identical."""
    key = quote_ident(spec.key)
    row_hash = "hash(\n" + _lines([_col("n", c) for c in _stored_columns(spec)], 3) + "\n        )"
    return Statement(
        "CREATE OR REPLACE TEMP TABLE _dups AS\n"
        "WITH dup_keys AS (\n"
        f"    SELECT {key} AS k, min(_rec) AS first_rec\n"
        "    FROM _norm\n"
        "    WHERE _reason IS NULL\n"
        f"    GROUP BY {key}\n"
        "    HAVING count(*) > 1\n"
        "), hashed AS (\n"
        "    SELECT\n"
        "        n._rec,\n"
        "        n._line,\n"
        f"        {_col('n', spec.key)} AS k,\n"
        f"        {row_hash} AS h,\n"
        "        d.first_rec\n"
        "    FROM _norm n\n"
        f"    JOIN dup_keys d ON d.k = {_col('n', spec.key)}\n"
        "    WHERE n._reason IS NULL\n"
        ")\n"
        "SELECT h._rec, h._line, h.k, h.first_rec, h.h = f.h AS same\n"
        "FROM hashed h\n"
        "JOIN hashed f ON f._rec = h.first_rec\n"
        "WHERE h._rec <> h.first_rec"
    )


@_step
def compare(spec: Kind) -> Statement:
    """``_cmp``: each valid row not a duplicate whose key is stored, as unchanged, update or
    conflict; the other valid rows not duplicates are inserts (not in ``_cmp``: a first load
    compares nothing).

    ``changed`` names the columns a conflict changes (those a re-delivery may not).
    """
    fixed, updatable = _fixed_and_updatable(spec)

    def same(columns: list[str]) -> str:
        return _conditions([f"{_col('n', c)} IS NOT DISTINCT FROM {_col('t', c)}" for c in columns], 3)

    changed = [
        f"CASE WHEN {_col('n', c)} IS DISTINCT FROM {_col('t', c)} THEN {literal(c)} END" for c in fixed
    ]
    held = ANALYST_HELD.get(spec.name)
    return Statement(
        "CREATE OR REPLACE TEMP TABLE _cmp AS\n"
        "SELECT\n"
        "    _rec,\n"
        "    CASE\n"
        "        WHEN same_fixed AND same_updatable THEN 'unchanged'\n"
        + ("        WHEN same_fixed AND held THEN 'disagree'\n" if held else "")
        + "        WHEN same_fixed THEN 'update'\n"
        "        ELSE 'conflict'\n"
        "    END AS action,\n"
        "    changed\n"
        "FROM (\n"
        "    SELECT\n"
        "        n._rec,\n"
        f"        {same(fixed)} AS same_fixed,\n"
        f"        {same(updatable)} AS same_updatable,\n"
        + (f"        {_col('t', spec.key)} IN ({held}) AS held,\n" if held else "")
        + f"        concat_ws(', ',\n{_lines(changed, 3)}\n        ) AS changed\n"
        "    FROM _norm n\n"
        f"    JOIN {quote_ident(spec.name)} t ON {_col('t', spec.key)} = {_col('n', spec.key)}\n"
        "    WHERE n._reason IS NULL AND n._rec NOT IN (SELECT _rec FROM _dups)\n"
        ")"
    )


@_step
def counts() -> Statement:
    """(outcome, rows): ``_cmp``'s actions, ``insert`` (the valid rows neither duplicates nor
    in ``_cmp``), ``invalid``, ``dup_same``/``dup_conflict``, ``reader``, and ``same`` (rows
    found unchanged by their fingerprint, not parsed)."""
    return Statement(
        "SELECT action, count(*) FROM _cmp GROUP BY action\n"
        "UNION ALL\n"
        "SELECT 'insert', (SELECT count(*) FROM _norm WHERE _reason IS NULL) - (SELECT count(*) FROM _dups)"
        " - (SELECT count(*) FROM _cmp)\n"
        "UNION ALL\n"
        "SELECT 'invalid', count(*) FROM _norm WHERE _reason IS NOT NULL\n"
        "UNION ALL\n"
        "SELECT CASE WHEN same THEN 'dup_same' ELSE 'dup_conflict' END, count(*) FROM _dups GROUP BY same\n"
        "UNION ALL\n"
        "SELECT 'reader', count(*) FROM _reader_rejects\n"
        "UNION ALL\n"
        "SELECT 'same', count(*) FROM _same"
    )


# -- writes ---------------------------------------------------------------------------------


@_step
def rejects(spec: Kind, headers: Sequence[str], plan: Plan, *, batch: int, sha256: str) -> Statement:
    """Quarantine the rows ``_norm``, ``_dups`` and ``_cmp`` reject, with their raw record.

    Each reason comes with its template (``reason_template``): the same wording with every
    value from the file left out (``"…"``), which the report groups by.

    The raw record keeps every column but the contact columns, under the file's headers
    (parameters ``$h<i>``). A row already quarantined from the same file is not repeated.
    """
    contact = set(plan.contact)
    params: dict[str, Any] = {"batch": batch, "kind": spec.name, "sha": sha256}
    pairs = []
    for i in range(len(headers)):
        if i in contact:
            continue
        params[f"h{i}"] = str(headers[i])
        pairs.append(f"$h{i}, {_col('r', f'c{i}')}")
    raw_json = f"json_object(\n{_lines(pairs, 2)}\n    )" if pairs else "'{}'::JSON"
    allowed = ", ".join(sorted(c.name for c in spec.columns if c.updatable))
    key = spec.key
    appears_again = literal(f'{key} "')
    redelivery = literal(f'conflict: this re-delivery of {key} "')
    kept = literal(f" (only {allowed} may change); the stored record was kept")
    return Statement(
        _INSERT_REJECTED +
        f"    {raw_json},\n"
        "    $sha,\n"
        "    x.template\n"
        "FROM (\n"
        "    SELECT n._rec AS record_no, n._line AS line_no, n._reason AS reason, n._reason_template AS template\n"
        "    FROM _norm n\n"
        "    WHERE n._reason IS NOT NULL\n"
        "    UNION ALL\n"
        "    SELECT\n"
        "        d._rec,\n"
        "        d._line,\n"
        f"        {appears_again} || d.k || '\" appears again in this file with different values; '\n"
        "        || 'record ' || d.first_rec || ' was used',\n"
        f"        {appears_again} || '…\" appears again in this file with different values'\n"
        "    FROM _dups d\n"
        "    WHERE NOT d.same\n"
        "    UNION ALL\n"
        "    SELECT\n"
        "        c._rec,\n"
        "        n._line,\n"
        f"        {redelivery} || {_col('n', key)}\n"
        "        || '\" changes ' || c.changed\n"
        f"        || {kept},\n"
        f"        {redelivery} || '…\" changes ' || c.changed || {kept}\n"
        "    FROM _cmp c\n"
        "    JOIN _norm n USING (_rec)\n"
        "    WHERE c.action = 'conflict'\n"
        ") x\n"
        f"JOIN (SELECT {_record_number('')} AS record_no, * FROM _raw) r\n"
        "    ON r.record_no = x.record_no\n"
        "WHERE NOT EXISTS (\n"
        "    SELECT 1 FROM rejected_rows q\n"
        "    WHERE q.file_sha256 = $sha AND q.kind = $kind\n"
        "      AND q.record_no = x.record_no AND q.reason = x.reason\n"
        ")",
        params,
    )


@_step
def reader_rejects(spec: Kind, plan: Plan, *, batch: int, sha256: str) -> Statement:
    """Quarantine the records the reader could not split (``_reader_rejects``).

    Nothing of their text is kept, only their length: a record that could not be split
    into fields has no columns to tell contact data by (a ragged CSV line's extra field, a
    JSON Lines line that is not an object), so any of its values may be an address or a
    phone number. The line number and the file's SHA-256 find it in the file.
    """
    return Statement(
        _INSERT_REJECTED +
        "    json_object('length', x.length),\n"
        "    $sha,\n"
        "    x.template\n"
        "FROM _reader_rejects x\n"
        "WHERE NOT EXISTS (\n"
        "    SELECT 1 FROM rejected_rows q\n"
        "    WHERE q.file_sha256 = $sha AND q.kind = $kind\n"
        "      AND q.line_no IS NOT DISTINCT FROM x.line_no AND q.record_no IS NOT DISTINCT FROM x.record_no\n"
        "      AND starts_with(q.reason, x.reason)\n"
        ")",
        {"batch": batch, "kind": spec.name, "sha": sha256},
    )


@_step
def inserts(spec: Kind, *, batch: int) -> Statement:
    """Insert the valid rows neither duplicates nor in ``_cmp`` (tips with their reporter's pseudonym)."""
    columns = [quote_ident(c) for c in _stored_columns(spec)]
    values = [_col("n", c) for c in _stored_columns(spec)]
    if spec.name == "tips":
        columns.append("reporter_pseudonym")
        values.append("n._pseudonym")
    columns.append("batch_id")
    values.append("$batch")
    return Statement(
        f"INSERT INTO {quote_ident(spec.name)} (\n{_lines(columns)}\n)\n"
        f"SELECT\n{_lines(values)}\n"
        "FROM _norm n\n"
        "WHERE n._reason IS NULL\n"
        "  AND n._rec NOT IN (SELECT _rec FROM _dups)\n"
        "  AND n._rec NOT IN (SELECT _rec FROM _cmp)",
        {"batch": batch},
    )


@_step
def disagreements(spec: Kind, *, batch: int, now: dt.datetime) -> Statement | None:
    """Keep in the triage history each re-delivered tip whose triage an analyst decided and the
    file would change (``disagree`` in ``_cmp``), as source ``intake_disagrees``: the stored
    values (the analyst's) and the file's, not applied. A disagreement already kept since the
    analyst's last decision, with the same values from the file, is not kept again (a file
    loaded again adds nothing). None for a kind no analyst decides on."""
    if spec.name not in ANALYST_HELD:
        return None
    return Statement(
        "INSERT INTO tip_triage_history (tip_id, batch_id, changed_at, old_triage_status, new_triage_status,\n"
        "                                old_forwarded_to, new_forwarded_to, source)\n"
        "SELECT t.tip_id, $batch, $now, t.triage_status, n.triage_status, t.forwarded_to, n.forwarded_to,\n"
        "       'intake_disagrees'\n"
        "FROM _norm n\n"
        "JOIN _cmp c USING (_rec)\n"
        "JOIN tips t ON t.tip_id = n.tip_id\n"
        "WHERE c.action = 'disagree'\n"
        "  AND NOT EXISTS (\n"
        "      SELECT 1 FROM tip_triage_history h\n"
        "      WHERE h.tip_id = t.tip_id AND h.source = 'intake_disagrees'\n"
        "        AND h.new_triage_status = n.triage_status\n"
        "        AND h.new_forwarded_to IS NOT DISTINCT FROM n.forwarded_to\n"
        "        AND h.changed_at >= (SELECT max(a.changed_at) FROM tip_triage_history a\n"
        "                             WHERE a.tip_id = t.tip_id AND a.source = 'analyst')\n"
        "  )",
        {"batch": batch, "now": now},
    )


@_step
def history(spec: Kind, *, batch: int, now: dt.datetime) -> Statement | None:
    """Record the stored values an update replaces: tips' triage, objects' updatable columns.

    None for a kind without a history table (waves).
    """
    params = {"batch": batch, "now": now}
    if spec.name == "tips":
        return Statement(
            "INSERT INTO tip_triage_history (tip_id, batch_id, changed_at, old_triage_status, new_triage_status,\n"
            "                                old_forwarded_to, new_forwarded_to)\n"
            "SELECT t.tip_id, $batch, $now, t.triage_status, n.triage_status, t.forwarded_to, n.forwarded_to\n"
            "FROM _norm n\n"
            "JOIN _cmp c USING (_rec)\n"
            "JOIN tips t ON t.tip_id = n.tip_id\n"
            "WHERE c.action = 'update'",
            params,
        )
    if spec.name == "objects":
        _, updatable = _fixed_and_updatable(spec)
        old = [f"{literal(c)}, {_col('t', c)}" for c in updatable]
        new = [f"{literal(c)}, {_col('n', c)}" for c in updatable]
        return Statement(
            "INSERT INTO object_history\n"
            "SELECT\n"
            "    t.object_id,\n"
            "    $batch,\n"
            "    $now,\n"
            f"    json_object(\n{_lines(old, 2)}\n    ),\n"
            f"    json_object(\n{_lines(new, 2)}\n    )\n"
            "FROM _norm n\n"
            "JOIN _cmp c USING (_rec)\n"
            "JOIN objects t ON t.object_id = n.object_id\n"
            "WHERE c.action = 'update'",
            params,
        )
    return None


@_step
def updates(spec: Kind, *, batch: int) -> Statement | None:
    """Apply the rows ``_cmp`` marks ``update`` (None when nothing may change)."""
    _, updatable = _fixed_and_updatable(spec)
    if not updatable:
        return None
    table, key = quote_ident(spec.name), quote_ident(spec.key)
    assignments = [f"{quote_ident(c)} = {_col('n', c)}" for c in updatable] + ["updated_batch_id = $batch"]

    return Statement(
        f"UPDATE {table} SET\n{_lines(assignments)}\n"
        "FROM (SELECT n.* FROM _norm n JOIN _cmp c USING (_rec) WHERE c.action = 'update') n\n"
        f"WHERE {table}.{key} = n.{key}",
        {"batch": batch},
    )


@_step
def fingerprints(spec: Kind) -> list[Statement]:
    """Keep the fingerprint of every row this load inserted, updated or compared unchanged
    (the next delivery of the same text needs no comparison: a tip stored before
    fingerprints, or last delivered in other words, such as "DE" for "Germany", gets the
    fingerprint of this delivery); none for a kind without fingerprints."""
    if spec.name not in FINGERPRINTED:
        return []
    table, key = FINGERPRINTED[spec.name], quote_ident(spec.key)
    compared = "(SELECT _rec FROM _cmp WHERE action IN ('update', 'unchanged'))"
    kept_raw = " OR ".join(_col("n", c.name + "_raw") + " IS NOT NULL" for c in country_columns(spec)) or "false"
    dropped = "n._coords_dropped" if _has_coordinates(spec) else "false"
    return [
        Statement(f"DELETE FROM {table} WHERE {key} IN (SELECT n.{key} FROM _norm n WHERE n._rec IN {compared})"),
        Statement(
            f"INSERT INTO {table}\n"
            f"SELECT n.{key}, n._fingerprint, {dropped}, {kept_raw}\n"
            "FROM _norm n\n"
            "WHERE n._reason IS NULL\n"
            "  AND n._rec NOT IN (SELECT _rec FROM _dups)\n"
            f"  AND (n._rec NOT IN (SELECT _rec FROM _cmp) OR n._rec IN {compared})"
        ),
    ]


# -- what the summary reports ---------------------------------------------------------------


def _kept_raw(column: Column) -> str:
    """The ``*_raw`` values of ``column`` of the valid rows: parsed (``_norm``) or found
    unchanged (``_same_raw``, their stored values)."""
    raw = quote_ident(f"{column.name}_raw")
    return (
        f"(SELECT {raw} AS v FROM _norm WHERE _reason IS NULL AND {raw} IS NOT NULL\n"
        f"      UNION ALL SELECT {raw} FROM _same_raw WHERE {raw} IS NOT NULL)"
    )


@_step
def unrecognised_examples(column: Column) -> Statement:
    """The five commonest spellings of ``column`` (a country column) kept raw, with counts."""
    return Statement(
        "SELECT v, count(*) AS n\n"
        f"FROM {_kept_raw(column)}\n"
        "GROUP BY 1\n"
        "ORDER BY n DESC, 1\n"
        "LIMIT 5"
    )


@_step
def unrecognised_count(column: Column) -> Statement:
    """How many valid rows keep ``column`` (a country column) raw."""
    return Statement(f"SELECT count(*) FROM {_kept_raw(column)}")


@_step
def coordinates_dropped(spec: Kind) -> Statement | None:
    """How many rows lost an invalid coordinate pair (None for a kind without coordinates)."""
    if not _has_coordinates(spec):
        return None
    return Statement(
        "SELECT (SELECT count(*) FROM _norm WHERE _coords_dropped) + (SELECT count(*) FROM _same WHERE coords_dropped)"
    )


@_step
def previous_batch(spec: Kind, sha256: str) -> Statement:
    """The last batch that loaded the same file as ``spec`` (NULL when none did)."""
    return Statement(
        "SELECT max(batch_id) FROM load_batches WHERE file_sha256 = $sha AND kind = $kind",
        {"sha": sha256, "kind": spec.name},
    )


@_step
def future_from(spec: Kind) -> Statement | None:
    """The earliest time among the rows ``_norm`` rejects as after the time of loading (NULL
    when none is); None for a kind without timestamps."""
    stamps = [c.name for c in spec.columns if c.type == "timestamp"]
    if not stamps:
        return None
    least = f"least({', '.join(quote_ident(s) for s in stamps)})" if len(stamps) > 1 else quote_ident(stamps[0])
    return Statement(
        f"SELECT min({least})::VARCHAR FROM _norm WHERE contains(_reason_template, $after_loading)",
        {"after_loading": AFTER_LOADING},
    )


@_step
def previous_outcome(spec: Kind, *, sha256: str, mapping_sha256: str | None, pseudonymized: bool, now: dt.datetime) -> Statement:
    """The last load of the same file (same kind, mapping and pseudonymising) whose outcome a
    re-load would repeat row for row, with its counts and details; no row when there is none.

    It would when nothing has changed what the file's rows are compared with: no later load
    updated a stored record of the kind (``updated_batch_id``), no later change is in its
    history (tips' triage, objects' columns), no object was closed or reopened since (for
    objects), the rows quarantined for a reason that depends on the time of loading are still
    after this one's (``details.future_from``, the earliest of them), those quarantined for
    naming an unknown record still do (none of that kind loaded since), and this load is not
    earlier than that one. The loader also compares the rules that load used
    (``details.rules``).
    """
    table = quote_ident(spec.name)
    checks = [f"(SELECT coalesce(max(updated_batch_id), 0) FROM {table}) <= b.batch_id"]
    if spec.name == "tips":
        checks.append(
            "NOT EXISTS (SELECT 1 FROM tip_triage_history h WHERE h.batch_id > b.batch_id OR h.changed_at > b.finished_at)"
        )
    if spec.name == "objects":
        checks.append("NOT EXISTS (SELECT 1 FROM object_history h WHERE h.batch_id > b.batch_id)")
        checks.append(
            "NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action IN ('close', 'reopen') AND a.recorded_at >= b.started_at)"
        )
    # Rejections that depend on more than the row hold again only if what they depend on
    # has not changed: rows received "in the future" are still after this load's time, and
    # no record of the kind referred to (objects, for tips) was loaded since.
    quarantined = (
        "EXISTS (SELECT 1 FROM rejected_rows q WHERE q.file_sha256 = $sha AND q.kind = $kind\n"
        "        AND contains(coalesce(q.reason_template, q.reason), {}))"
    )
    checks.append(
        f"(NOT {quarantined.format('$after_loading')}\n"
        "        OR $now + INTERVAL 1 DAY < CAST(b.details->>'future_from' AS TIMESTAMP))"
    )
    if spec.reference:
        target = quote_ident(spec.reference[1])
        checks.append(
            f"(NOT {quarantined.format('$not_known')}\n"
            f"        OR NOT EXISTS (SELECT 1 FROM {target} x WHERE x.batch_id > b.batch_id))"
        )
    params = {"sha": sha256, "kind": spec.name, "mapping_sha": mapping_sha256, "pseudo": pseudonymized, "now": now,
              "after_loading": AFTER_LOADING}
    if spec.reference:
        params["not_known"] = NOT_KNOWN
    return Statement(
        "SELECT b.batch_id, b.rows_read, b.inserted, b.updated, b.unchanged, b.rejected, b.details\n"
        "FROM load_batches b\n"
        "WHERE b.file_sha256 = $sha AND b.kind = $kind AND b.mapping_sha256 IS NOT DISTINCT FROM $mapping_sha\n"
        "  AND b.pseudonymized = $pseudo AND b.started_at <= $now\n"
        "  AND b.batch_id = (SELECT max(batch_id) FROM load_batches WHERE file_sha256 = $sha AND kind = $kind)\n"
        f"  AND {_conditions(checks, 2)}",
        params,
    )


@_step
def raw_records() -> Statement:
    """How many records the reader split into fields and ``_raw`` still holds (not the rows
    found unchanged by fingerprint, counted apart)."""
    return Statement("SELECT count(*) FROM _raw")


@_step
def record_batch(
    *,
    batch: int,
    kind: str,
    file: str,
    sha256: str,
    fmt: str,
    mapping_name: str | None,
    mapping_sha256: str | None,
    pseudonymized: bool,
    origin: str,
    read: int,
    inserted: int,
    updated: int,
    unchanged: int,
    rejected: int,
    details: str,
    started: dt.datetime,
    finished: dt.datetime,
    user: str,
) -> Statement:
    """The ``load_batches`` row of a load (``details`` is JSON text)."""
    return Statement(
        "INSERT INTO load_batches VALUES (\n"
        "    $batch, $kind, $file, $sha, $fmt, $mapping_name, $mapping_sha, $pseudo, $origin,\n"
        "    $read, $inserted, $updated, $unchanged, $rejected, $details, $started, $finished, $user\n"
        ")",
        {
            "batch": batch,
            "kind": kind,
            "file": file,
            "sha": sha256,
            "fmt": fmt,
            "mapping_name": mapping_name,
            "mapping_sha": mapping_sha256,
            "pseudo": pseudonymized,
            "origin": origin,
            "read": read,
            "inserted": inserted,
            "updated": updated,
            "unchanged": unchanged,
            "rejected": rejected,
            "details": details,
            "started": started,
            "finished": finished,
            "user": user,
        },
    )


@_step
def drop_temporary() -> list[Statement]:
    """Drop the load's temporary tables (:data:`TEMP_TABLES`)."""
    return [Statement(f"DROP TABLE IF EXISTS {table}") for table in TEMP_TABLES]
