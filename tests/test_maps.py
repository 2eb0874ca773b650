"""Country boundaries and the world maps: as data, and drawn in Chromium with the network cut off."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import shapely

from caselib import load_file
from caselib.domain.countries import country_name
from caselib.domain.geography import tips_by_country
from caselib.errors import CaselibError
from caselib.presentation.boundaries import BOUNDARIES_FILE, countries, small_countries
from caselib.presentation.figures import choropleth, point_map
from caselib.presentation.figures.maps import MAX_POINTS, NO_DATA, class_breaks, project
from conftest import tip, write_csv

# Tips per suggested country, as a campaign query would return them. KOR's 4321 is hidden.
TIPS = pd.DataFrame(
    {
        "country": ["DEU", "FRA", "NOR", "GBR", "USA", "AUS", "BRA", "XKX", "KOR", "MLT", "GUF"],
        "tips": [812, 40, 3, 120, 300, 25, 1, 2, 4321, 7, 9],
        "small": [False, False, True, False, False, False, False, True, True, False, False],
    }
)


def _rgb(color: str) -> tuple[int, int, int]:
    if color.startswith("#"):
        return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", color)[:3])


def _trace_of(fig, iso3: str):
    """The polygon trace that draws ``iso3``."""
    (trace,) = [t for t in fig.data if t.fill == "toself" and t.meta and iso3 in t.meta["iso3"]]
    return trace


# The boundaries file


def test_boundaries_have_one_valid_outline_per_alpha3_country():
    world = countries()
    assert len(world) >= 170
    assert world.crs.to_epsg() == 4326
    assert world["iso3"].is_unique
    assert world.is_valid.all() and not world.is_empty.any()
    assert set(world.geom_type) <= {"Polygon", "MultiPolygon"}
    assert {"DEU", "FRA", "NOR", "GBR", "USA", "AUS", "XKX", "CYP", "SOM"} <= set(world["iso3"])
    # Every code is one caselib stores: ISO 3166-1 alpha-3, or XKX for Kosovo.
    assert world["iso3"].map(country_name).notna().all()
    assert world.set_index("iso3").loc[["FRA", "NOR", "XKX"], "name"].tolist() == ["France", "Norway", "Kosovo"]
    bounds = world.total_bounds
    assert bounds[0] >= -180 and bounds[2] <= 180 and bounds[1] >= -90 and bounds[3] <= 90


def test_boundaries_outlines_sit_where_the_countries_are():
    world = countries().set_index("iso3")
    for iso3, lon, lat in [("DEU", 10.4, 51.2), ("FRA", 2.3, 46.6), ("NOR", 9.0, 61.0), ("AUS", 134.0, -25.0)]:
        assert world.loc[iso3, "geometry"].contains(shapely.Point(lon, lat)), iso3


def test_small_countries_are_points_not_in_the_outlines():
    dots = small_countries()
    assert set(dots.geom_type) == {"Point"}
    assert {"MLT", "SGP", "BHR", "MCO", "LIE"} <= set(dots["iso3"])
    assert not set(dots["iso3"]) & set(countries()["iso3"])
    assert dots["name"].notna().all()


def test_boundaries_file_is_compact_and_read_once():
    assert BOUNDARIES_FILE.stat().st_size < 1_000_000
    first = countries()
    first.loc[0, "name"] = "changed"
    assert countries().loc[0, "name"] != "changed"


def test_importing_the_boundaries_module_loads_no_geopandas():
    code = "import sys, caselib.presentation.boundaries; print('geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# The choropleth as data


def test_class_breaks_are_rounded_quantiles_covering_all_values():
    values = np.array([1, 2, 3, 7, 40, 120, 300, 812])
    edges, labels = class_breaks(values, 4)
    assert edges[0] == 1 and edges[-1] == 812
    assert edges == sorted(edges) and len(labels) == len(edges) - 1
    assert labels[0].startswith("1–") and labels[-1].endswith("–812")
    assert class_breaks(np.array([5, 5]), 5) == ([5.0, 5.0], ["5"])


def test_choropleth_colours_countries_by_class_and_missing_ones_grey():
    fig = choropleth(TIPS, title="Suggested countries", label="Tips")
    top, low = _trace_of(fig, "DEU"), _trace_of(fig, "BRA")
    assert "USA" in top.meta["iso3"] and top.name.endswith("–4,321")
    assert low.name.startswith("1") and low.fillcolor != top.fillcolor
    grey = _trace_of(fig, "CHN")
    assert grey.name == "no data" and grey.fillcolor == NO_DATA
    assert "DEU" not in grey.meta["iso3"]
    # Every country is drawn exactly once (Antarctica is left out unless asked for).
    drawn = [c for t in fig.data if t.fill == "toself" and t.meta for c in t.meta["iso3"]]
    assert len(drawn) == len(set(drawn)) == len(countries()) - 1
    assert "ATA" not in drawn


def test_choropleth_hover_names_the_country_and_its_value():
    fig = choropleth(TIPS, label="Tips", suppressed="small", suppressed_below=5)
    hover = next(t for t in fig.data if t.name == "hover")
    text = dict(zip(hover.meta["iso3"], hover.hovertext))
    assert text["DEU"] == "<b>Germany</b><br>Tips: 812"
    assert text["GBR"] == "<b>United Kingdom</b><br>Tips: 120"
    assert text["CHN"] == "<b>China</b><br>Tips: no data"
    assert text["NOR"] == "<b>Norway</b><br>Tips: fewer than 5"
    dots = next(t for t in fig.data if t.name == "small countries")
    assert dict(zip(dots.meta["iso3"], dots.hovertext))["MLT"] == "<b>Malta</b><br>Tips: 7"


def test_suppressed_counts_never_enter_the_figure():
    fig = choropleth(TIPS, label="Tips", suppressed="small", suppressed_below=5)
    as_json = fig.to_json()
    assert "4321" not in as_json and "4,321" not in as_json
    hatched = _trace_of(fig, "KOR")
    assert set(hatched.meta["iso3"]) == {"KOR", "NOR", "XKX"}
    assert hatched.name == "fewer than 5" and hatched.fillpattern.shape == "/"
    # Class edges come from the shown values only: the top class ends at 812, not 4321.
    assert _trace_of(fig, "DEU").name.endswith("–812")
    unlabelled = choropleth(TIPS, suppressed="small")
    hover = next(t for t in unlabelled.data if t.name == "hover")
    assert "<b>Norway</b><br>tips: small count, not shown" in hover.hovertext


def test_choropleth_takes_the_suppressed_frame_of_tips_by_country(campaign_store, tmp_path):
    rows = [tip(f"T{i}", suggested_country="FR") for i in range(6)] + [tip("T9", suggested_country="NO")]
    load_file(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows), progress=False)
    frame = tips_by_country(campaign_store, by="suggested", k=5)
    fig = choropleth(frame, label="Tips")
    hover = next(t for t in fig.data if t.name == "hover")
    text = dict(zip(hover.meta["iso3"], hover.hovertext))
    # Norway alone hidden would be the total less France: France is hidden with it, and says why.
    assert text["NOR"] == "<b>Norway</b><br>Tips: fewer than 5"
    assert text["FRA"] == "<b>France</b><br>Tips: not shown, so that a smaller hidden count cannot be worked out"
    assert _trace_of(fig, "NOR").fillpattern.shape == "/"
    assert _trace_of(fig, "NOR").name == "fewer than 5, or hidden with one"
    assert "6" not in "".join(hover.hovertext)

    load_file(campaign_store, "tips", write_csv(tmp_path / "more.csv", [tip("T10", suggested_country="BE"),
                                                                       tip("T11", suggested_country="BE")]),
              progress=False)
    fig = choropleth(tips_by_country(campaign_store, by="suggested", k=5), label="Tips")
    hover = next(t for t in fig.data if t.name == "hover")
    text = dict(zip(hover.meta["iso3"], hover.hovertext))
    # Two small counts (1 and 2): their sum, 3, cannot tell either apart; France is shown.
    assert text["FRA"] == "<b>France</b><br>Tips: 6"
    assert text["NOR"] == text["BEL"].replace("Belgium", "Norway") == "<b>Norway</b><br>Tips: fewer than 5"
    assert _trace_of(fig, "NOR").name == "fewer than 5"


def test_choropleth_names_countries_it_cannot_draw_and_draws_small_ones_as_dots():
    fig = choropleth(TIPS)
    (note,) = fig.layout.annotations
    assert "French Guiana (9)" in note.text and "Malta" not in note.text
    dots = next(t for t in fig.data if t.name == "small countries")
    assert dots.meta["iso3"] == ["MLT"]
    class_colours = {t.fillcolor for t in fig.data if t.fill == "toself" and t.name not in ("ocean", "no data")}
    assert dots.marker.color[0] in class_colours


def test_choropleth_layout_is_a_clean_equal_aspect_map():
    fig = choropleth(TIPS, title="Tips by suggested country", label="Tips")
    layout = fig.layout
    assert layout.xaxis.visible is False and layout.yaxis.visible is False
    assert layout.yaxis.scaleanchor == "x" and layout.yaxis.scaleratio == 1
    assert layout.legend.title.text == "<b>Tips</b>"
    assert layout.title.text == "Tips by suggested country"
    assert fig.data[0].name == "ocean"
    assert all(t.type == "scatter" for t in fig.data)  # no geo subplot: nothing to fetch


def test_map_size_does_not_grow_with_the_number_of_tips():
    rng = np.random.default_rng(7)
    codes = countries()["iso3"].to_numpy()[:60]
    sizes = []
    for n_tips in (1_000, 300_000):
        tips = pd.DataFrame({"country": rng.choice(codes, n_tips)})
        per_country = tips.value_counts("country").rename("tips").reset_index()
        sizes.append(len(choropleth(per_country).to_json()))
    assert abs(sizes[1] - sizes[0]) < 2_000
    assert max(sizes) < 400_000


def test_choropleth_rejects_frames_it_cannot_map():
    with pytest.raises(CaselibError, match="more than once"):
        choropleth(pd.DataFrame({"country": ["DEU", "DEU"], "tips": [1, 2]}))
    with pytest.raises(CaselibError, match="no value column 'tips'"):
        choropleth(pd.DataFrame({"country": ["DEU"], "n": [1]}))


# The point map as data


def _bins(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"latitude": rng.uniform(-50, 70, n), "longitude": rng.uniform(-170, 170, n), "tips": rng.integers(1, 900, n)}
    )


def test_point_map_draws_each_bin_over_the_outlines():
    bins = _bins(300)
    fig = point_map(bins, title="Tips by place", label="Tips")
    land, points = fig.data[1], fig.data[-1]
    assert len(land.meta["iso3"]) == len(countries()) - 1
    assert len(points.x) == 300 and points.marker.sizemode == "area"
    assert points.marker.colorbar.title.text == "<b>Tips</b>"
    x, y = project(bins["longitude"], bins["latitude"])
    biggest = int(bins["tips"].idxmax())
    assert (points.x[0], points.y[0]) == (round(float(x[biggest]), 2), round(float(y[biggest]), 2))
    assert points.hovertext[0].startswith(f"<b>Tips: {bins['tips'].max()}</b>")


def test_point_map_refuses_unaggregated_tips():
    with pytest.raises(CaselibError, match="aggregate"):
        point_map(_bins(MAX_POINTS + 1))


def test_projection_keeps_the_map_within_its_frame():
    x, y = project([-180, 180, 0, 0], [0, 0, 90, -90])
    assert x[0] == pytest.approx(-x[1]) and 150 < x[1] < 160
    assert y[2] == pytest.approx(-y[3]) and 70 < y[2] < 80


# In the browser, with the network cut off


def test_the_browser_blocks_and_records_external_requests(browser, tmp_path):
    page = tmp_path / "leaky.html"
    page.write_text(
        "<html><body><img src='https://example.org/a.png'>"
        "<script>fetch('http://127.0.0.2:9/x').catch(() => {}); throw new Error('boom');</script></body></html>"
    )
    report = browser.open_page(page.as_uri())
    report.page.wait_for_timeout(300)
    assert "https://example.org/a.png" in report.external_requests
    assert "http://127.0.0.2:9/x" in report.external_requests
    assert any("boom" in e for e in report.page_errors)


def _open_figure(browser, fig, path):
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    report = browser.open_page(path.as_uri())
    (marks,) = report.plot_marks(count=1)
    assert report.external_requests == []
    assert report.page_errors == []
    assert report.console_errors == []
    return marks


def test_choropleth_draws_every_country_offline(browser, tmp_path):
    fig = choropleth(TIPS, title="Tips by suggested country", label="Tips", suppressed="small", suppressed_below=5)
    marks = _open_figure(browser, fig, tmp_path / "choropleth.html")
    assert len(marks["traces"]) == len(fig.data)
    polygon_traces = [(t, m) for t, m in zip(fig.data, marks["traces"]) if t.meta and t.fill == "toself"]
    # Each polygon trace is drawn as one fill path holding all its rings, in its colour.
    for trace, drawn in polygon_traces:
        assert drawn["fill_subpaths"] == trace.meta["rings"], trace.name
        if trace.meta["rings"]:
            if trace.fillpattern.shape:
                assert drawn["fill_colors"][0].startswith("url(")
            else:
                assert _rgb(drawn["fill_colors"][0]) == _rgb(trace.fillcolor), trace.name
    drawn_countries = sum(len(t.meta["iso3"]) for t, m in polygon_traces if m["fills"])
    assert drawn_countries > 150
    assert sum(m["fill_subpaths"] for _, m in polygon_traces) > 200
    # A few countries, located by their trace: drawn in the colour of their class.
    index = {iso3: i for i, t in enumerate(fig.data) if t.meta and t.fill == "toself" for iso3 in t.meta["iso3"]}
    colour = {iso3: marks["traces"][i]["fill_colors"][0] for iso3, i in index.items()}
    assert colour["DEU"] == colour["USA"] != colour["BRA"]
    assert _rgb(colour["CHN"]) == _rgb(NO_DATA)
    assert colour["NOR"].startswith("url(")
    assert marks["traces"][-1]["points"] == 1  # Malta
    assert marks["legend_items"] >= 5
    assert marks["width"] > 800 and marks["height"] >= 500


def test_point_map_draws_outlines_and_every_bin_offline(browser, tmp_path):
    bins = _bins(400)
    fig = point_map(bins, title="Tips by place", label="Tips")
    marks = _open_figure(browser, fig, tmp_path / "points.html")
    ocean, land, points = marks["traces"]
    assert ocean["fills"] == 1
    assert land["fill_subpaths"] == fig.data[1].meta["rings"] > 200
    assert points["points"] == 400
