"""Management views: KPI tiles (HTML) and the closure pipeline chart."""

from __future__ import annotations

import html

from caselib.presentation.figures.style import CATEGORICAL, FONT, apply_layout

__all__ = ["TILE_CSS", "kpi_tiles_html", "pipeline_chart"]

TILE_CSS = """
.caselib-tiles {display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px 0;}
.caselib-tile {flex: 1 1 150px; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px;
               background: #f8fafc;}
.caselib-tile .value {font-size: 28px; font-weight: 600; color: #0b3d68;}
.caselib-tile .label {font-size: 13px; color: #444;}
"""


def _tile(label: str, value: str) -> str:
    return (
        f'<div class="caselib-tile"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
    )


def _count(value, k) -> str:
    from caselib.domain.rules import count_text

    return count_text(value, k)


def kpi_tiles_html(kpis, *, wave_name: str | None = None) -> str:
    """The headline figures as tiles; every text escaped."""
    share = "–" if kpis.share_identified is None else f"{kpis.share_identified:.0%}"
    median = "–" if kpis.median_days_to_identification is None else f"{kpis.median_days_to_identification:,.0f} days"
    tiles = [
        ("objects published", f"{kpis.objects_published:,}"),
        ("open", f"{kpis.objects_open:,}"),
        ("ready for closure", f"{kpis.objects_ready:,}"),
        ("closed or withdrawn", f"{kpis.objects_closed:,}"),
        ("tips in total", _count(kpis.tips_total, kpis.k)),
    ]
    if kpis.wave:
        tiles.append((f"tips in wave {wave_name or kpis.wave}", _count(kpis.tips_in_wave, kpis.k)))
    tiles += [
        ("tips in the last 30 days", _count(kpis.tips_last_30_days, kpis.k)),
        ("objects identified", share),
        ("median time to identification", median),
    ]
    return f'<div class="caselib-tiles">{"".join(_tile(label, value) for label, value in tiles)}</div>'


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
