"""What tips name: every read and write of ``tip_names`` and ``tip_names_processed``.

The domain (:mod:`caselib.domain.names`) decides what a tip names; this module is the only
code that knows the tables, so a shared server database can hold the same state later.
Tips are only read: ``suggested_country`` and the rest stay as the loader wrote them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from caselib.store import Store

__all__ = [
    "NAME_COLUMNS",
    "field_spellings",
    "forget_all",
    "group_tips",
    "names_of",
    "object_ids",
    "pending_count",
    "pending_tips",
    "place_countries",
    "read_counts",
    "record_names",
]

# What the domain hands to record_names, one list per column.
NAME_COLUMNS = ("tip_id", "object_id", "kind", "source", "name_key", "found_text", "resolved", "country", "ambiguous")
# What a tip's names are read from; a tip whose digest changed is read again.
_DIGEST = "hash(t.object_id, coalesce(t.brand, ''), coalesce(t.shop, ''), coalesce(t.suggested_place, ''), coalesce(t.tip_text, ''))"
# The tips with their processed record, when it matches what they hold now (p.tip_id is
# NULL for a tip that awaits extraction): one hash join, not a lookup per tip.
_WITH_RECORD = (
    "tips t LEFT JOIN tip_names_processed p\n"
    f"    ON p.tip_id = t.tip_id AND p.digest = {_DIGEST} AND p.extractor = $extractor"
)
_PENDING = "p.tip_id IS NULL"
_NAMES = "_names_found"
_PROCESSED = "_names_processed"


def pending_count(store: Store, *, extractor: str) -> int:
    """How many tips await extraction under ``extractor``'s rules."""
    return int(store.scalar(f"SELECT count(*) FROM {_WITH_RECORD} WHERE {_PENDING}", {"extractor": extractor},
                            name="names/pending_count"))


def pending_tips(store: Store, *, extractor: str) -> list[tuple]:
    """(tip_id, object_id, brand, shop, suggested_place, tip_text, digest) of each tip not
    examined under ``extractor``'s rules, or changed since, in tip id order."""
    return store.rows(
        f"SELECT t.tip_id, t.object_id, t.brand, t.shop, t.suggested_place, t.tip_text, {_DIGEST}\n"
        f"FROM {_WITH_RECORD} WHERE {_PENDING} ORDER BY t.tip_id",
        {"extractor": extractor},
        name="names/pending_tips",
    )


def field_spellings(store: Store) -> list[tuple[str, str, int]]:
    """(kind, spelling, tips) of every brand and shop the tips' fields give, white space trimmed."""
    return store.rows(
        "SELECT 'brand', trim(brand), count(*) FROM tips WHERE trim(brand) <> '' GROUP BY 2\n"
        "UNION ALL\n"
        "SELECT 'shop', trim(shop), count(*) FROM tips WHERE trim(shop) <> '' GROUP BY 2\n"
        "ORDER BY 1, 2",
        name="names/field_spellings",
    )


def record_names(
    store: Store, names: Mapping[str, Sequence], processed: Sequence[tuple[str, int]], *,
    extractor: str, processed_at: dt.datetime,
) -> None:
    """Replace the names of the tips in ``processed`` ((tip_id, digest) pairs) by ``names``
    (one sequence per :data:`NAME_COLUMNS`) and record them examined, in one transaction."""
    import pyarrow as pa

    found = pa.table({
        "tip_id": pa.array(names["tip_id"], pa.string()),
        "object_id": pa.array(names["object_id"], pa.string()),
        "kind": pa.array(names["kind"], pa.string()),
        "source": pa.array(names["source"], pa.string()),
        "name_key": pa.array(names["name_key"], pa.string()),
        "found_text": pa.array(names["found_text"], pa.string()),
        "resolved": pa.array(names["resolved"], pa.string()),
        "country": pa.array(names["country"], pa.string()),
        "ambiguous": pa.array(names["ambiguous"], pa.bool_()),
    })
    done = pa.table({
        "tip_id": pa.array([tip_id for tip_id, _ in processed], pa.string()),
        "digest": pa.array([digest for _, digest in processed], pa.uint64()),
    })
    store.register(_NAMES, found)
    store.register(_PROCESSED, done)
    try:
        with store.transaction():
            store.execute(f"DELETE FROM tip_names WHERE tip_id IN (SELECT tip_id FROM {_PROCESSED})",
                          name="names/forget_names")
            store.execute(f"DELETE FROM tip_names_processed WHERE tip_id IN (SELECT tip_id FROM {_PROCESSED})",
                          name="names/forget_processed")
            store.execute(f"INSERT INTO tip_names SELECT {', '.join(NAME_COLUMNS)} FROM {_NAMES}", name="names/record")
            store.execute(
                f"INSERT INTO tip_names_processed SELECT tip_id, digest, $extractor, $at FROM {_PROCESSED}",
                {"extractor": extractor, "at": processed_at},
                name="names/record_processed",
            )
    finally:
        store.unregister(_NAMES)
        store.unregister(_PROCESSED)


def forget_all(store: Store) -> None:
    """Remove every extracted name and processed record (a rebuild reads every tip again)."""
    with store.transaction():
        store.execute("DELETE FROM tip_names", name="names/forget_all")
        store.execute("DELETE FROM tip_names_processed", name="names/forget_all_processed")


def names_of(store: Store, tip_ids: Sequence[str] | None = None) -> list[tuple]:
    """(tip_id, object_id, kind, source, name_key, found_text, resolved, country, ambiguous)
    of the names found in the tips ``tip_ids`` (all when None), by tip, kind, source and key."""
    return store.rows(
        f"SELECT {', '.join(NAME_COLUMNS)} FROM tip_names\n"
        "WHERE $ids IS NULL OR list_contains($ids, tip_id)\n"
        "ORDER BY tip_id, kind, source, name_key",
        {"ids": None if tip_ids is None else list(tip_ids)},
        name="names/of_tips",
    )


def object_ids(store: Store, object_id: str | None = None) -> list[str]:
    """The objects' ids (``object_id`` alone when given and known), in id order."""
    return [row[0] for row in store.rows(
        "SELECT object_id FROM objects WHERE $object IS NULL OR object_id = $object ORDER BY object_id",
        {"object": object_id}, name="names/objects",
    )]


def read_counts(store: Store, object_id: str | None = None, *, extractor: str) -> list[tuple[str, int, int]]:
    """(object_id, tips, unread) per object with tips (``object_id`` alone when given):
    ``unread`` of them have no processed record under ``extractor``'s rules (a tip changed
    since its record was written counts as read here; :func:`pending_tips` finds it); by object."""
    return store.rows(
        "SELECT t.object_id, count(*), count(*) FILTER (WHERE p.tip_id IS NULL)\n"
        "FROM tips t LEFT JOIN (SELECT tip_id FROM tip_names_processed WHERE extractor = $extractor) p USING (tip_id)\n"
        "WHERE $object IS NULL OR t.object_id = $object GROUP BY t.object_id ORDER BY t.object_id",
        {"object": object_id, "extractor": extractor},
        name="names/read_counts",
    )


def place_countries(store: Store, object_id: str | None = None) -> list[tuple[str, str, int, int, int]]:
    """(object_id, country, tips, ambiguous, placed) per object and country its tips name a
    place in: ``tips`` naming one there (each once), ``ambiguous`` of them only by an
    ambiguous name, ``placed`` the object's tips naming any place; by object, most tips
    first, then by country code."""
    return store.rows(
        "WITH per_tip AS (\n"
        "    SELECT object_id, tip_id, country, bool_and(ambiguous) AS ambiguous FROM tip_names\n"
        "    WHERE kind = 'place' AND ($object IS NULL OR object_id = $object)\n"
        "    GROUP BY ALL\n"
        ")\n"
        "SELECT object_id, country, count(*) AS tips, count(*) FILTER (WHERE ambiguous) AS ambiguous,\n"
        "       placed\n"
        "FROM per_tip JOIN (SELECT object_id, count(DISTINCT tip_id) AS placed FROM per_tip GROUP BY ALL) USING (object_id)\n"
        "GROUP BY object_id, country, placed\n"
        "ORDER BY object_id, tips DESC, country",
        {"object": object_id},
        name="names/place_countries",
    )


def group_tips(store: Store, object_id: str | None = None) -> list[tuple[str, str, str, int]]:
    """(object_id, kind, name, tips) per object and brand or shop group its tips name (each
    tip once per group, field or text), a group named by its most frequent spelling in the
    whole campaign (ties: the first in text order); by object, kind, most tips first."""
    return store.rows(
        "WITH spellings AS (\n"
        "    SELECT kind, name_key, found_text, count(*) AS n FROM tip_names\n"
        "    WHERE kind IN ('brand', 'shop') GROUP BY ALL\n"
        "), display AS (\n"
        "    SELECT kind, name_key, found_text AS name FROM spellings\n"
        "    QUALIFY row_number() OVER (PARTITION BY kind, name_key ORDER BY n DESC, found_text) = 1\n"
        ")\n"
        "SELECT n.object_id, n.kind, d.name, count(DISTINCT n.tip_id) AS tips\n"
        "FROM tip_names n JOIN display d USING (kind, name_key)\n"
        "WHERE n.kind IN ('brand', 'shop') AND ($object IS NULL OR n.object_id = $object)\n"
        "GROUP BY ALL ORDER BY n.object_id, n.kind, tips DESC, d.name",
        {"object": object_id},
        name="names/group_tips",
    )
