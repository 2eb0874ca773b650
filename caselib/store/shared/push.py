"""An administrator's write to the shared store made in their copy: a load, a refresh.

The loader, the clusters' refresh and the rest are DuckDB code; in team mode they run in the
administrator's copy as always, inside :func:`admin_write`, which makes the copy's change and
the server's one change:

1. one transaction on the server takes the write clock (so no other write can commit
   meanwhile) and the copy catches up to the server;
2. what each shared table holds is summed up by group (a hash per tip, per object, ...),
   and the appended tables are counted;
3. the work runs in one DuckDB transaction;
4. the groups whose hash changed, the groups gone and the rows appended are sent to the
   server (Arrow, binary COPY) and written there; the server commits, then the copy.

The server commits first: killed before, neither has the change; killed between, the copy
rolls back and its next sync brings the change from the server. The one definition of what
is sent is the tables' list (:mod:`caselib.store.shared.tables`), whoever wrote the rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from caselib.store import Store
from caselib.store.shared import NotAllowed, SharedError, describe
from caselib.store.shared.schema import local_columns
from caselib.store.shared.sync import apply, check_copy, copy_rev, read_changes
from caselib.store.shared.tables import TABLES, Table

__all__ = ["admin_write"]

_TWO_63 = "9223372036854775808"
_TWO_64 = "18446744073709551616"


def _columns(table: Table) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, _ in local_columns()[table.name]]


def _hash_sql(table: Table) -> str:
    names = ", ".join(name for name, _ in _columns(table))
    return (f"SELECT {table.group} AS g, sum(hash({names})::HUGEINT) AS h, count(*) AS n "
            f"FROM {table.name} GROUP BY ALL")


def _send_select(table: Table, where: str) -> str:
    selects = []
    for name, kind in _columns(table):
        if kind == "UBIGINT":  # the server keeps the same 64 bits as a signed bigint
            selects.append(f"CASE WHEN {name} >= {_TWO_63}::UBIGINT THEN ({name}::HUGEINT - {_TWO_64}::HUGEINT)::BIGINT "
                           f"ELSE {name}::BIGINT END AS {name}")
        elif kind == "JSON":
            selects.append(f"{name}::VARCHAR AS {name}")
        else:
            selects.append(name)
    return f"SELECT {', '.join(selects)} FROM {table.name} WHERE {where}"


@dataclass
class _Before:
    counts: dict[str, int]


def _snapshot(store: Store) -> _Before:
    counts = {}
    for table in TABLES:
        if table.group is None:
            counts[table.name] = int(store.scalar(f"SELECT count(*) FROM {table.name}", name="shared/count"))
        else:
            store.execute(f"CREATE OR REPLACE TEMP TABLE _before_{table.name} AS {_hash_sql(table)}",
                          name="shared/snapshot")
    return _Before(counts)


def _drop_snapshot(store: Store) -> None:
    for table in TABLES:
        if table.group is not None:
            with contextlib.suppress(Exception):
                store.execute(f"DROP TABLE IF EXISTS _before_{table.name}")


def _send(store: Store, cursor, before: _Before) -> dict[str, int]:
    """Write the copy's changes since ``before`` to the server (inside both transactions)."""
    sent = {}
    for table in TABLES:
        if table.group is None:
            data = store.arrow(_send_select(table, f"rowid >= {before.counts[table.name]}"), name="shared/appended")
            if data.num_rows:
                _insert(cursor, table, data)
            sent[table.name] = data.num_rows
            continue
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE _changed AS "
            f"SELECT coalesce(a.g, b.g) AS g, a.g IS NOT NULL AS present, b.g IS NOT NULL AS existed "
            f"FROM ({_hash_sql(table)}) a FULL JOIN _before_{table.name} b ON a.g = b.g "
            f"WHERE a.h IS DISTINCT FROM b.h OR a.n IS DISTINCT FROM b.n",
            name="shared/changed",
        )
        removed = store.arrow("SELECT g::VARCHAR AS key FROM _changed WHERE existed", name="shared/removed")
        if removed.num_rows:  # rewritten or gone: the server's rows of these groups go (tombstoned)
            _stage(cursor, "_push_keys", removed)
            cursor.execute(f"DELETE FROM caselib.{table.name} t USING _push_keys k WHERE t.{table.group}::text = k.key")
        data = store.arrow(_send_select(table, f"{table.group} IN (SELECT g FROM _changed WHERE present)"),
                           name="shared/rewritten")
        if data.num_rows:
            _insert(cursor, table, data)
        sent[table.name] = data.num_rows
    store.execute("DROP TABLE IF EXISTS _changed")
    return sent


def _stage(cursor, name: str, data) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.adbc_ingest(name, data, mode="create", temporary=True)


def _insert(cursor, table: Table, data) -> None:
    names = ", ".join(name for name, _ in _columns(table))
    _stage(cursor, "_push_rows", data)
    cursor.execute(f"INSERT INTO caselib.{table.name} ({names}) SELECT {names} FROM _push_rows")


def _sqlstate(error: Exception) -> str | None:
    return getattr(error, "sqlstate", None)


@contextlib.contextmanager
def admin_write(store: Store, shared, *, what: str = "the write"):
    """Make the work done inside (in ``store``, the administrator's copy) one write of the
    shared store; yields the write's number. Refused, with nothing written anywhere: a
    user who is not an administrator, a copy of another store, a server that fails."""
    if "admin" not in shared.roles():
        raise NotAllowed(f"{shared.user} may not {what} in the shared store: that is an administrator's (caselib_admin)")
    store_id = shared.store_id()
    check_copy(store, store_id, shared.url)
    cursor = shared.arrow().cursor()
    began = False
    try:
        cursor.execute("BEGIN")
        began = True
        cursor.execute("SET LOCAL lock_timeout = '120s'")
        cursor.execute("SELECT caselib.begin_write()")
        number = int(cursor.fetchone()[0])
        since = copy_rev(store)
        upto = number - 1  # we hold the clock: every write before ours has committed, none after can
        if upto < since:
            raise SharedError(f"{store.path.name} was synced to write {since:,}, but the shared store has only "
                              f"{upto:,}: it was restored from an older backup; make a new copy")
        rows, removed = read_changes(cursor, since, upto)
        if upto > since:
            with store.shared_writing(store_id), store.transaction():
                apply(store, since, upto, rows, removed, store_id)
        before = _snapshot(store)
        try:
            with store.shared_writing(store_id), store.transaction():
                yield number
                _send(store, cursor, before)
                store.execute("INSERT OR REPLACE INTO meta VALUES ('shared_store_id', $id), ('shared_rev', $rev)",
                              {"id": store_id, "rev": str(number)}, name="shared/meta_rev")
                cursor.execute("COMMIT")  # the server first; then the copy (leaving the block)
                began = False
        finally:
            _drop_snapshot(store)
    except BaseException as error:
        if began:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
        if _sqlstate(error) == "42501":
            raise NotAllowed(f"the shared store refused {what} to {shared.user}: {str(error).splitlines()[0]}") from None
        if _sqlstate(error) is not None:
            raise SharedError(f"the shared store at {describe(shared.url)} refused {what}: "
                              f"{str(error).splitlines()[0]}") from None
        raise
    finally:
        cursor.close()
