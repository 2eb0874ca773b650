"""What the notebooks show a person: formatted tables and sentences, never a raw frame or dict.

Each function takes what a domain function returned and gives a :class:`Table` or a
:class:`Sentence`, both shown by Jupyter as HTML (every cell escaped, ids, dates and
statuses kept on one line) and printed as plain text elsewhere. Outcomes and statuses are
in words (:func:`caselib.domain.closure.outcome_label`, :func:`caselib.domain.contract.status_label`),
countries by name (:func:`caselib.domain.countries.country_name`), counts with their noun
(:func:`caselib.domain.rules.plural`).

This module needs pandas only, not ipywidgets or plotly.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from caselib.domain.closure import outcome_label
from caselib.domain.contract import status_label
from caselib.domain.countries import country_name
from caselib.domain.rules import plural

__all__ = [
    "Sentence",
    "Table",
    "countries_table",
    "database_sentence",
    "flags_table",
    "half_life_columns",
    "half_life_complete",
    "loads_table",
    "quarantine_table",
    "timeline_summary",
]

# Headings and free text wrap at spaces (a record as read, which may have none, anywhere), so
# that a table fits its output; ids, dates, statuses and numbers keep one line.
_STYLE = (
    "<style>.caselib-summary {border-collapse: collapse; font-size: 13px;}"
    ".caselib-summary th {text-align: left; border-bottom: 2px solid #999; padding: 3px 5px; vertical-align: bottom;}"
    ".caselib-summary td {border-bottom: 1px solid #ddd; padding: 3px 5px; vertical-align: top;}"
    ".caselib-summary td.raw {overflow-wrap: anywhere;}"
    ".caselib-summary td.nowrap {white-space: nowrap;}"
    ".caselib-summary td.number {text-align: right; white-space: nowrap;}"
    ".caselib-summary caption {caption-side: top; text-align: left; color: #444; padding: 2px 0 6px 0;}</style>"
)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value) -> str:
    """A cell as text: a missing value empty, a timestamp to the minute, a number with separators."""
    if _missing(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer(value)):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`: the frame's column, its heading, how a cell reads."""

    name: str
    heading: str
    format: Callable[[object], str] = _text
    kind: str = "text"  # "text" wraps at spaces, "raw" anywhere, "nowrap" keeps one line, "number" right-aligned


@dataclass(frozen=True)
class Table:
    """A formatted table: rows of text under headings, with a caption above."""

    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...]
    caption: str = ""
    note: str = field(default="")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headings)
        body = "".join(
            "<tr>" + "".join(
                f'<td class="{k}">{html.escape(cell)}</td>' if k != "text" else f"<td>{html.escape(cell)}</td>"
                for cell, k in zip(row, self.kinds, strict=True)
            ) + "</tr>"
            for row in self.rows
        )
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        note = f'<p style="color:#444">{html.escape(self.note)}</p>' if self.note else ""
        return f'{_STYLE}<table class="caselib-summary">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}'

    def __repr__(self) -> str:
        widths = [max([len(h)] + [len(r[i]) for r in self.rows]) for i, h in enumerate(self.headings)]
        lines = [self.caption] if self.caption else []
        lines.append("  ".join(h.ljust(w) for h, w in zip(self.headings, widths, strict=True)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in self.rows]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


@dataclass(frozen=True)
class Sentence:
    """A summary in words, shown as a paragraph."""

    text: str

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def table(frame: pd.DataFrame, columns: Sequence[Column], *, caption: str = "", note: str = "",
          empty: str = "nothing to show") -> Table:
    """``frame``'s ``columns`` formatted as a :class:`Table` (one row "``empty``" when there is none)."""
    rows = tuple(
        tuple(c.format(record.get(c.name)) for c in columns) for record in frame.to_dict(orient="records")
    )
    if not rows:
        rows = ((empty,) + ("",) * (len(columns) - 1),)
    return Table(tuple(c.heading for c in columns), rows, tuple(c.kind for c in columns), caption, note)


def _country(code) -> str:
    return "" if _missing(code) else (country_name(code) or str(code))


_CONTENTS = {"demo": "the synthetic demo campaign", "analyst": "loaded campaign data", "empty": "nothing yet"}


def database_sentence(info: Mapping) -> Sentence:
    """What :func:`caselib.domain.status.database_status` found, in one sentence."""
    contents = _CONTENTS.get(info["contents"], info["contents"])
    if info["contents"] == "empty":
        return Sentence(f"The database {info['database']} holds nothing yet: run `caselib demo` or `caselib load`.")
    return Sentence(
        f"The database holds {contents}: {plural(info['waves'], 'wave')}, {plural(info['objects'], 'object')} "
        f"and {plural(info['tips'], 'tip')}, from {plural(info['loads'], 'load')}; "
        f"{plural(info['rejected_rows'], 'rejected row')} in the quarantine and "
        f"{plural(info['triage_changes'], 'triage change')} from re-deliveries."
    )


def _started(value) -> str:
    if _missing(value):
        return ""
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, TypeError):
        return str(value)


def loads_table(info: Mapping) -> Table:
    """The recent loads of :func:`caselib.domain.status.database_status`, newest first."""
    frame = pd.DataFrame(info["recent_loads"])
    columns = [
        Column("batch_id", "Load", kind="number"),
        Column("started_at", "Started", _started, "nowrap"),
        Column("kind", "Records", kind="nowrap"),
        Column("file_name", "File", kind="raw"),  # "tips_redelivery.csv" has no space to wrap at
        Column("rows_read", "Rows read", kind="number"),
        Column("inserted", "Inserted", kind="number"),
        Column("updated", "Updated", kind="number"),
        Column("unchanged", "Unchanged", kind="number"),
        Column("rejected", "Rejected", kind="number"),
        Column("seconds", "Seconds", lambda v: "" if _missing(v) else f"{float(v):.2f}", "number"),
        Column("loaded_by", "By", kind="nowrap"),
    ]
    return table(frame, columns, caption="The latest loads, newest first", empty="no load yet")


def quarantine_table(frame: pd.DataFrame, *, total: int | None = None) -> Table:
    """The rejected rows of :func:`caselib.domain.status.rejected_rows`, each with its reason.

    ``total`` (the quarantine's size) says in the caption how many rows are not shown.
    """
    columns = [
        Column("batch_id", "Load", kind="number"),
        Column("file_name", "File", kind="nowrap"),
        Column("record_no", "Record", kind="number"),
        Column("line_no", "Line", kind="number"),
        Column("reason", "Reason"),
        Column("raw_record", "Record as read", lambda v: "" if _missing(v) else (str(v)[:117] + "…" if len(str(v)) > 120 else str(v)), "raw"),
    ]
    shown = plural(len(frame), "rejected row")
    caption = f"{shown} of {total:,}" if total is not None and total > len(frame) else shown
    return table(frame, columns, caption=caption, empty="the quarantine is empty")


_MEASURES = (
    ("days_to_first_tip", "First tip"),
    ("days_to_first_actionable", "First actionable tip"),
    ("days_to_identification", "Identification"),
)


def half_life_columns(days: int = 90) -> list[tuple[str, str]]:
    """(column, heading) of the half-life table (:func:`caselib.domain.response.response_half_life`),
    in the report and in the response explorer alike; ``days`` is the window counted."""
    return [("name", "wave"), ("launched_on", "launched"), ("total_tips", f"tips, first {days} days"),
            ("launch_day_tips", "on launch day"), ("half_life_days", "half-life (days)"), ("complete", "complete")]


def half_life_complete(value) -> str:
    """A wave's ``complete`` in words: whether a later load can still change its figures."""
    return "yes" if value is True or (not _missing(value) and bool(value)) else "not yet"


def timeline_summary(timeline: pd.DataFrame) -> Table:
    """Days from publication to each milestone, over the objects of
    :func:`caselib.domain.response.object_timeline` that reached it: how many, median, quartiles, range."""
    rows = []
    total = len(timeline)
    for column, label in _MEASURES:
        days = pd.to_numeric(timeline[column], errors="coerce").dropna()
        if days.empty:
            rows.append((label, f"0 of {total:,}", "", "", "", ""))
            continue
        q1, median, q3 = (days.quantile(q) for q in (0.25, 0.5, 0.75))
        rows.append((label, f"{len(days):,} of {total:,}", f"{median:,.0f}", f"{q1:,.0f}–{q3:,.0f}",
                     f"{days.min():,.0f}", f"{days.max():,.0f}"))
    return Table(
        ("Days from publication to", "Objects that got there", "Median", "Middle half", "Fastest", "Slowest"),
        tuple(rows), ("nowrap", "number", "number", "number", "number", "number"),
        caption=f"Over {plural(total, 'object')}, in whole days",
    )


def flags_table(flags: pd.DataFrame) -> Table:
    """Every object's closure flag (:func:`caselib.domain.closure.closure_flags`) with the
    figures behind it, outcomes and statuses in words, countries by name."""
    def share(v) -> str:
        return "" if _missing(v) else f"{float(v):.0%}"

    columns = [
        Column("object_id", "Object", kind="nowrap"),
        # An outcome in words ("sold too widely to trace") wraps as words; codes and statuses do not.
        Column("outcome", "Outcome", outcome_label),
        Column("ready", "Ready", lambda v: "yes" if v is True or v == 1 else "no", "nowrap"),
        Column("status", "Status", status_label, "nowrap"),
        Column("origin_country", "Origin", _country),  # country names may wrap, as words
        Column("countable_tips", "|C|", kind="number"),
        Column("leading_country", "c*", _country),
        Column("leading_share", "s", share, "number"),
        Column("leading_reporter_countries", "r*", kind="number"),
        Column("suggested_countries", "k", kind="number"),
        Column("last_tip_on", "Last tip", kind="nowrap"),
        Column("untriaged_tips", "To triage", kind="number"),
        Column("reasons", "Reasons"),
    ]
    ready = int(flags["ready"].sum()) if len(flags) else 0
    return table(flags, columns, caption=f"{plural(len(flags), 'object')}, {ready:,} ready for closure",
                 empty="no object")


def countries_table(countries: pd.DataFrame, *, top: int = 10, what: str = "tips") -> Table:
    """The leading ``top`` countries of :func:`caselib.domain.geography.tips_by_country`:
    name, count, share and per million; a suppressed count says so and shows no figure."""
    def hidden(record) -> bool:
        return bool(record.get("suppressed")) or bool(record.get("hidden_with_small"))

    shown = countries.head(top)
    rows = []
    for record in shown.to_dict(orient="records"):
        secret = hidden(record)
        rows.append((
            _country(record.get("country")),
            "hidden" if secret else _text(record.get("tips")),
            "" if secret or _missing(record.get("share")) else f"{float(record['share']):.1%}",
            "" if secret or _missing(record.get("per_million")) else f"{float(record['per_million']):,.2f}",
        ))
    if not rows:
        rows = [("no country", "", "", "")]
    return Table(("Country", what.capitalize(), "Share", "Per million"), tuple(rows),
                 ("nowrap", "number", "number", "number"),
                 caption=f"The first {len(shown):,} of {plural(len(countries), 'country')}, by {what}")
