"""World maps drawn from the shipped country outlines, so that they render with no network.

plotly's ``geo`` subplots (``go.Choropleth``, ``go.Scattergeo``) and its tile maps fetch a
base map from the internet when the figure is drawn, and stay blank on an air-gapped
machine. These figures instead draw every country as a filled ``go.Scatter`` polygon on
ordinary x/y axes, projected here to the Equal Earth projection (equal-area, so large
countries do not look more important than they are) and held at equal aspect. A figure
carries one polygon trace per colour class, not per tip: its size depends on the number of
countries or points drawn, never on the number of tips behind them.

Coordinates in the figures are projected Equal Earth units scaled to degrees at the
equator (x from about -155 to 155), rounded to 0.01.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from caselib.errors import CaselibError
from caselib.presentation.figures.style import GREY, SEQUENTIAL, apply_layout

__all__ = ["choropleth", "class_breaks", "point_map", "project", "svg_geometry"]

# Neutral, not blue: the value classes are shades of blue.
OCEAN = "#f4f4f1"
OCEAN_EDGE = "#d6d6d0"
LAND = GREY
BORDER = "#ffffff"
NO_DATA = GREY
SUPPRESSED_FG = "#7f7f7f"
HIDDEN_WITH_TEXT = "not shown, so that a smaller hidden count cannot be worked out"
SUPPRESSED_BG = "#efefef"
# The hatching of a country whose count is hidden.
HATCH = {"shape": "/", "fgcolor": SUPPRESSED_FG, "bgcolor": SUPPRESSED_BG, "size": 6, "solidity": 0.25}
# Legend order (plotly's legendrank, lowest first): the darkest class first, then the
# hatched countries, then "no data".
RANK_SUPPRESSED = 1500
RANK_NO_DATA = 2000
# Names of the traces that hold one marker per country (hover texts, small countries' dots):
# click handlers and live updates find them by these names.
HOVER = "hover"
SMALL_COUNTRIES = "small countries"
# A point map beyond this many rows was not aggregated; drawing it would put every tip in the figure.
MAX_POINTS = 10_000

# Equal Earth (Šavrič, Patterson and Jenny, 2018).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def project(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project longitude/latitude in degrees to Equal Earth x/y, in degrees at the equator.

    NaN in gives NaN out, so None-separated rings stay separated.

    Returns
    -------
    tuple of numpy.ndarray
        ``x`` (about -155 to 155) and ``y`` (about -75 to 75), unrounded.
    """
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    theta = np.arcsin(_M * np.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = 2 * math.sqrt(3) * lam * np.cos(theta) / (3 * (9 * _A4 * t6 * t2 + 7 * _A3 * t6 + 3 * _A2 * t2 + _A1))
    y = theta * (_A4 * t6 * t2 + _A3 * t6 + _A2 * t2 + _A1)
    return np.degrees(x), np.degrees(y)


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else round(float(v), 2) for v in values]


class _Outline(NamedTuple):
    name: str
    x: np.ndarray  # projected rings, rounded, separated by NaN
    y: np.ndarray
    hover_x: float  # a point inside the largest part, where the hover marker sits
    hover_y: float
    rings: int


@functools.cache
def _outlines() -> dict[str, _Outline]:
    """The projected outline of every country, by alpha-3; built once per process."""
    import shapely

    from caselib.presentation.boundaries import countries

    result = {}
    for row in countries().itertuples(index=False):
        parts = list(getattr(row.geometry, "geoms", [row.geometry]))
        rings = [np.asarray(p.exterior.coords) for p in parts]
        rings += [np.asarray(ring.coords) for p in parts for ring in p.interiors]
        lonlat = np.concatenate([np.vstack([r, [np.nan, np.nan]]) for r in rings])[:-1]
        x, y = project(lonlat[:, 0], lonlat[:, 1])
        inside = shapely.point_on_surface(max(parts, key=lambda p: p.area))
        hx, hy = project(inside.x, inside.y)
        result[row.iso3] = _Outline(row.name, np.round(x, 2), np.round(y, 2), round(float(hx), 2), round(float(hy), 2), len(rings))
    return result


@functools.cache
def _small_countries() -> dict[str, tuple[str, float, float]]:
    """iso3 -> (name, x, y) of the countries drawn as a dot at their capital."""
    from caselib.presentation.boundaries import small_countries

    frame = small_countries()
    x, y = project(frame.geometry.x, frame.geometry.y)
    return {
        iso3: (name, round(float(px), 2), round(float(py), 2))
        for iso3, name, px, py in zip(frame["iso3"], frame["name"], x, y)
    }


def _polygon_trace(codes: Sequence[str], *, name: str, fillcolor: str, **extra) -> go.Scatter:
    """One filled trace holding the outlines of ``codes``; ``meta`` lists the codes and rings drawn."""
    outlines = _outlines()
    # numpy arrays with NaN between rings (null in the figure's JSON): plotly validates them
    # without a Python loop over every vertex, which keeps a map under 10 ms to build.
    gap = np.array([np.nan])
    parts_x = [part for code in codes for part in (gap, outlines[code].x)][1:]
    parts_y = [part for code in codes for part in (gap, outlines[code].y)][1:]
    # An empty class keeps its legend entry only with a point to skip.
    xs = np.concatenate(parts_x) if parts_x else gap
    ys = np.concatenate(parts_y) if parts_y else gap
    return go.Scatter(
        x=xs, y=ys, mode="lines", fill="toself", fillcolor=fillcolor,
        line=dict(color=BORDER, width=0.6), hoverinfo="skip", name=name, legendgroup=name,
        meta={"iso3": list(codes), "rings": sum(outlines[c].rings for c in codes)}, **extra,
    )


def _ocean() -> go.Scatter:
    """The whole globe's outline, filled: the sea behind the countries."""
    lat = np.linspace(-90, 90, 181)
    lon = np.concatenate([np.full_like(lat, -180), np.full_like(lat, 180)])
    x, y = project(lon, np.concatenate([lat, lat[::-1]]))
    return go.Scatter(
        x=_rounded(x), y=_rounded(y), mode="lines", fill="toself", fillcolor=OCEAN,
        line=dict(color=OCEAN_EDGE, width=0.8), hoverinfo="skip", showlegend=False, name="ocean",
    )


def _extent(lat_min: float) -> tuple[float, float, float]:
    """(x_max, y_min, y_max) of a world map reaching down to ``lat_min``, in projected units."""
    return float(project(180, 0)[0]), float(project(0, lat_min)[1]), float(project(0, 90)[1])


def _map_layout(fig: go.Figure, *, title: str | None, lat_min: float) -> None:
    x_max, y_min, y_max = _extent(lat_min)
    axis = dict(visible=False, showgrid=False, zeroline=False)
    apply_layout(fig, title=title, height=560)
    fig.update_layout(
        xaxis=dict(axis, range=[-x_max * 1.01, x_max * 1.01], constrain="domain"),
        yaxis=dict(axis, range=[y_min - 1, y_max + 1], scaleanchor="x", scaleratio=1, constrain="domain"),
        hovermode="closest", dragmode="pan", margin=dict(l=10, r=10, t=60 if title else 20, b=40),
        hoverlabel=dict(bgcolor="white"),
    )


# SVG user units per projected unit: coordinates are whole numbers of tenths of a degree.
SVG_SCALE = 10


def _svg_path(x: np.ndarray, y: np.ndarray) -> str:
    """An SVG path of rings separated by NaN, in whole SVG units, relative moves after the first
    point of each ring (y grows downwards in SVG)."""
    parts: list[str] = []
    start, px, py = True, 0, 0
    for a, b in zip(x.tolist(), y.tolist()):
        if math.isnan(a):
            parts.append("Z")
            start = True
            continue
        ix, iy = round(a * SVG_SCALE), round(-b * SVG_SCALE)
        if start:
            parts.append(f"M{ix} {iy}")
            start = False
        elif ix != px or iy != py:
            parts.append(f"l{ix - px} {iy - py}")
        px, py = ix, iy
    return "".join(parts) + "Z"


@functools.cache
def svg_geometry() -> dict:
    """The world map's geometry for :class:`caselib.presentation.widgets.map_widget.MapWidget`, the same
    outlines and projection as the plotly maps here, as SVG.

    Returns
    -------
    dict
        ``view``: the SVG viewBox ``[x, y, width, height]`` (down to 58° S, as the maps here
        without Antarctica); ``ocean``: the globe's outline; ``countries``: ``[iso3, name,
        path, anchor_x, anchor_y]`` for every outline but Antarctica's (the anchor is a point
        inside its largest part); ``dots``: ``[iso3, name, x, y]`` of the countries drawn as
        a dot at their capital. Coordinates are projected units times `SVG_SCALE`, with y
        growing downwards. Built once per process; about 60 KB as JSON.
    """
    x_max, y_min, y_max = _extent(-58)
    pad = 1
    view = [round(-x_max * 1.01 * SVG_SCALE), round(-(y_max + pad) * SVG_SCALE),
            round(2 * x_max * 1.01 * SVG_SCALE), round((y_max - y_min + 2 * pad) * SVG_SCALE)]
    ocean = _ocean()
    countries = [
        [code, o.name, _svg_path(o.x, o.y), round(o.hover_x * SVG_SCALE), round(-o.hover_y * SVG_SCALE)]
        for code, o in _outlines().items() if code != "ATA"
    ]
    dots = [[code, name, round(x * SVG_SCALE), round(-y * SVG_SCALE)] for code, (name, x, y) in _small_countries().items()]
    return {"view": view, "ocean": _svg_path(np.array(ocean.x, dtype=float), np.array(ocean.y, dtype=float)),
            "countries": countries, "dots": dots}


def _class_colours(n: int) -> list[str]:
    """``n`` shades of the house sequential blues, light to dark, skipping the palest."""
    if n == 1:
        return [SEQUENTIAL[5]]
    return [SEQUENTIAL[round(i)] for i in np.linspace(1, len(SEQUENTIAL) - 1, n)]


def _point_colorscale() -> list[list]:
    # The palest blues vanish on grey land; points start at a visible shade.
    shades = SEQUENTIAL[2:]
    return [[i / (len(shades) - 1), c] for i, c in enumerate(shades)]


def _is_integral(values: np.ndarray) -> bool:
    return bool(np.all(np.mod(values, 1) == 0))


def _fmt(value: float, integral: bool) -> str:
    return f"{value:,.0f}" if integral else f"{value:,.3g}"


def _nice(value: float, integral: bool) -> float:
    """Round to two significant digits, and to a whole number for counts."""
    if value == 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    rounded = round(value, digits)
    return float(max(1, round(rounded))) if integral else rounded


def class_breaks(values: np.ndarray, classes: int = 5) -> tuple[list[float], list[str]]:
    """Split values into at most ``classes`` quantile classes with rounded edges.

    Returns
    -------
    tuple
        ``edges`` (ascending, first the minimum and last the maximum; class ``i`` holds
        ``edges[i] <= v < edges[i + 1]``, the last class also the maximum) and one label
        per class (``"5–19"`` for counts, ``"0.5–1.2"`` otherwise).
    """
    values = np.asarray(values, dtype=float)
    lo, hi = float(values.min()), float(values.max())
    integral = _is_integral(values)
    inner = np.quantile(values, np.linspace(0, 1, classes + 1)[1:-1])
    edges = [lo] + sorted({e for e in (_nice(q, integral) for q in inner) if lo < e <= hi}) + [hi]
    if hi == lo:
        edges = [lo, hi]
    labels = []
    for i, (start, stop) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        end = stop if (last or not integral) else stop - 1
        labels.append(_fmt(start, integral) if end == start else f"{_fmt(start, integral)}–{_fmt(end, integral)}")
    return edges, labels


def _class_of(values: np.ndarray, edges: list[float]) -> np.ndarray:
    return np.searchsorted(np.asarray(edges[1:-1]), values, side="right")


def _check_columns(frame: pd.DataFrame, columns: dict[str, str | None], what: str) -> None:
    missing = [f"{role} column {name!r}" for role, name in columns.items() if name is not None and name not in frame.columns]
    if missing:
        raise CaselibError(
            f"The frame for the {what} has no {', '.join(missing)}; its columns are "
            f"{', '.join(map(str, frame.columns))}: name the right ones with the keyword arguments."
        )


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _number(value) -> float:
    """A cell as a float; NaN when missing or not a number (as ``pd.to_numeric(errors="coerce")``)."""
    if _missing(value):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class _Classes:
    """How a frame's values colour the countries (shared by the static and the live map)."""

    codes: list  # iso3 of every row, upper case
    shown: dict  # iso3 -> value, for the countries whose value is shown
    hidden: set  # iso3 of the suppressed countries
    not_drawn: list  # iso3 in the frame with no outline or dot on the map
    labels: list  # class labels, light to dark
    colors: list  # one per class
    class_of: dict  # iso3 -> class index
    integral: bool
    label: str
    suppressed_text: str
    # iso3 of the countries hidden only so that a small count cannot be worked out from the
    # total (caselib.domain.rules.suppress_breakdown): their own count is not small.
    hidden_with: frozenset = frozenset()

    @property
    def legend_text(self) -> str:
        """The hatched countries' legend entry."""
        return self.suppressed_text + (", or hidden with one" if self.hidden_with else "")

    def describe(self, code: str) -> tuple[str, str]:
        """(hover value text, colour) of a country."""
        if code in self.hidden_with:
            return HIDDEN_WITH_TEXT, SUPPRESSED_FG
        if code in self.hidden:
            return self.suppressed_text, SUPPRESSED_FG
        if code in self.shown:
            return _fmt(self.shown[code], self.integral), self.colors[self.class_of[code]]
        return "no data", "#bdbdbd"

    def hover_text(self, code: str, name: str) -> str:
        """The hover text of country ``code``, called ``name`` on the map."""
        return f"<b>{name}</b><br>{self.label}: {self.describe(code)[0]}"

    def fill(self, code: str) -> tuple[str, bool]:
        """(fill colour, hatched) of a country's outline."""
        if code in self.hidden:
            return SUPPRESSED_BG, True
        if code in self.shown:
            return self.colors[self.class_of[code]], False
        return NO_DATA, False

    def legend_entries(self) -> list[tuple[str, str, int]]:
        """(name, colour, legendrank) of every legend entry: each class, the hatched
        countries when there are any, and "no data"."""
        entries = [(name, colour, _class_rank(i)) for i, (name, colour) in enumerate(zip(self.labels, self.colors))]
        entries += [(self.legend_text, SUPPRESSED_FG, RANK_SUPPRESSED)] if self.hidden else []
        return entries + [("no data", NO_DATA, RANK_NO_DATA)]


def not_drawn_note(c: _Classes) -> str:
    """The note below a map naming the countries of its frame that it cannot draw ("" when none)."""
    if not c.not_drawn:
        return ""
    from caselib.domain.countries import country_name

    listed = [
        f"{country_name(code) or code} ({c.describe(code)[0]})" if code in c.shown or code in c.hidden
        else f"{country_name(code) or code}"
        for code in c.not_drawn
    ]
    more = f" and {len(listed) - 8} more" if len(listed) > 8 else ""
    return "Not on this map (no outline at this scale): " + ", ".join(listed[:8]) + more


def _class_rank(i: int) -> int:
    """The legendrank of class ``i`` (0 the lightest): the darkest first."""
    return 1000 - i


def _legend(label: str) -> dict:
    """The map's legend, titled ``label``; clicking it hides nothing."""
    return dict(
        title=dict(text=f"<b>{label}</b>"), x=0.01, y=0.02, xanchor="left", yanchor="bottom",
        bgcolor="rgba(255,255,255,0.85)", bordercolor="#cccccc", borderwidth=1, itemclick=False,
        itemdoubleclick=False, traceorder="normal",
    )


def _classify(frame, *, value, country, label, suppressed, suppressed_below, classes) -> _Classes:
    if suppressed is None and "suppressed" in frame.columns:
        suppressed = "suppressed"
    if suppressed_below is None and isinstance(frame.attrs.get("k"), int) and frame.attrs["k"] >= 2:
        suppressed_below = frame.attrs["k"]
    if not 1 <= classes <= 7:
        raise CaselibError(f"A map shows 1 to 7 colour classes, not {classes}.")
    _check_columns(frame, {"value": value, "country": country, "suppressed": suppressed}, "choropleth")
    # Plain Python over the rows (a map has at most a few hundred): pandas' string and
    # numeric methods cost milliseconds here, at every interaction of a live map.
    raw = frame[country].tolist()
    if any(_missing(c) or not str(c).strip() for c in raw):
        raise CaselibError(f"The {country!r} column has empty values; drop or fill them before drawing the map.")
    codes = [str(c).strip().upper() for c in raw]
    if len(set(codes)) < len(codes):
        seen: set[str] = set()
        dups = ", ".join(sorted({c for c in codes if c in seen or seen.add(c)}))
        raise CaselibError(f"The choropleth needs one row per country, but {dups} appear more than once; aggregate first.")
    hidden = [bool(h) and not _missing(h) for h in frame[suppressed].tolist()] if suppressed is not None else [False] * len(codes)
    # Hidden values are dropped here, before anything else looks at them.
    numbers = [math.nan if h else _number(v) for v, h in zip(frame[value].tolist(), hidden)]
    label = label or value

    outlines = _outlines()
    smalls = _small_countries()
    shown = {c: v for c, v, h in zip(codes, numbers, hidden) if not h and not math.isnan(v)}
    hidden_codes = {c for c, h in zip(codes, hidden) if h}
    drawable = outlines.keys() | smalls.keys()
    not_drawn = [c for c in codes if c not in drawable]

    visible = np.array(list(shown.values()), dtype=float)
    integral = _is_integral(visible) if len(visible) else True
    if len(visible):
        edges, labels = class_breaks(visible, classes)
        colors = _class_colours(len(labels))
        class_of = dict(zip(shown, _class_of(visible, edges)))
    else:
        labels, colors, class_of = [], [], {}
    suppressed_text = f"fewer than {suppressed_below:,}" if suppressed_below is not None else "small count, not shown"
    hidden_with = frozenset()
    if "hidden_with_small" in frame.columns:
        hidden_with = frozenset(c for c, h, w in zip(codes, hidden, frame["hidden_with_small"].tolist()) if h and w is True)
    return _Classes(codes, shown, hidden_codes, not_drawn, labels, colors, class_of, integral, label, suppressed_text,
                    hidden_with)


def choropleth(
    frame: pd.DataFrame,
    *,
    value: str = "tips",
    country: str = "country",
    title: str | None = None,
    label: str | None = None,
    suppressed: str | None = None,
    suppressed_below: int | None = None,
    classes: int = 5,
) -> go.Figure:
    """World map with each country coloured by the class its value falls in.

    Parameters
    ----------
    frame
        One row per country: ``country`` holds the ISO 3166-1 alpha-3 code (``XKX`` for
        Kosovo), ``value`` a number. Countries not in the frame, or with a missing value,
        are drawn grey as "no data".
    value, country
        Column names.
    title
        Figure title.
    label
        What the value is, for the legend title and hover text; default ``value``.
    suppressed
        Boolean column whose true rows had their count hidden (small-count suppression);
        default ``"suppressed"`` if the frame has it, as
        :func:`caselib.domain.geography.tips_by_country` gives. Such a country is drawn hatched
        with the hover text "fewer than k", and its value, should the frame still hold it,
        never enters the figure, its class edges or its JSON.
    suppressed_below
        The ``k`` of "fewer than k"; default ``frame.attrs["k"]`` when set; without either
        the hover says "small count, not shown".
    classes
        At most this many colour classes (1 to 7), split at rounded quantiles of the
        shown values.

    Returns
    -------
    plotly.graph_objects.Figure
        A figure of ``go.Scatter`` traces on hidden x/y axes (Equal Earth projection):
        the ocean, the "no data" countries, one trace per colour class, the suppressed
        countries, the small countries as dots, and an invisible hover trace. Each polygon
        trace's ``meta`` lists the ``iso3`` codes it draws. Countries in the frame that the
        map cannot draw are named in a note below the map. Antarctica is left out unless
        the frame has it.
    """
    c = _classify(frame, value=value, country=country, label=label, suppressed=suppressed,
                  suppressed_below=suppressed_below, classes=classes)
    codes, shown, hidden_codes, not_drawn = c.codes, c.shown, c.hidden, c.not_drawn
    labels, colors, class_of, label = c.labels, c.colors, c.class_of, c.label
    outlines, smalls = _outlines(), _small_countries()
    lat_min = -90 if "ATA" in set(codes) else -58
    polygons = [c for c in outlines if c != "ATA" or lat_min == -90]
    fig = go.Figure()
    fig.add_trace(_ocean())
    no_data = [c for c in polygons if c not in shown and c not in hidden_codes]
    fig.add_trace(_polygon_trace(no_data, name="no data", fillcolor=NO_DATA, legendrank=RANK_NO_DATA))
    for i, (class_label, color) in enumerate(zip(labels, colors)):
        members = [c for c in polygons if class_of.get(c) == i]
        fig.add_trace(_polygon_trace(members, name=class_label, fillcolor=color, legendrank=_class_rank(i)))
    if hidden_codes:
        members = [c for c in polygons if c in hidden_codes]
        fig.add_trace(_polygon_trace(
            members, name=c.legend_text, fillcolor=SUPPRESSED_BG, legendrank=RANK_SUPPRESSED, fillpattern=HATCH,
        ))

    describe, hover_text = c.describe, c.hover_text

    hover = [c for c in polygons if c in shown or c in hidden_codes] + [c for c in polygons if c in no_data]
    texts = [hover_text(c, outlines[c].name) for c in hover]
    fig.add_trace(go.Scatter(
        x=[outlines[c].hover_x for c in hover], y=[outlines[c].hover_y for c in hover],
        mode="markers", marker=dict(size=14, color="rgba(0,0,0,0)"), hovertext=texts,
        hovertemplate="%{hovertext}<extra></extra>", showlegend=False, name=HOVER,
        meta={"iso3": hover},
    ))
    dots = [c for c in smalls if c in shown or c in hidden_codes]
    if dots:
        fig.add_trace(go.Scatter(
            x=[smalls[c][1] for c in dots], y=[smalls[c][2] for c in dots],
            mode="markers", marker=dict(size=8, color=[describe(c)[1] for c in dots], line=dict(color="#555555", width=0.8)),
            hovertext=[hover_text(c, smalls[c][0]) for c in dots],
            hovertemplate="%{hovertext}<extra></extra>", showlegend=False, name=SMALL_COUNTRIES,
            meta={"iso3": dots},
        ))

    _map_layout(fig, title=title, lat_min=lat_min)
    fig.update_layout(legend=_legend(label))
    if not_drawn:
        fig.add_annotation(
            text=not_drawn_note(c),
            xref="paper", yref="paper", x=0, y=-0.02, xanchor="left", yanchor="top",
            showarrow=False, font=dict(size=12, color="#666666"),
        )
    return fig


def point_map(
    frame: pd.DataFrame,
    *,
    lat: str = "latitude",
    lon: str = "longitude",
    value: str = "tips",
    title: str | None = None,
    label: str | None = None,
) -> go.Figure:
    """World map of aggregated points (or hex-bin centres), sized and coloured by value.

    Parameters
    ----------
    frame
        Already aggregated: one row per point or bin, at most `MAX_POINTS` rows, with
        latitude and longitude in degrees and a non-negative value. Rows missing any of
        the three are left out.
    lat, lon, value
        Column names.
    title
        Figure title.
    label
        What the value is, for the colour bar and hover text; default ``value``.

    Returns
    -------
    plotly.graph_objects.Figure
        The ocean, all country outlines but Antarctica's in grey, and one marker trace
        whose marker area grows with the value, coloured on a sequential scale with a
        colour bar. The map reaches down to 58° S, or further if a point lies there.
    """
    _check_columns(frame, {"latitude": lat, "longitude": lon, "value": value}, "point map")
    if len(frame) > MAX_POINTS:
        raise CaselibError(
            f"The point map got {len(frame):,} rows, more than {MAX_POINTS:,}; aggregate the "
            "tips to points or hex bins first, so the figure does not carry every tip."
        )
    data = pd.DataFrame({
        "lat": pd.to_numeric(frame[lat], errors="coerce"),
        "lon": pd.to_numeric(frame[lon], errors="coerce"),
        "value": pd.to_numeric(frame[value], errors="coerce"),
    }).dropna()
    data = data[data["lat"].between(-90, 90) & data["lon"].between(-180, 180) & (data["value"] >= 0)]
    data = data.sort_values("value", ascending=False)  # large markers first, small ones on top
    label = label or value
    values = data["value"].to_numpy(dtype=float)
    integral = _is_integral(values) if len(values) else True
    x, y = project(data["lon"].to_numpy(), data["lat"].to_numpy())
    peak = float(values.max()) if len(values) else 1.0
    texts = [
        f"<b>{label}: {_fmt(v, integral)}</b><br>{la:.2f}°, {lo:.2f}°"
        for v, la, lo in zip(values, data["lat"], data["lon"])
    ]

    fig = go.Figure()
    fig.add_trace(_ocean())
    fig.add_trace(_polygon_trace([c for c in _outlines() if c != "ATA"], name="countries", fillcolor=LAND, showlegend=False))
    fig.add_trace(go.Scatter(
        x=_rounded(x), y=_rounded(y), mode="markers", name=label, showlegend=False,
        marker=dict(
            size=[round(float(v), 6) for v in values], sizemode="area", sizeref=2.0 * (peak or 1.0) / 30**2,
            sizemin=3, color=[round(float(v), 6) for v in values], colorscale=_point_colorscale(), cmin=0,
            cmax=peak or 1.0, opacity=0.85, line=dict(color="#5a5a5a", width=0.5),
            colorbar=dict(title=dict(text=f"<b>{label}</b>"), thickness=14, len=0.6, outlinewidth=0),
        ),
        hovertext=texts, hovertemplate="%{hovertext}<extra></extra>",
    ))
    _map_layout(fig, title=title, lat_min=min(-58.0, float(data["lat"].min()) - 2 if len(data) else -58.0))
    return fig
