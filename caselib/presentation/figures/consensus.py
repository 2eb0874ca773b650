"""Origin consensus chart: which countries an object's countable tips suggest, and how sure."""

from __future__ import annotations

from caselib.presentation.figures.style import ACCENT, CATEGORICAL, GREY, apply_layout

__all__ = ["consensus_chart"]

# Names of the trace and annotation that the live chart (caselib.presentation.figures.live) updates.
SHARE_BARS = "share"
NO_TIPS_NOTE = "empty"


def consensus_chart(consensus, object_id: str, *, flag=None, min_share: float = 0.6, top: int = 8, title: str | None = None):
    """Horizontal bars of each suggested country's share, with its Wilson interval.

    Parameters
    ----------
    consensus
        The frame of :func:`caselib.domain.geography.origin_consensus` (any objects; this one is
        picked out).
    flag
        Optional: this object's row of :func:`caselib.domain.closure.closure_flags`; its outcome and
        reasons go under the title.
    min_share
        The closure rule's share threshold, drawn as a dashed line.
    top
        Countries shown; the rest are summed into "others".
    """
    import plotly.graph_objects as go

    bars, total = _bars(consensus, object_id, top)
    fig = go.Figure(
        go.Bar(
            x=bars["x"],
            y=bars["y"],
            orientation="h",
            marker_color=bars["marker.color"],
            error_x=dict(type="data", array=bars["error_x.array"], arrayminus=bars["error_x.arrayminus"],
                         color="#555555", thickness=1.5),
            customdata=bars["customdata"],
            hovertemplate="%{y}: %{x:.0%} of countable tips (%{customdata[0]} tips, "
            "%{customdata[1]} reporter countries)<extra></extra>",
            name=SHARE_BARS,
        )
    )
    fig.add_vline(x=min_share, line_dash="dash", line_color=ACCENT,
                  annotation_text=f"{min_share:.0%} needed", annotation_position="top")
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title="share of countable tips (95% interval)", gridcolor="#eeeeee")
    fig.update_yaxes(autorange="reversed", title=None)
    if not total:
        fig.add_annotation(_NO_TIPS)
    return apply_layout(fig, title=_heading(object_id, total, flag, title), height=_height(bars))


# Left of the threshold line (drawn at min_share, 60 % by default), which it would cross.
_NO_TIPS = dict(text="no countable tips yet", showarrow=False, x=0.02, y=0.5, xref="paper", yref="paper",
                xanchor="left", name=NO_TIPS_NOTE)


def _bars(consensus, object_id: str, top: int) -> tuple[dict, int]:
    """The bar trace's values for one object (plain lists), and its countable tips."""
    rows = consensus[consensus["object_id"] == object_id].sort_values("rank")
    shown, rest = rows.head(top), rows.iloc[top:]
    labels = shown["country"].tolist()
    shares = shown["share"].astype(float).tolist()
    low = (shown["share"] - shown["share_low"]).astype(float).tolist()
    high = (shown["share_high"] - shown["share"]).astype(float).tolist()
    tips = shown["tips"].astype(int).tolist()
    reporters = shown["reporter_countries"].astype(int).tolist()
    if len(rest):
        labels.append(f"{len(rest)} others")
        shares.append(float(rest["share"].sum()))
        low.append(0.0)
        high.append(0.0)
        tips.append(int(rest["tips"].sum()))
        reporters.append(None)
    total = int(rows["countable_tips"].iloc[0]) if len(rows) else 0
    return {
        "x": shares,
        "y": labels,
        "marker.color": [CATEGORICAL[0] if i == 0 else GREY for i in range(len(labels))],
        "error_x.array": high,
        "error_x.arrayminus": low,
        "customdata": [[n, r if r is not None else "–"] for n, r in zip(tips, reporters)],
    }, total


def _heading(object_id: str, total: int, flag, title: str | None) -> str:
    heading = title or f"{object_id}: origin consensus ({total} countable tips)"
    if flag is not None:
        ready = "ready" if bool(flag["ready"]) else "not ready"
        from caselib.domain.closure import outcome_label

        heading += f"<br><sup>{outcome_label(flag['outcome'])} · {ready} · {flag['reasons']}</sup>"
    return heading


def _height(bars: dict) -> int:
    return max(260, 60 + 34 * len(bars["y"]))
