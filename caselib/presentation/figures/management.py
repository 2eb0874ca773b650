"""Management views: KPI tiles (HTML) and the closure pipeline chart."""

from __future__ import annotations

import html

from caselib.presentation.figures.style import CATEGORICAL, FONT, apply_layout

__all__ = ["TILE_COUNT", "TILE_CSS", "kpi_tiles_html", "pipeline_chart"]

TILE_CSS = """
.caselib-tiles {display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px;
                margin: 8px 0 16px 0;}
@media (max-width: 700px) {.caselib-tiles {grid-template-columns: repeat(2, minmax(0, 1fr));}}
.caselib-tile {border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; background: #f8fafc;
               min-width: 0;}
.caselib-tile .value {font-size: 28px; font-weight: 600; color: #0b3d68; white-space: nowrap;}
.caselib-tile .label {font-size: 13px; color: #444;}
.caselib-tile .scope {font-size: 12px; color: #666; font-style: italic;}
.caselib-tile.wave {border-color: #0b3d68; background: #eef4fa;}
/* The dashboard's figures side by side when each has 420 px, else one under the other; each
   follows its box's width (caselib.presentation.widgets.plotly_widget). */
.widget-hbox:has(> .widget-output, > .js-plotly-plot) {flex-wrap: wrap;}
.widget-hbox > .widget-output, .widget-hbox > .js-plotly-plot {flex: 1 1 420px; min-width: 0;}
"""

# How many tiles there are, whatever is picked: the grid keeps its rows.
TILE_COUNT = 8


def _tile(label: str, value: str, scope: str | None = None, *, wave: bool = False) -> str:
    scope_line = f'<div class="scope">{html.escape(scope)}</div>' if scope else ""
    return (
        f'<div class="caselib-tile{" wave" if wave else ""}"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div>{scope_line}</div>'
    )


def _count(value, k) -> str:
    from caselib.domain.rules import count_text

    return count_text(value, k)


def kpi_tiles_html(kpis, *, wave_name: str | None = None) -> str:
    """The headline figures as eight tiles in one grid; every text escaped.

    With a wave picked, the tips tile counts the tips of the wave's window (the map's and
    the response chart's tips) and says so; every other tile says that it covers the whole
    campaign, so no campaign-wide figure passes for the wave's.
    """
    share = "–" if kpis.share_identified is None else f"{kpis.share_identified:.0%}"
    median = "–" if kpis.median_days_to_identification is None else f"{kpis.median_days_to_identification:,.0f} days"
    campaign = "whole campaign" if kpis.wave else None
    if kpis.wave:
        tips = ("tips", _count(kpis.tips_in_wave, kpis.k), f"in the window of wave {wave_name or kpis.wave}")
    else:
        tips = ("tips in total", _count(kpis.tips_total, kpis.k), None)
    tiles = [
        ("objects published", f"{kpis.objects_published:,}", campaign),
        ("open", f"{kpis.objects_open:,}", campaign),
        ("ready for closure", f"{kpis.objects_ready:,}", campaign),
        ("closed or withdrawn", f"{kpis.objects_closed:,}", campaign),
        tips,
        ("tips in the last 30 days", _count(kpis.tips_last_30_days, kpis.k), campaign),
        ("objects identified", share, campaign),
        ("median time to identification", median, campaign),
    ]
    cells = "".join(_tile(label, value, scope, wave=bool(kpis.wave) and scope is not campaign)
                    for label, value, scope in tiles)
    return f'<div class="caselib-tiles">{cells}</div>'


def pipeline_chart(pipeline, *, title: str | None = "Closure pipeline"):
    """Objects published, identified and closed by the end of each month (lines)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for column, name, colour in (
        ("published", "published", CATEGORICAL[0]),
        ("identified", "identified", CATEGORICAL[2]),
        ("closed", "closed or withdrawn", CATEGORICAL[3]),
    ):
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in pipeline["month_end"]],
                y=pipeline[column].tolist(),
                mode="lines",
                line=dict(color=colour, width=2.5, shape="hv"),
                name=name,
                hovertemplate="%{x}: %{y} objects " + name + "<extra></extra>",
            )
        )
    fig.update_yaxes(title="objects", rangemode="tozero", gridcolor="#eeeeee")
    fig.update_xaxes(title=None)
    fig.update_layout(legend=dict(orientation="h", y=-0.15), font=FONT)
    return apply_layout(fig, title=title, height=380)
