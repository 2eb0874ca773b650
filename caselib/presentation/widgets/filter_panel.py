"""The common filters as widgets, yielding one :class:`~caselib.domain.filters.TipFilter`."""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W

from caselib.domain.contract import TRIAGE_STATUSES, status_label
from caselib.domain.filters import LANGUAGE_FIELDS, TipFilter
from caselib.presentation.widgets.common import caption_html
from caselib.store.languages import languages_present
from caselib.store.session import Session

__all__ = ["FilterPanel"]


class FilterPanel:
    """The common filters as widgets: wave, dates, category, object, triage, countries, language.

    ``value`` is the :class:`~caselib.domain.filters.TipFilter` they describe; callbacks given to
    :meth:`on_change` receive it after every change (once per :meth:`set`). The languages
    chosen filter on the language given, else detected (``languages``), or on the given or
    the detected one only (``given_languages``, ``detected_languages``), as ``language_source``
    says: one of the three at a time.
    """

    def __init__(self, session: Session, value: TipFilter | None = None) -> None:
        from caselib.store import sql_text

        with session.reading() as store:
            waves = store.rows("SELECT wave_id, coalesce(name, wave_id) FROM waves ORDER BY launched_on, wave_id")
            objects = store.rows("SELECT object_id, title, category FROM objects ORDER BY object_id")
            countries = store.rows(sql_text("explore/countries"))
            languages = list(dict.fromkeys(code for _, code, _ in languages_present(store)))
        from caselib.domain.countries import country_name
        from caselib.domain.languages import language_name

        self.wave_names = dict(waves)
        self._callbacks: list[Callable[[TipFilter], None]] = []
        self._quiet = False
        self._last = TipFilter()  # until the widgets are read (set() below asks for it)
        layout = W.Layout(width="auto")
        self.wave = W.Dropdown(options=[("All waves", "")] + [(n, w) for w, n in waves], description="Wave", layout=layout)
        self.received_from = W.DatePicker(description="From", layout=layout)
        self.received_to = W.DatePicker(description="To", layout=layout)
        categories = sorted({c for _, _, c in objects if c})
        self.categories = W.SelectMultiple(options=categories, description="Category", rows=4, layout=layout)
        self.objects = W.SelectMultiple(
            options=[(f"{o} · {t}"[:60], o) for o, t, _ in objects], description="Object", rows=5, layout=layout
        )
        self.triage = W.SelectMultiple(options=[(status_label(s), s) for s in TRIAGE_STATUSES], description="Triage",
                                       rows=4, layout=layout)
        by_kind = {"reporter": [], "suggested": []}
        for kind, code in countries:
            by_kind[kind].append((f"{code} · {country_name(code) or code}", code))
        self.reporter_countries = W.SelectMultiple(options=by_kind["reporter"], description="Sent from", rows=5, layout=layout)
        self.suggested_countries = W.SelectMultiple(options=by_kind["suggested"], description="Suggests", rows=5, layout=layout)
        self.languages = W.SelectMultiple(options=[(f"{c} · {language_name(c)}", c) for c in languages],
                                          description="Language", rows=5, layout=layout)
        self.language_source = W.Dropdown(
            options=[("given or detected", "languages"), ("given", "given_languages"), ("detected", "detected_languages")],
            description="as", layout=layout,
        )
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
        for widget in (*self._fields.values(), self.languages, self.language_source):
            widget.observe(self._changed, names="value")
        self._names = (*self._fields, *LANGUAGE_FIELDS)
        self.clear.on_click(lambda _: self.set(**{name: None for name in self._names}))
        self.error = W.HTML()
        # Rows that wrap: beside JupyterLab's file browser the lists do not fit in one row.
        wrap = W.Layout(flex_flow="row wrap")
        self.widget = W.VBox(
            [
                W.HBox([self.wave, self.received_from, self.received_to, self.clear], layout=wrap),
                W.HBox([self.categories, self.objects, self.triage, self.reporter_countries, self.suggested_countries,
                        W.VBox([self.languages, self.language_source])],
                       layout=W.Layout(flex_flow="row wrap")),
                self.error,
            ]
        )
        if value is not None:
            self.set(**{name: getattr(value, name) for name in self._names})
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
                if name in LANGUAGE_FIELDS:
                    self._set_languages(name, value)
                    continue
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

    def _set_languages(self, name: str, value) -> None:
        """Languages for the field ``name``; clearing it clears the languages shown only when
        they are that field's (``set(languages=None, detected_languages=("de",))`` keeps de)."""
        if value:
            self.language_source.value = name
            allowed = {v for _, v in self.languages.options}
            self.languages.value = tuple(v for v in value if v in allowed)
        elif self.language_source.value == name:
            self.languages.value = ()

    def _read(self) -> TipFilter:
        values = {name: widget.value for name, widget in self._fields.items()}
        values[self.language_source.value] = self.languages.value
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
