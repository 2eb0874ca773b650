"""What a database holds: counts, recent loads, and the quarantine."""

from __future__ import annotations

from caselib.store import Store

__all__ = ["database_status", "rejected_rows"]


def database_status(store: Store, *, recent: int = 10, as_of=None) -> dict:
    """Counts of waves, objects, tips and rejected rows, and the ``recent`` latest loads.

    ``contents`` is ``empty``, ``demo`` (only the synthetic campaign) or ``analyst``. With
    ``as_of`` (a day, or ``"today"``), ``campaign`` holds the objects as of that day
    (``as_of``, ``objects``: published, open, ready, closed, identified, by_outcome; the
    same figures as the dashboard's tiles and the report) and its tips received by then.
    """
    counts = store.query_df("status/counts").iloc[0].to_dict()
    counts = {k: int(v) for k, v in counts.items()}
    if counts["analyst_loads"]:
        contents = "analyst"
    elif counts["demo_loads"]:
        contents = "demo"
    else:
        contents = "empty"
    loads = store.query_df("status/recent_loads", {"limit": recent})
    campaign = None
    if as_of is not None:
        from caselib.domain.management import kpis, objects_block
        from caselib.domain.rules import as_of_day

        numbers = kpis(store, as_of=as_of_day(None if as_of == "today" else as_of), k=None)
        campaign = {"as_of": numbers.as_of.isoformat(), "objects": objects_block(numbers),
                    "tips": numbers.tips_total}
    return {
        "database": str(store.path),
        "schema_version": store.schema_version(),
        "contents": contents,
        **{k: counts[k] for k in ("waves", "objects", "tips", "rejected_rows", "triage_changes", "loads")},
        "recent_loads": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in loads.to_dict(orient="records")
        ],
        **({"campaign": campaign} if campaign else {}),
    }


def rejected_rows(store: Store, *, batch: int | None = None, limit: int | None = None):
    """The quarantine (optionally of one batch) as a DataFrame, with each row's reason."""
    return store.query_df("status/rejected", {"batch": batch, "limit": limit})
