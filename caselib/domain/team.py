"""Team mode's rules: decisions written to a team's shared store (triage, claims,
assignments, closure, clusters) and loads into it through an administrator's copy.

Each is one write of the server (:meth:`caselib.store.shared.Shared.writing`: the write clock held
until it commits, so writers are serialised by the database and the audit chain stays one
chain), by the connected user, whose role the server checks (grants and row-level security,
``caselib/sql/shared/002_roles.sql``). The rules are the workbench's own: the same checks of
a status, a reason, a country (:mod:`caselib.domain.triage`), the same audit records
(:mod:`caselib.domain.audit`), the same history rows and digests (:mod:`caselib.store.triage`).

**No lost update.** A decision names what its analyst saw (``expected``: each tip's status
and country, as their copy showed them). A tip that another analyst decided since, or that
another analyst has claimed, is a :class:`~caselib.store.shared.Conflict`: nothing is written and
the message says who decided what and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from caselib.domain import audit
from caselib.domain.triage import TriageDecision, _listing, _target
from caselib.errors import CaselibError
from caselib.store import Store
from caselib.store.shared import Conflict, Shared
from caselib.store.triage import digest_rows

__all__ = [
    "CLAIM_MINUTES",
    "assign",
    "claim",
    "close_object",
    "decide",
    "keep_open",
    "load",
    "release",
    "reopen_object",
]

CLAIM_MINUTES = 30  # a claim lapses unless renewed: an analyst who went home holds nothing


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def when_text(moment: dt.datetime) -> str:
    """A moment as messages say it: ``02 Dec 2026 09:14 UTC``."""
    return moment.strftime("%d %b %Y %H:%M UTC")


def _insert_record(shared: Shared, record: audit.AuditRecord) -> None:
    shared.con.execute(
        "INSERT INTO caselib.audit_log (seq, recorded_at, actor, action, object_id, batch_id, payload, prev_hash, hash) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (record.seq, record.recorded_at, record.actor, record.action, record.object_id, record.batch_id,
         record.payload, record.prev_hash, record.hash),
    )


def _append(shared: Shared, *, action: str, payload: dict, object_id=None) -> audit.AuditRecord:
    """Append an audit record on the server (inside a write: the clock is held, so the head
    read here is the head the record follows; the server checks it too)."""
    head = shared.con.execute("SELECT seq, hash FROM caselib.audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    record = audit.new_record(head, action=action, payload=payload, actor=shared.user, object_id=object_id)
    _insert_record(shared, record)
    return record


def _last_decisions(shared: Shared, tip_ids: list[str]) -> dict[str, tuple]:
    """tip -> (who, when, status, country, reason) of its latest triage change."""
    found = shared.rows(
        "SELECT DISTINCT ON (tip_id) tip_id, coalesce(decided_by, 'the intake system'), changed_at, new_triage_status, "
        "new_forwarded_to, coalesce(reason, '') FROM caselib.tip_triage_history WHERE tip_id = ANY(%s) "
        "ORDER BY tip_id, changed_at DESC",
        (tip_ids,),
    )
    return {row[0]: row[1:] for row in found}


def _conflict_text(shared: Shared, moved: list[tuple]) -> str:
    """One line per tip that moved (tip, status, country), saying who decided what and when."""
    last = _last_decisions(shared, [m[0] for m in moved])
    parts = []
    for tip, status, country in moved[:5]:
        if tip in last:
            who, when, _, _, reason = last[tip]
            said = f" (“{reason}”)" if reason else ""
            parts.append(f"{tip} was made {status}{' → ' + country if country else ''} by {who} on {when_text(when)}{said}")
        else:
            parts.append(f"{tip} now stands as {status}")
    more = f"; and {len(moved) - 5} more" if len(moved) > 5 else ""
    return "; ".join(parts) + more


def _claimed_by_others(shared: Shared, tip_ids: list[str], now: dt.datetime) -> list[tuple]:
    return shared.rows(
        "SELECT tip_id, claimed_by, claimed_at FROM caselib.tip_claims "
        "WHERE tip_id = ANY(%s) AND claimed_by <> session_user AND expires_at > %s ORDER BY tip_id",
        (tip_ids, now),
    )


def _states(shared: Shared, tip_ids: list[str], now: dt.datetime, *, lock: bool) -> tuple[list[tuple], list[tuple]]:
    """([(tip, object, status, country)], [(tip, claimed_by, claimed_at)] held by others) of
    the stored tips among ``tip_ids``, in one query; ``lock``: their rows locked (FOR UPDATE)."""
    rows = shared.rows(
        "SELECT t.tip_id, t.object_id, t.triage_status, t.forwarded_to, c.claimed_by, c.claimed_at "
        "FROM caselib.tips t LEFT JOIN caselib.tip_claims c "
        "  ON c.tip_id = t.tip_id AND c.claimed_by <> session_user AND c.expires_at > %s "
        "WHERE t.tip_id = ANY(%s) ORDER BY t.tip_id" + (" FOR UPDATE OF t" if lock else ""),
        (now, tip_ids),
    )
    return [r[:4] for r in rows], [(r[0], r[4], r[5]) for r in rows if r[4] is not None]


def _refuse_conflicts(shared: Shared, found: list[tuple], held: list[tuple], expected) -> None:
    """A :class:`Conflict` when another analyst holds one of the tips, or one stands otherwise
    than the deciding analyst saw it (``expected``)."""
    if held:
        who = "; ".join(f"{tip} by {by} since {when_text(at)}" for tip, by, at in held[:5])
        raise Conflict(f"{len(held)} of the tips are in review by another analyst ({who}); nothing was written")
    if expected is not None:
        moved = [(tip, s, c) for tip, _, s, c in found if tip in expected and tuple(expected[tip]) != (s, c)]
        if moved:
            raise Conflict(f"{len(moved)} of the tips were decided since you saw them: "
                           f"{_conflict_text(shared, moved)}; nothing was written")


def decide(shared: Shared, tip_ids, *, status: str, reason: str, forwarded_to: str | None = None,
           expected: Mapping[str, tuple[str, str | None]] | None = None,
           _action: str = "triage", _details: dict | None = None, _before_commit=None) -> TriageDecision:
    """Give the tips ``status`` on the shared store, decided by the connected user, for
    ``reason`` (:func:`caselib.domain.triage.decide`'s rules). ``expected``: tip -> (status,
    country) as the deciding analyst saw them; a tip that stands otherwise now, or that is
    claimed by another analyst, is a :class:`Conflict` and nothing is written.

    (Forwarding records its package through the private arguments, as the local decide's.)"""
    target = _target(status, forwarded_to)
    reason = audit.visible_text(reason, "a reason", purpose="to triage tips", line_breaks=True)
    wanted = sorted({str(t).strip() for t in tip_ids if str(t).strip()})
    if not wanted:
        raise CaselibError("no tips to triage: name tip ids, a cluster or a filter that chooses some")
    user = shared.user
    # What stands now, read before taking the write clock: a decision that would conflict is
    # told so at once, without waiting in line behind the other writers (checked again below).
    _refuse_conflicts(shared, *_states(shared, wanted, _now(), lock=False), expected)
    with shared.writing():
        now = _now()
        found, held = _states(shared, wanted, now, lock=True)
        unknown = sorted(set(wanted) - {row[0] for row in found})
        if unknown:
            raise CaselibError(f"{len(unknown)} of the tips named are not stored: {_listing(unknown)}")
        _refuse_conflicts(shared, found, held, expected)
        changes = [row for row in found if (row[2], row[3]) != (status, target)]
        if not changes:
            return TriageDecision(status, target, 0, len(found), None, user, None)
        ids = [row[0] for row in changes]
        objects = sorted({row[1] for row in changes})
        history = [(tip, now, old, status, old_to, target, user, reason) for tip, _, old, old_to in changes]
        count, digest = digest_rows(history)
        head = shared.con.execute("SELECT seq, hash FROM caselib.audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        record = audit.new_record(head, action=_action, actor=user, object_id=objects[0] if len(objects) == 1 else None,
                                  payload={"status": status, "forwarded_to": target, "reason": reason, "tips": count,
                                           "objects": objects, "digest": digest, **(_details or {})})
        # The history rows first, alone: what the role may decide is refused here (row-level
        # security), as one error. One statement for any number of tips (arrays unnested).
        shared.con.execute(
            "INSERT INTO caselib.tip_triage_history (tip_id, batch_id, changed_at, old_triage_status, "
            "new_triage_status, old_forwarded_to, new_forwarded_to, source, decided_by, reason, audit_seq) "
            "SELECT u.tip, NULL, %s, u.old, %s, u.old_to, %s, 'analyst', %s, %s, %s "
            "FROM unnest(%s::text[], %s::text[], %s::text[]) AS u(tip, old, old_to)",
            (now, status, target, user, reason, record.seq,
             [r[0] for r in changes], [r[2] for r in changes], [r[3] for r in changes]),
        )
        with shared.con.pipeline():  # the rest sent together: one round trip
            shared.con.execute(
                "UPDATE caselib.tips SET triage_status = %s, forwarded_to = %s, forwarded_to_raw = NULL WHERE tip_id = ANY(%s)",
                (status, target, ids),
            )
            shared.con.execute("DELETE FROM caselib.tip_fingerprints WHERE tip_id = ANY(%s)", (ids,))
            shared.con.execute("DELETE FROM caselib.tip_claims WHERE tip_id = ANY(%s) AND claimed_by = session_user", (ids,))
            _insert_record(shared, record)
        if _before_commit is not None:  # e.g. a forwarding package put in place; raising undoes all
            _before_commit(record.seq)
    return TriageDecision(status, target, len(changes), len(found) - len(changes), record.seq, user, now)


def claim(shared: Shared, tip_ids, *, minutes: int = CLAIM_MINUTES) -> tuple[list[str], list[tuple]]:
    """Claim the tips for the connected user's review for ``minutes`` (renewing their own
    claims). Returns (tips claimed, [(tip, claimed_by, claimed_at)] held by others)."""
    wanted = sorted({str(t).strip() for t in tip_ids if str(t).strip()})
    now = _now()
    with shared.writing():
        held = _claimed_by_others(shared, wanted, now)
        taken = sorted(set(wanted) - {h[0] for h in held})
        if taken:
            stored = {row[0] for row in shared.rows("SELECT tip_id FROM caselib.tips WHERE tip_id = ANY(%s)", (taken,))}
            unknown = sorted(set(taken) - stored)
            if unknown:
                raise CaselibError(f"{len(unknown)} of the tips named are not stored: {_listing(unknown)}")
            shared.con.execute("DELETE FROM caselib.tip_claims WHERE tip_id = ANY(%s)", (taken,))
            shared.con.execute(
                "INSERT INTO caselib.tip_claims (tip_id, claimed_by, claimed_at, expires_at) "
                "SELECT tip, session_user, %s, %s FROM unnest(%s::text[]) AS tip",
                (now, now + dt.timedelta(minutes=minutes), taken),
            )
    return taken, held


def release(shared: Shared, tip_ids=None) -> int:
    """Give up the connected user's claims (of ``tip_ids``; None: all of them). Returns how many."""
    with shared.writing():
        if tip_ids is None:
            cursor = shared.con.execute("DELETE FROM caselib.tip_claims WHERE claimed_by = session_user")
        else:
            cursor = shared.con.execute("DELETE FROM caselib.tip_claims WHERE claimed_by = session_user AND tip_id = ANY(%s)",
                                        (sorted({str(t) for t in tip_ids}),))
        return cursor.rowcount


def assign(shared: Shared, kind: str, item_ids, to: str | None, *, reason: str) -> audit.AuditRecord:
    """Assign objects or tips (``kind``) to the user ``to`` (None: unassign them); a
    reviewer's decision, in the audit."""
    if kind not in ("object", "tip"):
        raise CaselibError(f"one assigns objects or tips, not {kind!r}")
    reason = audit.visible_text(reason, "a reason", purpose="to assign work", line_breaks=True)
    ids = sorted({str(i).strip() for i in item_ids if str(i).strip()})
    if not ids:
        raise CaselibError(f"no {kind}s to assign")
    table, key, source = ("object_assignments", "object_id", "objects") if kind == "object" else ("tip_assignments", "tip_id", "tips")
    if to is not None:
        to = to.strip()
        if not shared.scalar("SELECT pg_has_role(%s, 'caselib_analyst', 'MEMBER') FROM pg_roles WHERE rolname = %s", (to, to)):
            raise CaselibError(f"{to!r} is not an analyst of this shared store (see `caselib shared users`)")
    with shared.writing():
        stored = {row[0] for row in shared.rows(f"SELECT {key} FROM caselib.{source} WHERE {key} = ANY(%s)", (ids,))}
        unknown = sorted(set(ids) - stored)
        if unknown:
            raise CaselibError(f"{len(unknown)} of the {kind}s named are not stored: {_listing(unknown)}")
        shared.con.execute(f"DELETE FROM caselib.{table} WHERE {key} = ANY(%s)", (ids,))
        now = _now()
        if to is not None:
            shared.con.execute(
                f"INSERT INTO caselib.{table} ({key}, assigned_to, assigned_by, assigned_at) "
                "SELECT item, %s, session_user, %s FROM unnest(%s::text[]) AS item",
                (to, now, ids),
            )
        return _append(shared, action="assign", object_id=ids[0] if kind == "object" and len(ids) == 1 else None,
                       payload={"kind": kind, "ids": ids, "assigned_to": to, "reason": reason})


def _object_now(shared: Shared, object_id: str) -> tuple[str, dt.date | None]:
    """The object's (status, closed_on) on the server (read inside a write: the clock held
    keeps it as read until the write commits)."""
    found = shared.con.execute(
        "SELECT status, closed_on FROM caselib.objects WHERE object_id = %s", (object_id,)
    ).fetchone()
    if found is None:
        raise CaselibError(f"there is no object {object_id!r}; see the objects with `caselib flags`")
    return found


class _Undo(Exception):
    pass


def _flag(store, shared: Shared, object_id: str, *, reopened: bool = False) -> dict:
    """The object's closure flag as it stands on the server: the copy caught up first (the
    clock is held, so nothing changes meanwhile), then the workbench's own figures; with
    ``reopened``, as they stand once the object is open again (what a reopen records),
    worked out in a copy's transaction that is rolled back."""
    from caselib.store.shared.sync import sync

    sync(store, shared)
    if not reopened:
        return audit.flag_now(store, object_id)
    flag = {}
    try:
        with store.shared_writing(store.shared_copy_of()), store.transaction():
            store.execute("UPDATE objects SET status = 'open', closed_on = NULL WHERE object_id = $id",
                          {"id": object_id}, name="shared/reopened_flag")
            flag = audit.flag_now(store, object_id)
            raise _Undo
    except _Undo:
        pass
    return flag


def close_object(store, shared: Shared, object_id: str, *, outcome: str, reason: str) -> audit.AuditRecord:
    """Close an object on the shared store (a reviewer's); ``store`` is the user's copy,
    where the closure flag kept in the record is worked out."""
    audit.check_outcome(outcome)
    reason = audit.closure_reason(reason, "close")
    today = dt.datetime.now(dt.UTC).date()
    with shared.writing():
        status, closed_on = _object_now(shared, object_id)
        audit.close_change(object_id, status, closed_on, outcome=outcome, reason=reason, flag={}, today=today)
        new_status, payload = audit.close_change(object_id, status, closed_on, outcome=outcome, reason=reason,
                                                 flag=_flag(store, shared, object_id), today=today)
        shared.con.execute("UPDATE caselib.objects SET status = %s, closed_on = %s WHERE object_id = %s",
                           (new_status, today, object_id))
        return _append(shared, action="close", object_id=object_id, payload=payload)


def reopen_object(store, shared: Shared, object_id: str, *, reason: str) -> audit.AuditRecord:
    """Reopen a closed object on the shared store (a reviewer's)."""
    reason = audit.closure_reason(reason, "reopen")
    with shared.writing():
        status, closed_on = _object_now(shared, object_id)
        audit.reopen_change(object_id, status, closed_on, reason=reason, flag={})
        shared.con.execute("UPDATE caselib.objects SET status = 'open', closed_on = NULL WHERE object_id = %s", (object_id,))
        payload = audit.reopen_change(object_id, status, closed_on, reason=reason,
                                      flag=_flag(store, shared, object_id, reopened=True))
        return _append(shared, action="reopen", object_id=object_id, payload=payload)


def keep_open(store, shared: Shared, object_id: str, *, reason: str) -> audit.AuditRecord:
    """Record on the shared store that the connected analyst keeps an open object open."""
    reason = audit.closure_reason(reason, "keep_open")
    with shared.writing():
        status, _ = _object_now(shared, object_id)
        audit.keep_open_change(object_id, status, reason=reason, flag={})
        payload = audit.keep_open_change(object_id, status, reason=reason, flag=_flag(store, shared, object_id))
        return _append(shared, action="keep_open", object_id=object_id, payload=payload)


# -- clusters ---------------------------------------------------------------------------------


def _cluster_now(shared: Shared, cluster_id: str) -> tuple[str, str, str | None, dt.datetime | None, str | None]:
    found = shared.con.execute(
        "SELECT object_id, state, decided_by, decided_at, reason FROM caselib.tip_clusters WHERE cluster_id = %s",
        (cluster_id,),
    ).fetchone()
    if found is None:
        raise CaselibError(f"there is no cluster {cluster_id!r}; `caselib clusters` lists them")
    return found


def decide_cluster(store, shared: Shared, cluster_id: str, state: str, *, reason: str) -> audit.AuditRecord:
    """Confirm or reject a cluster on the shared store (:func:`caselib.domain.clusters.decide_cluster`'s
    rules). The cluster must stand on the server as it stands in the analyst's copy
    ``store``: decided by another since, it is a :class:`Conflict` and nothing is written."""
    from caselib.domain.clusters import DECISIONS
    from caselib.store import clusters as local

    if state not in DECISIONS:
        raise CaselibError(f"a cluster is decided 'confirmed' or 'rejected', not {state!r}")
    verb = "confirm" if state == "confirmed" else "reject"
    reason = audit.visible_text(reason, "a reason", purpose=f"to {verb} a cluster", line_breaks=True)
    seen = local.cluster_row(store, cluster_id)
    with shared.writing():
        object_id, now_state, by, at, said = _cluster_now(shared, cluster_id)
        if seen is not None and seen[2] != now_state:
            raise Conflict(f"cluster {cluster_id} was made {now_state} by {by} on {when_text(at)} (“{said}”) since you saw it; "
                           "nothing was written")
        tips = [r[0] for r in shared.rows(
            "SELECT tip_id FROM caselib.tip_cluster_members WHERE cluster_id = %s ORDER BY tip_id", (cluster_id,))]
        record = _append(shared, action=f"cluster_{state}", object_id=object_id,
                         payload={"cluster_id": cluster_id, "state": state, "reason": reason, "tips": tips})
        shared.con.execute(
            "UPDATE caselib.tip_clusters SET state = %s, decided_by = %s, decided_at = %s, reason = %s WHERE cluster_id = %s",
            (state, record.actor, record.recorded_at, reason, cluster_id),
        )
        shared.con.execute(
            "UPDATE caselib.tip_cluster_members SET pending = false WHERE cluster_id = %s AND pending", (cluster_id,))
        _cluster_decision(shared, cluster_id, None, state, record, reason)
    return record


def remove_from_cluster(store, shared: Shared, tip_id: str, *, reason: str) -> audit.AuditRecord:
    """Take a tip out of its cluster on the shared store, for good (no refresh clusters it again)."""
    reason = audit.visible_text(reason, "a reason", purpose="to remove a tip from its cluster", line_breaks=True)
    with shared.writing():
        cluster_id = shared.scalar("SELECT cluster_id FROM caselib.tip_cluster_members WHERE tip_id = %s", (tip_id,))
        if cluster_id is None:
            raise CaselibError(f"tip {tip_id!r} is in no cluster; `caselib clusters` lists the clustered tips")
        object_id = _cluster_now(shared, cluster_id)[0]
        record = _append(shared, action="cluster_removed", object_id=object_id,
                         payload={"cluster_id": cluster_id, "tip_id": tip_id, "reason": reason})
        shared.con.execute("DELETE FROM caselib.tip_cluster_members WHERE tip_id = %s", (tip_id,))
        shared.con.execute("UPDATE caselib.tip_cluster_compared SET held_out = true WHERE tip_id = %s", (tip_id,))
        _cluster_decision(shared, cluster_id, tip_id, "removed", record, reason)
    return record


def _cluster_decision(shared: Shared, cluster_id: str, tip_id: str | None, action: str, record, reason: str) -> None:
    shared.con.execute(
        "INSERT INTO caselib.tip_cluster_decisions (cluster_id, tip_id, action, decided_by, decided_at, reason, audit_seq) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (cluster_id, tip_id, action, record.actor, record.recorded_at, reason, record.seq),
    )


# -- loads ------------------------------------------------------------------------------------


def load(store: Store, shared, kind: str, path, *, refresh: bool = True, **options):
    """Load one contract file into the shared store, through the administrator's copy
    ``store`` (:func:`caselib.load_file`'s guarantees: one transaction, here the server's and
    the copy's; idempotent; the quarantine). With ``refresh`` (tips), the clusters,
    languages and names are brought up to date after it, as a write of their own.

    Returns (LoadResult, [refresh summary lines])."""
    from caselib.domain.ingest import load_file
    from caselib.store.shared.push import admin_write

    with admin_write(store, shared, what="load files"):
        result = load_file(store, kind, path, loaded_by=shared.user, **options)
    lines = []
    if refresh and kind == "tips" and not result.repeated:
        from caselib.domain.enrich import refresh_all

        with admin_write(store, shared, what="refresh clusters, languages and names"):
            lines = refresh_all(store)
    return result, lines
