"""The tip explorer: filters driving two country maps, a timeline and the tip table."""

from __future__ import annotations

import time
from collections.abc import Sequence

import ipywidgets as W
import pandas as pd

from caselib.domain.filters import TipFilter
from caselib.domain.rules import plural
from caselib.presentation.widgets.common import View, figure_widget
from caselib.presentation.widgets.filter_panel import FilterPanel
from caselib.presentation.widgets.tip_table import TipTable
from caselib.store.session import Session

__all__ = ["TipExplorer"]


class TipExplorer(View):
    """Filters driving linked views: two country maps, a timeline and the tip table.

    Clicking a country on the "sent from" map filters every view to tips sent from it;
    on the "suggested" map, to tips suggesting it. The tip table sits in a folded panel:
    it is listed when opened, and kept current while open. ``timings`` keeps the
    server-side seconds of each refresh.
    """

    def __init__(self, session: Session, *, value: TipFilter | None = None, freq: str = "week") -> None:
        from caselib.domain.response import wave_launches
        from caselib.presentation.figures.live import LiveTimeline
        from caselib.presentation.widgets.map_widget import MapWidget

        self.session = session
        self.freq = freq
        self.panel = FilterPanel(session, value)
        with session.reading() as store:
            self.launches = wave_launches(store)  # fixed while the explorer is open
        # Drawn once; each refresh only recolours them (see MapWidget). Side by side, each
        # takes half of the width there is.
        half = dict(flex="1 1 0", min_width="0")
        self.reporter_map = MapWidget(label="tips sent from", layout=W.Layout(**half))
        self.suggested_map = MapWidget(label="tips suggesting", layout=W.Layout(**half))
        self.timeline = figure_widget()
        self._timeline = LiveTimeline(self.timeline, self.launches, freq=freq, title=f"Tips per {freq}")
        self.table = TipTable(session)
        self.table_panel = W.Accordion(children=[self.table.widget], titles=("Tips",), selected_index=None)
        self._table_stale = True
        self.table_panel.observe(self._table_opened, names="selected_index")
        self.summary = W.HTML()
        self.timings: list[float] = []
        self.frames: dict[str, pd.DataFrame] = {}
        self.reporter_map.on_click(lambda codes: self.pick("reporter_countries", codes))
        self.suggested_map.on_click(lambda codes: self.pick("suggested_countries", codes))
        self.panel.on_change(lambda _: self.refresh())
        self.widget = W.VBox(
            [
                self.panel.widget,
                self.panel.caption,
                self.summary,
                W.HBox([self.reporter_map, self.suggested_map], layout=W.Layout(width="100%")),
                self.timeline,
                self.table_panel,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        from caselib.domain.geography import tips_by_country_both
        from caselib.domain.response import tips_over_time

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
            f"<b>{total:,}</b> {'tip' if total == 1 else 'tips'} · {plural(len(reporters), 'reporter country')} · "
            f"{plural(len(suggested), 'suggested country')}"
        )
        # Each sends the browser one update message.
        self.reporter_map.update(reporters, label="tips sent from", title="Where tips come from")
        self.suggested_map.update(suggested, label="tips suggesting", title="Where tipsters place the object")
        self._timeline.update(over_time)
        self.timings.append(time.perf_counter() - started)

    def _table_opened(self, change) -> None:
        if change["new"] == 0 and self._table_stale:
            self.table.show(self.panel.value)
            self._table_stale = False
            total = self.frames["reporters"].attrs["total"] or 0
            self.table_panel.set_title(0, f"Tips: {total:,} chosen")

    def pick(self, field: str, codes: Sequence[str]) -> None:
        """Filter to these countries (what a click on a map does)."""
        if codes:
            self.panel.set(**{field: tuple(codes)})
