"""What the triage view reads: the tips still to triage, clusters folded, and the names found
in them. Read only; decisions go through :func:`caselib.domain.triage.decide`.
"""

from __future__ import annotations

from caselib.store import Store, TipSource

__all__ = ["names_found", "objects_to_triage", "untriaged_rows"]


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
