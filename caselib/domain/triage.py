"""Triage decisions made in the workbench: a status (and the country forwarded to) for a set
of tips, with who and why, in the triage history and the audit chain.

A decision takes effect when it is recorded: as of any earlier day the tips stand as they
were (``tips_as_of`` in ``sql/rules/campaign.sql``, which the closure figures read). The
intake system's later re-exports never overwrite it: a re-delivered tip whose triage an
analyst decided and the file would change is a disagreement, kept in the history and counted
in the load's summary (:func:`caselib.domain.ingest.statements.disagreements`).

The tips are named by id, or chosen by a :class:`~caselib.domain.filters.TipFilter`
(:func:`filtered_tips`). Where the state is kept is :mod:`caselib.store.triage`'s business.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from caselib.domain import audit
from caselib.domain.contract import TRIAGE_STATUSES
from caselib.domain.countries import normalise_country
from caselib.domain.filters import TipFilter
from caselib.errors import CaselibError
from caselib.store import Store
from caselib.store import triage as state

__all__ = ["TriageDecision", "decide", "filtered_tips", "read_filter"]

_SHOWN = 5


@dataclass(frozen=True)
class TriageDecision:
    """What one decision did: ``changed`` tips now have the status, ``unchanged`` had it
    already (nothing written for them); ``audit_seq`` is the audit record (None when nothing
    changed)."""

    status: str
    forwarded_to: str | None
    changed: int
    unchanged: int
    audit_seq: int | None
    decided_by: str
    decided_at: dt.datetime | None

    def summary(self) -> str:
        target = f" (forwarded to {self.forwarded_to})" if self.forwarded_to else ""
        if not self.changed:
            return f"nothing to change: the {self.unchanged} tip{'s' if self.unchanged != 1 else ''} already stand as {self.status}{target}"
        return (
            f"{self.changed} tip{'s' if self.changed != 1 else ''} now {self.status}{target}"
            + (f", {self.unchanged} already were" if self.unchanged else "")
            + f"; decided by {self.decided_by}, audit record {self.audit_seq}"
        )


def _listing(ids: list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _target(status: str, forwarded_to: str | None) -> str | None:
    if status not in TRIAGE_STATUSES:
        raise CaselibError(f"unknown triage status {status!r}; known: {', '.join(TRIAGE_STATUSES)}")
    if status == "forwarded":
        if not forwarded_to or not forwarded_to.strip():
            raise CaselibError("a tip forwarded needs the country it went to (--forwarded-to, e.g. PRT)")
        code = normalise_country(forwarded_to)
        if code is None:
            raise CaselibError(f"{forwarded_to!r} is not a country this workbench recognises (give an ISO code, e.g. PRT)")
        return code
    if forwarded_to:
        raise CaselibError("--forwarded-to goes with --status forwarded only")
    return None


def decide(
    store: Store,
    tip_ids,
    *,
    status: str,
    reason: str,
    by: str | None = None,
    forwarded_to: str | None = None,
    _action: str = "triage",
    _details: dict | None = None,
    _before_commit=None,
) -> TriageDecision:
    """Give the tips ``tip_ids`` the triage ``status`` (``forwarded`` with the country
    ``forwarded_to``, any spelling the loader recognises), for ``reason``, decided ``by``
    (default: the user's login name). One transaction: the history rows, the tips, and one
    audit record holding a digest of those rows. Tips that already stand so are left alone.

    Refused, with one line and nothing written: an unknown status, a reason or name that is
    not visible text, no tips, and ids of no stored tip (named).

    (Forwarding, :mod:`caselib.domain.forwarding`, records its package through the private
    arguments: the audit action ``forward``, details for the audit payload, and a callback run
    with the audit record's number before the transaction commits.)"""
    target = _target(status, forwarded_to)
    reason = audit.visible_text(reason, "a reason", purpose="to triage tips", line_breaks=True)
    actor = audit.actor_name(by)
    wanted = sorted({str(t).strip() for t in tip_ids if str(t).strip()})
    if not wanted:
        raise CaselibError("no tips to triage: name tip ids, a cluster or a filter that chooses some")
    import pyarrow as pa

    with store.transaction():  # what the tips stand as is read where it is changed
        found = state.tip_states(store, wanted)
        unknown = sorted(set(wanted) - {row[0] for row in found})
        if unknown:
            raise CaselibError(f"{len(unknown)} of the tips named are not stored: {_listing(unknown)}")
        changes = [row for row in found if (row[2], row[3]) != (status, target)]
        if not changes:
            return TriageDecision(status, target, 0, len(found), None, actor, None)
        rows = pa.table({
            "tip_id": [r[0] for r in changes],
            "old_triage_status": [r[2] for r in changes],
            "new_triage_status": [status] * len(changes),
            "old_forwarded_to": pa.array([r[3] for r in changes], pa.string()),
            "new_forwarded_to": pa.array([target] * len(changes), pa.string()),
        })
        decided_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        seq = state.next_audit_seq(store)
        state.apply_decision(store, rows, [r[4] for r in changes], decided_at=decided_at, decided_by=actor,
                             reason=reason, audit_seq=seq)
        count, digest = state.decision_digest(store, seq)
        objects = sorted({r[1] for r in changes})
        record = audit.append(
            store, action=_action, actor=actor,
            object_id=objects[0] if len(objects) == 1 else None,
            payload={"status": status, "forwarded_to": target, "reason": reason, "tips": count,
                     "objects": objects, "digest": digest, **(_details or {})},
        )
        if record.seq != seq:  # the chain moved under us: nothing is written
            raise CaselibError("the audit chain changed during the decision; try again")
        if _before_commit is not None:  # e.g. a forwarding package put in place; raising undoes all
            _before_commit(seq)
    return TriageDecision(status, target, len(changes), len(found) - len(changes), seq, actor, decided_at)


def filtered_tips(store: Store, tip_filter: TipFilter) -> list[str]:
    """The ids of the tips a filter chooses (as stored now)."""
    select, params = tip_filter.sql()
    return [row[0] for row in store.rows(f"SELECT tip_id FROM ({select}) ORDER BY tip_id", params, name="triage/filtered")]


def read_filter(path: str | Path) -> TipFilter:
    """A saved filter: a TOML file of :class:`TipFilter` fields (``objects = ["G19"]``,
    ``triage = ["new"]``, ``received_from = 2021-03-01``, ...)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise CaselibError(f"cannot read the filter {path.name}: {error.strerror if isinstance(error, OSError) else 'not UTF-8 text'}") from None
    except tomllib.TOMLDecodeError as error:
        raise CaselibError(f"the filter {path.name} is not valid TOML: {error}") from None
    known = {f.name for f in fields(TipFilter)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CaselibError(f"the filter {path.name} has unknown fields {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return TipFilter(**data)
