"""Loading contract files into the store: validated, normalised, idempotent, all or nothing.

A load runs in one transaction through temporary tables, each step one set-based
statement inside DuckDB:

1. read the file into ``_raw`` (text columns ``c0…``; see :mod:`caselib.domain.ingest.readers`);
   before that, a file loaded before whose outcome nothing since can change is not read at
   all: the earlier counts are repeated as a new batch (:func:`_repeat_outcome`);
2. ``_same``: the rows whose fingerprint (a hash of their text as read and of the loader's
   rules) is their stored tip's are unchanged, and leave ``_raw`` unparsed (a re-export
   parses only what differs); ``_stage``: the other rows' contract columns, picked by
   header (and mapping), trimmed, values mapped;
3. ``_norm``: typed values (UTC timestamps, dates, alpha-3 countries, enums), the reasons a
   row is rejected, dropped coordinates, pseudonyms;
4. ``_cmp``: each valid row compared with what is stored: insert, unchanged, update (only
   the columns the contract lets change) or conflict;
5. writes (with the fingerprints of the rows written), the quarantine, and one
   ``load_batches`` row whose counts reconcile: read = inserted + updated + unchanged + rejected.

Rows a mapping's ``skip_rows`` passes over (an HXL tag row under the header) are deleted
from ``_raw`` after reading: they are not data, so they are not among the rows read; the
result counts them as ``skipped`` (and ``load_batches.details`` as ``skipped_rows``).

The package is in three parts: :mod:`caselib.domain.ingest.plan` matches the file's headers to
contract columns, :mod:`caselib.domain.ingest.statements` builds every statement's SQL (pure
functions; snapshots of their output are under ``tests/snapshots/``), and this module runs
a load: reading, the transaction, the counting and the summary. The steps stay in this
module's namespace so that tests can make one of them fail part-way.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from caselib.domain import contract
from caselib.domain.audit import record_triage_changes
from caselib.domain.contract import Kind
from caselib.domain.countries import normalise_country
from caselib.domain.ingest import statements as sql
from caselib.domain.ingest.mapping import Mapping, read_mapping
from caselib.domain.ingest.plan import Plan, plan_columns
from caselib.domain.ingest.progress import LoadProgress
from caselib.domain.ingest.pseudonym import PSEUDONYM_FUNCTION, load_key
from caselib.domain.ingest.readers import RawFile, detect_format, file_facts, prepare, read_into_store
from caselib.domain.ingest.statements import Statement
from caselib.errors import CaselibError, FileLoadError
from caselib.store import Store

__all__ = ["LoadResult", "check_request", "load_file"]

PHASES = ("reading", "checking", "writing")
# A summary names at most this many ignored columns (a hostile file may have thousands).
_NAMES_SHOWN = 20


@dataclass
class LoadResult:
    """What one load did. ``rows_read == inserted + updated + unchanged + rejected``;
    ``skipped`` rows (the mapping's ``skip_rows``) are not data and not among those read."""

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
    skipped: int = 0
    # The loader's rules this load was checked by (a digest): a re-load of the same file
    # repeats an earlier outcome only under the same rules.
    rules: str = ""
    # True when the file was loaded before and nothing since could change its outcome: the
    # earlier load's counts are repeated without reading the file (see _repeat_outcome).
    repeated: bool = False
    # The earliest time of a row rejected as after the time of loading (ISO text), if any.
    future_from: str | None = None
    # The batch the rejected rows are quarantined under: this one, or for a repeated outcome
    # the load that read them (None: this batch).
    rejects_batch: int | None = None
    # Re-delivered tips whose triage an analyst decided and the file would change: counted
    # unchanged (the analyst's decision stands), kept in the history as the intake disagreeing.
    disagreements: int = 0

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
            "skipped_rows": self.skipped,
            "rules": self.rules,
            "repeated": self.repeated,
            "future_from": self.future_from,
            "rejects_batch": self.rejects_batch or self.batch_id,
            "disagreements": self.disagreements,
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
        if self.skipped:
            lines.append(
                f"  skipped {self.skipped} row{'s' if self.skipped != 1 else ''} under the header "
                "(skip_rows in the mapping: not data, not among the rows read)"
            )
        if self.previous_batch is not None:
            lines.append(f"  the same file was loaded before, as batch {self.previous_batch}"
                         + ("; nothing has changed since, so its outcome holds and the rows were not compared again"
                            if self.repeated else ""))
        if self.disagreements:
            lines.append(
                f"  {self.disagreements} tip{'s' if self.disagreements != 1 else ''} the file would re-triage "
                "against an analyst's decision: the decision stands (counted unchanged; the file's "
                "values are kept in the triage history: caselib triage-history --disagreements)"
            )
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
            shown = ", ".join(self.ignored_columns[:_NAMES_SHOWN])
            more = len(self.ignored_columns) - _NAMES_SHOWN
            lines.append(f"  columns not in the contract, ignored: {shown}" + (f" and {more:,} more" if more > 0 else ""))
        if self.rejected:
            lines.append(f"  see the rejected rows with: caselib rejected --batch {self.rejects_batch or self.batch_id}")
        return "\n".join(lines)


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
        A mapping file (or parsed :class:`~caselib.domain.ingest.mapping.Mapping`) for foreign exports.
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
    spec, path, mapping = check_request(kind, path, mapping)
    if spec.name == "tips" and not _scalar(store, sql.objects_stored()):
        raise FileLoadError(
            f"there are no objects in {store.path.name} yet; load the objects file before tips"
        )
    key = load_key() if pseudonymize else None
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:  # naive means UTC, as in the files; not the machine's local time
        now = now.replace(tzinfo=dt.UTC)
    now = now.astimezone(dt.UTC).replace(tzinfo=None)
    limit = _memory_limit()  # a bad setting is refused whether or not the file is read
    fmt = detect_format(path)
    facts = file_facts(path, count_lines=fmt == "jsonl")  # one read of its bytes: the digest, its line breaks
    sha256 = facts.sha256
    repeated = _repeat_outcome(store, spec, path, fmt, sha256, mapping, pseudonymize, origin, now, loaded_by)
    if repeated is not None:
        repeated.seconds = time.monotonic() - started
        store.secure_files()
        return repeated
    # DuckDB would otherwise use most of the machine's memory for the temporary tables of a
    # large load; with a limit it spills them to disk at little cost in time.
    _execute(store, sql.memory_limit(limit))
    store.guard_spill()  # whatever spills is removed even if this process is killed
    hints = prepare(store, path, fmt, facts)
    if key is not None:  # the key stays in Python: DuckDB calls this function, never sees the key
        store.create_function(PSEUDONYM_FUNCTION, key.function())
    try:
        with LoadProgress(f"{spec.name} {path.name}", PHASES, store.query_progress, enabled=progress) as bar:
            with store.transaction():
                bar.phase("reading")
                # The readers that can leave contact columns out of _raw plan the columns
                # from the headers first, and pseudonymise in their own projection.
                _execute(store, sql.text_macro())
                _execute(store, sql.offset_macro())
                raw = read_into_store(
                    store, path, fmt,
                    plan_for=lambda headers: plan_columns(headers, spec, mapping, path.name),
                    pseudonymize=pseudonymize,
                    hints=hints,
                )
                plan = raw.plan or plan_columns(raw.headers, spec, mapping, path.name)
                bar.phase("checking")
                result = _load(store, spec, raw, plan, mapping, pseudonymize, now, sha256, bar)
                result.file_name = path.name
                result.pseudonymized = pseudonymize
                result.rules = rules_digest()
                result.seconds = time.monotonic() - started
                if not result.reconciles:  # a bug, never user error: refuse to commit
                    raise RuntimeError(f"load does not reconcile: {result}")
                _record_batch(store, spec, path, fmt, sha256, mapping, origin, now, loaded_by, result)
                if spec.name == "tips" and (result.updated or result.disagreements):
                    record_triage_changes(store, result.batch_id, loaded_by)
                for statement in sql.drop_temporary():
                    _execute(store, statement)
    except BaseException:
        _tidy_up(store, key, failing=True)
        raise
    _tidy_up(store, key, failing=False)
    store.secure_files()
    return result


def _repeat_outcome(store, spec, path, fmt, sha256, mapping, pseudonymize, origin, now, loaded_by) -> LoadResult | None:
    """A re-load of a file whose outcome cannot have changed since it was last loaded: the
    same bytes (SHA-256), mapping, pseudonymising and rules, and nothing stored or decided
    since that would compare differently (:func:`~caselib.domain.ingest.statements.previous_outcome`).
    Its rows are not read again: what was inserted, updated or unchanged then is unchanged
    now, and what was rejected is rejected again (the quarantine already holds it). The load
    is recorded as a batch, in one transaction, like any other. None when a full load is due."""
    found = _rows(store, sql.previous_outcome(
        spec, sha256=sha256, mapping_sha256=mapping.sha256, pseudonymized=pseudonymize, now=now,
    ))
    if not found:
        return None
    previous, read, inserted, updated, unchanged, rejected, details = found[0]
    details = json.loads(details) if isinstance(details, str) else (details or {})
    if details.get("rules") != rules_digest():
        return None
    result = LoadResult(
        batch_id=0,
        kind=spec.name,
        file_name=path.name,
        format=fmt,
        rows_read=read,
        inserted=0,
        updated=0,
        unchanged=inserted + updated + unchanged,
        rejected=rejected,
        ignored_columns=details.get("ignored_columns", []),
        contact_columns=details.get("contact_columns", []),
        unrecognised_countries=details.get("unrecognised_countries", {}),
        coordinates_dropped=details.get("coordinates_dropped", 0),
        duplicates_in_file=details.get("duplicates_in_file", 0),
        previous_batch=previous,
        pseudonymized=pseudonymize,
        skipped=details.get("skipped_rows", 0),
        rules=details["rules"],
        repeated=True,
        future_from=details.get("future_from"),
        rejects_batch=details.get("rejects_batch") or previous,
        disagreements=details.get("disagreements", 0),
    )
    with store.transaction():
        result.batch_id = int(_scalar(store, sql.batch_number()))
        _record_batch(store, spec, path, fmt, sha256, mapping, origin, now, loaded_by, result)
    return result


_RULES_SOURCES = ("domain/contract.py", "domain/countries.py", "domain/ingest/statements.py",
                  "domain/ingest/readers.py", "domain/ingest/plan.py", "domain/ingest/mapping.py")


@functools.cache
def rules_digest() -> str:
    """A digest of the rules a load checks rows by: caselib's version, the loader's source
    (statements, readers, the contract), the country names it recognises and the versions of
    the data behind them. Two loads with the same digest treat the same row the same way."""
    from importlib import metadata, resources

    from caselib.domain.countries import alias_table

    digest = hashlib.sha256()
    root = resources.files("caselib")
    digest.update(root.joinpath("__init__.py").read_bytes())  # caselib's version
    for name in _RULES_SOURCES:
        digest.update(root.joinpath(name).read_bytes())
    for package in ("pycountry", "countrynames", "duckdb"):
        digest.update(metadata.version(package).encode())
    digest.update(repr(alias_table()).encode())
    return digest.hexdigest()


def _tidy_up(store: Store, key, *, failing: bool) -> None:
    """Drop the load's staging and reset its settings. After a failure (a full disk may have
    stopped the database) this must not hide the failure behind one of its own."""
    try:
        for statement in sql.drop_stage():
            _execute(store, statement)
        _execute(store, sql.reset_memory_limit())
    except Exception:
        if not failing:
            raise
    finally:
        if key is not None:
            try:
                store.remove_function(PSEUDONYM_FUNCTION)
            except Exception:
                if not failing:
                    raise


def check_request(kind: str, path: str | Path, mapping: str | Path | Mapping | None = None) -> tuple[Kind, Path, Mapping]:
    """What a load can refuse without the database: an unknown kind, a missing file, a bad
    mapping (read and checked against the kind). Returns the kind, the path and the mapping,
    so that a caller that checks first (the CLI, before it opens a new database) and the
    load itself apply the same rules."""
    spec = contract.kind(kind)
    path = Path(path)
    if not path.is_file():
        raise FileLoadError(f"there is no file {path}")
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = read_mapping(mapping)
    mapping = mapping or Mapping()
    mapping.check_for(spec)
    return spec, path, mapping


def _execute(store: Store, statement: Statement | None) -> None:
    if statement is not None:
        store.execute(statement.sql, statement.params or None, name=statement.name)


def _scalar(store: Store, statement: Statement):
    return store.scalar(statement.sql, statement.params or None, name=statement.name)


def _rows(store: Store, statement: Statement) -> list[tuple]:
    return store.rows(statement.sql, statement.params or None, name=statement.name)


# -- the load -------------------------------------------------------------------------------


def _load(store, spec, raw, plan, mapping, pseudonymize, now, sha256, bar) -> LoadResult:
    batch = int(_scalar(store, sql.batch_number()))
    _execute(store, sql.raw_first())  # record numbers hold whatever rows are deleted below
    skipped = _skip_rows(store, raw, mapping)
    fingerprint = _find_same_rows(store, spec, raw, plan, mapping)
    _create_stage(store, spec, raw, plan, mapping, pseudonymize, fingerprint)
    _create_country_map(store, spec)
    _execute(store, sql.normalise(spec, now=now, formats=mapping.formats))
    _execute(store, sql.duplicates(spec))
    _execute(store, sql.compare(spec))
    bar.phase("writing")
    counts = dict(_rows(store, sql.counts()))
    _write_rejects(store, spec, raw, plan, sha256, batch)
    _write_changes(store, spec, now, batch)
    unrecognised = _unrecognised_countries(store, spec)
    dropped_query = sql.coordinates_dropped(spec)
    dropped = _scalar(store, dropped_query) if dropped_query else 0
    previous = _scalar(store, sql.previous_batch(spec, sha256))
    future_query = sql.future_from(spec)
    future = _scalar(store, future_query) if future_query else None
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
        rows_read=_scalar(store, sql.raw_records()) + counts.get("reader", 0) + counts.get("same", 0),
        inserted=counts.get("insert", 0),
        updated=counts.get("update", 0),
        unchanged=counts.get("unchanged", 0) + counts.get("dup_same", 0) + counts.get("same", 0)
        + counts.get("disagree", 0),
        rejected=rejected,
        ignored_columns=plan.ignored,
        contact_columns=[raw.headers[i] for i in plan.contact],
        unrecognised_countries=unrecognised,
        coordinates_dropped=dropped,
        duplicates_in_file=counts.get("dup_same", 0),
        previous_batch=previous,
        skipped=skipped,
        future_from=future,
        disagreements=counts.get("disagree", 0),
    )


def _skip_rows(store: Store, raw: RawFile, mapping: Mapping) -> int:
    """Delete the mapping's ``skip_rows`` rows under the header from ``_raw``; how many there
    were (fewer when the file has fewer rows). A CSV line among them that the reader could not
    split refuses the file: which rows are data would be a guess."""
    if not mapping.skip_rows:
        return 0
    if raw.format == "csv":
        unreadable = _scalar(store, sql.reader_rejects_within(mapping.skip_rows + 1))
        if unreadable is not None:
            raise FileLoadError(
                f"line {unreadable} could not be read as CSV, and it is among the {mapping.skip_rows} "
                "row(s) under the header the mapping skips (skip_rows); which rows are data "
                "cannot be told"
            )
    skipped = int(_scalar(store, sql.raw_rows_before(mapping.skip_rows)))
    _execute(store, sql.skip_rows(mapping.skip_rows))
    return skipped


def _find_same_rows(store: Store, spec: Kind, raw: RawFile, plan: Plan, mapping: Mapping) -> list[int | None] | None:
    """``_same``: the rows that are a stored record unchanged, found by fingerprint (a kind
    that keeps fingerprints, and stored ones to match). Returns the ``_raw`` columns a
    fingerprint hashes (None for a kind without fingerprints)."""
    for statement in sql.same_table(spec):
        _execute(store, statement)
    if spec.name not in sql.FINGERPRINTED:
        return None
    columns = sql.fingerprint_columns(spec, plan)
    rules = json.dumps([rules_digest(), mapping.sha256])
    _execute(store, sql.fingerprint_rules(rules))
    if sql.can_match(spec, plan, mapping) and _scalar(store, sql.fingerprinted(spec)):
        _execute(store, sql.same_rows(spec, plan, columns))
        _execute(store, sql.same_kept_raw(spec))
        _execute(store, sql.delete_same())
    return columns


def _create_stage(
    store: Store, spec: Kind, raw: RawFile, plan: Plan, mapping: Mapping, pseudonymize: bool,
    fingerprint: list[int | None] | None = None,
) -> None:
    value_rows = mapping.value_rows(spec)
    _execute(store, sql.value_map())
    if value_rows:
        store.register(sql.VALUE_ROWS, _arrow_table(["col", "from_key", "to_value"], value_rows))
        _execute(store, sql.value_map_fill())
        store.unregister(sql.VALUE_ROWS)
    if mapping.constants:
        store.register(sql.CONSTANT_ROWS, _arrow_table(["col", "value"], sorted(mapping.constants.items())))
        _execute(store, sql.constants())
        store.unregister(sql.CONSTANT_ROWS)
    _execute(store, sql.stage(
        spec, plan, mapping, line_numbers="records" if raw.lines_are_records else raw.has_line_numbers,
        pseudonymize=pseudonymize,
        contact_in_raw=raw.plan is None, fingerprint=fingerprint,
    ))


def _create_country_map(store: Store, spec: Kind) -> None:
    """Normalise each distinct country spelling once, in Python, with the one country rule."""
    _execute(store, sql.country_map())
    values = sql.country_values(spec)
    if values is None:
        return
    distinct = [row[0] for row in _rows(store, values)]
    if distinct:
        rows = [(v, normalise_country(v)) for v in distinct]
        store.register(sql.COUNTRY_ROWS, _arrow_table(["raw", "alpha3"], rows))
        _execute(store, sql.country_map_fill())
        store.unregister(sql.COUNTRY_ROWS)


def _write_rejects(
    store: Store, spec: Kind, raw: RawFile, plan: Plan, sha256: str, batch: int
) -> None:
    _execute(store, sql.rejects(spec, raw.headers, plan, batch=batch, sha256=sha256))
    _execute(store, sql.reader_rejects(spec, plan, batch=batch, sha256=sha256))


def _write_changes(store: Store, spec: Kind, now: dt.datetime, batch: int) -> None:
    _execute(store, sql.inserts(spec, batch=batch))
    updates = sql.updates(spec, batch=batch)
    if updates is not None:
        _execute(store, sql.history(spec, batch=batch, now=now))
        _execute(store, updates)
    for statement in sql.fingerprints(spec):
        _execute(store, statement)
    _execute(store, sql.disagreements(spec, batch=batch, now=now))


def _unrecognised_countries(store: Store, spec: Kind) -> dict[str, dict]:
    found = {}
    for column in sql.country_columns(spec):
        rows = _rows(store, sql.unrecognised_examples(column))
        if rows:
            total = _scalar(store, sql.unrecognised_count(column))
            found[column.name] = {"count": int(total), "examples": [r[0] for r in rows]}
    return found


def _record_batch(store, spec, path, fmt, sha256, mapping, origin, now, loaded_by, result) -> None:
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    _execute(
        store,
        sql.record_batch(
            batch=result.batch_id,
            kind=spec.name,
            file=str(path.resolve()),
            sha256=sha256,
            fmt=fmt,
            mapping_name=mapping.name,
            mapping_sha256=mapping.sha256,
            pseudonymized=result.pseudonymized,
            origin=origin,
            read=result.rows_read,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            details=json.dumps(result.details()),
            started=now,
            finished=finished,
            user=loaded_by or _user(),
        ),
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


def _arrow_table(names: list[str], rows: list[tuple]):
    import pyarrow as pa

    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})

