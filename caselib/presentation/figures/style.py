"""One look for every figure: colours, type and layout shared by notebooks, dashboards and reports."""

from __future__ import annotations

__all__ = ["ACCENT", "CATEGORICAL", "FONT", "GREY", "SEQUENTIAL", "apply_layout"]

# Okabe–Ito: distinguishable with colour-blindness and on a projector.
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
# Light to dark blue, for counts and rates on maps.
SEQUENTIAL = ["#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]
ACCENT = "#D55E00"  # thresholds and alerts
GREY = "#d9d9d9"  # no data
FONT = dict(family="Segoe UI, Helvetica Neue, Arial, sans-serif", size=14, color="#222222")


def apply_layout(fig, *, title: str | None = None, height: int | None = None):
    """Title, type, white background and margins of the house style; returns ``fig``."""
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left") if title else None,
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=CATEGORICAL,
        margin=dict(l=60, r=30, t=60 if title else 20, b=50),
        hoverlabel=dict(font_size=13),
    )
    if height:
        fig.update_layout(height=height)
    return fig
