"""The campaign response explorer: wave picker, aligned response curves, half-lives, channel and language mix."""

from __future__ import annotations

import time

import ipywidgets as W
import pandas as pd

from caselib.domain.filters import TipFilter
from caselib.presentation.widgets.common import View, figure_widget, html_table
from caselib.store.session import Session

__all__ = ["ResponseExplorer"]


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
        self.mix_box = W.VBox()  # stacked: side by side, the legends did not fit beside the file browser
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
        from caselib.domain.response import channel_mix, language_mix, response_half_life, wave_response
        from caselib.presentation.figures.live import LiveHalfLife, LiveResponseCurves
        from caselib.presentation.figures.response import channel_mix_chart, language_mix_chart

        with self.session.reading() as store:
            self._response = wave_response(store, days=self.days)
            self._half_life = response_half_life(store, days=self.days)
            self._mixes = {
                window: (channel_mix(store, tips, freq="month"), language_mix(store, tips, freq="month"))
                for window, tips in [(None, None)] + [(w, TipFilter(wave=w)) for w in self.wave_names]
            }
        self.curves = figure_widget()
        self._curves = LiveResponseCurves(self.curves, self._response, log_scale=self.log_scale.value,
                                          title="Response after each launch")
        self.half_life = figure_widget()
        self._half = LiveHalfLife(self.half_life, self._half_life,
                                  title=f"Days until half of the first {self.days} days' tips")
        self._mix_charts = {}
        for window, (channels, languages) in self._mixes.items():
            scope = f" in wave {self.wave_names.get(window, window)}" if window else ", whole campaign"
            self._mix_charts[window] = (figure_widget(channel_mix_chart(channels, title=f"Channels{scope}")),
                                        figure_widget(language_mix_chart(languages, title=f"Languages{scope}")))

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
        # Picking waves shows or hides their curves and bars: the browser gets a few flags, not the curves.
        self._curves.show(chosen, log_scale=self.log_scale.value)
        self._half.show(chosen)
        self.channels, self.languages = self._mix_charts[window]
        # Compared by identity: a figure's == compares its whole JSON.
        if [id(c) for c in self.mix_box.children] != [id(self.channels), id(self.languages)]:
            self.mix_box.children = (self.channels, self.languages)
        from caselib.presentation.summaries import half_life_columns, half_life_complete

        half = self.frames["half_life"]
        half = half.assign(complete=[half_life_complete(v) for v in half["complete"]])
        self.table.value = html_table(half, half_life_columns(self.days),
                                      nowrap=("launched_on", "total_tips", "launch_day_tips", "half_life_days", "complete"))
        self.timings.append(time.perf_counter() - started)

    def reload(self) -> None:
        """Recompute and redraw everything (after new data was loaded)."""
        self._compute()
        self.refresh()
        self.sync_figures()  # not on screen yet: shown as they are now, not as they were created
        self.widget.children = (self.widget.children[0], self.curves, self.half_life, self.table, self.mix_box)
