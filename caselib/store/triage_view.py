"""What the triage view reads: the tips still to triage, clusters folded, and the names found
in them; in team mode also the claims of other analysts and the work assigned to the user
(the copy's ``tip_claims``, ``tip_assignments`` and ``object_assignments``, filled by sync).
Read only; decisions go through :func:`caselib.domain.triage.decide` (or, in team mode,
:func:`caselib.domain.team.decide`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from caselib.store import ALL_TIPS, Store, TipSource

__all__ = ["AssignedTo", "assigned_objects", "claims_by_others", "names_found", "objects_to_triage", "untriaged_rows"]


@dataclass(frozen=True)
class AssignedTo:
    """The tips ``tips`` chooses (None: every tip) that are assigned to ``user``: assigned
    themselves (``tip_assignments``) or of an object assigned to them (``object_assignments``).
    A tip source (``sql()``) for the queries reading ``{{filtered_tips}}``."""

    user: str
    tips: TipSource | None = None

    def sql(self) -> tuple[str, dict[str, Any]]:
        inner, params = self.tips.sql() if self.tips is not None else (ALL_TIPS, {})
        select = (
            f"SELECT t.* FROM ({inner}) AS t WHERE t.tip_id IN "
            "(SELECT tip_id FROM tip_assignments WHERE assigned_to = $tips_assigned_to) "
            "OR t.object_id IN (SELECT object_id FROM object_assignments WHERE assigned_to = $tips_assigned_to)"
        )
        return select, {**params, "tips_assigned_to": self.user}


def assigned_objects(store: Store, user: str) -> set[str]:
    """The objects assigned to ``user`` in the copy."""
    return {o for (o,) in store.rows("SELECT object_id FROM object_assignments WHERE assigned_to = $u",
                                     {"u": user}, name="triage_view/assigned_objects")}


def claims_by_others(store: Store, user: str, now: dt.datetime | None = None) -> dict[str, tuple[str, dt.datetime]]:
    """tip -> (claimed_by, claimed_at) of the claims in the copy that someone other than
    ``user`` holds and that have not lapsed at ``now`` (UTC; default: the present)."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return {tip: (by, at) for tip, by, at in store.rows(
        "SELECT tip_id, claimed_by, claimed_at FROM tip_claims WHERE claimed_by <> $u AND expires_at > $now",
        {"u": user, "now": now}, name="triage_view/claims")}


def untriaged_rows(store: Store, tips: TipSource | None = None, *, limit: int = 500):
    """The tips still to triage (``new``, ``under_review``) among those ``tips`` chooses, a
    near-duplicate cluster's folded into one row, oldest first, at most ``limit`` rows.

    Returns a pandas frame (``caselib/sql/triage/untriaged.sql``): ``row_key`` (the cluster
    id, else the tip id), ``cluster_id`` and ``cluster_state`` (None for a tip in no cluster
    or a rejected one), ``members`` and ``member_ids`` (the row's untriaged tips, first
    received first), the first tip's ``tip_id``, ``object_id``, ``received_at``,
    ``triage_status``, ``suggested_country``, ``suggested_place``, ``brand``, ``shop`` and
    ``tip_text``, and ``rows_total`` and ``tips_total`` (every row and tip chosen, before
    the limit)."""
    return store.query_df("triage/untriaged", {"limit": int(limit)}, tips=tips)


def names_found(store: Store, tip_ids) -> dict[str, list[str]]:
    """tip id -> the brands, shops and places found in its fields and text, as the tip wrote
    them (``tip_names``, :mod:`caselib.domain.names`), for the tips ``tip_ids``; a tip whose
    names are not extracted yet has none."""
    wanted = sorted({str(t) for t in tip_ids})
    if not wanted:
        return {}
    found: dict[str, list[str]] = {}
    # A semi-join, not names.names_of's list_contains: the view reads hundreds of tips at once.
    for tip_id, text in store.rows(
        "SELECT DISTINCT tip_id, found_text FROM tip_names WHERE tip_id IN (SELECT unnest($ids)) ORDER BY tip_id, found_text",
        {"ids": wanted},
        name="triage_view/names",
    ):
        found.setdefault(tip_id, []).append(text)
    return found


def objects_to_triage(store: Store, tips: TipSource | None = None) -> list[tuple[str, str, int]]:
    """``(object_id, title, tips still to triage)`` of every object with some among those
    ``tips`` chooses, the most to triage first."""
    return store.query_rows("triage/objects_to_triage", tips=tips)
