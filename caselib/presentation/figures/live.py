"""Live figures for the interactive views: drawn once, then updated in place.

Each class draws what its static namesake draws (:func:`~caselib.presentation.figures.response.tips_timeline`,
:func:`~caselib.presentation.figures.response.response_curves`, :func:`~caselib.presentation.figures.response.half_life_chart`,
:func:`~caselib.presentation.figures.consensus.consensus_chart`),
with the same helpers, into the figure it is given (a ``go.FigureWidget`` in a view). An
update then sends one ``plotly_update`` of plain values: the browser gets a few kilobytes,
and plotly's validation, which cost 15-40 ms per figure and interaction, is skipped.
``tests/test_live_figures.py`` checks that after every update each holds what the static
figure draws.

A live figure finds what it updates by name, never by position or by the text it shows:
traces by their ``name``, annotations and shapes by theirs (plotly's ``name`` of a layout
item). A wave's lines in the response curves are found by their ``legendgroup`` instead
(the wave's id). Names are looked up once, right after drawing
(:func:`_positions`), and updates use the positions found: a figure may hold traces,
shapes and annotations of its own before a live figure draws into it, but should gain or
lose none afterwards.

The views' maps are not plotly figures: see :mod:`caselib.presentation.widgets.map_widget`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.basedatatypes import Undefined

from caselib.presentation.figures.consensus import NO_TIPS_NOTE, SHARE_BARS, _bars, _heading, _height, consensus_chart
from caselib.presentation.figures.response import (
    EMPTY_NOTE,
    HALF_LIFE_BARS,
    STILL_OPEN_NOTE,
    TIMELINE_BARS,
    _empty_label,
    _label_height,
    _launch_label,
    _launch_line,
    _timeline_figure,
    _timeline_title,
    half_life_chart,
    launch_label_rows,
    response_curves,
    timeline_bars,
)

__all__ = ["LiveConsensus", "LiveHalfLife", "LiveResponseCurves", "LiveTimeline"]

_UNSET = object()


def _positions(items: Sequence, names: Iterable[str], *, key: str = "name", optional: Iterable[str] = ()) -> dict[str, int]:
    """The position among ``items`` (a figure's traces, annotations or shapes) of the one whose
    ``key`` property is each of ``names`` (and of ``optional``, when there).

    Raises ``LookupError`` when a name is missing, or held by two items: an update would
    then change the wrong one.
    """
    wanted = list(names)
    looked_for = {*wanted, *optional}
    found: dict[str, int] = {}
    for i, item in enumerate(items):
        name = getattr(item, key)
        if name in looked_for:
            if name in found:
                raise LookupError(f"Two items of this figure have the {key} {name!r}: a live figure could not tell "
                                  "which one is its own.")
            found[name] = i
    missing = [name for name in wanted if name not in found]
    if missing:
        raise LookupError(f"This figure has no item with the {key} {', '.join(map(repr, missing))}.")
    return found


def _draw(figure, built: go.Figure) -> None:
    """Add ``built``'s traces, shapes and annotations to ``figure``, after those it has, and take its layout."""
    figure.add_traces(list(built.data))
    layout = built.layout.to_plotly_json()
    shapes, annotations = layout.pop("shapes", ()), layout.pop("annotations", ())
    # Both have plotly's default template: set again, its hundreds of properties were each
    # validated (0.7 s).
    if layout.get("template") == figure.layout.template.to_plotly_json():
        del layout["template"]
    figure.update_layout(layout)
    # Appended: update_layout would merge them item by item into the figure's own.
    if shapes:
        figure.layout.shapes = figure.layout.shapes + tuple(shapes)
    if annotations:
        figure.layout.annotations = figure.layout.annotations + tuple(annotations)


def _restyle(changes: dict[int, dict]) -> tuple[dict, list[int]]:
    """``plotly_update``'s restyle data and trace indexes for changes by trace position."""
    indexes = sorted(changes)
    keys = {key for change in changes.values() for key in change}
    # plotly_restyle semantics: one value per trace index (a list value is that trace's
    # whole list), Undefined where a trace keeps its own.
    return {key: [changes[i].get(key, Undefined) for i in indexes] for key in keys}, indexes


# -- response --------------------------------------------------------------------------------


class LiveTimeline:
    """The timeline of :func:`~caselib.presentation.figures.response.tips_timeline` for interactive views:
    drawn once, then updated.

    Every launch has its line and name from the start (both named ``launch <wave_id>``),
    hidden while outside the periods shown; :meth:`update` sends the bars and which markers
    show in one ``plotly_update`` with plain values. Rebuilding the figure ran plotly's
    validation over every bar and marker, 30-40 ms per interaction.
    """

    def __init__(self, figure, launches, *, freq: str = "week", title: str | None = None) -> None:
        self.freq = freq
        self.launches = launches
        self.title = title
        self.markers = list(zip(launches["wave_id"], launches["launched_on"], launches["name"], strict=True))
        names = [f"launch {wave_id}" for wave_id, _, _ in self.markers]
        empty = pd.DataFrame({"period_start": pd.Series([], dtype="datetime64[s]"), "tips": pd.Series([], dtype="int64"),
                              "label": pd.Series([], dtype="str")})
        built = _timeline_figure(
            timeline_bars(empty), freq,
            [dict(_launch_line(day, visible=False), name=n) for n, (_, day, _) in zip(names, self.markers)],
            [dict(_launch_label(day, wave, visible=False), name=n) for n, (_, day, wave) in zip(names, self.markers)]
            + [_empty_label("no tips in this selection")],
            title,
        )
        _draw(figure, built)
        self.figure = figure
        self._bars_at = _positions(figure.data, [TIMELINE_BARS])[TIMELINE_BARS]
        shapes = _positions(figure.layout.shapes, names)
        notes = _positions(figure.layout.annotations, [*names, EMPTY_NOTE])
        # The relayout keys of each launch's line and label, and of the empty note.
        self._marks = [(f"shapes[{shapes[n]}]", f"annotations[{notes[n]}]") for n in names]
        self._empty = f"annotations[{notes[EMPTY_NOTE]}].visible"
        self._shown: dict[str, object] = {}  # relayout key -> value the figure has
        self._bars: dict[str, list] = {}  # bar property -> value the figure has

    def update(self, over_time) -> None:
        """Show ``over_time`` (the frame of :func:`caselib.domain.response.tips_over_time`)."""
        # Plain lists throughout: a few hundred periods, where pandas and numpy conversions
        # cost more than the values.
        starts = over_time["period_start"].tolist()
        first, last = (starts[0], over_time["period_end"].iat[-1]) if starts else (None, None)
        layout: dict[str, object] = {}
        shown = [first is not None and first <= day <= last for _, day, _ in self.markers]
        rows = iter(launch_label_rows(*zip(*[(day, wave) for (_, day, wave), on in zip(self.markers, shown) if on]),
                                      first, last) if any(shown) else [])
        for on, (line, label) in zip(shown, self._marks, strict=True):
            layout[f"{line}.visible"] = on
            layout[f"{label}.visible"] = on
            if on:
                layout[f"{label}.y"] = _label_height(next(rows))
        layout[self._empty] = over_time.empty
        layout["title.text"] = self.title or _timeline_title(over_time, self.freq)
        # ISO days and labels, as the validated figure would send them. Only what changed
        # is sent (a filter often keeps the periods and changes the counts).
        trace = {"x": [day.isoformat() for day in starts], "y": over_time["tips"].tolist(),
                 "customdata": over_time["label"].tolist()}
        restyle = {k: [v] for k, v in trace.items() if self._bars.get(k) != v}
        self._bars.update(trace)
        relayout = {k: v for k, v in layout.items() if self._shown.get(k, _UNSET) != v}
        self._shown.update(relayout)
        if restyle or relayout:
            self.figure.plotly_update(restyle_data=restyle, relayout_data=relayout, trace_indexes=[self._bars_at])


class LiveResponseCurves:
    """:func:`~caselib.presentation.figures.response.response_curves` of every wave, drawn once;
    :meth:`show` shows the chosen waves' lines and hides the others'.

    A wave's two lines (tips per day, cumulative share) are found by their ``legendgroup``,
    the wave's id. A pick sends the browser a few flags and the axis type, not the curves.
    """

    def __init__(self, figure, response, *, log_scale: bool = False, title: str | None = None) -> None:
        _draw(figure, response_curves(response, log_scale=log_scale, title=title))
        self.figure = figure
        self.wave_ids = list(dict.fromkeys(response["wave_id"]))
        wanted = set(self.wave_ids)
        self._lines = [(i, trace.legendgroup) for i, trace in enumerate(figure.data) if trace.legendgroup in wanted]
        self._shown: tuple | None = None  # (visible flags, axis type, title) the figure has

    def show(self, wave_ids, *, log_scale: bool = False, title: str | None = None) -> None:
        """Show the lines of ``wave_ids`` (and ``title``, when given), in one message."""
        chosen = set(wave_ids)
        visible = [wave in chosen for _, wave in self._lines]
        scale = "log" if log_scale else "linear"
        shown = (visible, scale, title)
        if self._shown != shown:
            relayout = {"yaxis.type": scale} | ({"title.text": title} if title is not None else {})
            self.figure.plotly_update(restyle_data={"visible": visible}, relayout_data=relayout,
                                      trace_indexes=[i for i, _ in self._lines])
            self._shown = shown


class LiveHalfLife:
    """:func:`~caselib.presentation.figures.response.half_life_chart` of every wave, drawn once; :meth:`show`
    keeps the chosen waves' bars.

    Picking waves sends the chosen bars, the axis range and the footnote's visibility in one
    ``plotly_update`` of plain values; rebuilding the chart cost 20-40 ms per pick.
    """

    def __init__(self, figure, half_life, *, title: str | None = None) -> None:
        built = half_life_chart(half_life, title=title)
        if not any(a.name == EMPTY_NOTE for a in built.layout.annotations):
            built.add_annotation(_empty_label("no waves", visible=False))
        _draw(figure, built)
        self.figure = figure
        self.wave_ids = list(half_life["wave_id"])
        self.complete = dict(zip(half_life["wave_id"], half_life["complete"].astype(bool), strict=True))
        self._bars_at = _positions(figure.data, [HALF_LIFE_BARS])[HALF_LIFE_BARS]
        bars = figure.data[self._bars_at]
        self._bars = {key: list(value) for key, value in (
            ("x", bars.x), ("y", bars.y), ("text", bars.text), ("hovertext", bars.hovertext),
            ("marker.color", bars.marker.color), ("marker.pattern.shape", bars.marker.pattern.shape),
        )}
        # The footnote is there only when some wave is still open.
        notes = _positions(figure.layout.annotations, [EMPTY_NOTE], optional=[STILL_OPEN_NOTE])
        self._empty = f"annotations[{notes[EMPTY_NOTE]}].visible"
        self._footnote = f"annotations[{notes[STILL_OPEN_NOTE]}].visible" if STILL_OPEN_NOTE in notes else None

    def show(self, wave_ids) -> None:
        chosen = set(wave_ids)
        keep = [i for i, w in enumerate(self.wave_ids) if w in chosen]
        restyle = {key: [[values[i] for i in keep]] for key, values in self._bars.items()}
        top = max([self._bars["y"][i] for i in keep] or [1]) or 1
        relayout = {"yaxis.range": [0, top * 1.2 + 1], self._empty: not keep}
        if self._footnote is not None:
            relayout[self._footnote] = not all(self.complete[self.wave_ids[i]] for i in keep)
        self.figure.plotly_update(restyle_data=restyle, relayout_data=relayout, trace_indexes=[self._bars_at])


# -- consensus -------------------------------------------------------------------------------


class LiveConsensus:
    """:func:`~caselib.presentation.figures.consensus.consensus_chart` for interactive views: drawn once,
    then updated in place.

    :meth:`show` sends one object's bars, title, height and "no countable tips" note in one
    ``plotly_update`` of plain values; rebuilding the chart cost 40 ms per selection.
    """

    def __init__(self, figure, *, min_share: float = 0.6, top: int = 8) -> None:
        empty = pd.DataFrame({c: [] for c in ("object_id", "rank", "country", "share", "share_low", "share_high",
                                              "tips", "reporter_countries", "countable_tips")})
        _draw(figure, consensus_chart(empty, "", min_share=min_share, top=top, title=" "))
        self.figure = figure
        self.top = top
        self._bars_at = _positions(figure.data, [SHARE_BARS])[SHARE_BARS]
        self._note = f"annotations[{_positions(figure.layout.annotations, [NO_TIPS_NOTE])[NO_TIPS_NOTE]}].visible"

    def show(self, consensus, object_id: str, *, flag=None, title: str | None = None) -> None:
        bars, total = _bars(consensus, object_id, self.top)
        self.figure.plotly_update(
            restyle_data={key: [value] for key, value in bars.items()},
            relayout_data={"title.text": _heading(object_id, total, flag, title), "height": _height(bars),
                           self._note: not total},
            trace_indexes=[self._bars_at],
        )
