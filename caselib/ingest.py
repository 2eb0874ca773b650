"""Loading contract files into the store: validated, normalised, idempotent, all or nothing.

A load runs in one transaction through temporary tables, each step one set-based
statement inside DuckDB:

1. read the file into ``_raw`` (text columns ``c0…``; see :mod:`caselib.readers`);
2. ``_stage``: contract columns picked by header (and mapping), trimmed, values mapped;
3. ``_norm``: typed values (UTC timestamps, dates, alpha-3 countries, enums), the reasons a
   row is rejected, dropped coordinates, pseudonyms;
4. ``_cmp``: each valid row compared with what is stored: insert, unchanged, update (only
   the columns the contract lets change) or conflict;
5. writes, the quarantine, and one ``load_batches`` row whose counts reconcile:
   read = inserted + updated + unchanged + rejected.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from caselib import contract
from caselib.audit import record_triage_changes
from caselib.contract import CONTACT_COLUMNS, Column, Kind
from caselib.countries import language_codes, normalise_country
from caselib.errors import CaselibError, FileLoadError
from caselib.mapping import Mapping, read_mapping
from caselib.progress import LoadProgress
from caselib.pseudonym import HMAC_SQL, load_key
from caselib.readers import RawFile, detect_format, read_into_store
from caselib.store import Store

__all__ = ["LoadResult", "load_file"]

# Spaces, tabs, line breaks and the no-break spaces spreadsheets leave behind. A constant of
# ours, so it is written into the SQL as a literal (it holds no quote).
_WHITESPACE_SQL = "' \t\r\n\u00a0\u2007\u202f\ufeff'"
TIMESTAMP_PATTERN = (
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?)?"
    r" ?(Z|z|[+-]\d{2}(:?\d{2})?)?"
)
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
PHASES = ("reading", "checking", "writing")
_TEMP_TABLES = ("_raw", "_reader_rejects", "_country_map", "_value_map", "_norm", "_dups", "_cmp")


@dataclass
class LoadResult:
    """What one load did. ``rows_read == inserted + updated + unchanged + rejected``."""

    batch_id: int
    kind: str
    file_name: str
    format: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    ignored_columns: list[str] = field(default_factory=list)
    contact_columns: list[str] = field(default_factory=list)
    unrecognised_countries: dict[str, dict] = field(default_factory=dict)
    coordinates_dropped: int = 0
    duplicates_in_file: int = 0
    previous_batch: int | None = None
    pseudonymized: bool = False
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.inserted + self.updated + self.unchanged + self.rejected

    def details(self) -> dict:
        return {
            "ignored_columns": self.ignored_columns,
            "contact_columns": self.contact_columns,
            "unrecognised_countries": self.unrecognised_countries,
            "coordinates_dropped": self.coordinates_dropped,
            "duplicates_in_file": self.duplicates_in_file,
            "previous_batch": self.previous_batch,
        }

    def summary(self) -> str:
        """The reconciliation summary printed after every load."""
        lines = [
            f"Loaded {self.kind} from {self.file_name} ({self.format}) as batch {self.batch_id} "
            f"in {self.seconds:.1f} s",
            f"  read {self.rows_read} = inserted {self.inserted} + updated {self.updated} "
            f"+ unchanged {self.unchanged} + rejected {self.rejected}"
            + ("" if self.reconciles else "  (DOES NOT RECONCILE)"),
        ]
        if self.previous_batch is not None:
            lines.append(f"  the same file was loaded before, as batch {self.previous_batch}")
        if self.duplicates_in_file:
            lines.append(f"  {self.duplicates_in_file} exact duplicate rows within the file (counted unchanged)")
        for column, info in self.unrecognised_countries.items():
            examples = ", ".join(repr(v) for v in info["examples"])
            lines.append(
                f"  {info['count']} unrecognised {column} values kept raw (e.g. {examples})"
            )
        if self.coordinates_dropped:
            lines.append(
                f"  {self.coordinates_dropped} invalid coordinate pairs dropped (tips kept)"
            )
        if self.contact_columns:
            how = "replaced by a keyed pseudonym" if self.pseudonymized else "dropped"
            lines.append(f"  contact columns {how}: {', '.join(self.contact_columns)}")
        if self.ignored_columns:
            lines.append(f"  columns not in the contract, ignored: {', '.join(self.ignored_columns)}")
        if self.rejected:
            lines.append(f"  see the rejected rows with: caselib rejected --batch {self.batch_id}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Plan:
    """Which file column feeds which contract column."""

    sources: dict[str, int]  # contract column -> index into the file's columns
    contact: list[int]  # indexes of contact columns, in priority order
    ignored: list[str]
    # The contract name of each contact column ("contact" for one a mapping marks), in the
    # order of ``contact``: what a pseudonym is keyed by, so it does not depend on where
    # the column sits in the file.
    contact_names: list[str] = field(default_factory=list)


def load_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    mapping: str | Path | Mapping | None = None,
    pseudonymize: bool = False,
    origin: str = "load",
    now: dt.datetime | None = None,
    progress: bool | None = None,
    loaded_by: str | None = None,
) -> LoadResult:
    """Load one contract file of ``kind`` (waves, objects or tips) into ``store``.

    Parameters
    ----------
    mapping
        A mapping file (or parsed :class:`~caselib.mapping.Mapping`) for foreign exports.
    pseudonymize
        Store a keyed pseudonym of the contact columns instead of dropping them.
    origin
        ``load`` for analyst data, ``demo`` for the synthetic campaign.
    now
        The time of loading (UTC); tips received more than a day after it are rejected.
    progress
        Draw a progress bar for loads over a second (None: when stderr is a terminal).

    Returns
    -------
    LoadResult
        The counts of the load, which reconcile; raises :class:`FileLoadError` (and changes
        nothing) when the file as a whole cannot be loaded.
    """
    spec = contract.kind(kind)
    path = Path(path)
    if not path.is_file():
        raise FileLoadError(f"there is no file {path}")
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = read_mapping(mapping)
    mapping = mapping or Mapping()
    mapping.check_for(spec)
    if spec.name == "tips" and not store.scalar("SELECT count(*) FROM objects"):
        raise FileLoadError(
            f"there are no objects in {store.path.name} yet; load the objects file before tips"
        )
    key_params = load_key().params() if pseudonymize else {}
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:  # naive means UTC, as in the files; not the machine's local time
        now = now.replace(tzinfo=dt.UTC)
    now = now.astimezone(dt.UTC).replace(tzinfo=None)
    sha256 = _file_sha256(path)
    fmt = detect_format(path)
    # DuckDB would otherwise use most of the machine's memory for the temporary tables of a
    # large load; with a limit it spills them to disk at little cost in time.
    store.execute("SET memory_limit = $limit", {"limit": _memory_limit()})
    try:
        with LoadProgress(f"{spec.name} {path.name}", PHASES, store.query_progress, enabled=progress) as bar:
            with store.transaction():
                bar.phase("reading")
                raw = read_into_store(store, path, fmt)
                plan = _plan(raw, spec, mapping, path)
                bar.phase("checking")
                result = _load(store, spec, raw, plan, mapping, key_params, now, sha256, bar)
                result.file_name = path.name
                result.pseudonymized = pseudonymize
                result.seconds = time.monotonic() - started
                if not result.reconciles:  # a bug, never user error: refuse to commit
                    raise RuntimeError(f"load does not reconcile: {result}")
                _record_batch(store, spec, path, fmt, sha256, mapping, origin, now, loaded_by, result)
                if spec.name == "tips" and result.updated:
                    record_triage_changes(store, result.batch_id, loaded_by)
                for table in _TEMP_TABLES:
                    store.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        store.execute("DROP VIEW IF EXISTS _stage")
        store.execute("RESET memory_limit")
    store.secure_files()
    return result


# -- planning -------------------------------------------------------------------------------


def _plan(raw: RawFile, spec: Kind, mapping: Mapping, path: Path) -> _Plan:
    sources: dict[str, int] = {}
    contact: list[tuple[int, int, str]] = []  # (priority, index, contract name)
    ignored: list[str] = []
    for index, header in enumerate(raw.headers):
        key = str(header).strip().lower()
        target = mapping.columns.get(key, key)
        if key in mapping.contact or key in CONTACT_COLUMNS or target in CONTACT_COLUMNS:
            name = target if target in CONTACT_COLUMNS else key
            priority = CONTACT_COLUMNS.index(name) if name in CONTACT_COLUMNS else len(CONTACT_COLUMNS)
            contact.append((priority, index, name if name in CONTACT_COLUMNS else "contact"))
        elif target in spec.names:
            if target in sources:
                first = raw.headers[sources[target]]
                raise FileLoadError(
                    f"{path.name} has two columns for {target}: {first!r} and {header!r}"
                )
            sources[target] = index
        else:
            ignored.append(str(header) if str(header).strip() else f"(unnamed column {index + 1})")
    missing = [c.name for c in spec.columns if c.required and c.name not in sources]
    if missing:
        found = ", ".join(repr(h) for h in raw.headers) or "none"
        raise FileLoadError(
            f"{path.name} has no {', '.join(missing)} column, which {spec.name} files must have "
            f"(columns found: {found}); rename it or pass a mapping file"
        )
    contact.sort()
    return _Plan(sources, [i for _, i, _ in contact], ignored, [n for _, _, n in contact])


# -- the load -------------------------------------------------------------------------------


def _load(store, spec, raw, plan, mapping, key_params, now, sha256, bar) -> LoadResult:
    batch = int(store.scalar("SELECT nextval('load_batch_seq')"))
    _create_stage(store, spec, raw, plan, mapping, bool(key_params))
    _create_country_map(store, spec)
    store.execute(_normalise_sql(spec, bool(key_params)), _normalise_params(spec, key_params, now))
    _classify(store, spec)
    bar.phase("writing")
    counts = dict(
        store.rows(
            "SELECT action, count(*) FROM _cmp GROUP BY action "
            "UNION ALL SELECT 'invalid', count(*) FROM _norm WHERE _reason IS NOT NULL "
            "UNION ALL SELECT CASE WHEN same THEN 'dup_same' ELSE 'dup_conflict' END, count(*) "
            "FROM _dups GROUP BY same "
            "UNION ALL SELECT 'reader', count(*) FROM _reader_rejects"
        )
    )
    _write_rejects(store, spec, raw, plan, sha256, batch)
    _write_changes(store, spec, now, batch)
    unrecognised = _unrecognised_countries(store, spec)
    dropped = store.scalar("SELECT count(*) FROM _norm WHERE _coords_dropped") if _has_coordinates(spec) else 0
    previous = store.scalar(
        "SELECT max(batch_id) FROM load_batches WHERE file_sha256 = $sha AND kind = $kind",
        {"sha": sha256, "kind": spec.name},
    )
    rejected = (
        counts.get("invalid", 0)
        + counts.get("reader", 0)
        + counts.get("dup_conflict", 0)
        + counts.get("conflict", 0)
    )
    return LoadResult(
        batch_id=batch,
        kind=spec.name,
        file_name="",
        format=raw.format,
        rows_read=store.scalar("SELECT count(*) FROM _raw") + counts.get("reader", 0),
        inserted=counts.get("insert", 0),
        updated=counts.get("update", 0),
        unchanged=counts.get("unchanged", 0) + counts.get("dup_same", 0),
        rejected=rejected,
        ignored_columns=plan.ignored,
        contact_columns=[raw.headers[i] for i in plan.contact],
        unrecognised_countries=unrecognised,
        coordinates_dropped=dropped,
        duplicates_in_file=counts.get("dup_same", 0),
        previous_batch=previous,
    )


def _value(index: int | None) -> str:
    """A file column as contract text: trimmed, empty meaning no value."""
    if index is None:
        return "NULL::VARCHAR"
    column = f"r.c{index}"
    # Trimming with a character set costs several times a plain scan; most values need none.
    return (
        f"nullif(CASE WHEN contains({_WHITESPACE_SQL}, left({column}, 1)) "
        f"OR contains({_WHITESPACE_SQL}, right({column}, 1)) "
        f"THEN trim({column}, {_WHITESPACE_SQL}) ELSE {column} END, '')"
    )


def _create_stage(store, spec, raw, plan, mapping, pseudonymize) -> None:
    value_rows = mapping.value_rows(spec)
    store.execute("CREATE OR REPLACE TEMP TABLE _value_map (col VARCHAR, from_key VARCHAR, to_value VARCHAR)")
    if value_rows:
        store.register("_value_rows", _arrow_table(["col", "from_key", "to_value"], value_rows))
        store.execute("INSERT INTO _value_map SELECT * FROM _value_rows")
        store.unregister("_value_rows")
    mapped_columns = {c for c, _, _ in value_rows}
    # Temporary tables number their rows from a large base; records count from 1.
    base = int(store.scalar("SELECT coalesce(min(rowid), 0) FROM _raw"))
    select = [f"r.rowid - {base} + 1 AS _rec", "r._line AS _line" if raw.has_line_numbers else "NULL::BIGINT AS _line"]
    joins = []
    for column in spec.columns:
        expr = _value(plan.sources.get(column.name))
        if column.name in mapped_columns and column.name in plan.sources:
            alias = f"vm_{column.name}"
            joins.append(
                f"LEFT JOIN _value_map {alias} ON {alias}.col = '{column.name}' "
                f"AND {alias}.from_key = lower({expr})"
            )
            expr = f"coalesce(nullif({alias}.to_value, ''), {expr})"
        select.append(f"{expr} AS {column.name}")
    if pseudonymize and plan.contact:
        parts = [
            f"'{name}:' || lower({_value(i)})" for i, name in zip(plan.contact, plan.contact_names, strict=True)
        ]  # contract names are our constants, so no file text goes into SQL
        select.append(f"coalesce({', '.join(parts)}) AS _contact")
    else:
        select.append("NULL::VARCHAR AS _contact")
    store.execute(
        f"CREATE OR REPLACE TEMP VIEW _stage AS SELECT {', '.join(select)} FROM _raw r {' '.join(joins)}",
    )


def _country_columns(spec: Kind) -> list[Column]:
    return [c for c in spec.columns if c.type == "country"]


def _create_country_map(store: Store, spec: Kind) -> None:
    """Normalise each distinct country spelling once, in Python, with the one country rule."""
    store.execute("CREATE OR REPLACE TEMP TABLE _country_map (raw VARCHAR PRIMARY KEY, alpha3 VARCHAR)")
    columns = _country_columns(spec)
    if not columns:
        return
    union = " UNION ".join(f"SELECT {c.name} AS v FROM _stage" for c in columns)
    distinct = [row[0] for row in store.rows(f"SELECT DISTINCT v FROM ({union}) WHERE v IS NOT NULL")]
    if distinct:
        rows = [(v, normalise_country(v)) for v in distinct]
        store.register("_country_rows", _arrow_table(["raw", "alpha3"], rows))
        store.execute("INSERT INTO _country_map SELECT * FROM _country_rows")
        store.unregister("_country_rows")


def _quoted(expr: str) -> str:
    """A value shown inside a rejection reason, shortened."""
    return f"'\"' || left({expr}, 60) || '\"'"


def _normalise_sql(spec: Kind, pseudonymize: bool) -> str:
    """``_norm``: typed values, and ``_reason`` listing everything wrong with a row.

    The inner query parses each value once (``p.<name>__v``); the outer one picks the
    stored values and words the reasons, so no value is parsed twice.
    """
    parsed = ["s.*"]  # inner: the stage's text columns, plus parsed values
    select = ["p._rec", "p._line"]  # outer: what _norm holds
    reasons = []
    joins = []
    for column in spec.columns:
        name = column.name
        text, value = f"p.{name}", f"p.{name}__v"
        if column.required:
            reasons.append(f"CASE WHEN {text} IS NULL THEN 'missing {name}' END")
        if column.type == "text":
            select.append(f"{text} AS {name}")
        elif column.type == "enum":
            default = f"'{column.default}'" if column.default else "NULL"
            select.append(f"coalesce(lower({text}), {default}) AS {name}")
            reasons.append(
                f"CASE WHEN {text} IS NOT NULL AND NOT list_contains($values_{name}, lower({text})) "
                f"THEN '{name} ' || {_quoted(text)} || ' is not one of ' || "
                f"array_to_string($values_{name}, ', ') END"
            )
        elif column.type in ("date", "timestamp"):
            if column.type == "date":
                parse = f"CASE WHEN regexp_full_match(s.{name}, $date_pattern) THEN try_cast(s.{name} AS DATE) END"
                wanted = "a date (YYYY-MM-DD)"
            else:
                parse = (
                    f"CASE WHEN regexp_full_match(s.{name}, $timestamp_pattern) "
                    f"THEN try_cast(replace(s.{name}, ',', '.') AS TIMESTAMPTZ)::TIMESTAMP END"
                )
                wanted = "an ISO 8601 timestamp"
                reasons.append(
                    f"CASE WHEN {value} > $now + INTERVAL 1 DAY THEN '{name} ' || {_quoted(text)} "
                    "|| ' is more than one day after the time of loading' END"
                )
            parsed.append(f"{parse} AS {name}__v")
            select.append(f"{value} AS {name}")
            reasons.append(
                f"CASE WHEN {text} IS NOT NULL AND {value} IS NULL "
                f"THEN '{name} ' || {_quoted(text)} || ' is not {wanted}' END"
            )
        elif column.type == "country":
            alias = f"cm_{name}"
            joins.append(f"LEFT JOIN _country_map {alias} ON {alias}.raw = s.{name}")
            parsed.append(f"{alias}.alpha3 AS {name}__v")
            select.append(f"{value} AS {name}")
            select.append(f"CASE WHEN {value} IS NULL THEN {text} END AS {name}_raw")
        elif column.type == "language":
            parsed.append(f"lower(split_part(replace(s.{name}, '_', '-'), '-', 1)) AS {name}__v")
            select.append(f"CASE WHEN list_contains($languages, {value}) THEN {value} END AS {name}")
            reasons.append(
                f"CASE WHEN {text} IS NOT NULL AND NOT list_contains($languages, {value}) "
                f"THEN '{name} ' || {_quoted(text)} || ' is not an ISO 639-1 language code' END"
            )
    if _has_coordinates(spec):
        parsed.append("try_cast(s.latitude AS DOUBLE) AS latitude__v")
        parsed.append("try_cast(s.longitude AS DOUBLE) AS longitude__v")
        lat, lon = "p.latitude__v", "p.longitude__v"
        valid = (
            f"({lat} BETWEEN -90 AND 90 AND {lon} BETWEEN -180 AND 180 "
            f"AND isfinite({lat}) AND isfinite({lon}))"
        )
        select.append(f"CASE WHEN {valid} THEN {lat} END AS latitude")
        select.append(f"CASE WHEN {valid} THEN {lon} END AS longitude")
        select.append(
            f"((p.latitude IS NOT NULL OR p.longitude IS NOT NULL) AND NOT coalesce({valid}, false)) AS _coords_dropped"
        )
    if spec.reference:
        column, target = spec.reference
        target_key = contract.kind(target).key
        joins.append(f"LEFT JOIN {target} ref ON ref.{target_key} = s.{column}")
        parsed.append(f"ref.{target_key} IS NOT NULL AS _known_reference")
        reasons.append(
            f"CASE WHEN p.{column} IS NOT NULL AND NOT p._known_reference "
            f"THEN '{column} ' || {_quoted('p.' + column)} || ' is not a known {target[:-1]}' END"
        )
    select.append(
        f"{HMAC_SQL.format(value='p._contact')} AS _pseudonym" if pseudonymize else "NULL::VARCHAR AS _pseudonym"
    )
    select.append(f"nullif(concat_ws('; ', {', '.join(reasons)}), '') AS _reason")
    inner = f"SELECT {', '.join(parsed)} FROM _stage s {' '.join(joins)}"
    return f"CREATE OR REPLACE TEMP TABLE _norm AS SELECT {', '.join(select)} FROM ({inner}) p"


def _normalise_params(spec: Kind, key_params: dict, now: dt.datetime) -> dict:
    params = dict(key_params)
    for column in spec.columns:
        if column.type == "enum":
            params[f"values_{column.name}"] = list(column.values)
        elif column.type == "date":
            params["date_pattern"] = DATE_PATTERN
        elif column.type == "timestamp":
            params["timestamp_pattern"] = TIMESTAMP_PATTERN
            params["now"] = now
        elif column.type == "language":
            params["languages"] = sorted(language_codes())
    return params


def _has_coordinates(spec: Kind) -> bool:
    return "latitude" in spec.names


def _stored_columns(spec: Kind) -> list[str]:
    """The table's data columns: each contract column, plus ``<name>_raw`` for countries."""
    names = []
    for column in spec.columns:
        names.append(column.name)
        if column.type == "country":
            names.append(f"{column.name}_raw")
    return names


def _fixed_and_updatable(spec: Kind) -> tuple[list[str], list[str]]:
    fixed, updatable = [], []
    for column in spec.columns:
        target = updatable if column.updatable else fixed
        target.append(column.name)
        if column.type == "country":
            target.append(f"{column.name}_raw")
    return fixed, updatable


def _classify(store: Store, spec: Kind) -> None:
    """Sort valid rows into duplicates within the file, inserts, updates, unchanged, conflicts."""
    key = spec.key
    columns = _stored_columns(spec)
    row_hash = f"hash({', '.join('n.' + c for c in columns)})"
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dups AS
        WITH dup_keys AS (
            SELECT {key} AS k, min(_rec) AS first_rec
            FROM _norm WHERE _reason IS NULL
            GROUP BY {key} HAVING count(*) > 1
        ), hashed AS (
            SELECT n._rec, n._line, n.{key} AS k, {row_hash} AS h, d.first_rec
            FROM _norm n JOIN dup_keys d ON d.k = n.{key}
            WHERE n._reason IS NULL
        )
        SELECT h._rec, h._line, h.k, h.first_rec, h.h = f.h AS same
        FROM hashed h JOIN hashed f ON f._rec = h.first_rec
        WHERE h._rec <> h.first_rec
        """
    )
    fixed, updatable = _fixed_and_updatable(spec)
    table = spec.name
    same_fixed = " AND ".join(f"n.{c} IS NOT DISTINCT FROM t.{c}" for c in fixed)
    same_updatable = " AND ".join(f"n.{c} IS NOT DISTINCT FROM t.{c}" for c in updatable) or "true"
    changed_fixed = ", ".join(f"CASE WHEN n.{c} IS DISTINCT FROM t.{c} THEN '{c}' END" for c in fixed)
    store.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cmp AS
        SELECT n._rec,
               CASE WHEN t.{key} IS NULL THEN 'insert'
                    WHEN {same_fixed} AND {same_updatable} THEN 'unchanged'
                    WHEN {same_fixed} THEN 'update'
                    ELSE 'conflict' END AS action,
               concat_ws(', ', {changed_fixed}) AS changed
        FROM _norm n
        LEFT JOIN {table} t ON t.{key} = n.{key}
        WHERE n._reason IS NULL AND n._rec NOT IN (SELECT _rec FROM _dups)
        """
    )


def _write_rejects(store: Store, spec: Kind, raw: RawFile, plan: _Plan, sha256: str, batch: int) -> None:
    contact = set(plan.contact)
    kept = [i for i in range(len(raw.headers)) if i not in contact]
    params: dict = {"batch": batch, "kind": spec.name, "sha": sha256}
    pairs = []
    for i in kept:
        params[f"h{i}"] = str(raw.headers[i])
        pairs.append(f"$h{i}, r.c{i}")
    raw_json = f"json_object({', '.join(pairs)})" if pairs else "'{}'::JSON"
    allowed = ", ".join(sorted(c.name for c in spec.columns if c.updatable))
    key = spec.key
    rejected = f"""
        SELECT n._rec AS record_no, n._line AS line_no, n._reason AS reason FROM _norm n
        WHERE n._reason IS NOT NULL
        UNION ALL
        SELECT d._rec, d._line,
               '{key} "' || d.k || '" appears again in this file with different values; '
               || 'record ' || d.first_rec || ' was used'
        FROM _dups d WHERE NOT d.same
        UNION ALL
        SELECT c._rec, n._line,
               'conflict: this re-delivery of {key} "' || n.{key} || '" changes ' || c.changed
               || ' (only {allowed} may change); the stored record was kept'
        FROM _cmp c JOIN _norm n USING (_rec) WHERE c.action = 'conflict'
    """
    store.execute(
        f"""
        INSERT INTO rejected_rows (batch_id, kind, record_no, line_no, reason, raw_record, file_sha256)
        SELECT $batch, $kind, x.record_no, x.line_no, x.reason, {raw_json}, $sha
        FROM ({rejected}) x
        JOIN (SELECT rowid - (SELECT min(rowid) FROM _raw) + 1 AS record_no, * FROM _raw) r
          ON r.record_no = x.record_no
        WHERE NOT EXISTS (
            SELECT 1 FROM rejected_rows q
            WHERE q.file_sha256 = $sha AND q.kind = $kind
              AND q.record_no = x.record_no AND q.reason = x.reason
        )
        """,
        params,
    )
    # Lines the reader could not split: their text may hold contact data we cannot find, so
    # it is kept only when the file has no contact columns at all.
    store.execute(
        """
        INSERT INTO rejected_rows (batch_id, kind, record_no, line_no, reason, raw_record, file_sha256)
        SELECT $batch, $kind, x.record_no, x.line_no,
               x.reason || CASE WHEN $keep_text THEN '' ELSE '; its text is not kept because the file has contact columns' END,
               CASE WHEN $keep_text THEN json_object('text', x.raw_text) END, $sha
        FROM _reader_rejects x
        WHERE NOT EXISTS (
            SELECT 1 FROM rejected_rows q
            WHERE q.file_sha256 = $sha AND q.kind = $kind
              AND q.line_no IS NOT DISTINCT FROM x.line_no AND q.record_no IS NOT DISTINCT FROM x.record_no
              AND starts_with(q.reason, x.reason)
        )
        """,
        {**{k: params[k] for k in ("batch", "kind", "sha")}, "keep_text": not plan.contact},
    )


def _write_changes(store: Store, spec: Kind, now: dt.datetime, batch: int) -> None:
    table, key = spec.name, spec.key
    columns = _stored_columns(spec)
    extra_columns, extra_values = ("", "")
    if spec.name == "tips":
        extra_columns, extra_values = ", reporter_pseudonym", ", n._pseudonym"
    store.execute(
        f"""
        INSERT INTO {table} ({', '.join(columns)}{extra_columns}, batch_id)
        SELECT {', '.join('n.' + c for c in columns)}{extra_values}, $batch
        FROM _norm n JOIN _cmp c USING (_rec) WHERE c.action = 'insert'
        """,
        {"batch": batch},
    )
    _, updatable = _fixed_and_updatable(spec)
    if not updatable:
        return
    if spec.name == "tips":
        store.execute(
            """
            INSERT INTO tip_triage_history
            SELECT t.tip_id, $batch, $now, t.triage_status, n.triage_status, t.forwarded_to, n.forwarded_to
            FROM _norm n JOIN _cmp c USING (_rec) JOIN tips t ON t.tip_id = n.tip_id
            WHERE c.action = 'update'
            """,
            {"batch": batch, "now": now},
        )
    elif spec.name == "objects":
        old = "json_object(" + ", ".join(f"'{c}', t.{c}" for c in updatable) + ")"
        new = "json_object(" + ", ".join(f"'{c}', n.{c}" for c in updatable) + ")"
        store.execute(
            f"""
            INSERT INTO object_history
            SELECT t.object_id, $batch, $now, {old}, {new}
            FROM _norm n JOIN _cmp c USING (_rec) JOIN objects t ON t.object_id = n.object_id
            WHERE c.action = 'update'
            """,
            {"batch": batch, "now": now},
        )
    assignments = ", ".join(f"{c} = n.{c}" for c in updatable)
    store.execute(
        f"""
        UPDATE {table} SET {assignments}, updated_batch_id = $batch
        FROM (SELECT n.* FROM _norm n JOIN _cmp c USING (_rec) WHERE c.action = 'update') n
        WHERE {table}.{key} = n.{key}
        """,
        {"batch": batch},
    )


def _unrecognised_countries(store: Store, spec: Kind) -> dict[str, dict]:
    found = {}
    for column in _country_columns(spec):
        rows = store.rows(
            f"SELECT {column.name}_raw, count(*) AS n FROM _norm "
            f"WHERE _reason IS NULL AND {column.name}_raw IS NOT NULL "
            f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT 5"
        )
        if rows:
            total = store.scalar(
                f"SELECT count(*) FROM _norm WHERE _reason IS NULL AND {column.name}_raw IS NOT NULL"
            )
            found[column.name] = {"count": int(total), "examples": [r[0] for r in rows]}
    return found


def _record_batch(store, spec, path, fmt, sha256, mapping, origin, now, loaded_by, result) -> None:
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    store.execute(
        """
        INSERT INTO load_batches VALUES (
            $batch, $kind, $file, $sha, $fmt, $mapping_name, $mapping_sha, $pseudo, $origin,
            $read, $inserted, $updated, $unchanged, $rejected, $details, $started, $finished, $user)
        """,
        {
            "batch": result.batch_id,
            "kind": spec.name,
            "file": str(path.resolve()),
            "sha": sha256,
            "fmt": fmt,
            "mapping_name": mapping.name,
            "mapping_sha": mapping.sha256,
            "pseudo": result.pseudonymized,
            "origin": origin,
            "read": result.rows_read,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "details": json.dumps(result.details()),
            "started": now,
            "finished": finished,
            "user": loaded_by or _user(),
        },
    )


def _memory_limit() -> str:
    limit = os.environ.get("CASELIB_LOAD_MEMORY_LIMIT", "1GB").strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", limit, flags=re.IGNORECASE):
        raise CaselibError(
            f"CASELIB_LOAD_MEMORY_LIMIT={limit!r} is not a memory size; use a value such as 1GB or 512MB"
        )
    return limit


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _arrow_table(names: list[str], rows: list[tuple]):
    import pyarrow as pa

    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})

