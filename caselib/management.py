"""Figures for management: headline numbers, the closure pipeline, objects that need attention.

Everything here is fit for a projector or a document: no tip text, no contact data, and
tip counts from 1 to ``k - 1`` hidden (``k`` defaults to 5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from caselib.geography import DEFAULT_K
from caselib.store import Store

__all__ = ["Kpis", "attention", "closure_pipeline", "hide_small", "kpis"]


def hide_small(count: int | None, k: int | None) -> int | None:
    """``count``, or None when it lies between 1 and ``k - 1`` (management outputs)."""
    if count is None or k is None or k < 2:
        return count
    return None if 0 < count < k else count


def count_text(count: int | None, k: int | None) -> str:
    """``1,234``, or ``fewer than 5`` for a hidden count."""
    shown = hide_small(count, k)
    return f"fewer than {k}" if shown is None and count is not None else f"{count:,}"


@dataclass(frozen=True)
class Kpis:
    """Headline figures as of a day. Tip counts below ``k`` are None (shown "fewer than k")."""

    as_of: dt.date
    wave: str | None
    objects_published: int
    objects_open: int
    objects_ready: int
    objects_closed: int
    objects_identified: int
    share_identified: float | None
    median_days_to_identification: float | None
    tips_total: int | None
    tips_in_wave: int | None
    tips_last_30_days: int | None
    k: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def kpis(store: Store, *, as_of: dt.date | None = None, wave: str | None = None, k: int | None = DEFAULT_K, flags=None) -> Kpis:
    """The dashboard's tiles and the report's summary numbers.

    ``flags`` (from :func:`caselib.closure.closure_flags` for the same day) saves computing
    them again; objects ready for closure are those flagged ready and not yet closed.
    """
    from caselib.closure import closure_flags

    as_of = as_of or dt.datetime.now(dt.UTC).date()
    row = store.query_df("management/kpis", {"as_of": as_of, "wave": wave}).iloc[0].to_dict()
    if flags is None:
        flags = closure_flags(store, as_of=as_of)
    published = int(row["objects_published"])
    identified = int(row["objects_identified"])
    median = row["median_days_to_identification"]
    return Kpis(
        as_of=as_of,
        wave=wave,
        objects_published=published,
        objects_open=int(row["objects_open"]),
        objects_ready=int(flags["ready"].sum()),
        objects_closed=int(row["objects_closed"]),
        objects_identified=identified,
        share_identified=(identified / published) if published else None,
        median_days_to_identification=None if median is None or median != median else float(_days(median)),
        tips_total=hide_small(int(row["tips_total"]), k),
        tips_in_wave=hide_small(int(row["tips_in_wave"]), k) if wave else None,
        tips_last_30_days=hide_small(int(row["tips_last_30_days"]), k),
        k=k,
    )


def _days(value) -> float:
    if hasattr(value, "days"):  # timedelta
        return value.days + getattr(value, "seconds", 0) / 86400
    if hasattr(value, "total_seconds"):
        return value.total_seconds() / 86400
    return float(value)


def closure_pipeline(store: Store, *, as_of: dt.date | None = None):
    """Per month up to ``as_of``: objects published, identified and closed by its end."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    frame = store.query_df("management/pipeline", {"as_of": as_of})
    return frame.astype({"published": "int64", "identified": "int64", "closed": "int64"})


def attention(store: Store, *, as_of: dt.date | None = None, flags=None, k: int | None = DEFAULT_K, limit: int = 15):
    """The objects that need a decision or work now, most urgent first.

    Ready for closure and still open (a decision is due); then those with the most tips
    still to triage; then the busiest in the last 30 days. Columns: ``object_id``,
    ``title``, ``why``, ``outcome``, ``untriaged_tips``, ``tips_last_30_days`` (counts
    below ``k`` hidden).
    """
    import pandas as pd

    from caselib.closure import closure_flags

    as_of = as_of or dt.datetime.now(dt.UTC).date()
    if flags is None:
        flags = closure_flags(store, as_of=as_of)
    activity = store.query_df("management/object_activity", {"as_of": as_of})
    frame = flags.merge(activity, on="object_id", how="left")
    frame = frame[~frame["status"].isin(["closed", "withdrawn"])].copy()
    frame["tips_last_30_days"] = frame["tips_last_30_days"].fillna(0).astype(int)
    frame["priority"] = 3
    frame["why"] = ""
    ready = frame["ready"]
    frame.loc[ready, "priority"] = 0
    frame.loc[ready, "why"] = "ready for closure: " + frame.loc[ready, "outcome"].str.replace("_", " ")
    backlog = ~ready & (frame["untriaged_tips"] > 0)
    frame.loc[backlog, "priority"] = 1
    frame.loc[backlog, "why"] = "tips waiting for triage"
    busy = ~ready & ~backlog & (frame["tips_last_30_days"] > 0)
    frame.loc[busy, "priority"] = 2
    frame.loc[busy, "why"] = "new tips in the last 30 days"
    frame = frame[frame["priority"] < 3]
    frame = frame.sort_values(
        ["priority", "untriaged_tips", "tips_last_30_days", "object_id"], ascending=[True, False, False, True]
    ).head(limit)
    out = frame[["object_id", "title", "why", "outcome", "untriaged_tips", "tips_last_30_days"]].reset_index(drop=True)
    for column in ("untriaged_tips", "tips_last_30_days"):
        out[column] = pd.array([hide_small(int(v), k) for v in out[column]], dtype="Int64")
    return out
