"""Interactive views for JupyterLab and Voilà, composed from caselib's analyses and figures.

Every view reads through a :class:`~caselib.session.Session` (its connection is let go as
soon as a load in another process waits for the file). One :class:`FilterPanel` yields a
:class:`~caselib.filters.TipFilter`; views recompute from it and show its caption above
them. Figures are drawn once and then updated in place (``Live*`` classes in
:mod:`caselib.figures`), so that an interaction recomputes what is visible within 100 ms at
a million tips (``benchmarks/bench_widgets.py``). Tip text is untrusted: it is only ever
shown escaped, never as HTML.

Importing this module loads ipywidgets and plotly; ``import caselib`` does not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from caselib.contract import TRIAGE_STATUSES
from caselib.errors import CaselibError
from caselib.filters import TipFilter
from caselib.rules import as_of_day, count_text
from caselib.session import Session

__all__ = [
    "ClosureReview",
    "NoDatabase",
    "FigureOutput",
    "FilterPanel",
    "ManagementDashboard",
    "ResponseExplorer",
    "TipExplorer",
    "TipTable",
    "View",
    "escape_cell",
    "figure_widget",
    "open_session",
]

TABLE_COLUMNS = [
    ("tip_id", "Tip"),
    ("object_id", "Object"),
    ("received_at", "Received (UTC)"),
    ("reporter_country", "From"),
    ("suggested_country", "Suggests"),
    ("suggested_place", "Place"),
    ("triage_status", "Triage"),
    ("tip_text", "Text"),
]
_STYLE = """<style>
.caselib-table {border-collapse: collapse; font-size: 13px; width: 100%;}
.caselib-table th {text-align: left; border-bottom: 2px solid #999; padding: 3px 6px;}
.caselib-table td {border-bottom: 1px solid #ddd; padding: 3px 6px; vertical-align: top;
                   white-space: pre-wrap; overflow-wrap: anywhere;}
.caselib-caption {color: #444; font-size: 14px; margin: 2px 0 6px 0;}
</style>"""


class NoDatabase(CaselibError):
    """There is no campaign database yet; shown in a notebook as one line, not a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def open_session(path: str | os.PathLike[str] | None = None, *, idle: float | None = 300.0) -> Session:
    """The session a notebook works in: ``path``, else ``CASELIB_DB``, else the project's default.

    Raises :class:`NoDatabase`, which a notebook shows as one line telling the user to run
    ``caselib demo`` (``make lab`` does it for them), when there is no database.
    """
    from caselib.config import default_db_path

    target = Path(path or default_db_path()).expanduser()
    if not target.exists():
        raise NoDatabase(
            f"There is no campaign database at {target}. Run `caselib demo` (or `make lab`) to build the "
            "synthetic demo, or load your files with `caselib load`."
        )
    return Session(target, idle=idle)


def escape_cell(value, *, limit: int | None = None) -> str:
    """Text of a cell, HTML-escaped (missing values as an empty cell)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = value.isoformat(sep=" ", timespec="minutes") if isinstance(value, dt.datetime) else str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def html_table(frame: pd.DataFrame, columns: Sequence[tuple[str, str]], *, limit: int | None = 400) -> str:
    """An HTML table of ``frame`` with every cell escaped."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape_cell(row.get(name), limit=limit)}</td>" for name, _ in columns) + "</tr>"
        for row in frame.to_dict(orient="records")
    )
    return f'{_STYLE}<table class="caselib-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def caption_html(text: str) -> str:
    return f'{_STYLE}<div class="caselib-caption">{html.escape(text or "All tips")}</div>'


def figure_widget(fig: go.Figure | None = None) -> go.FigureWidget:
    """A plotly widget (needs anywidget) holding ``fig``."""
    return go.FigureWidget(fig if fig is not None else go.Figure())


def _same_cell(a, b) -> bool:
    """Equality of two table cells, missing values (None, NaN, NA) all alike."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return bool(a == b)


class FigureOutput:
    """A plotly figure shown through plotly's MIME renderer in an Output widget.

    For pages that only show figures (the Voilà dashboard): it needs no widget model in the
    browser, only the ``jupyterlab-plotly`` renderer that ships with plotly (and its plotly.js).
    ``figure`` is the figure last shown.
    """

    MIME = "application/vnd.plotly.v1+json"

    def __init__(self) -> None:
        self.widget = W.Output()
        self.figure: go.Figure | None = None

    def show(self, fig: go.Figure) -> None:
        import json

        self.figure = fig
        # Set as the widget's output state (no print outside a kernel, one update inside one).
        data = {self.MIME: json.loads(fig.to_json()), "text/plain": f"<figure: {fig.layout.title.text or ''}>"}
        self.widget.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)


class View:
    """A composed view: display it (last line of a cell) to show its ``widget``.

    Plotly's ``FigureWidget`` sends changes made before it is on screen as messages that no
    view receives, and refreshes its initial state only when it is displayed on its own;
    inside a box it would show the figure as it was created. Displaying a ``View`` first
    copies every figure's current state into the widget's initial state.
    """

    widget: W.Widget

    def figure_widgets(self) -> list[go.FigureWidget]:
        return [v for v in vars(self).values() if isinstance(v, go.FigureWidget)]

    def sync_figures(self) -> None:
        from copy import deepcopy

        for figure in self.figure_widgets():
            figure._widget_layout = deepcopy(figure._layout_obj._props)
            figure._widget_data = deepcopy(figure._data)

    def _repr_mimebundle_(self, **kwargs):
        self.sync_figures()
        return self.widget._repr_mimebundle_(**kwargs)


# -- filter panel ---------------------------------------------------------------------------


class FilterPanel:
    """The common filters as widgets: wave, dates, category, object, triage, countries.

    ``value`` is the :class:`~caselib.filters.TipFilter` they describe; callbacks given to
    :meth:`on_change` receive it after every change (once per :meth:`set`).
    """

    def __init__(self, session: Session, value: TipFilter | None = None) -> None:
        from caselib.store import sql_text

        with session.reading() as store:
            waves = store.rows("SELECT wave_id, coalesce(name, wave_id) FROM waves ORDER BY launched_on, wave_id")
            objects = store.rows("SELECT object_id, title, category FROM objects ORDER BY object_id")
            countries = store.rows(sql_text("explore/countries"))
        from caselib.countries import country_name

        self.wave_names = dict(waves)
        self._callbacks: list[Callable[[TipFilter], None]] = []
        self._quiet = False
        layout = W.Layout(width="auto")
        self.wave = W.Dropdown(options=[("All waves", "")] + [(n, w) for w, n in waves], description="Wave", layout=layout)
        self.received_from = W.DatePicker(description="From", layout=layout)
        self.received_to = W.DatePicker(description="To", layout=layout)
        categories = sorted({c for _, _, c in objects if c})
        self.categories = W.SelectMultiple(options=categories, description="Category", rows=4, layout=layout)
        self.objects = W.SelectMultiple(
            options=[(f"{o} · {t}"[:60], o) for o, t, _ in objects], description="Object", rows=5, layout=layout
        )
        self.triage = W.SelectMultiple(options=list(TRIAGE_STATUSES), description="Triage", rows=4, layout=layout)
        by_kind = {"reporter": [], "suggested": []}
        for kind, code in countries:
            by_kind[kind].append((f"{code} · {country_name(code) or code}", code))
        self.reporter_countries = W.SelectMultiple(options=by_kind["reporter"], description="Sent from", rows=5, layout=layout)
        self.suggested_countries = W.SelectMultiple(options=by_kind["suggested"], description="Suggests", rows=5, layout=layout)
        self.clear = W.Button(description="Clear filters", icon="", layout=W.Layout(width="auto"))
        self.caption = W.HTML(caption_html(""))
        self._fields = {
            "wave": self.wave,
            "received_from": self.received_from,
            "received_to": self.received_to,
            "categories": self.categories,
            "objects": self.objects,
            "triage": self.triage,
            "reporter_countries": self.reporter_countries,
            "suggested_countries": self.suggested_countries,
        }
        for widget in self._fields.values():
            widget.observe(self._changed, names="value")
        self.clear.on_click(lambda _: self.set(**{name: None for name in self._fields}))
        self.error = W.HTML()
        self.widget = W.VBox(
            [
                W.HBox([self.wave, self.received_from, self.received_to, self.clear]),
                W.HBox([self.categories, self.objects, self.triage, self.reporter_countries, self.suggested_countries]),
                self.error,
            ]
        )
        if value is not None:
            self.set(**{name: getattr(value, name) for name in self._fields})
        self._last = self._read()
        self.caption.value = caption_html(self._last.caption(self.wave_names))

    def on_change(self, callback: Callable[[TipFilter], None]) -> None:
        self._callbacks.append(callback)

    @property
    def value(self) -> TipFilter:
        return self._last

    def set(self, **changes) -> TipFilter:
        """Set several filters at once (None clears one); callbacks run once."""
        self._quiet = True
        try:
            for name, value in changes.items():
                widget = self._fields[name]
                if isinstance(widget, W.SelectMultiple):
                    allowed = {v for _, v in widget.options} if widget.options and isinstance(widget.options[0], tuple) else set(widget.options)
                    widget.value = tuple(v for v in (value or ()) if v in allowed)
                elif isinstance(widget, W.Dropdown):
                    widget.value = value or ""
                else:
                    widget.value = value
        finally:
            self._quiet = False
        return self._changed()

    def _read(self) -> TipFilter:
        values = {name: widget.value for name, widget in self._fields.items()}
        return TipFilter(**values)

    def _changed(self, *_):
        if self._quiet:
            return self._last
        from caselib.errors import CaselibError

        try:
            value = self._read()
        except CaselibError as error:  # e.g. From after To: say so, keep the last good filter
            self.error.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            return self._last
        self.error.value = ""
        self._last = value
        self.caption.value = caption_html(value.caption(self.wave_names))
        for callback in self._callbacks:
            callback(value)
        return value


# -- tip table ------------------------------------------------------------------------------


class TipTable:
    """A paged table of the chosen tips, newest first, every cell escaped."""

    def __init__(self, session: Session, *, page_size: int = 20) -> None:
        self.session = session
        self.page_size = page_size
        self.page = 0
        self.total = 0
        self.rows = pd.DataFrame(columns=[c for c, _ in TABLE_COLUMNS])
        self.tips = TipFilter()
        self.html = W.HTML()
        self.previous = W.Button(description="◀ newer", layout=W.Layout(width="auto"))
        self.next = W.Button(description="older ▶", layout=W.Layout(width="auto"))
        self.label = W.Label()
        self.previous.on_click(lambda _: self.show_page(self.page - 1))
        self.next.on_click(lambda _: self.show_page(self.page + 1))
        self.widget = W.VBox([W.HBox([self.previous, self.next, self.label]), self.html])

    def show(self, tips: TipFilter) -> None:
        self.tips = tips
        self.show_page(0)

    def show_page(self, page: int) -> None:
        from caselib.explore import tip_page

        page = max(0, page)
        with self.session.reading() as store:
            self.rows, self.total = tip_page(store, self.tips, page=page, page_size=self.page_size)
        pages = max(1, -(-self.total // self.page_size))
        self.page = min(page, pages - 1)
        first = self.page * self.page_size + 1 if self.total else 0
        last = min(self.total, (self.page + 1) * self.page_size)
        self.label.value = f"tips {first:,}–{last:,} of {self.total:,}"
        self.previous.disabled = self.page == 0
        self.next.disabled = last >= self.total
        self.html.value = html_table(self.rows, TABLE_COLUMNS)


# -- tip explorer ---------------------------------------------------------------------------


class TipExplorer(View):
    """Filters driving linked views: two country maps, a timeline and the tip table.

    Clicking a country on the "sent from" map filters every view to tips sent from it;
    on the "suggested" map, to tips suggesting it. The tip table sits in a folded panel:
    it is listed when opened, and kept current while open. ``timings`` keeps the
    server-side seconds of each refresh.
    """

    def __init__(self, session: Session, *, value: TipFilter | None = None, freq: str = "week") -> None:
        from caselib.figures.maps import LiveChoropleth
        from caselib.figures.response import LiveTimeline
        from caselib.response import wave_launches

        self.session = session
        self.freq = freq
        self.panel = FilterPanel(session, value)
        with session.reading() as store:
            self.launches = wave_launches(store)  # fixed while the explorer is open
        self.reporter_map = figure_widget()
        self.suggested_map = figure_widget()
        # Drawn once; each refresh only recolours them (see LiveChoropleth).
        self._maps = {
            "reporter": LiveChoropleth(self.reporter_map, label="tips sent from"),
            "suggested": LiveChoropleth(self.suggested_map, label="tips suggesting"),
        }
        self.timeline = figure_widget()
        self._timeline = LiveTimeline(self.timeline, self.launches, freq=freq, title=f"Tips per {freq}")
        self.table = TipTable(session)
        self.table_panel = W.Accordion(children=[self.table.widget], titles=("Tips",), selected_index=None)
        self._table_stale = True
        self.table_panel.observe(self._table_opened, names="selected_index")
        self.summary = W.HTML()
        self.timings: list[float] = []
        self.frames: dict[str, pd.DataFrame] = {}
        self._link(self.reporter_map, "reporter_countries")
        self._link(self.suggested_map, "suggested_countries")
        self.panel.on_change(lambda _: self.refresh())
        self.widget = W.VBox(
            [
                self.panel.widget,
                self.panel.caption,
                self.summary,
                W.HBox([self.reporter_map, self.suggested_map]),
                self.timeline,
                self.table_panel,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        from caselib.geography import tips_by_country_both
        from caselib.response import tips_over_time

        started = time.perf_counter()
        tips = self.panel.value
        with self.session.reading() as store:
            reporters, suggested = tips_by_country_both(store, tips)
            over_time = tips_over_time(store, tips, freq=self.freq)
            if self.table_panel.selected_index == 0:
                self.table.show(tips)
                self._table_stale = False
            else:
                self._table_stale = True
        self.frames = {"reporters": reporters, "suggested": suggested, "over_time": over_time}
        total = reporters.attrs["total"] or 0
        self.table_panel.set_title(0, f"Tips: {total:,} chosen" + (" (open to list them)" if self._table_stale else ""))
        self.summary.value = (
            f"<b>{total:,}</b> tips · {len(reporters)} reporter countries · "
            f"{len(suggested)} suggested countries"
        )
        # Each sends the browser one update message.
        self._maps["reporter"].update(reporters, label="tips sent from", title="Where tips come from")
        self._maps["suggested"].update(suggested, label="tips suggesting", title="Where tipsters place the object")
        self._timeline.update(over_time)
        self.timings.append(time.perf_counter() - started)

    def _table_opened(self, change) -> None:
        if change["new"] == 0 and self._table_stale:
            self.table.show(self.panel.value)
            self._table_stale = False
            total = self.frames["reporters"].attrs["total"] or 0
            self.table_panel.set_title(0, f"Tips: {total:,} chosen")

    def _link(self, widget: go.FigureWidget, field: str) -> None:
        for trace in widget.data:
            if trace.name in ("hover", "small countries") and trace.meta:
                codes = list(trace.meta["iso3"])
                trace.on_click(lambda _trace, points, _sel, codes=codes: self.pick(field, [codes[i] for i in points.point_inds]))

    def pick(self, field: str, codes: Sequence[str]) -> None:
        """Filter to these countries (what a click on a map does)."""
        if codes:
            self.panel.set(**{field: tuple(codes)})


# -- campaign response ----------------------------------------------------------------------


class ResponseExplorer(View):
    """Wave picker; aligned response curves, half-lives and channel/language mix.

    Everything a pick can show is computed when the explorer opens (and on :meth:`reload`):
    the curves and half-lives of every wave, and the channel and language mix of the whole
    campaign and of each wave's window, each drawn once. A pick then only shows or hides
    what is drawn, or swaps in the mix charts of another window.
    """

    def __init__(self, session: Session, *, days: int = 90) -> None:
        self.session = session
        self.days = days
        with session.reading() as store:
            waves = store.rows("SELECT wave_id, coalesce(name, wave_id) FROM waves ORDER BY launched_on")
        self.waves = W.SelectMultiple(options=[(n, w) for w, n in waves], value=tuple(w for w, _ in waves),
                                      description="Waves", rows=min(8, max(2, len(waves))))
        self.wave_names = dict(waves)
        self.log_scale = W.Checkbox(value=False, description="log scale for tips per day")
        self.table = W.HTML()
        self.mix_box = W.HBox()
        self.frames: dict[str, pd.DataFrame] = {}
        self.timings: list[float] = []
        self._compute()
        self.waves.observe(lambda _: self.refresh(), names="value")
        self.log_scale.observe(lambda _: self.refresh(), names="value")
        self.widget = W.VBox([W.HBox([self.waves, self.log_scale]), self.curves, self.half_life, self.table,
                              self.mix_box])
        self.refresh()

    def _compute(self) -> None:
        """Query and draw everything a pick can show."""
        from caselib.figures.response import (
            LiveHalfLife,
            channel_mix_chart,
            language_mix_chart,
            response_curves,
        )
        from caselib.response import channel_mix, language_mix, response_half_life, wave_response

        with self.session.reading() as store:
            self._response = wave_response(store, days=self.days)
            self._half_life = response_half_life(store, days=self.days)
            self._mixes = {
                window: (channel_mix(store, tips, freq="month"), language_mix(store, tips, freq="month"))
                for window, tips in [(None, None)] + [(w, TipFilter(wave=w)) for w in self.wave_names]
            }
        self.curves = figure_widget(response_curves(self._response, log_scale=self.log_scale.value,
                                                    title="Response after each launch"))
        self.half_life = figure_widget()
        self._half = LiveHalfLife(self.half_life, self._half_life,
                                  title=f"Days until half of the first {self.days} days' tips")
        self._mix_charts = {}
        for window, (channels, languages) in self._mixes.items():
            scope = f" in wave {self.wave_names.get(window, window)}" if window else ", whole campaign"
            self._mix_charts[window] = (figure_widget(channel_mix_chart(channels, title=f"Channels{scope}")),
                                        figure_widget(language_mix_chart(languages, title=f"Languages{scope}")))
        self._shown: dict[str, object] = {}

    def refresh(self) -> None:
        started = time.perf_counter()
        chosen = list(self.waves.value)
        window = chosen[0] if len(chosen) == 1 else None
        channels, languages = self._mixes[window]
        self.frames = {
            "response": self._response[self._response["wave_id"].isin(chosen)],
            "half_life": self._half_life[self._half_life["wave_id"].isin(chosen)],
            "channels": channels,
            "languages": languages,
        }
        # Picking waves shows or hides their curves: the browser gets a few flags, not the curves.
        groups = [t.legendgroup for t in self.curves.data]
        visible = [g in chosen if g is not None else True for g in groups]
        scale = "log" if self.log_scale.value else "linear"
        if self._shown.get("visible") != visible or self._shown.get("scale") != scale:
            self.curves.plotly_update(restyle_data={"visible": visible}, relayout_data={"yaxis.type": scale},
                                      trace_indexes=list(range(len(groups))))
            self._shown.update(visible=visible, scale=scale)
        self._half.show(chosen)
        self.channels, self.languages = self._mix_charts[window]
        # Compared by identity: a figure's == compares its whole JSON.
        if [id(c) for c in self.mix_box.children] != [id(self.channels), id(self.languages)]:
            self.mix_box.children = (self.channels, self.languages)
        half = self.frames["half_life"]
        self.table.value = html_table(half, [(c, c.replace("_", " ")) for c in half.columns])
        self.timings.append(time.perf_counter() - started)

    def reload(self) -> None:
        """Recompute and redraw everything (after new data was loaded)."""
        self._compute()
        self.widget.children = (self.widget.children[0], self.curves, self.half_life, self.table, self.mix_box)
        self.refresh()


# -- closure review -------------------------------------------------------------------------


class ClosureReview(View):
    """The queue of objects flagged ready, with their evidence and the decision buttons.

    Close, keep open and reopen each need a reason; each writes one record to the audit
    chain, and the queue is recomputed at once.
    """

    def __init__(self, session: Session, *, as_of: dt.date | None = None, by: str | None = None,
                 ready_only: bool = True) -> None:
        self.session = session
        self.as_of = as_of
        self.by = by
        self.ready_only = W.Checkbox(value=ready_only, description="only objects ready for closure")
        self.queue = W.Select(options=[], rows=12, layout=W.Layout(width="340px"))
        from caselib.figures.consensus import LiveConsensus
        from caselib.figures.maps import LiveChoropleth

        self.consensus = figure_widget()
        self._consensus = LiveConsensus(self.consensus)
        self.map = figure_widget()
        self._map = LiveChoropleth(self.map, label="countable tips")
        self.reasons = W.HTML()
        self.tips = TipTable(session, page_size=10)
        self.outcome = W.Dropdown(options=["origin_established", "widely_distributed", "exhausted", "withdrawn"],
                                  description="Outcome")
        self.reason = W.Textarea(placeholder="Reason for the decision (required, kept in the audit)",
                                 layout=W.Layout(width="100%", height="60px"))
        self.close_button = W.Button(description="Close object", button_style="danger")
        self.keep_button = W.Button(description="Keep open")
        self.reopen_button = W.Button(description="Reopen")
        self.message = W.HTML()
        self.flags = pd.DataFrame()
        # Typing the (required) reason is the first step of every decision: the session
        # takes the write connection then, not when the button is pressed.
        self.reason.observe(self._reason_typed, names="value")
        self.close_button.on_click(lambda _: self.decide("close"))
        self.keep_button.on_click(lambda _: self.decide("keep_open"))
        self.reopen_button.on_click(lambda _: self.decide("reopen"))
        self._listing = False
        self.queue.observe(lambda change: None if self._listing else self.show(change["new"]), names="value")
        self.ready_only.observe(lambda _: self._list_queue(), names="value")
        self.widget = W.HBox(
            [
                W.VBox([self.ready_only, self.queue]),
                W.VBox([self.reasons, W.HBox([self.consensus, self.map]), self.tips.widget,
                        W.HBox([self.outcome, self.close_button, self.keep_button, self.reopen_button]),
                        self.reason, self.message], layout=W.Layout(flex="1")),
            ]
        )
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Recompute every flag and every object's evidence, then list the queue."""
        from caselib.closure import evaluate_flags, flag_figures
        from caselib.geography import origin_consensus

        self._as_of = as_of_day(self.as_of)
        with self.session.reading() as store:
            self._figures = flag_figures(store, as_of=self._as_of)
            # Every object's evidence at once (one scan), so that selecting one queries only its tips.
            self.consensus_frame = origin_consensus(store, as_of=self._as_of)
        self.flags = evaluate_flags(self._figures, as_of=self._as_of)
        self._list_queue(select, force=True)

    def _recompute(self, object_id: str) -> None:
        """After a decision on ``object_id``: its flag from its new status and the tip figures
        the view already has (a decision changes no tip; a load shows on the next refresh)."""
        from caselib.closure import evaluate_flags, with_object_state

        with self.session.reading() as store:
            self._figures = with_object_state(store, self._figures, object_id, as_of=self._as_of)
        new = evaluate_flags(self._figures[self._figures["object_id"] == object_id], as_of=self._as_of).iloc[0]
        at = self.flags.index[self.flags["object_id"] == object_id][0]
        for column in self.flags.columns:  # in place: only status, outcome, reasons… differ
            if not _same_cell(self.flags.at[at, column], new[column]):
                self.flags.at[at, column] = new[column]

    def _list_queue(self, select: str | None = None, *, force: bool = False) -> None:
        self._flag_rows = self.flags.set_index("object_id")
        # Objects not yet published on the as-of day have nothing to review as of that day.
        listed = self.flags[self.flags["outcome"] != "not_published"]
        shown = listed[listed["ready"]] if self.ready_only.value else listed
        options = [(f"{r.object_id} · {r.outcome.replace('_', ' ')}", r.object_id) for r in shown.itertuples()]
        before = self.queue.value
        current = select or before
        ids = [o for _, o in options]
        # Quiet while listing: new options first move the selection to the first object,
        # and each move would show that object's evidence. Shown once, below.
        self._listing = True
        try:
            self.queue.options = options
            self.queue.value = current if current in ids else (ids[0] if ids else None)
        finally:
            self._listing = False
        if force or self.queue.value != before or self.queue.value is None:
            self.show(self.queue.value)

    def show(self, object_id: str | None) -> None:
        if object_id is None:
            self.reasons.value = "<i>No object in the queue.</i>"
            return
        flag = self._show_reasons(object_id)
        consensus = self.consensus_frame[self.consensus_frame["object_id"] == object_id]
        if flag["outcome"] in ("origin_established", "widely_distributed", "exhausted"):
            self.outcome.value = flag["outcome"]
        self._consensus.show(consensus, object_id)
        self._map.update(consensus[["country", "tips"]], label="countable tips", title="Suggested origin")
        self.tips.show(TipFilter(objects=(object_id,)))

    def _show_reasons(self, object_id: str):
        flag = self._flag_rows.loc[object_id]
        self.reasons.value = (
            f"<h3>{html.escape(object_id)} · {html.escape(str(flag['title']))}</h3>"
            f"<p><b>{html.escape(flag['outcome'].replace('_', ' '))}</b> "
            f"({'ready' if flag['ready'] else 'not ready'}; status {html.escape(str(flag['status']))}): "
            f"{html.escape(str(flag['reasons']))}</p>"
        )
        return flag

    def _reason_typed(self, change) -> None:
        from caselib.errors import StoreError

        if change["new"].strip():
            with contextlib.suppress(StoreError):  # another process writing: the decision will say so
                self.session.prepare_writing()

    def decide(self, action: str) -> None:
        """Record a decision on the selected object (``close``, ``keep_open`` or ``reopen``)."""
        from caselib import audit
        from caselib.errors import CaselibError

        object_id = self.queue.value
        if object_id is None:
            self.message.value = "Select an object first."
            return
        try:
            with self.session.writing() as store:
                if action == "close":
                    audit.close_object(store, object_id, outcome=self.outcome.value, reason=self.reason.value, by=self.by)
                elif action == "reopen":
                    audit.reopen_object(store, object_id, reason=self.reason.value, by=self.by)
                else:
                    audit.keep_open(store, object_id, reason=self.reason.value, by=self.by)
        except CaselibError as error:
            self.message.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            return
        done = {"close": "closed", "reopen": "reopened", "keep_open": "kept open"}[action]
        self.message.value = f"{html.escape(object_id)} {done}; the decision is in the audit."
        if self._as_of < as_of_day(None):
            self.message.value += (
                f" It takes effect today: as of {self._as_of.day} {self._as_of:%B %Y} it stands as it was."
            )
        self.reason.value = ""
        self._recompute(object_id)
        self._list_queue()
        if self.queue.value == object_id:  # still selected: its status and reasons changed, not its evidence
            self._show_reasons(object_id)


# -- management dashboard -------------------------------------------------------------------


class ManagementDashboard(View):
    """What management sees: KPI tiles, the tip-origin map, wave response, the closure
    pipeline and the objects that need attention, for a chosen wave and as-of day.

    No tip text, no contact data; tip counts below ``k`` hidden. While another process
    loads (DuckDB lets one process write), a refresh keeps the figures it has and says so;
    the next refresh after the load shows the new figures.
    """

    def __init__(self, session: Session, *, k: int = 5, as_of: dt.date | None = None, wait: float = 1.0) -> None:
        self.session = session
        self.k = k
        self.wait = wait
        with session.reading() as store:
            waves = store.rows("SELECT wave_id, coalesce(name, wave_id) FROM waves ORDER BY launched_on, wave_id")
        self.wave_names = dict(waves)
        self.wave = W.Dropdown(options=[("Whole campaign", "")] + [(n, w) for w, n in waves], description="Wave")
        self.as_of = W.DatePicker(description="As of", value=as_of_day(as_of))
        self.refresh_button = W.Button(description="Refresh", button_style="primary")
        self.status = W.HTML()
        self.tiles = W.HTML()
        self.map = FigureOutput()
        self.response = FigureOutput()
        self.pipeline = FigureOutput()
        self.attention = W.HTML()
        self.numbers = None
        self.frames: dict[str, pd.DataFrame] = {}
        self.refreshed_at: dt.datetime | None = None
        self.wave.observe(lambda _: self.refresh(), names="value")
        self.as_of.observe(lambda _: self.refresh(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        title = W.HTML(
            f"{_STYLE}<h1 style='margin:0;color:#0b3d68'>Trace an Object · campaign dashboard</h1>"
            f"<div class='caselib-caption'>Tip counts below {k} are hidden. No tip text is shown.</div>"
        )
        from caselib.figures.management import TILE_CSS

        self.widget = W.VBox(
            [
                W.HTML(f"<style>{TILE_CSS}</style>"),
                title,
                W.HBox([self.wave, self.as_of, self.refresh_button]),
                self.status,
                self.tiles,
                self.map.widget,
                W.HBox([self.response.widget, self.pipeline.widget]),
                W.HTML("<h3>Needs attention now</h3>"),
                self.attention,
            ]
        )
        self.refresh()

    def refresh(self) -> bool:
        """Recompute everything; False (figures kept) when the database is busy with a load."""
        from caselib.closure import closure_flags
        from caselib.errors import StoreError
        from caselib.figures.management import kpi_tiles_html, pipeline_chart
        from caselib.figures.maps import choropleth
        from caselib.figures.response import response_curves
        from caselib.geography import tips_by_country
        from caselib.management import attention, attention_note, closure_pipeline, kpis
        from caselib.response import wave_response

        as_of = as_of_day(self.as_of.value)
        wave = self.wave.value or None
        try:
            with self.session.reading(wait=self.wait) as store:
                flags = closure_flags(store, as_of=as_of)
                numbers = kpis(store, as_of=as_of, wave=wave, k=self.k, flags=flags)
                origins = tips_by_country(store, TipFilter(wave=wave, received_to=as_of), by="reporter", k=self.k)
                response = wave_response(store, TipFilter(received_to=as_of))
                pipeline = closure_pipeline(store, as_of=as_of)
                needs = attention(store, as_of=as_of, flags=flags, k=self.k)
        except StoreError as error:
            if not error.locked:
                raise
            since = f" (figures from {self.refreshed_at:%H:%M:%S} UTC)" if self.refreshed_at else ""
            self.status.value = (
                "<span style='color:#8a5a00'>The database is busy with a load; showing the figures from "
                f"before it{since}. Refresh again in a moment.</span>"
            )
            return False
        finally:
            self.session.release()  # let a loader in between refreshes
        self.numbers = numbers
        self.frames = {"origins": origins, "response": response, "pipeline": pipeline, "attention": needs, "flags": flags}
        self.refreshed_at = dt.datetime.now(dt.UTC)
        scope = f"wave {self.wave_names.get(wave, wave)}" if wave else "the whole campaign"
        self.status.value = f"<span class='caselib-caption'>As of {as_of:%d %B %Y} · {html.escape(scope)}</span>"
        self.tiles.value = kpi_tiles_html(numbers, wave_name=self.wave_names.get(wave))
        self.map.show(choropleth(origins, label="tips", suppressed="suppressed", suppressed_below=self.k,
                                 title=f"Where tips come from ({scope})"))
        if wave:
            response = response[response["wave_id"] == wave]
        self.response.show(response_curves(response, title="Response after each launch"))
        self.pipeline.show(pipeline_chart(pipeline))
        shown = needs.copy()
        for column in ("untriaged_tips", "tips_last_30_days"):
            shown[column] = [count_text(None if pd.isna(v) else int(v), self.k) for v in needs[column]]
        more = attention_note(needs)
        self.attention.value = (html_table(
            shown, [("object_id", "Object"), ("title", "Description"), ("why", "Why"),
                    ("waiting_days", "Waiting (days)"), ("tips_last_30_days", "Tips, last 30 days")]
        ) + (f"<p class='caselib-caption'>…{html.escape(more)}.</p>" if more else "")
        ) if len(needs) else "<p>Nothing needs attention.</p>"
        return True
