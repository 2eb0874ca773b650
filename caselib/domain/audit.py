"""The case audit: closure decisions and triage changes in one tamper-evident chain.

Every record carries ``hash = SHA-256(prev_hash + canonical JSON of its fields)``. Editing a
record changes its hash; removing or reordering records breaks the link to the record
before. Triage changes from re-deliveries join the chain as one record per load, holding a
digest of that load's rows in ``tip_triage_history``, so editing those rows is detected too.

What a hash chain inside the database cannot show is the removal of its newest records:
``caselib audit verify`` prints the head hash so it can be noted outside the database.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import unicodedata
from dataclasses import dataclass

from caselib.domain.rules import today_utc
from caselib.errors import CaselibError, QueryError
from caselib.store import Store

__all__ = [
    "AuditRecord",
    "VerifyResult",
    "append",
    "close_object",
    "decision_text",
    "keep_open",
    "last_decisions",
    "record_triage_changes",
    "reopen_object",
    "verify",
    "visible_text",
]

GENESIS = "0" * 64
CLOSE_OUTCOMES = ("origin_established", "widely_distributed", "exhausted", "withdrawn")


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    recorded_at: dt.datetime
    actor: str
    action: str
    object_id: str | None
    batch_id: int | None
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """``ok`` when the whole chain holds; otherwise ``problem`` names the first bad record."""

    ok: bool
    records: int
    head: str
    problem: str | None = None
    first_bad_seq: int | None = None


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, seq: int, recorded_at: dt.datetime, actor: str, action: str, object_id, batch_id, payload: str) -> str:
    body = canonical(
        {
            "seq": seq,
            "recorded_at": recorded_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_id": object_id,
            "batch_id": batch_id,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


# Characters that look like nothing: a text made only of these (a zero-width space, a
# Hangul filler, a braille blank) says nothing, however long.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Bidirectional controls reorder how a line reads; with the C0/C1 controls (Cc) they are
# refused in what the audit keeps.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible_text(value: str | None, what: str, *, purpose: str = "", line_breaks: bool = False) -> str:
    """``value`` stripped, when it is a visible text the audit may keep; else a CaselibError.

    Visible: at least one letter, digit, punctuation mark or symbol that shows. Refused:
    control characters (escape sequences, and line breaks unless ``line_breaks``: a
    review's reason may hold paragraphs, a name may not), line and paragraph separators and
    bidirectional controls. ``what`` names the text in the message ("a reason", with the
    ``purpose`` "to close an object"). The one definition used for reasons (close,
    reopen, keep open; the CLI and the closure review widget) and for names.
    """
    text = (value or "").strip()
    if line_breaks:
        text = text.replace("\r\n", "\n")  # a browser's textarea sends CRLF
    if not any(unicodedata.category(c)[0] in "LNPS" and c not in _INVISIBLE for c in text):
        raise CaselibError(
            f"{what} is required{' ' + purpose if purpose else ''}: "
            "it must hold visible characters, not only spaces or invisible ones"
        )
    allowed = "\n\t" if line_breaks else ""
    bad = next(
        (c for c in text
         if c not in allowed and (unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI)),
        None,
    )
    if bad is not None:
        raise CaselibError(
            f"{what} must not hold control characters (it holds U+{ord(bad):04X}); "
            + ("write it as plain text" if line_breaks else "write it on one line as plain text")
        )
    return text


def _reason(reason: str | None, doing: str) -> str:
    return visible_text(reason, "a reason", purpose=f"to {doing}", line_breaks=True)


def actor_name(by: str | None) -> str:
    if by and by.strip():
        return visible_text(by, "the name of who decides (--by)")
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_record(head: tuple[int, str] | None, *, action: str, payload: dict, actor: str | None = None,
               object_id=None, batch_id=None) -> AuditRecord:
    """The record that follows ``head`` (the last record's ``(seq, hash)``, None for the
    first), recorded now: its number, time, canonical payload and hash. Where it is written
    is the caller's (:func:`append` here; a team's shared store, :mod:`caselib.domain.team`)."""
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    recorded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    actor = actor_name(actor)
    text = canonical(payload)
    digest = chain_hash(prev, seq, recorded_at, actor, action, object_id, batch_id, text)
    return AuditRecord(seq, recorded_at, actor, action, object_id, batch_id, text, prev, digest)


def append(store: Store, *, action: str, payload: dict, actor: str | None = None, object_id=None, batch_id=None) -> AuditRecord:
    """Append one record to the chain; call inside the transaction that makes the change."""
    last = store.rows("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    record = new_record(last[0] if last else None, action=action, payload=payload, actor=actor,
                        object_id=object_id, batch_id=batch_id)
    store.execute(
        "INSERT INTO audit_log VALUES ($seq, $at, $actor, $action, $object, $batch, $payload, $prev, $hash)",
        {
            "seq": record.seq,
            "at": record.recorded_at,
            "actor": record.actor,
            "action": record.action,
            "object": record.object_id,
            "batch": record.batch_id,
            "payload": record.payload,
            "prev": record.prev_hash,
            "hash": record.hash,
        },
    )
    return record


def _triage_digest(store: Store, batch_id: int) -> tuple[int, str]:
    changes, digest = store.query_rows("closure/triage_digest", {"batch": batch_id})[0]
    return int(changes), digest


def record_triage_changes(store: Store, batch_id: int, actor: str | None = None) -> AuditRecord | None:
    """Chain a digest of ``batch_id``'s triage changes (inside the load's transaction)."""
    changes, digest = _triage_digest(store, batch_id)
    if not changes:
        return None
    return append(
        store,
        action="triage_changes",
        batch_id=batch_id,
        actor=actor,
        payload={"changes": changes, "digest": digest},
    )


def _flag_now(store: Store, object_id: str) -> dict:
    from caselib.domain.closure import closure_flags

    flags = closure_flags(store, objects=[object_id])
    row = flags.iloc[0].to_dict()
    return {k: (None if _isna(v) else (v.isoformat() if hasattr(v, "isoformat") else v)) for k, v in row.items()}


def _isna(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _object_status(store: Store, object_id: str) -> str:
    return _object_record(store, object_id)[0]


def _object_record(store: Store, object_id: str) -> tuple[str, dt.date | None]:
    """The object's recorded ``(status, closed_on)``, as stored now."""
    found = store.rows("SELECT status, closed_on FROM objects WHERE object_id = $id", {"id": object_id})
    if not found:
        raise CaselibError(f"there is no object {object_id!r}; see the objects with `caselib flags`")
    return found[0]


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def close_change(object_id: str, status: str, closed_on: dt.date | None, *, outcome: str, reason: str,
                 flag: dict, today: dt.date) -> tuple[str, dict]:
    """(the object's new status, the audit payload) of closing it; refused when it is closed."""
    if status in ("closed", "withdrawn"):
        raise CaselibError(f"object {object_id} is already {status}; reopen it first")
    new_status = "withdrawn" if outcome == "withdrawn" else "closed"
    return new_status, {"outcome": outcome, "reason": reason, "previous_status": status, "status": new_status,
                        "previous_closed_on": _day(closed_on), "closed_on": _day(today), "flag": flag}


def reopen_change(object_id: str, status: str, closed_on: dt.date | None, *, reason: str, flag: dict) -> dict:
    """The audit payload of reopening an object; refused when it is not closed."""
    if status not in ("closed", "withdrawn"):
        raise CaselibError(f"object {object_id} is {status}, not closed; there is nothing to reopen")
    return {"reason": reason, "previous_status": status, "status": "open",
            "previous_closed_on": _day(closed_on), "closed_on": None, "flag": flag}


def keep_open_change(object_id: str, status: str, *, reason: str, flag: dict) -> dict:
    """The audit payload of keeping an object open; refused when it is closed."""
    if status in ("closed", "withdrawn"):
        raise CaselibError(f"object {object_id} is {status}; reopen it instead")
    return {"reason": reason, "status": status, "flag": flag}


def check_outcome(outcome: str) -> None:
    if outcome not in CLOSE_OUTCOMES:
        raise CaselibError(f"outcome {outcome!r} is not one of {', '.join(CLOSE_OUTCOMES)}")


def closure_reason(reason: str | None, action: str) -> str:
    """The reason of a closure decision (``close``, ``reopen``, ``keep_open``), checked."""
    doing = {"close": "close an object", "reopen": "reopen an object", "keep_open": "keep an object open"}[action]
    return _reason(reason, doing)


def flag_now(store: Store, object_id: str) -> dict:
    """The object's closure flag and figures as they stand now, as an audit payload keeps them."""
    return _flag_now(store, object_id)


def close_object(store: Store, object_id: str, *, outcome: str, reason: str, by: str | None = None) -> AuditRecord:
    """Close an object with an outcome and the analyst's reason, recorded in the audit chain.

    The record keeps the closure flag and its figures as they stood at that moment.
    """
    check_outcome(outcome)
    reason, by = closure_reason(reason, "close"), actor_name(by)
    status, closed_on = _object_record(store, object_id)
    if status in ("closed", "withdrawn"):
        close_change(object_id, status, closed_on, outcome=outcome, reason=reason, flag={}, today=today_utc())
    flag = _flag_now(store, object_id)
    # The decision takes effect when it is recorded (contract v1.1): as of any earlier day
    # the object stands as it was; object_decisions() in sql/rules/campaign.sql reads this.
    today = today_utc()
    new_status, payload = close_change(object_id, status, closed_on, outcome=outcome, reason=reason, flag=flag, today=today)
    with store.transaction():
        store.execute(
            "UPDATE objects SET status = $status, closed_on = $today WHERE object_id = $id",
            {"status": new_status, "id": object_id, "today": today},
        )
        return append(store, action="close", object_id=object_id, actor=by, payload=payload)


def reopen_object(store: Store, object_id: str, *, reason: str, by: str | None = None) -> AuditRecord:
    """Reopen a closed or withdrawn object, recorded in the audit chain."""
    reason, by = closure_reason(reason, "reopen"), actor_name(by)
    status, closed_on = _object_record(store, object_id)
    reopen_change(object_id, status, closed_on, reason=reason, flag={})
    with store.transaction():
        store.execute(
            "UPDATE objects SET status = 'open', closed_on = NULL WHERE object_id = $id", {"id": object_id}
        )
        payload = reopen_change(object_id, status, closed_on, reason=reason, flag=_flag_now(store, object_id))
        return append(store, action="reopen", object_id=object_id, actor=by, payload=payload)


def keep_open(store: Store, object_id: str, *, reason: str, by: str | None = None) -> AuditRecord:
    """Record that an analyst reviewed an open object and keeps it open, and why.

    The object's status does not change; the audit keeps the flag as it stood, so a
    review that overrode a "ready" flag can be found later.
    """
    reason, by = closure_reason(reason, "keep_open"), actor_name(by)
    status = _object_status(store, object_id)
    keep_open_change(object_id, status, reason=reason, flag={})
    payload = keep_open_change(object_id, status, reason=reason, flag=_flag_now(store, object_id))
    with store.transaction():
        return append(store, action="keep_open", object_id=object_id, actor=by, payload=payload)


def last_decisions(store: Store):
    """Each object's latest closure decision (``close``, ``keep_open`` or ``reopen``) as a
    DataFrame indexed by ``object_id``: ``action``, ``recorded_at`` (UTC), ``actor``,
    ``reason`` and ``outcome`` (a close's; missing otherwise). Objects never decided on have
    no row."""
    return store.query_df("closure/last_decisions").set_index("object_id")


_DONE = {"close": "closed", "keep_open": "kept open", "reopen": "reopened"}


def decision_text(action: str, recorded_at: dt.datetime, actor: str, outcome: str | None = None) -> str:
    """A decision in words: ``"kept open on 1 December 2026 at 13:40 UTC by alice"``, a close
    with its outcome in words (``"closed as origin established on …"``)."""
    from caselib.domain.closure import outcome_label

    done = _DONE.get(action, action.replace("_", " "))
    if action == "close" and isinstance(outcome, str) and outcome:
        done += f" as {outcome_label(outcome)}"
    return f"{done} on {recorded_at.day} {recorded_at:%B %Y} at {recorded_at:%H:%M} UTC by {actor}"


class _Unreadable(Exception):
    """A table verify reads was dropped or altered: tampering too, not a bug."""

    def __init__(self, table: str, reason: str) -> None:
        super().__init__(f"the table {table} cannot be read ({reason}): dropped or altered")


def _read(store: Store, table: str, sql: str, params=None) -> list[tuple]:
    try:
        return store.rows(sql, params, name=f"audit/verify {table}")
    except QueryError as error:
        raise _Unreadable(table, error.reason) from None


def _payload(record: AuditRecord) -> dict | None:
    """The record's payload as the JSON object every record holds; None when it is not one."""
    try:
        value = json.loads(record.payload)
    except (TypeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    if record.action == "triage_changes" and not (
        isinstance(value.get("changes"), int) and isinstance(value.get("digest"), str) and isinstance(record.batch_id, int)
    ):
        return None
    return value


def verify(store: Store) -> VerifyResult:
    """Walk the chain from the first record; report the first record edited, removed or moved.

    Whatever was tampered with (a record, its payload, or the tables themselves) gives a
    result that is not ``ok``, never an exception.
    """
    try:
        return _verify(store)
    except _Unreadable as error:
        return VerifyResult(False, 0, GENESIS, str(error), None)


def _verify(store: Store) -> VerifyResult:
    rows = _read(
        store, "audit_log",
        "SELECT seq, recorded_at, actor, action, object_id, batch_id, payload, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    prev = GENESIS
    for position, row in enumerate(rows, start=1):
        record = AuditRecord(*row)
        if record.seq != position:
            return VerifyResult(False, len(rows), prev, f"record {position} is missing (the chain jumps to {record.seq}): removed", position)
        if record.prev_hash != prev:
            return VerifyResult(
                False, len(rows), prev, f"record {record.seq} does not follow record {record.seq - 1}: a record was removed or reordered", record.seq
            )
        try:
            expected = chain_hash(prev, record.seq, record.recorded_at, record.actor, record.action, record.object_id, record.batch_id, record.payload)
        except (AttributeError, TypeError, ValueError):  # a field emptied or of another type
            expected = None
        if expected != record.hash:
            return VerifyResult(False, len(rows), prev, f"record {record.seq} ({record.action}) was edited", record.seq)
        stored = _payload(record)
        if stored is None:
            return VerifyResult(
                False, len(rows), prev,
                f"record {record.seq} ({record.action}) was edited: its payload is not the record's JSON (its hash was recomputed)",
                record.seq,
            )
        if record.action == "triage_changes":
            try:
                digest = _triage_digest(store, record.batch_id)
            except QueryError as error:
                raise _Unreadable("tip_triage_history", error.reason) from None
            if digest != (stored["changes"], stored["digest"]):
                return VerifyResult(
                    False, len(rows), prev,
                    f"the triage history of load batch {record.batch_id} no longer matches audit record {record.seq}: edited or removed",
                    record.seq,
                )
        if record.action in ("triage", "forward"):
            from caselib.store.triage import decision_digest

            try:
                digest = decision_digest(store, record.seq)
            except QueryError as error:
                raise _Unreadable("tip_triage_history", error.reason) from None
            if digest != (stored.get("tips"), stored.get("digest")):
                return VerifyResult(
                    False, len(rows), prev,
                    f"the triage decision of audit record {record.seq} no longer matches the triage history: edited or removed",
                    record.seq,
                )
        prev = record.hash
    orphans = _read(
        store, "tip_triage_history",
        "SELECT min(tip_id) FROM tip_triage_history WHERE source = 'analyst' AND (audit_seq IS NULL OR audit_seq NOT IN "
        "(SELECT seq FROM audit_log WHERE action IN ('triage', 'forward')))",
    )
    if orphans and orphans[0][0] is not None:
        return VerifyResult(False, len(rows), prev, f"a triage decision on tip {orphans[0][0]} has no audit record: added or its record removed", None)
    unaudited = _read(
        store, "tip_triage_history",
        "SELECT DISTINCT batch_id FROM tip_triage_history WHERE batch_id IS NOT NULL AND batch_id NOT IN "
        "(SELECT batch_id FROM audit_log WHERE action = 'triage_changes') ORDER BY 1",
    )
    if unaudited:
        return VerifyResult(False, len(rows), prev, f"triage history of load batch {unaudited[0][0]} has no audit record: removed", None)
    return VerifyResult(True, len(rows), prev)
