"""The state of analysts' triage decisions: every read and write of it, in one place.

A decision on tips is rows of ``tip_triage_history`` with source ``analyst`` (who, when,
why, the audit record that chains it), the tips' new values in ``tips``, and their
fingerprints dropped (so the intake system's next re-export of them is compared, and a
disagreement found). The domain (:mod:`caselib.domain.triage`) decides what to write; this
module is the only code that knows the tables, so a shared server database can hold the
same state later.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from caselib.store import Store

__all__ = [
    "DECISION_COLUMNS",
    "apply_decision",
    "decision_digest",
    "digest_rows",
    "next_audit_seq",
    "tip_states",
    "triage_history",
]

# What a decision writes per tip (the Arrow table handed to apply_decision).
DECISION_COLUMNS = ("tip_id", "old_triage_status", "new_triage_status", "old_forwarded_to", "new_forwarded_to")
_IDS = "_triage_ids"
_DECIDED = "_triage_decided"


def tip_states(store: Store, tip_ids) -> list[tuple]:
    """(tip_id, object_id, triage_status, forwarded_to, row) of the stored tips among
    ``tip_ids`` (any iterable of ids), in id order; ``row`` is the tip's row number, which
    :func:`apply_decision` writes by (valid only inside the transaction that read it)."""
    import pyarrow as pa

    store.register(_IDS, pa.table({"tip_id": pa.array(sorted(set(tip_ids)), pa.string())}))
    try:
        return store.rows(
            f"SELECT t.tip_id, t.object_id, t.triage_status, t.forwarded_to, t.rowid FROM tips t "
            f"JOIN {_IDS} USING (tip_id) ORDER BY t.tip_id",
            name="triage/tip_states",
        )
    finally:
        store.unregister(_IDS)


def next_audit_seq(store: Store) -> int:
    """The sequence number the next audit record gets (inside the writing transaction)."""
    return int(store.scalar("SELECT coalesce(max(seq), 0) + 1 FROM audit_log", name="triage/next_seq"))


def apply_decision(store: Store, rows, tip_rows: list[int], *, decided_at: dt.datetime, decided_by: str,
                   reason: str, audit_seq: int) -> None:
    """Write one decision: ``rows`` (an Arrow table of :data:`DECISION_COLUMNS`, one new
    status and country for all) into the history, the new values into the tips at
    ``tip_rows`` (their row numbers from :func:`tip_states`, read in the same transaction:
    found without a scan of ``tips``), and the tips' fingerprints dropped. Call inside that
    transaction, with the audit record's ``audit_seq``."""
    store.register(_DECIDED, rows)
    try:
        params = {"at": decided_at, "by": decided_by, "reason": reason, "seq": audit_seq}
        store.execute(
            "INSERT INTO tip_triage_history (tip_id, batch_id, changed_at, old_triage_status, new_triage_status,\n"
            "    old_forwarded_to, new_forwarded_to, source, decided_by, reason, audit_seq)\n"
            f"SELECT tip_id, NULL, $at, old_triage_status, new_triage_status, old_forwarded_to, new_forwarded_to,\n"
            f"    'analyst', $by, $reason, $seq FROM {_DECIDED}",
            params, name="triage/history",
        )
        status = rows.column("new_triage_status")[0].as_py()
        country = rows.column("new_forwarded_to")[0].as_py()
        store.execute(
            "UPDATE tips SET triage_status = $status, forwarded_to = $country, forwarded_to_raw = NULL\n"
            "WHERE rowid IN (SELECT unnest($rows))",
            {"status": status, "country": country, "rows": list(tip_rows)}, name="triage/update",
        )
        store.execute(
            f"DELETE FROM tip_fingerprints WHERE tip_id IN (SELECT tip_id FROM {_DECIDED})",
            name="triage/fingerprints",
        )
    finally:
        store.unregister(_DECIDED)


def digest_rows(rows) -> tuple[int, str]:
    """(rows, SHA-256) of a decision's history rows ``(tip_id, changed_at, old status, new
    status, old country, new country, decided_by, reason)``, in tip order: the one
    definition of what a decision's audit record holds (a decision here, on a team's shared
    store, and ``audit verify`` all use it)."""
    lines = sorted(
        "\x1f".join([tip, changed.strftime("%Y-%m-%dT%H:%M:%S.%f"), old, new, old_to or "", new_to or "", by, reason])
        for tip, changed, old, new, old_to, new_to, by, reason in rows
    )
    if not lines:
        return 0, ""
    return len(lines), hashlib.sha256("\x1e".join(lines).encode("utf-8")).hexdigest()


def decision_digest(store: Store, audit_seq: int) -> tuple[int, str]:
    """(rows, SHA-256) of the history rows of the decision chained as ``audit_seq``
    (:func:`digest_rows`): what its audit record holds, so an edited or removed row is detected."""
    return digest_rows(store.rows(
        "SELECT tip_id, changed_at, old_triage_status, new_triage_status, old_forwarded_to, new_forwarded_to, "
        "decided_by, reason FROM tip_triage_history WHERE source = 'analyst' AND audit_seq = $seq",
        {"seq": audit_seq}, name="triage/digest",
    ))


def triage_history(store: Store, *, tip_ids=None, source: str | None = None, limit: int | None = None) -> list[dict]:
    """The triage history, newest first: every change a load or an analyst made, and the
    re-deliveries that disagreed with an analyst. Optionally only some tips, or one source
    (``load``, ``analyst``, ``intake_disagrees``)."""
    conditions, params = [], {}
    if tip_ids is not None:
        conditions.append("list_contains($ids, tip_id)")
        params["ids"] = sorted(set(tip_ids))
    if source is not None:
        conditions.append("source = $source")
        params["source"] = source
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = store.rows(
        "SELECT tip_id, changed_at, source, old_triage_status, new_triage_status, old_forwarded_to,\n"
        "       new_forwarded_to, decided_by, reason, batch_id, audit_seq\n"
        f"FROM tip_triage_history {where}\n"
        "ORDER BY changed_at DESC, tip_id" + (f" LIMIT {int(limit)}" if limit else ""),
        params, name="triage/history_rows",
    )
    names = ("tip_id", "changed_at", "source", "old_triage_status", "new_triage_status", "old_forwarded_to",
             "new_forwarded_to", "decided_by", "reason", "batch_id", "audit_seq")
    return [dict(zip(names, row, strict=True)) for row in rows]


_PACKAGE_TIP_COLUMNS = ("tip_id", "object_id", "received_at", "channel", "language", "reporter_country",
                        "suggested_country", "suggested_place", "latitude", "longitude", "brand", "shop",
                        "period", "tip_text", "reporter_pseudonym")
_PACKAGE_OBJECT_COLUMNS = ("object_id", "title", "category", "description", "first_published", "wave_id")


def forwardable_tips(store: Store, country: str, object_id: str | None = None):
    """The tips to forward to ``country`` (alpha-3): triaged ``actionable``, suggesting that
    country, and never forwarded to it by an analyst before; optionally of one object. A
    pandas frame of the package's tip columns (no contact data: the store keeps none, only a
    pseudonym where the load made one), in object and time order."""
    columns = ", ".join(f"t.{c}" for c in _PACKAGE_TIP_COLUMNS)
    return store.df(
        f"SELECT {columns} FROM tips AS t\n"
        "WHERE t.triage_status = 'actionable' AND t.suggested_country = $country\n"
        "  AND ($object::VARCHAR IS NULL OR t.object_id = $object)\n"
        "  AND t.tip_id NOT IN (SELECT tip_id FROM tip_triage_history\n"
        "                       WHERE source = 'analyst' AND new_triage_status = 'forwarded'\n"
        "                         AND new_forwarded_to = $country)\n"
        "ORDER BY t.object_id, t.received_at, t.tip_id",
        {"country": country, "object": object_id}, name="triage/forwardable",
    )


def package_objects(store: Store, object_ids):
    """The objects of a package, text only, as a pandas frame."""
    columns = ", ".join(_PACKAGE_OBJECT_COLUMNS)
    return store.df(
        f"SELECT {columns} FROM objects WHERE list_contains($ids, object_id) ORDER BY object_id",
        {"ids": sorted(set(object_ids))}, name="triage/package_objects",
    )


def forwarded_by_country(store: Store, *, as_of=None):
    """What was forwarded where, as of the end of ``as_of`` (a date; default: now): per country,
    the tips standing forwarded to it then, the packages made by then (audit records of
    forwarding) and the last one's day, as a pandas frame, most tips first."""
    return store.df(
        "WITH packages AS (\n"
        "    SELECT payload::JSON->>'forwarded_to' AS country, count(*) AS packages,\n"
        "           max(recorded_at)::DATE AS last_package_on\n"
        "    FROM audit_log\n"
        "    WHERE action = 'forward' AND ($as_of::DATE IS NULL OR recorded_at < $as_of::DATE + INTERVAL 1 DAY)\n"
        "    GROUP BY 1\n"
        "), standing AS (\n"
        "    SELECT forwarded_to AS country, count(*) AS tips\n"
        "    FROM tips_as_of(coalesce($as_of::DATE, DATE '9999-12-30'))\n"
        "    WHERE triage_status = 'forwarded' AND forwarded_to IS NOT NULL GROUP BY 1\n"
        ")\n"
        "SELECT country, coalesce(s.tips, 0) AS tips, coalesce(p.packages, 0) AS packages, p.last_package_on\n"
        "FROM standing AS s FULL JOIN packages AS p USING (country)\n"
        "ORDER BY tips DESC, country",
        {"as_of": as_of}, name="triage/forwarded_by_country",
    )
