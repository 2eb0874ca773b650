"""The management dashboard: KPI tiles, the tip-origin map, wave response, the closure pipeline
and what needs attention, with no tip text and small counts hidden."""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as W
import pandas as pd

from caselib.domain.filters import TipFilter
from caselib.domain.rules import as_of_day, count_text
from caselib.presentation.widgets.common import STYLE, View, figure_widget, html_table
from caselib.store.session import Session

__all__ = ["ManagementDashboard", "forwarded_html"]


_FORWARDED_SHOWN = 12


def forwarded_html(forwarded: pd.DataFrame, k: int) -> str:
    """What was forwarded where (the whole campaign, as of the day): per country, the tips
    standing forwarded (small counts hidden), the packages and the last one's day; the
    countries with the most tips, and how many more there are."""
    from caselib.domain.countries import country_name
    from caselib.domain.rules import plural

    if forwarded.empty:
        return "<p>Nothing forwarded yet.</p>"
    more = len(forwarded) - _FORWARDED_SHOWN
    forwarded = forwarded.head(_FORWARDED_SHOWN)
    shown = pd.DataFrame({
        "country": [f"{country_name(c) or c} ({c})" for c in forwarded["country"]],
        "tips": [count_text(int(n), k) for n in forwarded["tips"]],
        "packages": [f"{int(n):,}" for n in forwarded["packages"]],
        "last": [d.strftime("%d %b %Y") if not pd.isna(d) else "–" for d in forwarded["last_package_on"]],
    })
    table = html_table(shown, [("country", "Country"), ("tips", "Tips forwarded"), ("packages", "Packages"),
                               ("last", "Last package")], nowrap=("last",))
    return table + (f"<p class='caselib-caption'>…and {plural(more, 'more country', 'more countries')}.</p>"
                    if more > 0 else "")


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
        from caselib.presentation.widgets.map_widget import MapWidget

        self.map = MapWidget(label="tips")
        # Live plotly widgets, made anew when the campaign changes (a load, a decision, another
        # as-of day); a wave pick only shows the wave's response curves.
        self.response = self.pipeline = None
        self.charts = W.HBox([])
        self.attention = W.HTML()
        self.attention_heading = W.HTML("<h3>Needs attention now</h3>")
        self.forwarded_heading = W.HTML("<h3>Forwarded to the police</h3>")
        self.forwarded = W.HTML()
        self.numbers = None
        self.frames: dict[str, pd.DataFrame] = {}
        self.refreshed_at: dt.datetime | None = None
        self._campaign: dict | None = None  # the campaign-wide figures, and the key they were computed for
        self._curves = None  # LiveResponseCurves of every wave, in self.response
        self._charts_key: tuple | None = None  # the campaign key the charts were drawn for
        self.wave.observe(lambda _: self.refresh(again=False), names="value")
        self.as_of.observe(lambda _: self.refresh(again=False), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        title = W.HTML(
            f"{STYLE}<h1 style='margin:0;color:#0b3d68'>Trace an Object · campaign dashboard</h1>"
            f"<div class='caselib-caption'>Tip counts below {k} are hidden. No tip text is shown.</div>"
        )
        from caselib.presentation.figures.management import TILE_CSS

        self.widget = W.VBox(
            [
                W.HTML(f"<style>{TILE_CSS}</style>"),
                title,
                W.HBox([self.wave, self.as_of, self.refresh_button]),
                self.status,
                self.tiles,
                self.map,
                self.charts,
                self.attention_heading,
                self.attention,
                self.forwarded_heading,
                self.forwarded,
            ]
        )
        self.refresh()

    def refresh(self, *, again: bool = True) -> bool:
        """Recompute the view; False (figures kept) when the database is busy with a load.

        What does not depend on the wave (the closure flags, the pipeline, the attention
        list, every wave's response) is computed once per as-of day and state of the
        database (its last load and last audited decision), and again when ``again`` (the
        Refresh button); picking a wave recomputes only the wave's figures. A figure is
        sent to the page only when it changed.
        """
        from caselib.domain.closure import closure_flags
        from caselib.domain.geography import tips_by_country
        from caselib.domain.management import attention, closure_pipeline, kpis
        from caselib.domain.response import wave_response
        from caselib.errors import StoreError
        from caselib.store.triage import forwarded_by_country

        as_of = as_of_day(self.as_of.value)
        wave = self.wave.value or None
        try:
            with self.session.reading(wait=self.wait) as store:
                key = (as_of, *store.rows("SELECT (SELECT max(batch_id) FROM load_batches), "
                                          "(SELECT max(seq) FROM audit_log)")[0])
                if again or self._campaign is None or self._campaign["key"] != key:
                    flags = closure_flags(store, as_of=as_of)
                    self._campaign = {
                        "key": key, "flags": flags, "response": wave_response(store, TipFilter(received_to=as_of)),
                        "pipeline": closure_pipeline(store, as_of=as_of),
                        "attention": attention(store, as_of=as_of, flags=flags, k=self.k),
                        "forwarded": forwarded_by_country(store, as_of=as_of),
                    }
                campaign = self._campaign
                numbers = kpis(store, as_of=as_of, wave=wave, k=self.k, flags=campaign["flags"])
                origins = tips_by_country(store, TipFilter(wave=wave, received_to=as_of), by="reporter", k=self.k)
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
        self.frames = {"origins": origins, "response": campaign["response"], "pipeline": campaign["pipeline"],
                       "attention": campaign["attention"], "flags": campaign["flags"],
                       "forwarded": campaign["forwarded"]}
        self.refreshed_at = dt.datetime.now(dt.UTC)
        self._show(as_of, wave)
        return True

    def _show(self, as_of: dt.date, wave: str | None) -> None:
        from caselib.domain.management import attention_note
        from caselib.presentation.figures.management import kpi_tiles_html
        scope = f"wave {self.wave_names.get(wave, wave)}" if wave else "the whole campaign"
        self.status.value = f"<span class='caselib-caption'>As of {as_of:%d %B %Y} · {html.escape(scope)}</span>"
        self.tiles.value = kpi_tiles_html(self.numbers, wave_name=self.wave_names.get(wave))
        self.map.update(self.frames["origins"], label="tips", suppressed="suppressed", suppressed_below=self.k,
                        title=f"Where tips come from ({scope})")
        key = self._campaign["key"]
        if self._charts_key != key:
            self._replace_charts()
        self._curves.show([wave] if wave else self._curves.wave_ids, title=(
            f"Response after the launch of {self.wave_names.get(wave, wave)}" if wave else "Response after each launch"))
        self.attention_heading.value = f"<h3>Needs attention now{' (whole campaign)' if wave else ''}</h3>"
        needs = self.frames["attention"]
        shown = needs.copy()
        for column in ("untriaged_tips", "tips_last_30_days"):
            shown[column] = [count_text(None if pd.isna(v) else int(v), self.k) for v in needs[column]]
        more = attention_note(needs)
        self.attention.value = (html_table(
            shown, [("object_id", "Object"), ("title", "Description"), ("why", "Why"),
                    ("waiting_days", "Waiting (days)"), ("tips_last_30_days", "Tips, last 30 days")]
        ) + (f"<p class='caselib-caption'>…{html.escape(more)}.</p>" if more else "")
        ) if len(needs) else "<p>Nothing needs attention.</p>"
        self.forwarded.value = forwarded_html(self.frames["forwarded"], self.k)

    def _replace_charts(self) -> None:
        """Draw every wave's response curves and the pipeline for the campaign as it is now."""
        import plotly.graph_objects as go

        from caselib.presentation.figures.live import LiveResponseCurves
        from caselib.presentation.figures.management import pipeline_chart

        old = (self.response, self.pipeline)
        # Drawn whole before each widget is made: its first state is all the page needs.
        curves = LiveResponseCurves(go.Figure(), self.frames["response"])
        self.response = curves.figure = figure_widget(curves.figure)
        self._curves = curves
        # The pipeline is the campaign's, and says so.
        self.pipeline = figure_widget(pipeline_chart(self.frames["pipeline"], title="Closure pipeline (whole campaign)"))
        self.charts.children = (self.response, self.pipeline)
        for widget in old:
            if widget is not None:
                widget.close()
        self._charts_key = self._campaign["key"]
