"""Figures of the campaign's response over time, drawn from the frames of :mod:`caselib.domain.response`.

Each builder takes the frame its namesake in :mod:`caselib.domain.response` returns and gives back
a plotly figure; nothing here queries the database or calls ``show()``. Waves keep one
colour in every figure (by launch order), channels and languages one colour per value.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from caselib.presentation.figures.style import ACCENT, CATEGORICAL, GREY, apply_layout

__all__ = [
    "channel_mix_chart",
    "half_life_chart",
    "language_mix_chart",
    "response_curves",
    "tips_timeline",
]

# Names of the traces and annotations that the live figures (caselib.presentation.figures.live) update.
TIMELINE_BARS = "tips"
HALF_LIFE_BARS = "half-life"
EMPTY_NOTE = "empty"  # "no tips in this selection", "no waves"
STILL_OPEN_NOTE = "still open"  # the half-life chart's footnote
_OTHER = "#a6a6a6"  # values grouped together ('other'): darker than GREY, which means 'unknown'
_LAUNCH = "#555555"
_GRID = "#eeeeee"
_PERIOD_WORDS = {"day": "day", "week": "week", "month": "month"}
_CHANNEL_NAMES = {
    "web": "Web form",
    "email": "E-mail",
    "phone": "Phone",
    "social": "Social media",
    "other": "Other channel",
    "unknown": "Not recorded",
}


def _wave_colours(wave_ids: Sequence[str]) -> dict[str, str]:
    return {w: CATEGORICAL[i % len(CATEGORICAL)] for i, w in enumerate(wave_ids)}


def _freq(frame) -> str:
    """The period length of a frame with ``period_start`` and ``period_end``."""
    if frame.empty:
        return "day"
    first = frame.iloc[0]
    days = (first["period_end"] - first["period_start"]).days
    return "day" if days == 0 else "week" if days == 6 else "month"


def _day_text(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _empty_note(fig, text: str) -> None:
    fig.add_annotation(_empty_label(text))


def timeline_markers(over_time, launches=None) -> list[tuple]:
    """(day, wave name) of every launch within the periods of ``over_time``."""
    if launches is None:
        marked = over_time.dropna(subset=["launched_waves"])
        return [
            (row.period_start, wave.strip())
            for row in marked.itertuples()
            for wave in str(row.launched_waves).split(",")
        ]
    if over_time.empty:
        return []
    first, last = over_time["period_start"].min(), over_time["period_end"].max()
    shown = launches[(launches["launched_on"] >= first) & (launches["launched_on"] <= last)]
    return list(zip(shown["launched_on"], shown["name"], strict=True))


def timeline_bars(over_time) -> dict:
    """The bar trace's data for ``over_time`` (x, y, customdata), for building or updating it."""
    import numpy as np

    return dict(
        # numpy arrays: plotly validates them without a Python loop per period
        x=np.asarray(over_time["period_start"], dtype="datetime64[D]"),
        y=over_time["tips"].astype("int64").tolist(),
        customdata=np.asarray(over_time["label"], dtype=object),
    )


def _launch_line(day, *, visible: bool = True) -> dict:
    return dict(type="line", x0=day, x1=day, y0=0, y1=1, xref="x", yref="paper", visible=visible,
                line=dict(color=_LAUNCH, width=1.5, dash="dot"))


def _launch_label(day, name, *, y: float = 1.0, visible: bool = True) -> dict:
    # Wave names come from a file: escaped, since plotly reads a little HTML in annotation text.
    return dict(x=day, y=y, xref="x", yref="paper", text=f"<b>{html.escape(str(name))}</b>", showarrow=False,
                xanchor="left", yanchor="bottom", font=dict(size=12, color=_LAUNCH), bgcolor="rgba(255,255,255,0.8)",
                visible=visible)


# The timeline follows its output's width; its launch names are laid out for a plot area of at
# least this many px (a narrow output beside JupyterLab's file browser), 12 px bold type.
_LABEL_PLOT_WIDTH = 560
_LABEL_CHAR = 7.6  # px per character, generously (capitals are wider)


def _label_height(row: int) -> float:
    """Where launch names of row ``row`` (0: the top, above the plot) stand, in paper units."""
    return 1.0 - 0.08 * row


def launch_label_rows(days: Sequence, names: Sequence[str], first, last) -> list[int]:
    """The row of each launch name (``days`` in order, shown from ``first`` to ``last``): the
    top row where it clears the names already there, so that names of waves launched close
    together never overlap in a plot :data:`_LABEL_PLOT_WIDTH` px wide or wider."""
    import pandas as pd

    start = pd.Timestamp(first)
    span = max((pd.Timestamp(last) - start).total_seconds(), 1.0)
    rights: list[float] = []  # each row's rightmost pixel so far
    rows = []
    for day, name in zip(days, names, strict=True):
        left = (pd.Timestamp(day) - start).total_seconds() / span * _LABEL_PLOT_WIDTH
        row = next((i for i, right in enumerate(rights) if left > right + 6), len(rights))
        right = left + len(str(name)) * _LABEL_CHAR + 6
        if row == len(rights):
            rights.append(right)
        else:
            rights[row] = right
        rows.append(row)
    return rows


def _empty_label(text: str, *, visible: bool = True) -> dict:
    return dict(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                font=dict(size=16, color="#666666"), visible=visible, name=EMPTY_NOTE)


def _timeline_figure(bars: dict, freq: str, shapes: list, annotations: list, title: str | None):
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(**bars, marker_color=CATEGORICAL[0], marker_line_width=0, name=TIMELINE_BARS,
                           hovertemplate="%{customdata}: %{y:,} tips<extra></extra>"))
    # All markers in one layout update: one validation pass, not one per wave.
    fig.update_layout(shapes=shapes, annotations=annotations)
    word = _PERIOD_WORDS[freq]
    fig.update_xaxes(title="received (UTC)" if freq == "day" else f"{word} received (UTC{', ISO weeks from Monday' if freq == 'week' else ''})",
                     gridcolor=_GRID)
    fig.update_yaxes(title=f"tips per {word}", gridcolor=_GRID, rangemode="tozero")
    fig.update_layout(bargap=0.05 if freq != "day" else 0, showlegend=False)
    return apply_layout(fig, title=title, height=440)


def _timeline_title(over_time, freq: str) -> str:
    total = int(over_time["tips"].sum()) if len(over_time) else 0
    return f"Tips received per {_PERIOD_WORDS[freq]}, with wave launches ({total:,} tips)"


def tips_timeline(over_time, launches=None, *, title: str | None = None):
    """Tips per period as bars, with a dotted line and the wave's name at every launch.

    Parameters
    ----------
    over_time
        The frame of :func:`caselib.domain.response.tips_over_time`.
    launches
        The frame of :func:`caselib.domain.response.wave_launches`, for the waves' names; without
        it the markers carry the wave ids from ``over_time``. Launches outside the periods
        shown are left out.
    """
    freq = _freq(over_time)
    markers = timeline_markers(over_time, launches)
    rows = launch_label_rows([d for d, _ in markers], [n for _, n in markers], over_time["period_start"].min(),
                             over_time["period_end"].max()) if markers else []
    annotations = [_launch_label(day, name, y=_label_height(row)) for (day, name), row in zip(markers, rows, strict=True)]
    if over_time.empty:
        annotations.append(_empty_label("no tips in this selection"))
    return _timeline_figure(timeline_bars(over_time), freq, [_launch_line(day) for day, _ in markers], annotations,
                            title or _timeline_title(over_time, freq))


def response_curves(response, *, log_scale: bool = False, title: str | None = None):
    """Each wave's response on one time axis: tips per day since launch (top) and the
    cumulative share of its first days' tips (bottom), one line per wave.

    Clicking a wave in the legend hides or shows both of its lines. Days that are not
    counted (beyond the data, or after the next launch) are not drawn.

    Parameters
    ----------
    response
        The frame of :func:`caselib.domain.response.wave_response`.
    log_scale
        Tips per day on a logarithmic axis, so that a small wave's curve is not flattened
        by a large one's.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    days = int(response["day"].max()) + 1 if len(response) else 0
    waves = response.drop_duplicates("wave_id")[["wave_id", "name"]]
    colours = _wave_colours(list(waves["wave_id"]))
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
        subplot_titles=("Tips per day since launch", f"Cumulative share of the wave's tips in its first {days} days"),
    )
    for wave_id, name in zip(waves["wave_id"], waves["name"], strict=True):
        rows = response[(response["wave_id"] == wave_id) & response["counted"]]
        common = dict(
            legendgroup=wave_id,
            name=name,
            mode="lines",
            line=dict(color=colours[wave_id], width=2),
            x=[int(d) for d in rows["day"]],
            customdata=[_day_text(d) for d in rows["date"]],
        )
        fig.add_trace(
            go.Scatter(y=[int(n) for n in rows["tips"]], showlegend=True,
                       hovertemplate=f"{name}, day %{{x}} (%{{customdata}}): %{{y:,}} tips<extra></extra>",
                       **common),
            row=1, col=1,
        )
        shares = [None if s != s else float(s) for s in rows["cumulative_share"]]  # NaN: no tips
        fig.add_trace(
            go.Scatter(y=shares, showlegend=False,
                       hovertemplate=f"{name}, day %{{x}} (%{{customdata}}): %{{y:.0%}} of its tips so far<extra></extra>",
                       **common),
            row=2, col=1,
        )
    fig.add_hline(y=0.5, row=2, col=1, line=dict(color=ACCENT, width=1, dash="dash"))
    fig.update_xaxes(gridcolor=_GRID, range=[-0.5, max(days - 0.5, 0.5)])
    fig.update_xaxes(title="days since launch (day 0 = launch day, UTC)", row=2, col=1)
    fig.update_yaxes(title="tips", gridcolor=_GRID, row=1, col=1,
                     type="log" if log_scale else "linear", rangemode="tozero")
    fig.update_yaxes(title="share of tips", tickformat=".0%", range=[0, 1.05], gridcolor=_GRID, row=2, col=1)
    fig.update_layout(legend=dict(title="Wave", orientation="v"), hovermode="closest")
    if not len(waves):
        _empty_note(fig, "no waves")
    heading = title or f"Response to each wave: its first {days} days, aligned on launch day"
    return apply_layout(fig, title=heading, height=620)


def half_life_chart(half_life, *, title: str | None = None):
    """Bars of each wave's half-life: the days until half its first days' tips had arrived.

    Waves still open (their first days not all in the data) are hatched and starred; a
    wave without tips shows "no tips" instead of a bar.

    Parameters
    ----------
    half_life
        The frame of :func:`caselib.domain.response.response_half_life`.
    """
    import pandas as pd
    import plotly.graph_objects as go

    days = int(half_life["span_days"].max()) if len(half_life) else 0
    colours = _wave_colours(list(half_life["wave_id"]))
    names, values, texts, patterns, hover = [], [], [], [], []
    for row in half_life.itertuples():
        value = None if pd.isna(row.half_life_days) else int(row.half_life_days)
        star = "" if row.complete else "*"
        names.append(row.name)
        values.append(value)
        patterns.append("" if row.complete else "/")
        if value is None:
            texts.append(f"no tips{star}")
            hover.append(f"{row.name}: no tips in its first {row.span_days} days")
        else:
            texts.append(f"{value} day{'s' if value != 1 else ''}{star}")
            window = "" if row.span_days == days else f" (its window: {row.span_days} days)"
            hover.append(
                f"{row.name}: half of the {row.total_tips:,} tips of its first {row.span_days} days"
                f"{window} had come in by day {value}; {int(row.launch_day_tips or 0):,} on launch day,"
                f" most on day {int(row.peak_day)}"
            )
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[v if v is not None else 0 for v in values],
            text=texts,
            textposition="outside",
            cliponaxis=False,
            marker=dict(color=[colours[w] for w in half_life["wave_id"]],
                        pattern=dict(shape=patterns, fillmode="overlay", fgcolor="white")),
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            name=HALF_LIFE_BARS,
        )
    )
    fig.update_xaxes(title="wave (in launch order)", type="category")
    top = max([v for v in values if v is not None] or [1])
    fig.update_yaxes(title="days until half the tips had come in", gridcolor=_GRID, range=[0, top * 1.2 + 1])
    if not half_life["complete"].all():
        fig.add_annotation(text=f"* still open: not all of its first {days} days are in the data yet",
                           showarrow=False, x=0, y=-0.2, xref="paper", yref="paper", xanchor="left",
                           font=dict(size=12, color="#666666"), name=STILL_OPEN_NOTE)
    if half_life.empty:
        _empty_note(fig, "no waves")
    fig.update_layout(showlegend=False)
    heading = title or f"How fast each wave's response came in: half-life over its first {days} days"
    return apply_layout(fig, title=heading, height=420)


def _language_name(code: str) -> str:
    if code == "other":
        return "Other languages"
    if code == "unknown":
        return "Not recorded"
    import pycountry

    language = pycountry.languages.get(alpha_2=code)
    return f"{language.name} ({code})" if language else code


def _mix_chart(mix, column: str, names: dict[str, str], colours: dict[str, str], *, shares: bool, what: str, title):
    import numpy as np
    import plotly.graph_objects as go

    freq = _freq(mix)
    word = _PERIOD_WORDS[freq]
    fig = go.Figure()
    # In the frame's order (fixed values, then 'other', then 'unknown'), one trace each.
    for value, rows in mix.groupby(column, sort=False):
        if shares:
            rows = rows[rows["period_tips"] > 0]
        label = names.get(value, value)
        # numpy arrays: plotly validates them without a Python loop over every period
        common = dict(
            x=np.asarray(rows["period_start"], dtype="datetime64[D]"),
            name=label,
            customdata=np.column_stack([rows["label"].to_numpy(dtype=object), rows["tips"].to_numpy(dtype="int64"),
                                        rows["period_tips"].to_numpy(dtype="int64")]).astype(object),
        )
        if shares:
            fig.add_trace(go.Scatter(
                y=rows["share"].to_numpy(dtype=float, na_value=np.nan), mode="lines", stackgroup="shares",
                line=dict(width=0.5, color=colours[value]), fillcolor=colours[value],
                hovertemplate=f"{label}, %{{customdata[0]}}: %{{y:.0%}} "
                "(%{customdata[1]:,} of %{customdata[2]:,} tips)<extra></extra>",
                **common,
            ))
        else:
            fig.add_trace(go.Bar(
                y=rows["tips"].to_numpy(dtype="int64"), marker_color=colours[value], marker_line_width=0,
                hovertemplate=f"{label}, %{{customdata[0]}}: %{{y:,}} tips<extra></extra>",
                **common,
            ))
    fig.update_xaxes(title=f"{word} received (UTC)", gridcolor=_GRID)
    if shares:
        fig.update_yaxes(title="share of the tips", tickformat=".0%", range=[0, 1], gridcolor=_GRID)
    else:
        fig.update_yaxes(title=f"tips per {word}", gridcolor=_GRID)
        fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_layout(legend=dict(title=what.capitalize(), traceorder="normal"), hovermode="closest")
    if mix.empty:
        _empty_note(fig, "no tips in this selection")
    heading = title or f"Tips by {what}, per {word}" + (" (share of each " + word + "'s tips)" if shares else "")
    return apply_layout(fig, title=heading, height=440)


def _value_colours(values: Sequence[str]) -> dict[str, str]:
    colours, i = {}, 0
    for value in values:
        if value == "unknown":
            colours[value] = GREY
        elif value == "other":
            colours[value] = _OTHER
        else:
            colours[value] = CATEGORICAL[i % len(CATEGORICAL)]
            i += 1
    return colours


def channel_mix_chart(mix, *, shares: bool = True, title: str | None = None):
    """How tips came in, per period: stacked shares of each channel (or stacked counts).

    Parameters
    ----------
    mix
        The frame of :func:`caselib.domain.response.channel_mix`.
    shares
        Stacked areas of each channel's share of the period's tips (periods without tips
        left out); else stacked bars of tip counts.
    """
    from caselib.domain.contract import CHANNELS

    colours = _value_colours([*CHANNELS, "unknown"])  # fixed, whichever channels occur
    return _mix_chart(mix, "channel", _CHANNEL_NAMES, colours, shares=shares, what="channel", title=title)


def language_mix_chart(mix, *, shares: bool = True, title: str | None = None):
    """The languages tips were written in, per period: stacked shares (or stacked counts).

    Parameters
    ----------
    mix
        The frame of :func:`caselib.domain.response.language_mix`.
    shares
        As in :func:`channel_mix_chart`.
    """
    values = list(dict.fromkeys(mix["language"]))
    names = {v: _language_name(v) for v in values}
    return _mix_chart(mix, "language", names, _value_colours(values), shares=shares, what="language", title=title)
