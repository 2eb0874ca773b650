"""Campaign response over time: how many tips came when, and how fast each wave's came in.

Every figure is computed in SQL (``sql/response/*.sql``) over the tips a
:class:`~caselib.domain.filters.TipFilter` chooses; these functions check the arguments, pass the
named parameters and tidy the column types. Days are UTC calendar days (``received_at`` is
stored in UTC), weeks are ISO weeks starting on Monday.

A wave's tips are those received in its window: from its launch day up to the day before
the next wave's launch, the same window as the wave filter (a relaunch draws tips for old
objects too, and those belong to the relaunch).

Examples
--------
The first wave of the (seeded) demo campaign had half of its first 90 days' tips by day 9:

>>> import pathlib, shutil, tempfile
>>> from caselib.domain.demo import build_demo
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> demo = build_demo(folder / "demo.duckdb", tips=5000, progress=False)
>>> with Store(demo.db_path, read_only=True) as store:
...     first = response_half_life(store).iloc[0]
>>> first["wave_id"], int(first["half_life_days"]), bool(first["complete"])
('2017-06', 9, True)
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from caselib.domain.contract import CHANNELS
from caselib.errors import CaselibError
from caselib.store import Store

if TYPE_CHECKING:
    import pandas as pd

    from caselib.domain.filters import TipFilter

__all__ = [
    "channel_mix",
    "language_mix",
    "object_timeline",
    "response_half_life",
    "tips_over_time",
    "wave_launches",
    "wave_response",
]

DEFAULT_DAYS = 90


def _check_freq(freq: str, allowed: tuple[str, ...]) -> str:
    if freq not in allowed:
        raise CaselibError(
            f"cannot count tips per {freq!r}; choose one of {', '.join(repr(a) for a in allowed)}"
        )
    return freq


def _check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise CaselibError(f"days must be a whole number of days, at least 1, not {days!r}")
    return days


def _range(tips: TipFilter | None) -> dict[str, Any]:
    """The chosen date range and wave, which bound the periods a result shows."""
    return {
        "range_from": tips.received_from if tips else None,
        "range_to": tips.received_to if tips else None,
        "range_wave": tips.wave if tips else None,
    }


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Calendar-date columns as ``datetime.date`` values (DuckDB hands them over as timestamps)."""
    for column in columns:
        frame[column] = frame[column].dt.date.astype(object).where(frame[column].notna(), None)
    return frame


def _ints(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Whole-number columns that may be missing, as pandas' nullable ``Int64``."""
    return frame.astype({column: "Int64" for column in columns})


def wave_launches(store: Store) -> pd.DataFrame:
    """The waves in launch order, for launch markers and wave windows.

    Returns
    -------
    pandas.DataFrame
        ``wave_id``, ``name`` (the wave id when the wave has no name), ``launched_on`` and
        ``window_ends_on`` (the day before the next launch; missing for the latest wave),
        both ``datetime.date``.
    """
    frame = store.query_df("response/wave_launches")
    frame["window_ends_on"] = frame["window_ends_on"].astype("datetime64[us]")
    return _dates(frame, "launched_on", "window_ends_on")


def tips_over_time(store: Store, tips: TipFilter | None = None, *, freq: str = "day") -> pd.DataFrame:
    """Tips received per UTC day, ISO week (from Monday) or calendar month.

    Every period from the first to the last chosen tip is present, with 0 where no tip came.
    When the filter names a date range or a wave, the periods span that range or the wave's
    window instead (cut at the first or last tip where the range is open).

    Parameters
    ----------
    store
        The campaign database.
    tips
        Which tips count (default: all).
    freq
        ``"day"``, ``"week"`` or ``"month"``.

    Returns
    -------
    pandas.DataFrame
        One row per period, in order: ``period_start`` and ``period_end`` (first and last
        day, ``datetime.date``), ``label`` (``2017-06-01``, ``2017-W22`` or ``2017-06``),
        ``tips`` (count) and ``launched_waves`` (ids of the waves launched in the period,
        comma-separated, else missing). :func:`wave_launches` gives the markers' names.
    """
    import pandas as pd

    freq = _check_freq(freq, ("day", "week", "month"))
    per_day: dict[dt.date, int] = {}
    launches: list[tuple[dt.date, str]] = []
    windows: dict[str, tuple[dt.date, dt.date | None]] = {}
    for kind, day, n, wave_id, window_ends_on in store.query_rows("response/tips_per_day", tips=tips):
        if kind == "day":
            per_day[day] = int(n)
        else:
            launches.append((day, wave_id))
            windows[wave_id] = (day, window_ends_on)
    first, last = _period_bounds(per_day, windows, tips)
    if first is None or last is None or first > last:
        periods = []
    else:
        periods = _periods(_period_start(first, freq), _period_start(last, freq), freq)
    counts: dict[dt.date, int] = {}
    for day, n in per_day.items():
        start = _period_start(day, freq)
        counts[start] = counts.get(start, 0) + n
    launched: dict[dt.date, list[str]] = {}
    for day, wave_id in sorted(launches):
        launched.setdefault(_period_start(day, freq), []).append(wave_id)
    return pd.DataFrame({
        "period_start": pd.array([start for start, _ in periods], dtype=object),
        "period_end": pd.array([end for _, end in periods], dtype=object),
        "label": pd.array([_period_label(start, freq) for start, _ in periods], dtype="str"),
        "tips": pd.array([counts.get(start, 0) for start, _ in periods], dtype="int64"),
        "launched_waves": pd.array(
            [", ".join(launched[start]) if start in launched else None for start, _ in periods], dtype="str"
        ),
    })


def _period_bounds(per_day, windows, tips: TipFilter | None) -> tuple[dt.date | None, dt.date | None]:
    """First and last day shown: the chosen date range and wave window (``windows``: wave id →
    its first and last day, from ``wave_windows``), else the tips' first and last day."""
    starts, ends = [], []
    if tips is not None and tips.received_from:
        starts.append(tips.received_from)
    if tips is not None and tips.received_to:
        ends.append(tips.received_to)
    if tips is not None and tips.wave in windows:
        window_starts, window_ends = windows[tips.wave]
        starts.append(window_starts)
        if window_ends is not None:
            ends.append(window_ends)
    first = max(starts) if starts else min(per_day, default=None)
    last = min(ends) if ends else max(per_day, default=None)
    return first, last


def _period_start(day: dt.date, freq: str) -> dt.date:
    if freq == "week":
        return day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday
    if freq == "month":
        return day.replace(day=1)
    return day


def _periods(first: dt.date, last: dt.date, freq: str) -> list[tuple[dt.date, dt.date]]:
    """(start, end) of every period from the one starting ``first`` to the one starting ``last``."""
    out = []
    start = first
    while start <= last:
        if freq == "day":
            following = start + dt.timedelta(days=1)
        elif freq == "week":
            following = start + dt.timedelta(days=7)
        else:
            following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        out.append((start, following - dt.timedelta(days=1)))
        start = following
    return out


def _period_label(start: dt.date, freq: str) -> str:
    if freq == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if freq == "month":
        return f"{start.year}-{start.month:02d}"
    return start.isoformat()


def wave_response(store: Store, tips: TipFilter | None = None, *, days: int = DEFAULT_DAYS) -> pd.DataFrame:
    """Each wave's tips by day since its launch, for comparing waves on one time axis.

    Day 0 is the launch day (UTC), day 1 the next, up to day ``days - 1``. A wave counts the
    tips received in its window, so its days stop at the next launch. A day is ``counted``
    when it lies in the wave's window, within the filter's date range, and on or before the
    day of the latest tip in the database; days not counted have missing figures (they are
    not zeros: nothing is known of them). With a wave filter only that wave is shown.

    Returns
    -------
    pandas.DataFrame
        ``days`` rows per wave, in launch order: ``wave_id``, ``name``, ``launched_on``,
        ``day`` (0 ..), ``date``, ``counted`` (bool), ``tips`` that day, ``cumulative_tips``
        over days 0..day, ``share`` of the wave's tips over its counted days (0–1) and
        ``cumulative_share``. Shares are missing for a wave without tips.
    """
    params = {"days": _check_days(days), **_range(tips)}
    frame = store.query_df("response/wave_response", params, tips=tips)
    frame = _ints(frame, "tips", "cumulative_tips")
    return _dates(frame, "launched_on", "date")


def response_half_life(store: Store, tips: TipFilter | None = None, *, days: int = DEFAULT_DAYS) -> pd.DataFrame:
    """How fast each wave's response came in: its half-life and peak.

    The figures cover the wave's first ``days`` days (day 0 = launch day, UTC), or its
    whole window when the next launch comes sooner, as in :func:`wave_response`.

    The **half-life** is the smallest day ``d`` such that the tips over days ``0..d`` are
    at least half of the wave's tips over those first days: ``2 * cumulative(d) >= total``.
    With 10 tips of which 5 came on day 0 it is 0; with 4 on day 0 and the fifth on day 3
    it is 3. A wave without tips has no half-life (missing), not an error. With a wave
    filter only that wave is shown.

    Returns
    -------
    pandas.DataFrame
        One row per wave, in launch order: ``wave_id``, ``name``, ``launched_on``,
        ``span_days`` (days the wave can count: ``days``, or fewer when the next launch comes
        sooner), ``counted_days`` (of those, the days within the data and the filter's date
        range), ``complete`` (all of them are: a later load cannot change the figures),
        ``total_tips`` (over the counted days), ``launch_day_tips`` (day 0), ``peak_day``
        and ``peak_tips`` (the day with most tips, the earliest on a tie) and
        ``half_life_days``. Missing values: no tips, or day 0 not counted.
    """
    params = {"days": _check_days(days), **_range(tips)}
    frame = store.query_df("response/half_life", params, tips=tips)
    frame = _ints(frame, "launch_day_tips", "peak_day", "peak_tips", "half_life_days")
    frame = frame.astype({"complete": bool, "span_days": "int64", "counted_days": "int64"})
    return _dates(frame, "launched_on")


def object_timeline(store: Store, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per object, whole UTC days from publication to its first tip, first actionable tip
    and identification.

    A tip is actionable when its triage status is ``actionable`` or ``forwarded`` as it
    stands now (the intake system does not say when a tip was triaged).

    Parameters
    ----------
    as_of
        Count only tips received on or before this day (UTC, the whole day) and
        identifications on or before it; default: all data.

    Returns
    -------
    pandas.DataFrame
        One row per object, in publication order: ``object_id``, ``title``, ``wave_id``,
        ``first_published``, ``tips``, ``actionable_tips``, ``first_tip_at``,
        ``days_to_first_tip``, ``first_actionable_at`` (UTC timestamp),
        ``days_to_first_actionable``, ``identified_on`` and ``days_to_identification``;
        the day counts are ``Int64`` and missing when there is no such tip or date.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    frame = store.query_df("response/object_timeline", {"as_of": as_of})
    frame["identified_on"] = frame["identified_on"].astype("datetime64[us]")
    frame = _ints(frame, "days_to_first_tip", "days_to_first_actionable", "days_to_identification")
    return _dates(frame, "first_published", "identified_on")


def _mix(store: Store, tips: TipFilter | None, freq: str, dimension: str, top: int | None, order) -> pd.DataFrame:
    params = {
        "freq": _check_freq(freq, ("day", "week", "month")),
        "dimension": dimension,
        "top": top,
        "order": list(order),
        **_range(tips),
    }
    frame = store.query_df("response/mix", params, tips=tips)
    frame = _dates(frame, "period_start", "period_end")
    return frame.rename(columns={"category": dimension})


def channel_mix(store: Store, tips: TipFilter | None = None, *, freq: str = "week") -> pd.DataFrame:
    """Tips per period and channel, with each channel's share of the period.

    Periods as in :func:`tips_over_time` (``freq`` ``"week"`` or ``"month"``, or
    ``"day"``). A tip without a channel counts as ``unknown``.

    Returns
    -------
    pandas.DataFrame
        One row per period and channel (every channel seen in the chosen tips, in the
        contract's order, ``unknown`` last): ``period_start``, ``period_end``, ``label``,
        ``channel``, ``tips``, ``period_tips`` and ``share`` (0–1; the shares of a period
        add up to 1, missing when the period has no tips).
    """
    return _mix(store, tips, freq, "channel", None, CHANNELS)


def language_mix(
    store: Store, tips: TipFilter | None = None, *, freq: str = "week", top: int = 6
) -> pd.DataFrame:
    """Tips per period and language, the ``top`` most frequent languages kept apart.

    Languages are ranked by their tips over the whole range; those beyond the first ``top``
    are counted together as ``other``. A tip without a language counts as ``unknown``
    (never grouped into ``other``).

    Returns
    -------
    pandas.DataFrame
        As :func:`channel_mix`, with a ``language`` column (ISO 639-1 code, ``other`` or
        ``unknown``), languages by tips, then ``other``, then ``unknown``.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise CaselibError(f"top must be a whole number of languages, at least 1, not {top!r}")
    return _mix(store, tips, freq, "language", top, ())
