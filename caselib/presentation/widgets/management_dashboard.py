"""The management dashboard: KPI tiles, the tip-origin map, wave response, the closure pipeline
and what needs attention, with no tip text and small counts hidden."""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as W
import pandas as pd

from caselib.domain.filters import TipFilter
from caselib.domain.rules import as_of_day, count_text
from caselib.presentation.widgets.common import STYLE, FigureOutput, View, html_table
from caselib.store.session import Session

__all__ = ["ManagementDashboard"]


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
        self.response = FigureOutput()
        self.pipeline = FigureOutput()
        self.attention = W.HTML()
        self.attention_heading = W.HTML("<h3>Needs attention now</h3>")
        self.numbers = None
        self.frames: dict[str, pd.DataFrame] = {}
        self.refreshed_at: dt.datetime | None = None
        self.wave.observe(lambda _: self.refresh(), names="value")
        self.as_of.observe(lambda _: self.refresh(), names="value")
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
                W.HBox([self.response.widget, self.pipeline.widget]),
                self.attention_heading,
                self.attention,
            ]
        )
        self.refresh()

    def refresh(self) -> bool:
        """Recompute everything; False (figures kept) when the database is busy with a load."""
        from caselib.domain.closure import closure_flags
        from caselib.domain.geography import tips_by_country
        from caselib.domain.management import attention, attention_note, closure_pipeline, kpis
        from caselib.domain.response import wave_response
        from caselib.errors import StoreError
        from caselib.presentation.figures.management import kpi_tiles_html, pipeline_chart
        from caselib.presentation.figures.response import response_curves

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
        self.map.update(origins, label="tips", suppressed="suppressed", suppressed_below=self.k,
                        title=f"Where tips come from ({scope})")
        if wave:
            response = response[response["wave_id"] == wave]
        self.response.show(response_curves(
            response, title=f"Response after the launch of {self.wave_names.get(wave, wave)}" if wave else "Response after each launch"))
        # The pipeline and the attention list are the campaign's: with a wave picked, they say so.
        campaign_wide = " (whole campaign)" if wave else ""
        self.pipeline.show(pipeline_chart(pipeline, title=f"Closure pipeline{campaign_wide}"))
        self.attention_heading.value = f"<h3>Needs attention now{campaign_wide}</h3>"
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
