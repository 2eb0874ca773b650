"""The interactive views' world map: an SVG widget drawn once and then only recoloured.

The maps of :mod:`caselib.presentation.figures.maps` are plotly figures of filled polygons,
right for reports. In a live view, plotly redrew the whole figure at every interaction: 90-300
ms per map in JupyterLab (``benchmarks/bench_browser.py``), most of it plotly's per-trace
defaults and the page's style and layout work. :class:`MapWidget` draws the same outlines, in
the same projection, as SVG paths once (about 60 KB, sent when the widget is created); an
update sends one fill colour and one hover text per country, the legend and the title
(about 15 KB) and the page only changes those attributes.

It colours countries by the same rule as :func:`~caselib.presentation.figures.maps.choropleth`
(:func:`~caselib.presentation.figures.maps._classify`: classes, colours, suppressed counts,
legend texts), so a map in a view and the same map in a report agree. Its state is the whole
current picture, so a page that is reloaded, or a notebook reopened, while the kernel runs
draws it as it is now.

A click on a country calls the :meth:`MapWidget.on_click` callbacks with its alpha-3 code.
After each update is painted the page element's ``data-drawn`` counter goes up and a
``caselib-map-drawn`` event is dispatched (what the browser tests and benchmark wait for).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import anywidget
import pandas as pd
import traitlets

from caselib.presentation.figures.maps import (
    HATCH,
    NO_DATA,
    RANK_SUPPRESSED,
    _Classes,
    _classify,
    not_drawn_note,
    svg_geometry,
)

__all__ = ["MapWidget"]

_HERE = Path(__file__).parent

_CSS = """
.caselib-map {width: 100%; min-width: 0; box-sizing: border-box; font-size: 12px; color: #222;}
.caselib-map-title {font-size: 16px; font-weight: 600; margin: 6px 8px 4px 8px; line-height: 1.3;}
.caselib-map-frame {position: relative;}
.caselib-map svg {display: block; width: 100%; height: auto; max-height: 480px;}
.caselib-map path.ocean {fill: #f4f4f1; stroke: #d6d6d0; stroke-width: 0.8px; vector-effect: non-scaling-stroke;}
.caselib-map path.country {stroke: #ffffff; stroke-width: 0.6px; vector-effect: non-scaling-stroke; cursor: pointer;}
.caselib-map path.country:hover {stroke: #333333; stroke-width: 1.2px;}
.caselib-map circle.dot {stroke: #555555; stroke-width: 0.8px; vector-effect: non-scaling-stroke; cursor: pointer;}
.caselib-map-tooltip {position: absolute; display: none; pointer-events: none; background: #ffffff;
  border: 1px solid #999999; border-radius: 3px; padding: 3px 6px; white-space: nowrap; font-size: 13px; z-index: 2;}
.caselib-map-legend {display: flex; flex-wrap: wrap; align-items: center; gap: 2px 12px; margin: 2px 8px;}
.caselib-map-legend-title {font-weight: 600;}
.caselib-map-legend-item {display: inline-flex; align-items: center; gap: 4px; white-space: nowrap;}
.caselib-map-swatch {width: 12px; height: 12px; border: 1px solid #bbbbbb; box-sizing: border-box;}
.caselib-map-swatch.hatched {background: repeating-linear-gradient(45deg, #7f7f7f 0 1.5px, #efefef 1.5px 4px);}
.caselib-map-note {color: #666666; margin: 2px 8px;}
"""


class MapWidget(anywidget.AnyWidget):
    """A world map whose countries are coloured as :func:`~caselib.presentation.figures.maps.choropleth`
    colours them, updated in place.

    Parameters
    ----------
    label
        What the value is, for the legend and hover texts, until :meth:`update` says otherwise.
    title
        The title shown above the map.

    Attributes
    ----------
    classes
        The :class:`~caselib.presentation.figures.maps._Classes` last shown (None before the first update).
    shading
        The synced picture: ``title``, ``legend_title``, ``legend`` (``[name, colour, hatched]``,
        darkest class first), ``fills`` (one colour per country of ``geometry["countries"]``),
        ``hatched`` (their positions), ``texts`` (hover texts), ``dot_fills``, ``dots_shown``,
        ``dot_texts`` (the same for ``geometry["dots"]``) and ``note``.
    """

    _esm = _HERE / "map_widget.js"
    _css = _CSS
    geometry = traitlets.Dict().tag(sync=True)
    hatch = traitlets.Dict().tag(sync=True)
    shading = traitlets.Dict().tag(sync=True)

    def __init__(self, *, label: str = "tips", title: str | None = None, **kwargs) -> None:
        geometry = svg_geometry()
        super().__init__(geometry=geometry, hatch={k: HATCH[k] for k in ("fgcolor", "bgcolor", "size", "solidity")},
                         **kwargs)
        self.codes = [c[0] for c in geometry["countries"]]
        self.names = {c[0]: c[1] for c in geometry["countries"]}
        self.dots = [d[0] for d in geometry["dots"]]
        self.dot_names = {d[0]: d[1] for d in geometry["dots"]}
        self.classes: _Classes | None = None
        self._clicks: list[Callable[[list[str]], None]] = []
        self.on_msg(self._message)
        self.shading = {"title": title, "legend_title": label, "legend": [["no data", NO_DATA, False]],
                        "fills": [NO_DATA] * len(self.codes), "hatched": [], "texts": [f"{label}: no data"] * len(self.codes),
                        "dot_fills": [NO_DATA] * len(self.dots), "dots_shown": [], "dot_texts": [""] * len(self.dots),
                        "note": ""}

    def on_click(self, callback: Callable[[list[str]], None]) -> None:
        """Call ``callback`` with the alpha-3 codes of the country clicked."""
        self._clicks.append(callback)

    def _message(self, _widget, content, _buffers) -> None:
        # From the page: only a click on one of the map's own countries is acted on.
        if not isinstance(content, dict) or content.get("type") != "click":
            return
        code = content.get("iso3")
        if code in self.names or code in self.dot_names:
            for callback in self._clicks:
                callback([code])

    def update(self, frame: pd.DataFrame, *, value: str = "tips", country: str = "country", label: str | None = None,
               title: str | None = None, suppressed: str | None = None, suppressed_below: int | None = None,
               classes: int = 5) -> None:
        """Recolour the map for ``frame`` (one row per alpha-3 country, as for
        :func:`~caselib.presentation.figures.maps.choropleth`, with the same keywords)."""
        c = _classify(frame, value=value, country=country, label=label, suppressed=suppressed,
                      suppressed_below=suppressed_below, classes=classes)
        self.classes = c
        fills, hatched = [], []
        for i, code in enumerate(self.codes):
            fill, is_hatched = c.fill(code)
            fills.append(fill)
            if is_hatched:
                hatched.append(i)
        with_data = c.shown.keys() | c.hidden
        self.shading = {
            "title": title,
            "legend_title": c.label,
            "legend": [[name, colour, rank == RANK_SUPPRESSED] for name, colour, rank in sorted(c.legend_entries(), key=lambda e: e[2])],
            "fills": fills,
            "hatched": hatched,
            "texts": [_value_line(c, code) for code in self.codes],
            "dot_fills": [c.describe(code)[1] if code in with_data else NO_DATA for code in self.dots],
            "dots_shown": [i for i, code in enumerate(self.dots) if code in with_data],
            "dot_texts": [_value_line(c, code) for code in self.dots],
            "note": not_drawn_note(self._with_undrawn(c)),
        }

    def _with_undrawn(self, c: _Classes) -> _Classes:
        """``c``, its note also naming the countries with data this map has no shape for
        (Antarctica: the views' map stops at 58° S, as the reports' maps do without it)."""
        drawn = self.names.keys() | self.dot_names.keys() | set(c.not_drawn)
        missing = [code for code in c.codes if code not in drawn and (code in c.shown or code in c.hidden)]
        return dataclasses.replace(c, not_drawn=[*c.not_drawn, *missing]) if missing else c

    def country_fills(self) -> dict[str, tuple[str, bool]]:
        """iso3 -> (fill colour, hatched) of every outline, as the page draws it."""
        hatched = set(self.shading["hatched"])
        return {code: (fill, i in hatched) for i, (code, fill) in enumerate(zip(self.codes, self.shading["fills"]))}

    def hover_texts(self) -> dict[str, str]:
        """iso3 -> the value line of the hover text, for every outline and dot."""
        return {**dict(zip(self.codes, self.shading["texts"])), **dict(zip(self.dots, self.shading["dot_texts"]))}


def _value_line(c: _Classes, code: str) -> str:
    return f"{c.label}: {c.describe(code)[0]}"

