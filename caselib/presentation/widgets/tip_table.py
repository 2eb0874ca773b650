"""A paged table of tips, every cell escaped."""

from __future__ import annotations

import ipywidgets as W
import pandas as pd

from caselib.domain.filters import TipFilter
from caselib.presentation.widgets.common import html_table
from caselib.store.session import Session

__all__ = ["TABLE_COLUMNS", "TipTable"]

TABLE_COLUMNS = [
    ("tip_id", "Tip"),
    ("object_id", "Object"),
    ("received_at", "Received (UTC)"),
    ("reporter_country", "From"),
    ("suggested_country", "Suggests"),
    ("suggested_place", "Place"),
    ("language", "Language"),
    ("triage_status", "Triage"),
    ("tip_text", "Text"),
]
# Ids, times, country codes and statuses are never broken across lines ("T00279 / 36").
NOWRAP_COLUMNS = ("tip_id", "object_id", "received_at", "reporter_country", "suggested_country", "language", "triage_status")


def _languages(rows: pd.DataFrame) -> list[str | None]:
    """The language a tip was given (``de``), else the one detected in its text (``de (detected)``)."""
    return [
        given if isinstance(given, str) else (f"{detected} (detected)" if isinstance(detected, str) else None)
        for given, detected in zip(rows["language"], rows["detected_language"], strict=True)
    ]


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
        from caselib.domain.explore import tip_page

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
        from caselib.domain.contract import status_label

        shown = self.rows.assign(triage_status=self.rows["triage_status"].map(status_label), language=_languages(self.rows))
        self.html.value = html_table(shown, TABLE_COLUMNS, nowrap=NOWRAP_COLUMNS)
