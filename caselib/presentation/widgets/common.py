"""What every view shares: opening the session, escaped HTML, figure widgets and :class:`View`."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from caselib.errors import CaselibError
from caselib.store.session import Session

__all__ = [
    "FigureOutput",
    "NoDatabase",
    "STYLE",
    "View",
    "caption_html",
    "escape_cell",
    "figure_widget",
    "html_table",
    "open_session",
]

STYLE = """<style>
.caselib-table {border-collapse: collapse; font-size: 13px; width: 100%;}
.caselib-table th {text-align: left; border-bottom: 2px solid #999; padding: 3px 6px;}
.caselib-table td {border-bottom: 1px solid #ddd; padding: 3px 6px; vertical-align: top;
                   white-space: pre-wrap; overflow-wrap: anywhere;}
.caselib-table td.nowrap {white-space: nowrap; overflow-wrap: normal;}
.caselib-caption {color: #444; font-size: 14px; margin: 2px 0 6px 0;}
</style>"""


class NoDatabase(CaselibError):
    """There is no campaign database yet; shown in a notebook as one line, not a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def _team_configured() -> bool:
    import os

    return bool(os.environ.get("CASELIB_SHARED_URL", "").strip())


def open_session(path: str | os.PathLike[str] | None = None, *, idle: float | None = 300.0) -> Session:
    """The session a notebook works in: ``path``, else ``CASELIB_DB``, else the project's default.

    Raises :class:`NoDatabase`, which a notebook shows as one line telling the user to run
    ``caselib demo`` (``make lab`` does it for them), when there is no database; in team mode
    (``CASELIB_SHARED_URL``) a missing file is the copy the first view creates and syncs.
    """
    from caselib.config import default_db_path

    target = Path(path or default_db_path()).expanduser()
    if not target.exists() and _team_configured():
        return Session(target, idle=idle)  # a team's new copy: the first view syncs it (caselib.presentation.team)
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


def html_table(frame: pd.DataFrame, columns: Sequence[tuple[str, str]], *, limit: int | None = 400,
               nowrap: Sequence[str] = ()) -> str:
    """An HTML table of ``frame`` with every cell escaped; the ``nowrap`` columns (ids, dates,
    statuses) keep each cell on one line, the others wrap."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    cell = {name: '<td class="nowrap">' if name in nowrap else "<td>" for name, _ in columns}
    body = "".join(
        "<tr>" + "".join(f"{cell[name]}{escape_cell(row.get(name), limit=limit)}</td>" for name, _ in columns) + "</tr>"
        for row in frame.to_dict(orient="records")
    )
    return f'{STYLE}<table class="caselib-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def caption_html(text: str) -> str:
    return f'{STYLE}<div class="caselib-caption">{html.escape(text or "All tips")}</div>'


def figure_widget(fig: go.Figure | None = None) -> go.FigureWidget:
    """A plotly widget (needs anywidget) holding ``fig``: plotly's JavaScript reaches the page
    once per kernel, and the page sends no drawn state back (see :mod:`.plotly_widget`)."""
    from caselib.presentation.widgets.plotly_widget import FigureWidget

    return FigureWidget(fig if fig is not None else go.Figure())


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

    A plotly ``FigureWidget`` hands the browser its state as it was when it was created;
    changes made since reach the browser as messages, which are lost while no view of it
    is on screen (and while the browser still loads plotly.js). Displayed on its own, the
    widget first makes its current state its initial state; inside a box it would show
    the figure as it was created. So displaying a ``View`` first has each of its figures
    do so (:meth:`sync_figures`).
    """

    widget: W.Widget

    def figure_widgets(self) -> list[go.FigureWidget]:
        return [v for v in vars(self).values() if isinstance(v, go.FigureWidget)]

    def sync_figures(self) -> None:
        """Make each figure's current state what the browser draws when it shows the view.

        Through the IPython display protocol, as if each figure were displayed on its own:
        plotly's ``FigureWidget._repr_mimebundle_`` sets the widget's synced state (traces and
        layout) from the figure as it is now, and returns a bundle that is not needed here.
        No plotly attribute is set from here.
        """
        for figure in self.figure_widgets():
            figure._repr_mimebundle_()

    def _repr_mimebundle_(self, **kwargs):
        self.sync_figures()
        return self.widget._repr_mimebundle_(**kwargs)
