"""Figures for management: headline numbers, the closure pipeline, objects that need attention.

Everything here is fit for a projector or a document: no tip text, no contact data, and
tip counts from 1 to ``k - 1`` hidden (``k`` defaults to 5; :mod:`caselib.domain.rules`).

Every surface takes its figures from here: the dashboard's tiles, the report's summary and
its ``caselib-figures`` JSON, ``caselib status --as-of``. The object counts are counted
from the closure flags (:func:`object_counts`), which see each object as it stood on the
as-of day, so that "published", "ready" and "closed" cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from caselib.domain.rules import DEFAULT_K, as_of_day, count_text, hide_small
from caselib.store import Store

__all__ = [
    "Kpis",
    "attention",
    "campaign_figures",
    "closure_pipeline",
    "count_text",
    "hide_small",
    "kpis",
    "object_counts",
    "objects_block",
]


def object_counts(flags) -> dict:
    """Objects as of the flags' day: ``published``, ``open``, ``identified_now`` (status
    identified that day), ``closed`` (closed or withdrawn), ``ready`` and ``by_outcome``
    (outcome → objects, over the published ones; it sums to ``published``).

    ``flags`` is :func:`caselib.domain.closure.closure_flags` of that day; objects not yet
    published that day count in none of these.
    """
    from caselib.domain.closure import OUTCOMES

    published = flags[flags["outcome"] != "not_published"]
    by_outcome = published["outcome"].value_counts()
    return {
        "published": len(published),
        "open": int((published["status"] == "open").sum()),
        "identified_now": int((published["status"] == "identified").sum()),
        "closed": int(published["status"].isin(["closed", "withdrawn"]).sum()),
        "ready": int(published["ready"].sum()),
        "by_outcome": {outcome: int(by_outcome.get(outcome, 0)) for outcome in OUTCOMES if outcome != "not_published"},
    }


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
    by_outcome: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def kpis(
    store: Store,
    *,
    as_of: dt.date | None = None,
    wave: str | None = None,
    k: int | None = DEFAULT_K,
    flags=None,
    rules=None,
) -> Kpis:
    """The dashboard's tiles and the report's summary numbers, as of ``as_of`` (default today, UTC).

    ``flags`` (from :func:`caselib.domain.closure.closure_flags` for the same day and ``rules``)
    saves computing them again. ``objects_identified`` counts the objects identified on or
    before the day (some since closed); ``objects_open`` those open that day.
    """
    from caselib.domain.closure import closure_flags

    as_of = as_of_day(as_of)
    if flags is None:
        flags = closure_flags(store, as_of=as_of, rules=rules)
    objects = object_counts(flags)
    row = store.query_df("management/kpis", {"as_of": as_of, "wave": wave}).iloc[0].to_dict()
    published = objects["published"]
    identified = int(row["objects_identified"])
    median = row["median_days_to_identification"]
    return Kpis(
        as_of=as_of,
        wave=wave,
        objects_published=published,
        objects_open=objects["open"],
        objects_ready=objects["ready"],
        objects_closed=objects["closed"],
        objects_identified=identified,
        share_identified=(identified / published) if published else None,
        median_days_to_identification=None if median is None or median != median else float(_days(median)),
        tips_total=hide_small(int(row["tips_total"]), k),
        tips_in_wave=hide_small(int(row["tips_in_wave"]), k) if wave else None,
        tips_last_30_days=hide_small(int(row["tips_last_30_days"]), k),
        k=k,
        by_outcome=objects["by_outcome"],
    )


def _days(value) -> float:
    if hasattr(value, "days"):  # timedelta
        return value.days + getattr(value, "seconds", 0) / 86400
    if hasattr(value, "total_seconds"):
        return value.total_seconds() / 86400
    return float(value)


def campaign_figures(store: Store, *, as_of: dt.date | None = None, wave: str | None = None,
                     k: int | None = DEFAULT_K, rules=None, flags=None, countries=None,
                     numbers: Kpis | None = None) -> dict:
    """The headline figures as plain data (what the report embeds as ``caselib-figures``).

    Returns a dict: ``as_of`` (ISO date), ``wave``, ``k``; ``objects`` (``published``,
    ``open``, ``ready``, ``closed``, ``identified``, ``by_outcome``); ``tips`` (``total``,
    ``in_wave``, ``last_30_days``; None where hidden); ``countries``: one row per country
    and breakdown (``by`` ``reporter`` or ``suggested``, ``country`` alpha-3, ``tips``,
    ``share``, ``per_million``, ``suppressed``; the three figures None when suppressed),
    over the tips of ``wave``'s window (all tips without one) received by the as-of day.
    ``countries`` may pass the two frames of
    :func:`caselib.domain.geography.tips_by_country_both` already computed for the same tips,
    and ``numbers`` the :func:`kpis` of the same day, wave and ``k``.
    """
    from caselib.domain.closure import closure_flags
    from caselib.domain.filters import TipFilter
    from caselib.domain.geography import tips_by_country_both

    as_of = as_of_day(as_of)
    if flags is None:
        flags = closure_flags(store, as_of=as_of, rules=rules)
    if numbers is None:
        numbers = kpis(store, as_of=as_of, wave=wave, k=k, flags=flags)
    if countries is None:
        countries = tips_by_country_both(store, TipFilter(wave=wave, received_to=as_of), k=k)
    rows = []
    for frame in countries:
        for record in frame.to_dict(orient="records"):
            hidden = bool(record["suppressed"])
            rows.append({
                "by": frame.attrs["by"],
                "country": record["country"],
                "tips": None if hidden else int(record["tips"]),
                "share": None if hidden else float(record["share"]),
                "per_million": None if hidden or _missing(record["per_million"]) else float(record["per_million"]),
                "suppressed": hidden,
            })
    return {
        "as_of": as_of.isoformat(),
        "wave": wave,
        "k": k,
        "objects": objects_block(numbers),
        "tips": {
            "total": numbers.tips_total,
            "in_wave": numbers.tips_in_wave,
            "last_30_days": numbers.tips_last_30_days,
            **{f"{frame.attrs['by']}_{key}": frame.attrs[key] for frame in countries
               for key in ("unrecognised", "no_country")},
        },
        "countries": rows,
    }


def objects_block(numbers: Kpis) -> dict:
    """The object figures of :class:`Kpis` as plain data (the report's JSON, ``caselib status``)."""
    return {
        "published": numbers.objects_published,
        "open": numbers.objects_open,
        "ready": numbers.objects_ready,
        "closed": numbers.objects_closed,
        "identified": numbers.objects_identified,
        "by_outcome": dict(numbers.by_outcome),
    }


def _missing(value) -> bool:
    return value is None or value != value or str(value) == "<NA>"


def closure_pipeline(store: Store, *, as_of: dt.date | None = None):
    """Per month up to ``as_of``: objects published, identified and closed by its end.

    Columns ``month`` (first day), ``month_end`` (its last day, or the as-of day in the
    as-of day's month), ``published``, ``identified``, ``closed``; each object as it stood
    at the month's end (the same definition as the flags and the tiles).
    """
    as_of = as_of_day(as_of)
    first = store.scalar("SELECT min(first_published) FROM objects")
    ends = []
    if first is not None and first <= as_of:
        month = first.replace(day=1)
        while month <= as_of:
            following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            ends.append(min(following - dt.timedelta(days=1), as_of))
            month = following
    frame = store.query_df("management/pipeline", {"days": ends})
    frame["month"] = frame["month"].dt.date if len(frame) else frame["month"]
    return frame.astype({"published": "int64", "identified": "int64", "closed": "int64"})


ATTENTION_COLUMNS = ["object_id", "title", "why", "outcome", "untriaged_tips", "waiting_days", "tips_last_30_days"]


def attention(store: Store, *, as_of: dt.date | None = None, flags=None, k: int | None = DEFAULT_K,
              limit: int | None = 15, rules=None):
    """The objects that need an analyst's action now, what needs doing first at the top.

    First the objects with tips still to triage, then those ready for closure (a decision
    is due); within each, the longest wait first: since the oldest tip still to triage
    arrived, or since the last tip for an object ready for closure (since publication when it
    has none): ``waiting_days``. Objects closed or not yet published on the day are not listed.

    Returns
    -------
    pandas.DataFrame
        At most ``limit`` rows (None: all): ``object_id``, ``title``, ``why``, ``outcome``,
        ``untriaged_tips``, ``waiting_days``, ``tips_last_30_days`` (tip counts below ``k``
        missing). ``frame.attrs["total"]`` is the number of objects that need attention and
        ``frame.attrs["more"]`` how many of them the limit left out.
    """
    import pandas as pd

    from caselib.domain.closure import closure_flags

    as_of = as_of_day(as_of)
    if flags is None:
        flags = closure_flags(store, as_of=as_of, rules=rules)
    activity = store.query_df("management/object_activity", {"as_of": as_of})
    frame = flags.merge(activity, on="object_id", how="left")
    frame = frame[~frame["outcome"].isin(["closed", "not_published"])].copy()
    frame["tips_last_30_days"] = frame["tips_last_30_days"].fillna(0).astype(int)
    backlog = frame["untriaged_tips"] > 0
    ready = frame["ready"] & ~backlog
    frame = frame[backlog | ready].copy()
    backlog, ready = backlog[frame.index], ready[frame.index]
    waiting_since = [
        _day(oldest) if b else (_day(last) or _day(published))
        for oldest, b, last, published in zip(frame["oldest_untriaged_at"], backlog, frame["last_tip_on"],
                                              frame["first_published"])
    ]
    frame["waiting_days"] = [(as_of - since).days for since in waiting_since]
    frame["priority"] = [0 if b else 1 for b in backlog]
    from caselib.domain.closure import outcome_label

    frame["why"] = [
        f"{count_text(int(n), k)} {'tip' if hide_small(int(n), k) == 1 else 'tips'} to triage" if b
        else f"ready for closure: {outcome_label(outcome)}"
        for b, n, outcome in zip(backlog, frame["untriaged_tips"], frame["outcome"])
    ]
    frame = frame.sort_values(["priority", "waiting_days", "object_id"], ascending=[True, False, True])
    total = len(frame)
    if limit is not None:
        frame = frame.head(limit)
    out = frame[ATTENTION_COLUMNS].reset_index(drop=True)
    for column in ("untriaged_tips", "tips_last_30_days"):
        out[column] = pd.array([hide_small(int(v), k) for v in out[column]], dtype="Int64")
    out["waiting_days"] = out["waiting_days"].astype("int64")
    out.attrs.update(total=total, more=total - len(out))
    return out


def _day(value) -> dt.date | None:
    """A calendar day from a date, datetime or pandas timestamp; None for a missing one."""
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def attention_note(frame) -> str:
    """``and 93 more objects need attention`` when the list was cut, else ''."""
    more = frame.attrs.get("more", 0)
    return f"and {more:,} more object{'s' if more != 1 else ''} need{'s' if more == 1 else ''} attention" if more else ""
