"""The common tip filters, declared once: each yields its SQL, its parameters and a caption.

A :class:`TipFilter` holds what an analyst chose (a wave, a date range, objects, categories,
triage statuses, reporter and suggested countries). From that one value come the SELECT that
the analyses read as ``{{filtered_tips}}``, its named parameters, and the caption printed
above every view, e.g. ``Wave March 2021 · received 1–31 March 2021 · actionable``.

A wave stands for its time window: tips received from its launch day up to the day before
the next wave's launch (a relaunch draws tips for old objects too).

Examples
--------
>>> import datetime as dt
>>> f = TipFilter(received_from=dt.date(2021, 3, 1), received_to=dt.date(2021, 3, 31),
...               triage=("actionable",))
>>> f.caption()
'received 1–31 March 2021 · actionable'
>>> sorted(f.sql()[1])
['tips_received_from', 'tips_received_to', 'tips_triage']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from caselib.domain.contract import TRIAGE_STATUSES, status_label
from caselib.errors import CaselibError
from caselib.store import ALL_TIPS

__all__ = ["FILTERS", "LANGUAGE_FIELDS", "PARAMETER_PREFIX", "FilterField", "TipFilter", "date_range_caption"]

# The tips every filtered analysis starts from: one row per tip. No join with objects: at a
# million tips it tripled every query; the category filter looks objects up in a subquery.
_BASE = ALL_TIPS

# A wave's window is defined once, by the in_wave_window macro (sql/rules/campaign.sql).
_WAVE_WINDOW = "in_wave_window(t.received_at, $tips_wave)"


def _months(day: dt.date) -> str:
    return day.strftime("%B")


def date_range_caption(start: dt.date | None, end: dt.date | None) -> str:
    """``1–31 March 2021``, ``30 March – 2 April 2021``, ``from 1 March 2021``, …"""
    if start and end:
        if start == end:
            return f"{start.day} {_months(start)} {start.year}"
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{end.day} {_months(end)} {end.year}"
        if start.year == end.year:
            return f"{start.day} {_months(start)} – {end.day} {_months(end)} {end.year}"
        return f"{start.day} {_months(start)} {start.year} – {end.day} {_months(end)} {end.year}"
    if start:
        return f"from {start.day} {_months(start)} {start.year}"
    if end:
        return f"until {end.day} {_months(end)} {end.year}"
    return ""


def _listing(values: Sequence[str], *, limit: int = 4) -> str:
    shown = list(values[:limit])
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _or_listing(values: Sequence[str]) -> str:
    words = [status_label(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _languages(values: Sequence[str], how: str = "") -> str:
    """``in German or French`` (and ``, as given`` / ``, as detected``)."""
    from caselib.domain.languages import language_name

    words = [language_name(v) for v in values[:4]]
    more = len(values) - len(words)
    if more > 0:
        words.append(f"{more} more")
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"in {listed}" + (f", {how}" if how else "")


# A tip's language is the one the intake system gave, else the one detected in its text
# (tip_languages, written by caselib.domain.languages only for tips given none). The three
# fields filter on that, on the given one alone, or on the detected one alone.
_DETECTED_IN = "t.tip_id IN (SELECT tip_id FROM tip_languages WHERE list_contains(${}, detected_language))"


def _country(code: str) -> str:
    from caselib.domain.countries import country_name

    return country_name(code) or code


# A filter's parameters are named apart from every query's own (``$tips_objects`` beside
# closure/figures' ``$objects``): the store refuses a query whose parameters share a name
# with its filter's rather than let one silently replace the other.
PARAMETER_PREFIX = "tips_"


@dataclass(frozen=True)
class FilterField:
    """One declared filter: the SQL condition (named parameter ``$tips_<name>``) and its caption."""

    name: str
    sql: str
    caption: Callable[[Any, Mapping[str, str]], str]

    @property
    def parameter(self) -> str:
        """The SQL parameter's name (without ``$``): ``tips_objects`` for ``objects``."""
        return PARAMETER_PREFIX + self.name


# Order here is the order of the caption's parts.
FILTERS: tuple[FilterField, ...] = (
    FilterField("wave", _WAVE_WINDOW, lambda v, names: f"Wave {names.get(v, v)}"),
    FilterField("received_from", "t.received_at >= $tips_received_from::DATE", lambda v, names: ""),
    FilterField(
        "received_to", "received_by(t.received_at, $tips_received_to)", lambda v, names: ""
    ),
    FilterField("objects", "list_contains($tips_objects, t.object_id)", lambda v, names: f"object {_listing(v)}" if len(v) == 1 else f"objects {_listing(v)}"),
    FilterField(
        "categories",
        "t.object_id IN (SELECT object_id FROM objects WHERE list_contains($tips_categories, category))",
        lambda v, names: _or_listing(v),
    ),
    FilterField("triage", "list_contains($tips_triage, t.triage_status)", lambda v, names: _or_listing(v)),
    FilterField(
        "reporter_countries",
        "list_contains($tips_reporter_countries, t.reporter_country)",
        lambda v, names: f"sent from {_listing([_country(c) for c in v])}",
    ),
    FilterField(
        "suggested_countries",
        "list_contains($tips_suggested_countries, t.suggested_country)",
        lambda v, names: f"suggesting {_listing([_country(c) for c in v])}",
    ),
    FilterField(
        "languages",
        "list_contains($tips_languages, t.language) OR (t.language IS NULL AND "
        + _DETECTED_IN.format("tips_languages") + ")",
        lambda v, names: _languages(v),
    ),
    FilterField("given_languages", "list_contains($tips_given_languages, t.language)",
                lambda v, names: _languages(v, "as given")),
    FilterField("detected_languages", _DETECTED_IN.format("tips_detected_languages"),
                lambda v, names: _languages(v, "as detected")),
)
# The fields naming languages (ISO 639-1 codes), and which of a tip's languages each reads.
LANGUAGE_FIELDS = {"languages": "either", "given_languages": "given", "detected_languages": "detected"}
_BY_NAME = {f.name: f for f in FILTERS}


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _as_languages(value, name: str) -> tuple[str, ...]:
    given = [str(v).strip() for v in _as_tuple(value)]
    bad = [v for v in given if not (len(v) == 2 and v.isascii() and v.isalpha())]
    if bad:
        raise CaselibError(f"{name} takes ISO 639-1 language codes such as de or fr, not {', '.join(map(repr, bad))}")
    return tuple(v.lower() for v in given)


def _as_date(value, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CaselibError(f"{name} must be a date YYYY-MM-DD, not {value!r}") from None


@dataclass(frozen=True)
class TipFilter:
    """Which tips an analysis looks at. Empty fields do not filter.

    Parameters
    ----------
    wave
        A wave id: tips received in that wave's window.
    received_from, received_to
        First and last day received (UTC, whole days, both included).
    objects, categories, triage, reporter_countries, suggested_countries
        Any of these values (alpha-3 codes for countries).
    languages, given_languages, detected_languages
        Any of these languages (ISO 639-1 codes): the tip's language (the one the intake
        system gave, else the one detected in its text), the given one only, or the
        detected one only.
    """

    wave: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    objects: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    triage: tuple[str, ...] = ()
    reporter_countries: tuple[str, ...] = ()
    suggested_countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    given_languages: tuple[str, ...] = ()
    detected_languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "wave", self.wave or None)
        set_(self, "received_from", _as_date(self.received_from, "received_from"))
        set_(self, "received_to", _as_date(self.received_to, "received_to"))
        for name in ("objects", "categories", "triage", "reporter_countries", "suggested_countries"):
            set_(self, name, _as_tuple(getattr(self, name)))
        for name in LANGUAGE_FIELDS:
            set_(self, name, _as_languages(getattr(self, name), name))
        unknown = sorted(set(self.triage) - set(TRIAGE_STATUSES))
        if unknown:
            raise CaselibError(f"unknown triage status {', '.join(unknown)}; known: {', '.join(TRIAGE_STATUSES)}")
        if self.received_from and self.received_to and self.received_from > self.received_to:
            raise CaselibError(
                f"the date range is empty: {self.received_from.isoformat()} is after {self.received_to.isoformat()}"
            )

    def replace(self, **changes) -> TipFilter:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def active(self) -> dict[str, Any]:
        """The fields that filter, by name, in declaration order."""
        values = {f.name: getattr(self, f.name) for f in FILTERS}
        return {name: value for name, value in values.items() if value not in (None, ())}

    def sql(self) -> tuple[str, dict[str, Any]]:
        """The SELECT of the chosen tips (columns of ``tips``) and its parameters, named
        ``tips_<field>`` (:attr:`FilterField.parameter`)."""
        active = self.active()
        conditions = [_BY_NAME[name].sql.strip() for name in active]
        params = {_BY_NAME[name].parameter: (list(v) if isinstance(v, tuple) else v) for name, v in active.items()}
        where = " WHERE " + " AND ".join(f"({c})" for c in conditions) if conditions else ""
        return _BASE + where, params

    def caption(self, wave_names: Mapping[str, str] | None = None) -> str:
        """A one-line description for the top of a view ('' when nothing filters).

        ``wave_names`` maps wave ids to display names (``"2021-03"`` → ``"March 2021"``).
        """
        names = wave_names or {}
        parts = []
        for name, value in self.active().items():
            if name in ("received_from", "received_to"):
                continue
            parts.append(_BY_NAME[name].caption(value, names))
        dates = date_range_caption(self.received_from, self.received_to)
        if dates:
            parts.insert(1 if self.wave else 0, f"received {dates}")
        return " · ".join(p for p in parts if p)
