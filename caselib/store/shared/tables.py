"""The tables the shared store holds, and how each is copied: one definition, read by the
schema (:mod:`caselib.store.shared.schema`), the sync (:mod:`caselib.store.shared.sync`) and the push of
an administrator's load (:mod:`caselib.store.shared.push`).

Every shared table has the columns of the DuckDB table of the same name (the DuckDB schema,
``caselib/sql/schema``, is the one definition of them) and one more, ``_rev``: the number of
the shared write that last wrote the row. A shared write takes the next number from the one
row of ``caselib.clock``, whose lock it holds until it commits, so numbers commit in order and
a sync that has seen number N has seen every write up to N.

A table is copied by *groups*: the rows sharing its ``group`` column (a tip's rows, an
object's). A write rewrites a group whole, all its rows stamped with the write's number; a
group that loses its last row leaves a tombstone (``caselib.tombstones``), so a copy drops it.
A table without a group is appended to only (the audit chain, histories, the quarantine):
its new rows are those with a higher number.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TABLES", "Table", "table"]


@dataclass(frozen=True)
class Table:
    name: str
    group: str | None  # None: appended to only
    unique: bool = False  # one row per group: the group column is the primary key
    working: bool = False  # only the clustering's own working state: copied too, for the next refresh


TABLES: tuple[Table, ...] = (
    # what a load writes
    Table("load_batches", None),
    Table("waves", "wave_id", unique=True),
    Table("objects", "object_id", unique=True),
    Table("object_history", None),
    Table("tips", "tip_id", unique=True),
    Table("tip_triage_history", None),
    Table("rejected_rows", None),
    Table("tip_fingerprints", "tip_id"),
    Table("audit_log", None),
    # near-duplicate clusters, and what their refresh works from
    Table("tip_clusters", "cluster_id", unique=True),
    Table("tip_cluster_members", "tip_id"),
    Table("tip_cluster_decisions", None),
    Table("tip_cluster_refreshes", None),
    Table("tip_cluster_compared", "tip_id", working=True),
    Table("tip_cluster_bands", "tip_key", working=True),
    # languages and names found in tips
    Table("tip_languages", "tip_id"),
    Table("tip_names", "tip_id"),
    Table("tip_names_processed", "tip_id"),
    # team work
    Table("tip_claims", "tip_id", unique=True),
    Table("object_assignments", "object_id", unique=True),
    Table("tip_assignments", "tip_id", unique=True),
)

_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    return _BY_NAME[name]
