"""The campaign report: one self-contained HTML file (or a PDF of it) for management.

The HTML embeds plotly.js and every figure's data, geometry included, and refers to nothing
outside itself; a Content-Security-Policy in the page forbids any request, so an air-gapped
machine shows all of it. The report holds no tip text and no contact data, and hides tip
counts from 1 to ``k - 1``.

The same :func:`build_report` serves ``caselib report`` and the report notebook, so both
produce the same file for the same database, day and wave.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from caselib.config import write_private
from caselib.domain.closure import ClosureRules, closure_flags, outcome_label
from caselib.domain.filters import TipFilter, date_range_caption
from caselib.domain.rules import DEFAULT_K, as_of_day, count_text, hide_small, plural
from caselib.errors import CaselibError
from caselib.store import Store

__all__ = ["PAPERS", "Report", "build_report", "on_paper", "report_figures", "write_pdf", "write_report"]

SECTIONS = ("Summary", "Where tips come from", "Campaign response", "Closure status", "Methods", "Data quality")
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:"
PAPERS = {"a4": "A4", "letter": "letter"}  # --paper → CSS @page size
# Printed figures have one fixed size, so that the PDF shows what was laid out: 680 CSS px
# (180 mm) fits between the side margins of A4, the narrower paper.
FIGURE_WIDTH = 680
CSS = """
body {font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0 auto;
      max-width: 1100px; padding: 24px 32px; line-height: 1.45;}
h1 {font-size: 28px; margin-bottom: 4px; color: #0b3d68;}
h2 {font-size: 21px; border-bottom: 2px solid #0b3d68; padding-bottom: 3px; margin-top: 34px; color: #0b3d68;}
h3 {break-after: avoid;}
.subtitle {color: #555; margin-top: 0;}
.synthetic {background: #fff4d6; border: 1px solid #e6c200; padding: 6px 10px; border-radius: 4px;}
table {border-collapse: collapse; font-size: 13px; margin: 8px 0;}
th {text-align: left; border-bottom: 2px solid #999; padding: 3px 8px; vertical-align: bottom;}
td {border-bottom: 1px solid #ddd; padding: 3px 8px; vertical-align: top; white-space: nowrap;}
td.wrap {white-space: normal;}
td.num, th.num {text-align: right;}
tr {break-inside: avoid;}
.figure {page-break-inside: avoid; break-inside: avoid; margin: 6px 0 14px 0;}
.note {color: #555; font-size: 13px;}
@page {size: A4; margin: 14mm 14mm 18mm 14mm;}
@media print { body {max-width: none; padding: 0;} h2 {break-after: avoid; margin-top: 22px;}
  /* A heading and its opening note go with what follows: alone at the foot of a page, the
     map or table overleaf, they read as something missing. */
  h2 + p {break-after: avoid; break-inside: avoid;} }
"""


def _page_css(as_of: dt.date) -> str:
    """The printed page's footer: the report's as-of day and "Page n of N" (CSS page-margin boxes)."""
    footer = f"Trace an Object: campaign report as of {date_range_caption(as_of, as_of)}"
    box = "font: 9pt Arial, sans-serif; color: #555;"
    return (
        "@page {"
        f'@bottom-left {{content: "{_css_string(footer)}"; {box}}}'
        f'@bottom-right {{content: "Page " counter(page) " of " counter(pages); {box}}}'
        "}"
    )


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")


@dataclass(frozen=True)
class Report:
    """A built report: its HTML and what it was built from."""

    html: str
    as_of: dt.date
    wave: str | None
    k: int
    figures: int

    def write(self, path: str | os.PathLike[str], *, paper: str = "a4") -> Path:
        """Write ``.html`` (as is) or ``.pdf`` (printed by headless Chromium) on ``paper``."""
        return write_report(self, path, paper=paper)


def _table(frame, columns, *, numeric=(), wrap=()) -> str:
    """An HTML table of ``columns`` ((name, label) pairs); a value stays on one line unless its
    column is in ``wrap`` (free text such as descriptions), so no id, date or status is split."""
    head = "".join(
        f'<th class="num">{html.escape(label)}</th>' if name in numeric else f"<th>{html.escape(label)}</th>"
        for name, label in columns
    )
    rows = []
    for record in frame.to_dict(orient="records"):
        cells = []
        for name, _ in columns:
            value = record.get(name)
            text = "" if value is None or (not isinstance(value, str) and value != value) else value
            if isinstance(text, float):
                text = f"{text:,.2f}"
            elif isinstance(text, int) and not isinstance(text, bool):
                text = f"{text:,}"
            klass = ' class="num"' if name in numeric else ' class="wrap"' if name in wrap else ""
            cells.append(f"<td{klass}>{html.escape(str(text))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class _Figures:
    """Turns plotly figures into divs with fixed ids (the same report twice is the same file),
    each :data:`FIGURE_WIDTH` wide, so that the page and its print show the same layout."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig, *, height: int | None = None) -> str:
        import plotly.io as pio

        self.count += 1
        fig.update_layout(width=FIGURE_WIDTH, autosize=False)
        if height:
            fig.update_layout(height=height)
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"figure-{self.count}",
            config={"displayModeBar": False, "responsive": False},
        )
        return f'<div class="figure">{div}</div>'


# The map's legend in one band under the map, its title above the entries.
_MAP_LEGEND = dict(orientation="h", x=0, xanchor="left", y=-0.01, yanchor="top", title=dict(side="top"), font=dict(size=12),
                   bgcolor="rgba(255,255,255,0)", borderwidth=0)
_MAP_MARGIN = dict(l=10, r=10, t=44, b=84)  # b: the legend's band (a title and two rows of entries)


def _fit_map(fig):
    """``fig`` (a map of :mod:`caselib.presentation.figures.maps`) sized for the page: as tall as
    its map is at :data:`FIGURE_WIDTH`, with the legend below the map rather than over it.

    The map keeps equal aspect, so a figure taller than its map leaves white bands above and
    below it, and a legend anchored to the plot area hangs under the map; sized to the map's
    aspect, nothing is left over and nothing is drawn outside the figure.
    """
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    width = FIGURE_WIDTH - _MAP_MARGIN["l"] - _MAP_MARGIN["r"]
    height = round(width * (y1 - y0) / (x1 - x0))
    fig.update_layout(margin=_MAP_MARGIN, legend=_MAP_LEGEND, height=height + _MAP_MARGIN["t"] + _MAP_MARGIN["b"])
    return fig


_LABEL_ROW = 17  # px between rows of launch labels
_LABEL_CHAR = 7.6  # px per character of a 12 px bold label, generously (capitals are wider)


def _spread_launch_labels(fig):
    """The timeline's wave names on as many rows above the plot as they need not to overlap.

    Each label goes on the lowest row where it clears the labels already there, and ends at
    its launch line (rather than starting there) when it would run past the plot's right edge.
    """
    labels = [a for a in fig.layout.annotations if a.xref == "x" and a.yref == "paper"]
    bars = fig.data[0].x if fig.data else None
    if not labels or bars is None or len(bars) == 0:
        return fig
    import pandas as pd

    days = pd.to_datetime(pd.Series(list(bars)))
    step = (days.iloc[1] - days.iloc[0]) if len(days) > 1 else pd.Timedelta(days=7)
    start, end = days.min() - step / 2, days.max() + step / 2
    margin = fig.layout.margin
    plot = FIGURE_WIDTH - (margin.l or 0) - (margin.r or 0)
    span = max((end - start).total_seconds(), 1.0)
    rows: list[float] = []  # each row's rightmost pixel so far
    for label in sorted(labels, key=lambda a: pd.Timestamp(a.x)):
        left = (pd.Timestamp(label.x) - start).total_seconds() / span * plot
        width = len(html.unescape(label.text.replace("<b>", "").replace("</b>", ""))) * _LABEL_CHAR + 6
        if left + width > plot:
            label.xanchor, left = "right", left - width
        row = next((i for i, right in enumerate(rows) if left > right + 4), len(rows))
        if row == len(rows):
            rows.append(left + width)
        else:
            rows[row] = left + width
        label.update(y=1, yanchor="bottom", yshift=row * _LABEL_ROW)
    top = 46 + len(rows) * _LABEL_ROW
    fig.update_layout(margin=dict(t=top), height=300 + top,
                      title=dict(y=1, yref="container", yanchor="top", pad=dict(t=10)))
    return fig


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def build_report(
    store: Store,
    *,
    as_of: dt.date | None = None,
    wave: str | None = None,
    k: int = DEFAULT_K,
    rules: ClosureRules | None = None,
) -> Report:
    """Build the campaign report as of ``as_of`` (default today, UTC), optionally for one wave.

    With ``wave``, the maps and the response sections look at the tips of that wave's window
    (and the summary names them); the closure status is always the whole campaign's.
    """
    import pandas as pd

    from caselib.domain.geography import country_populations, tips_by_country_both
    from caselib.domain.management import attention, attention_note, campaign_figures, closure_pipeline, kpis
    from caselib.domain.response import DEFAULT_DAYS, response_half_life, tips_over_time, wave_launches, wave_response
    from caselib.domain.status import database_status
    from caselib.presentation.figures.management import TILE_CSS, kpi_tiles_html, pipeline_chart
    from caselib.presentation.figures.maps import choropleth
    from caselib.presentation.figures.response import half_life_chart, response_curves, tips_timeline
    from caselib.presentation.summaries import half_life_columns, half_life_complete

    if k < 2:
        raise CaselibError("k must be at least 2 in a management report (counts below k are hidden)")
    as_of = as_of_day(as_of)
    rules = rules or ClosureRules()
    launches = wave_launches(store)
    names = dict(zip(launches["wave_id"], launches["name"]))
    if wave is not None and wave not in names:
        known = ", ".join(launches["wave_id"]) or "none"
        raise CaselibError(f"there is no wave {wave!r}; known waves: {known}")
    status = database_status(store, recent=20)
    flags = closure_flags(store, as_of=as_of, rules=rules)
    figures = _Figures()
    tips = TipFilter(wave=wave, received_to=as_of)
    scope = f"tips of wave {names[wave]} (received from its launch to the next)" if wave else "all tips"
    numbers = kpis(store, as_of=as_of, wave=wave, k=k, flags=flags)
    reporters, suggested = tips_by_country_both(store, tips, k=k)
    # The figures as data, from the same functions as the dashboard's tiles and `caselib status`.
    data = campaign_figures(store, as_of=as_of, wave=wave, k=k, flags=flags, countries=(reporters, suggested),
                            numbers=numbers)

    # -- summary ---------------------------------------------------------------------
    waves_so_far = int((launches["launched_on"] <= as_of).sum())
    outcome_counts = numbers.by_outcome
    words = [
        f"As of {date_range_caption(as_of, as_of)}, {numbers.objects_published:,} objects have been published "
        f"in {waves_so_far} wave{'s' if waves_so_far != 1 else ''}. "
        f"{numbers.objects_identified:,} have been identified"
        + (f" ({numbers.share_identified:.0%})" if numbers.share_identified is not None else "")
        + f", {numbers.objects_closed:,} are closed or withdrawn and {numbers.objects_open:,} are open.",
        f"The closure rules flag {numbers.objects_ready:,} object{'s' if numbers.objects_ready != 1 else ''} as ready "
        f"for closure: {outcome_counts.get('origin_established', 0):,} with an established origin, "
        f"{outcome_counts.get('widely_distributed', 0):,} sold too widely to trace and "
        f"{outcome_counts.get('exhausted', 0):,} exhausted.",
        f"The public sent {count_text(numbers.tips_total, k)} tips, "
        f"{count_text(numbers.tips_last_30_days, k)} of them in the last 30 days"
        + (f"; {count_text(numbers.tips_in_wave, k)} came in wave {names[wave]}." if wave else "."),
    ]
    if numbers.median_days_to_identification is not None:
        words.append(
            f"From publication to identification took {numbers.median_days_to_identification:,.0f} days (median)."
        )
    summary = kpi_tiles_html(numbers, wave_name=names.get(wave)) + "".join(f"<p>{html.escape(w)}</p>" for w in words)

    # -- geography -------------------------------------------------------------------
    geography = [
        f'<p class="note">Counts of {html.escape(scope)} up to the as-of day. Countries with fewer than {k} '
        "tips are hatched and their counts not shown.</p>",
        figures(_fit_map(choropleth(reporters, label="tips", suppressed="suppressed", suppressed_below=k,
                                    title="Where tips come from (country the tip was sent from)"))),
        figures(_fit_map(choropleth(reporters, value="per_million", label="tips per million inhabitants",
                                    suppressed="suppressed", suppressed_below=k, title="Tips per million inhabitants"))),
        figures(_fit_map(choropleth(suggested, label="tips", suppressed="suppressed", suppressed_below=k,
                                    title="Where tipsters say the objects come from"))),
    ]
    leftovers = [
        ("no reporter country", reporters.attrs["no_country"]),
        ("unrecognised reporter country", reporters.attrs["unrecognised"]),
        ("no suggested country", suggested.attrs["no_country"]),
        ("unrecognised suggested country", suggested.attrs["unrecognised"]),
    ]
    geography.append(
        '<p class="note">Not on the maps: '
        + "; ".join(f"{html.escape(label)}: {html.escape(count_text(n, k))}" for label, n in leftovers)
        + ".</p>"
    )
    top = reporters[~reporters["suppressed"]].head(10)
    geography.append("<h3>Countries sending the most tips</h3>" + _table(
        top, [("name", "country"), ("tips", "tips"), ("per_million", "per million inhabitants")],
        numeric=("tips", "per_million"),
    ))

    # -- response --------------------------------------------------------------------
    response_tips = TipFilter(received_to=as_of)
    over_time = tips_over_time(store, tips if wave else response_tips, freq="week")
    response = wave_response(store, response_tips)
    half = response_half_life(store, response_tips)
    response_html = [
        figures(_spread_launch_labels(tips_timeline(over_time, launches, title="Tips per week, with wave launches"))),
        # Pushed off the y-axis, the "0%" of the lower panel clears the x-axis's "0" below it.
        figures(response_curves(response, title="Response after each launch (tips per day since launch)")
                .update_yaxes(ticklabelstandoff=6), height=500),
        figures(half_life_chart(half, title="Days until half of a wave's first 90 days of tips had arrived")),
    ]
    half_table = half.copy()
    for column in ("total_tips", "launch_day_tips", "peak_tips"):
        half_table[column] = ["" if pd.isna(v) else count_text(int(v), k) for v in half_table[column]]
    half_table["complete"] = [half_life_complete(v) for v in half_table["complete"]]
    response_html.append(_table(
        half_table, half_life_columns(DEFAULT_DAYS), numeric=("total_tips", "launch_day_tips", "half_life_days"),
    ))

    # -- closure ---------------------------------------------------------------------
    pipeline = closure_pipeline(store, as_of=as_of)
    from caselib.domain.closure import READY_OUTCOMES

    outcomes = pd.DataFrame(
        [(outcome_label(outcome), "ready" if outcome in READY_OUTCOMES else "not ready", n)
         for outcome, n in numbers.by_outcome.items() if n],
        columns=["outcome", "ready", "objects"],
    )
    ready = flags[flags["ready"]].copy()
    ready["countable"] = [count_text(int(v), k) for v in ready["countable_tips"]]
    # The leading suggestion is the tips' own: beside an origin established by investigators
    # it may name another country. A hidden count shows no share, which would give it away.
    from caselib.domain.countries import country_name

    def named(code) -> str:  # countries by name in what management reads (one source)
        return "" if not isinstance(code, str) else country_name(code) or code

    ready["leading"] = [
        named(country) if hide_small(int(n), k) is None or not isinstance(country, str)
        else f"{named(country)} {share:.0%}"
        for country, share, n in zip(ready["leading_country"], ready["leading_share"], ready["countable_tips"])
    ]
    ready["origin_country"] = [named(code) for code in ready["origin_country"]]
    ready["outcome"] = ready["outcome"].map(outcome_label)
    needs = attention(store, as_of=as_of, flags=flags, k=k)
    more = attention_note(needs)
    not_published = len(flags) - numbers.objects_published
    closure_html = [
        figures(pipeline_chart(pipeline), height=320),
        "<h3>Flags by outcome</h3>",
        _table(outcomes, [("outcome", "outcome"), ("ready", "flag"), ("objects", "objects")], numeric=("objects",)),
        f'<p class="note">Over the {numbers.objects_published:,} objects published by the as-of day'
        + (f"; {not_published:,} more were published later and count in no figure here" if not_published else "")
        + ".</p>",
        f"<h3>Objects ready for closure ({len(ready):,})</h3>",
        _table(ready, [("object_id", "object"), ("title", "description"), ("outcome", "outcome"),
                       ("origin_country", "origin"), ("countable", "countable tips"),
                       ("leading", "leading suggestion (share)")],
               numeric=("countable",), wrap=("title",)),
        "<h3>Needs attention</h3>",
        '<p class="note">Tips to triage first, then objects ready for closure; the longest wait first.</p>',
        _table(needs, [("object_id", "object"), ("title", "description"), ("why", "why"),
                       ("waiting_days", "waiting (days)")], numeric=("waiting_days",), wrap=("title",))
        if len(needs) else "<p>Nothing needs attention.</p>",
        f'<p class="note">…{html.escape(more)}.</p>' if more else "",
    ]

    # -- methods ---------------------------------------------------------------------
    methods = [
        f"<p>Figures are as of {as_of.isoformat()} (UTC): only tips received on or before that day count.</p>",
        "<p>Closure rules, applied in order to every object:</p><ol>"
        + "".join(f"<li>{html.escape(rule.split('. ', 1)[1])}</li>" for rule in rules.describe())
        + "</ol>",
        "<p>Countable tips are those triaged actionable or forwarded whose suggested country was recognised. "
        "Consensus shares carry a 95% Wilson score interval.</p>",
        "<p>Consensus counts people, not copies: tips an analyst confirmed as copies of one another (a "
        "near-duplicate group: the same or near-identical text about the same object) count once, from the "
        "day the group was confirmed, in the countable tips, the leading country's share and its reporter "
        f"countries. As of {as_of.isoformat()}: "
        + (f"{plural(int(flags['duplicate_groups'].sum()), 'confirmed group')} standing for "
           f"{count_text(int(flags['duplicate_tips'].sum()), k)} countable tips."
           if flags["duplicate_groups"].sum() else "no confirmed groups.")
        + "</p>",
        f"<p>Small counts: tip counts from 1 to {k - 1} are hidden (shown as “fewer than {k}”), on maps and in "
        "tables, because they could point at a person. The report contains no tip text and no contact data.</p>",
        "<p>A wave's response counts the tips received from its launch day to the day before the next launch; "
        "the half-life is the first day by which half of its first 90 days' tips had arrived.</p>",
        "<p>Maps: Natural Earth 1:110m country outlines (public domain), Equal Earth projection. Rates per "
        f"million use Natural Earth population estimates ({html.escape(str(country_populations()['source'].iloc[0]))}).</p>",
    ]

    # -- data quality ----------------------------------------------------------------
    loads = pd.DataFrame(status["recent_loads"])
    reasons = rejection_reasons(store)
    quality = [
        f"<p>The database holds {status['waves']:,} waves, {status['objects']:,} objects and {status['tips']:,} "
        f"tips from {status['loads']:,} loads; {status['rejected_rows']:,} rows were rejected and kept in "
        f"quarantine with their reasons; {status['triage_changes']:,} triage changes came with re-deliveries.</p>",
        "<h3>Loads</h3>" + (_table(loads, [
            ("batch_id", "load"), ("kind", "kind"), ("file_name", "file"), ("started_at", "started (UTC)"),
            ("rows_read", "read"), ("inserted", "inserted"), ("updated", "updated"), ("unchanged", "unchanged"),
            ("rejected", "rejected")], numeric=("rows_read", "inserted", "updated", "unchanged", "rejected"),
            wrap=("file_name",))
            if len(loads) else "<p>No loads.</p>"),
        "<h3>Rejected rows by reason</h3>" + (_table(reasons, [("reason", "reason"), ("rows", "rows")], numeric=("rows",),
                                                   wrap=("reason",))
                                            if len(reasons) else "<p>None.</p>"),
    ]

    # -- page ------------------------------------------------------------------------
    title = "Trace an Object: campaign report"
    subtitle = f"As of {date_range_caption(as_of, as_of)}" + (f" · wave {names[wave]}" if wave else "")
    synthetic = (
        '<p class="synthetic">This report was made from the synthetic demo campaign: no real tips or objects.</p>'
        if status["contents"] == "demo" else ""
    )
    body = {
        "Summary": summary,
        "Where tips come from": "".join(geography),
        "Campaign response": "".join(response_html),
        "Closure status": "".join(closure_html),
        "Methods": "".join(methods),
        "Data quality": "".join(quality),
    }
    sections = "".join(
        f'<section id="{name.lower().replace(" ", "-")}"><h2>{html.escape(name)}</h2>{body[name]}</section>'
        for name in SECTIONS
    )
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{html.escape(title)} ({as_of.isoformat()})</title>"
        f"<style>{CSS}{_page_css(as_of)}{TILE_CSS}</style>"
        f'<script type="application/json" id="caselib-figures">{_json_block(data)}</script>'
        f"<script>{_plotly_js()}</script></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"subtitle\">{html.escape(subtitle)}</p>{synthetic}"
        f"{sections}</body></html>\n"
    )
    return Report(html=page, as_of=as_of, wave=wave, k=k, figures=figures.count)


def rejection_reasons(store, limit: int = 15):
    """Rejected rows by reason, as (reason, rows): grouped by the reason's template.

    A reason shows the values it is about, and a value holds whatever the file held (a tip's
    text, an address, a quote); the template is the loader's wording with every value left
    out (``channel "…" is not one of …``), stored beside the reason, so nothing from a file
    reaches management by construction rather than by masking text.
    """
    return store.df(
        "SELECT coalesce(reason_template, '(a reason without a template)') AS reason, count(*) AS rows "
        "FROM rejected_rows GROUP BY 1 ORDER BY rows DESC, reason LIMIT $limit",
        {"limit": limit},
    )


def _json_block(data: dict) -> str:
    """``data`` as JSON fit for a ``<script type="application/json">`` block (no ``</`` in it)."""
    import json

    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def report_figures(page: str) -> dict:
    """The figures a report carries as data (its ``caselib-figures`` block)."""
    import json
    import re

    found = re.search(r'<script type="application/json" id="caselib-figures">(.*?)</script>', page, re.S)
    if found is None:
        raise CaselibError("this page is not a caselib report: it has no caselib-figures block")
    return json.loads(found.group(1))


def write_report(report: Report, path: str | os.PathLike[str], *, paper: str = "a4") -> Path:
    """Write the report to ``path``: ``.html`` as is, ``.pdf`` printed by headless Chromium,
    on ``paper`` (``a4`` or ``letter``; the HTML prints on it from a browser too)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise CaselibError(f"the report is written as .html or .pdf, not {path.suffix or 'a file without suffix'}")
    page = on_paper(report.html, paper)
    if suffix == ".pdf":
        return write_pdf(page, path)
    return write_private(path, page)


def on_paper(page: str, paper: str) -> str:
    """``page`` printed on ``paper`` (a key of :data:`PAPERS`): the report's CSS says A4, so
    A4 leaves it unchanged and any other size is one ``@page`` rule after it."""
    if paper not in PAPERS:
        raise CaselibError(f"the paper is one of {', '.join(PAPERS)}, not {paper!r}")
    if paper == "a4":
        return page
    return page.replace("</head>", f"<style>@page {{size: {PAPERS[paper]};}}</style></head>", 1)


def chromium_path() -> str | None:
    """The Chromium to print with: ``CASELIB_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("CASELIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(page: str, path: Path) -> Path:
    """Print an HTML page to PDF with headless Chromium (no network; nothing downloaded)."""
    browser = chromium_path()
    if browser is None:
        raise CaselibError(
            "writing a PDF needs Chromium: install Debian's package (apt install chromium) or set CASELIB_CHROMIUM"
        )
    with tempfile.TemporaryDirectory(prefix="caselib-report-") as folder:
        source = Path(folder) / "report.html"
        source.write_text(page, encoding="utf-8")
        target = Path(folder) / "report.pdf"
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={Path(folder) / 'profile'}", "--no-pdf-header-footer",
            "--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={target}", source.as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            raise CaselibError("Chromium did not finish printing the report within 3 minutes") from None
        if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise CaselibError(f"Chromium could not print the report to PDF: {last}")
        write_private(path, target.read_bytes())
    return path
