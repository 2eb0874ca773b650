"""An analyst's DuckDB copy of the shared store, brought up to date: ``caselib sync``.

What changed on the server since the copy's last sync (rows with a higher write number, and
the tombstones of groups removed) is read in one snapshot, as Arrow (the ADBC PostgreSQL
driver's binary COPY), and applied to the copy in one DuckDB transaction that also records
the number synced to (``meta.shared_rev``). A copy is never half synced; an unchanged store
costs one query.

A copy belongs to one shared store (``meta.shared_store_id``): a database that holds a
campaign of its own is refused rather than mixed with the team's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from caselib.store import Store
from caselib.store.shared import SharedError, describe
from caselib.store.shared.schema import local_columns
from caselib.store.shared.tables import TABLES, Table

__all__ = ["SyncResult", "copy_rev", "sync"]

_TWO_64 = "18446744073709551616"


@dataclass
class SyncResult:
    since: int
    upto: int
    rows: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.upto != self.since

    def summary(self) -> str:
        if not self.changed:
            return f"the copy is up to date (write {self.upto:,})"
        moved = ", ".join(f"{n:,} {t}" for t, n in self.rows.items() if n) or "no rows"
        gone = sum(self.removed.values())
        return (f"synced writes {self.since + 1:,}–{self.upto:,}: {moved}"
                + (f"; {gone:,} groups removed" if gone else "") + f" ({self.seconds:.1f} s)")


def _meta(store: Store, key: str) -> str | None:
    return store.scalar("SELECT value FROM meta WHERE key = $k", {"k": key}, name="shared/meta")


def copy_rev(store: Store) -> int:
    """The write number the copy is synced to (0: never synced)."""
    value = _meta(store, "shared_rev")
    return int(value) if value else 0


def _own_campaign(store: Store) -> bool:
    return bool(store.scalar(
        "SELECT (SELECT count(*) FROM load_batches) + (SELECT count(*) FROM objects) + (SELECT count(*) FROM audit_log)",
        name="shared/own_campaign",
    ))


def check_copy(store: Store, store_id: str, url: str) -> None:
    """Refuse a database that is a copy of another shared store, or holds a campaign of its own."""
    mine = _meta(store, "shared_store_id")
    if mine is None and _own_campaign(store):
        raise SharedError(
            f"{store.path.name} holds a campaign of its own, not a copy of the shared store at {describe(url)}; "
            "give the copy a database of its own (CASELIB_DB=data/team.duckdb)"
        )
    if mine is not None and mine != store_id:
        raise SharedError(
            f"{store.path.name} is a copy of another shared store than {describe(url)}; "
            "give each shared store's copy a database of its own"
        )


def _pull_sql(table: Table) -> str:
    columns = ", ".join(name for name, _, _ in local_columns()[table.name])
    return f"SELECT {columns} FROM caselib.{table.name} WHERE _rev > $1 AND _rev <= $2"


def _local_columns(table: Table) -> tuple[str, str]:
    """(column list, SELECT list from the Arrow of the server's rows) for the copy's table."""
    names, selects = [], []
    for name, kind, _ in local_columns()[table.name]:
        names.append(name)
        if kind == "UBIGINT":
            selects.append(f"CASE WHEN {name} < 0 THEN ({name}::HUGEINT + {_TWO_64}::HUGEINT)::UBIGINT ELSE {name}::UBIGINT END")
        else:
            selects.append(f"{name}::{kind}")
    return ", ".join(names), ", ".join(selects)


def _group_type(table: Table) -> str:
    return next(kind for name, kind, _ in local_columns()[table.name] if name == table.group)


def read_changes(cursor, since: int, upto: int, *, working: bool = True):
    """({table: Arrow rows}, {table: [removed group keys]}) of the writes after ``since`` up
    to ``upto``, read through the ADBC ``cursor`` in the caller's transaction."""
    rows, removed = {}, {}
    if upto <= since:
        return rows, removed
    wanted = [t for t in TABLES if working or not t.working]
    # which tables the writes touched: one query (an index probe each), not one per table
    cursor.execute(
        " UNION ALL ".join(
            f"SELECT {i} WHERE EXISTS (SELECT 1 FROM caselib.{t.name} WHERE _rev > $1 AND _rev <= $2)"
            for i, t in enumerate(wanted)
        ),
        (since, upto),
    )
    touched = {int(i) for (i,) in cursor.fetchall()}
    for i, table in enumerate(wanted):
        if i not in touched:
            continue
        cursor.execute(_pull_sql(table), (since, upto))
        rows[table.name] = cursor.fetch_arrow_table()
    cursor.execute("SELECT tbl, key FROM caselib.tombstones WHERE rev > $1 AND rev <= $2", (since, upto))
    for name, key in cursor.fetchall():
        removed.setdefault(name, []).append(key)
    return rows, removed


def pull(shared, since: int, *, working: bool = True):
    """(upto, rows, removed) of what changed after write ``since`` (:func:`read_changes`),
    read in one snapshot of the server."""
    cursor = shared.arrow().cursor()
    try:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT rev FROM caselib.clock")
            upto = int(cursor.fetchone()[0])
            rows, removed = read_changes(cursor, since, upto, working=working)
        finally:
            cursor.execute("COMMIT")
    finally:
        cursor.close()
    return upto, rows, removed


def apply(store: Store, since: int, upto: int, rows: dict, removed: dict, store_id: str) -> SyncResult:
    """Write what :func:`pull` read into the copy (inside the caller's transaction)."""
    import pyarrow as pa

    result = SyncResult(since, upto)
    for table in TABLES:
        data = rows.get(table.name)
        gone = removed.get(table.name, [])
        if (data is None or not data.num_rows) and not gone:
            continue
        if table.group is not None and since > 0:  # a fresh copy has nothing to replace
            keys = pa.table({"key": pa.array(gone, pa.string())})
            store.register("_sync_gone", keys)
            try:
                kind = _group_type(table)
                pulled = f"SELECT {table.group} FROM _sync_rows" if data is not None and data.num_rows else None
                if pulled:
                    store.register("_sync_rows", data)
                sources = [f"SELECT TRY_CAST(key AS {kind}) FROM _sync_gone"] + ([pulled] if pulled else [])
                store.execute(
                    f"DELETE FROM {table.name} WHERE {table.group} IN ({' UNION ALL '.join(sources)})",
                    name=f"shared/sync_replace/{table.name}",
                )
            finally:
                store.unregister("_sync_gone")
                if data is not None and data.num_rows:
                    store.unregister("_sync_rows")
        if data is not None and data.num_rows:
            names, selects = _local_columns(table)
            store.register("_sync_rows", data)
            try:
                store.execute(f"INSERT INTO {table.name} ({names}) SELECT {selects} FROM _sync_rows",
                              name=f"shared/sync_insert/{table.name}")
            finally:
                store.unregister("_sync_rows")
        result.rows[table.name] = data.num_rows if data is not None else 0
        result.removed[table.name] = len(gone)
    store.execute(
        "INSERT OR REPLACE INTO meta VALUES ('shared_store_id', $id), ('shared_rev', $rev)",
        {"id": store_id, "rev": str(upto)}, name="shared/meta_rev",
    )
    return result


def sync(store: Store, shared, *, working: bool = True) -> SyncResult:
    """Bring the copy ``store`` up to the shared store's last committed write; one DuckDB
    transaction. ``working``: also the clustering's working state (what an administrator's
    load and refresh need; a viewer's copy can do without)."""
    started = time.monotonic()
    store_id = shared.store_id()
    check_copy(store, store_id, shared.url)
    since = copy_rev(store)
    upto, rows, removed = pull(shared, since, working=working)
    if upto < since:
        raise SharedError(
            f"{store.path.name} was synced to write {since:,}, but the shared store at {describe(shared.url)} "
            f"has only {upto:,}: it was restored from an older backup; make a new copy"
        )
    if upto == since:
        return SyncResult(since, upto, seconds=time.monotonic() - started)
    with store.shared_writing(store_id), store.transaction():
        result = apply(store, since, upto, rows, removed, store_id)
    result.seconds = time.monotonic() - started
    return result
