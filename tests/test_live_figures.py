"""The live figures of the interactive views show what the static figures draw.

Each live figure is drawn once and then updated with plain values (one ``plotly_update``),
bypassing plotly's validation. After any sequence of updates, what it holds must be what
the static figure builds for the same frame: these tests compare the two, update after
update, on a demo campaign.
"""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import pytest

from caselib import Store
from caselib.domain.demo import build_demo
from caselib.domain.filters import TipFilter
from caselib.domain.geography import origin_consensus, tips_by_country
from caselib.domain.response import response_half_life, tips_over_time, wave_launches
from caselib.presentation.figures.consensus import consensus_chart
from caselib.presentation.figures.live import LiveConsensus, LiveHalfLife, LiveTimeline
from caselib.presentation.figures.maps import NO_DATA, SUPPRESSED_BG, choropleth
from caselib.presentation.figures.response import half_life_chart, tips_timeline
from caselib.presentation.widgets.map_widget import MapWidget

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "demo.duckdb"
    build_demo(path, tips=5000, progress=False, enrich=False)
    with Store(path, read_only=True) as store:
        yield store


def days(values) -> list[str]:
    return [str(v)[:10] for v in values]


def shown(items) -> list[dict]:
    return [item for item in items if item.get("visible", True) is not False]


# -- timeline --------------------------------------------------------------------------------


def test_live_timeline_holds_the_static_timeline_after_every_update(store):
    launches = wave_launches(store)
    waves = list(launches["wave_id"])
    live = LiveTimeline(go.Figure(), launches, freq="week", title="Tips per week")
    filters = [
        TipFilter(),
        TipFilter(wave=waves[2]),
        TipFilter(received_from=dt.date(2019, 1, 1), received_to=dt.date(2020, 6, 30)),
        TipFilter(objects=("NO-SUCH-OBJECT",)),  # no tips: the note shows, no markers
        TipFilter(wave=waves[0]),
        TipFilter(),
    ]
    for tips in filters:
        over_time = tips_over_time(store, tips, freq="week")
        live.update(over_time)
        want = tips_timeline(over_time, launches, title="Tips per week").to_dict()
        got = live.figure.to_dict()
        assert days(got["data"][0]["x"]) == days(want["data"][0]["x"]), tips
        assert list(got["data"][0]["y"]) == list(want["data"][0]["y"]), tips
        assert list(got["data"][0]["customdata"]) == list(want["data"][0]["customdata"]), tips
        assert days(s["x0"] for s in shown(got["layout"]["shapes"])) == days(
            s["x0"] for s in want["layout"].get("shapes", [])
        ), tips
        assert [(a["text"], a["y"]) for a in shown(got["layout"]["annotations"])] == [
            (a["text"], a["y"]) for a in want["layout"].get("annotations", [])
        ], tips
        assert got["layout"]["title"]["text"] == "Tips per week"
    # The first filter shows every launch, the empty one none.
    assert len(shown(live.figure.to_dict()["layout"]["shapes"])) == len(waves)


def test_live_timeline_sends_one_message_per_update_and_none_when_nothing_changed(store):
    widget = go.FigureWidget()
    sent = []
    widget._send_update_msg = lambda *args, **kwargs: sent.append(args)
    live = LiveTimeline(widget, wave_launches(store), freq="week")
    sent.clear()  # drawing it is not an update
    frame = tips_over_time(store, TipFilter(triage=("actionable",)), freq="week")
    live.update(frame)
    assert len(sent) == 1
    live.update(frame)
    assert len(sent) == 1  # the same frame again changes nothing
    live.update(tips_over_time(store, freq="week"))
    assert len(sent) == 2


# -- maps ------------------------------------------------------------------------------------


def colours_of(figure: dict) -> dict[str, tuple]:
    """alpha-3 -> (fill colour, pattern shape) for every outline drawn."""
    out = {}
    for trace in figure["data"]:
        meta = trace.get("meta") or {}
        if trace.get("fill") == "toself" and "rings" in meta:
            pattern = (trace.get("fillpattern") or {}).get("shape") or ""
            for code in meta["iso3"]:
                out[code] = (trace["fillcolor"], pattern)
    return out


def legend_of(figure: dict) -> list[str]:
    entries = [t for t in figure["data"] if t.get("showlegend", True) is not False and t.get("name")
               and t.get("name") not in ("hover", "small countries", "ocean")]
    return [t["name"] for t in sorted(entries, key=lambda t: t.get("legendrank", 1000))]


def hover_of(figure: dict) -> dict[str, str]:
    out = {}
    for trace in figure["data"]:
        if trace.get("name") in ("hover", "small countries"):
            out.update(zip(trace["meta"]["iso3"], trace["hovertext"]))
    return out


def dots_of(figure: dict) -> dict[str, str]:
    trace = next((t for t in figure["data"] if t.get("name") == "small countries"), None)
    return dict(zip(trace["meta"]["iso3"], trace["marker"]["color"])) if trace else {}


def test_the_views_map_colours_every_country_as_the_static_map_after_every_update(store):
    """MapWidget (the interactive views' SVG map) and choropleth (the reports' plotly map)
    colour, hatch, name and describe every country alike, update after update."""
    live = MapWidget(label="tips")
    frames = [
        tips_by_country(store),
        tips_by_country(store, TipFilter(objects=("G001",)), k=5),  # suppressed countries hatched
        tips_by_country(store, TipFilter(reporter_countries=("FRA",))),  # one country
        tips_by_country(store, TipFilter(objects=("NO-SUCH-OBJECT",))),  # nothing
        tips_by_country(store, TipFilter(triage=("actionable",)), by="suggested", k=5),
        tips_by_country(store),  # back to the first: every hatch and colour undone
    ]
    hatched_seen = False
    for frame in frames:
        live.update(frame, label="tips", title="Where")
        want = choropleth(frame, label="tips", title="Where").to_dict()
        static = colours_of(want)
        drawn = live.country_fills()
        assert set(drawn) == {c for c in static if c != "ATA"} | (drawn.keys() - static.keys())
        assert {c: (fill, "/" if hatched else "") for c, (fill, hatched) in drawn.items() if c in static} == {
            c: v for c, v in static.items() if c in drawn
        }
        assert all(drawn[c] == (NO_DATA, False) for c in drawn.keys() - static.keys())
        hatched_seen |= any(h for _, h in drawn.values())
        # Hover texts: the static "<b>Name</b><br>tips: 1,234", here name and value line apart.
        hover = live.hover_texts()
        for code, text in hover_of(want).items():
            name, line = text.removeprefix("<b>").split("</b><br>")
            assert hover[code] == line, code
            assert (live.names.get(code) or live.dot_names.get(code)) == name, code
        # Small countries: the same dots, in the same colours.
        shading = live.shading
        dots = {live.dots[i]: shading["dot_fills"][i] for i in shading["dots_shown"]}
        assert dots == dots_of(want)
        assert [name for name, _, _ in shading["legend"]] == legend_of(want)
        assert shading["title"] == "Where"
        assert shading["legend_title"] == "tips"
    assert hatched_seen
    assert len({colour for colour, _ in live.country_fills().values()}) > 3


def test_the_views_map_sends_one_small_message_per_update_and_geometry_never_again():
    import json

    import pandas as pd

    widget = MapWidget(label="tips")
    sent: list[str] = []
    widget.send_state = lambda key=None: sent.append(key)
    widget.update(pd.DataFrame({"country": ["DEU", "FRA", "ITA"], "tips": [30, 20, 10]}))
    widget.update(pd.DataFrame({"country": ["DEU"], "tips": [3], "suppressed": [True]}))
    assert sent == ["shading", "shading"]
    assert len(json.dumps(widget.get_state("shading"))) < 30_000
    assert len(json.dumps(widget.get_state("geometry"))) > 40_000  # the outlines, sent with the widget only
    fills = widget.country_fills()
    assert fills["DEU"] == (SUPPRESSED_BG, True) and fills["FRA"] == (NO_DATA, False)
    assert widget.hover_texts()["DEU"] == "tips: small count, not shown"


def test_the_views_map_names_what_it_cannot_draw():
    """Tips from a country with no shape on the views' map (Antarctica, below 58° S; a code
    without an outline) are named under the map, never left out silently."""
    import pandas as pd

    widget = MapWidget(label="tips")
    widget.update(pd.DataFrame({"country": ["ATA", "FRA"], "tips": [7, 20]}))
    assert widget.shading["note"].startswith("Not on this map") and "Antarctica (7)" in widget.shading["note"]
    widget.update(pd.DataFrame({"country": ["FRA"], "tips": [20]}))
    assert widget.shading["note"] == ""


def test_a_click_on_the_views_map_names_the_country_and_nothing_else_is_acted_on():
    widget = MapWidget(label="tips")
    clicked: list[list[str]] = []
    widget.on_click(clicked.append)
    for content in ({"type": "click", "iso3": "FRA"}, {"type": "click", "iso3": "MLT"},  # an outline, a dot
                    {"type": "click", "iso3": "<script>"}, {"type": "hover", "iso3": "DEU"}, ["click"]):
        widget._handle_custom_msg(content, [])
    assert clicked == [["FRA"], ["MLT"]]


# -- half-life and consensus ------------------------------------------------------------------


def test_live_half_life_keeps_the_bars_of_the_chosen_waves(store):
    half = response_half_life(store, days=90)
    waves = list(half["wave_id"])
    live = LiveHalfLife(go.Figure(), half, title="Half-life")
    # A wave keeps its colour (by launch order among all waves, as in the response curves).
    colour = dict(zip(waves, half_life_chart(half).to_dict()["data"][0]["marker"]["color"], strict=True))
    for chosen in [waves, waves[:1], waves[-2:], [], waves]:
        live.show(chosen)
        want = half_life_chart(half[half["wave_id"].isin(chosen)], title="Half-life").to_dict()
        got = live.figure.to_dict()
        for key in ("x", "y", "text", "hovertext"):
            assert list(got["data"][0][key]) == list(want["data"][0][key]), (chosen, key)
        assert list(got["data"][0]["marker"]["color"]) == [colour[w] for w in waves if w in chosen]
        assert list(got["data"][0]["marker"]["pattern"]["shape"]) == list(want["data"][0]["marker"]["pattern"]["shape"])
        assert got["layout"]["yaxis"]["range"] == pytest.approx(want["layout"]["yaxis"]["range"])
        notes = {a["text"] for a in shown(got["layout"].get("annotations", []))}
        assert notes == {a["text"] for a in want["layout"].get("annotations", [])}, chosen


def test_live_consensus_shows_each_objects_evidence(store):
    consensus = origin_consensus(store, as_of=AS_OF)
    objects = list(dict.fromkeys(consensus["object_id"]))[:5]
    live = LiveConsensus(go.Figure())
    for object_id in objects + ["NO-SUCH-OBJECT", objects[0]]:
        live.show(consensus, object_id)
        want = consensus_chart(consensus, object_id).to_dict()
        got = live.figure.to_dict()
        assert list(got["data"][0]["x"]) == list(want["data"][0]["x"]), object_id
        assert list(got["data"][0]["y"]) == list(want["data"][0]["y"]), object_id
        assert [list(row) for row in got["data"][0]["customdata"]] == [list(row) for row in want["data"][0]["customdata"]]
        assert list(got["data"][0]["marker"]["color"]) == list(want["data"][0]["marker"]["color"])
        assert list(got["data"][0]["error_x"]["array"]) == pytest.approx(list(want["data"][0]["error_x"]["array"]))
        assert got["layout"]["title"]["text"] == want["layout"]["title"]["text"]
        assert got["layout"]["height"] == want["layout"]["height"]
        notes = {a["text"] for a in shown(got["layout"]["annotations"]) if "needed" not in a["text"]}
        assert notes == {a["text"] for a in want["layout"]["annotations"] if "needed" not in a["text"]}, object_id


# -- response curves ---------------------------------------------------------------------------


def test_live_response_curves_show_the_static_curves_of_the_chosen_waves(store):
    from caselib.domain.response import wave_response
    from caselib.presentation.figures.live import LiveResponseCurves
    from caselib.presentation.figures.response import response_curves

    response = wave_response(store, days=90)
    waves = list(dict.fromkeys(response["wave_id"]))
    live = LiveResponseCurves(go.Figure(), response)
    for chosen, log_scale in [(waves, False), (waves[:1], True), (waves[-2:], False), ([], False), (waves, True)]:
        live.show(chosen, log_scale=log_scale)
        want = response_curves(response[response["wave_id"].isin(chosen)], log_scale=log_scale).to_dict()
        got = live.figure.to_dict()
        lines = [(t["legendgroup"], t["name"], list(t["x"]), list(t["y"])) for t in shown(got["data"])]
        assert lines == [(t["legendgroup"], t["name"], list(t["x"]), list(t["y"])) for t in want["data"]], chosen
        assert got["layout"]["yaxis"]["type"] == ("log" if log_scale else "linear")


# -- found by name -----------------------------------------------------------------------------

OTHERS = "someone else's"


class Recording(go.Figure):
    """A figure that keeps what each ``plotly_update`` addressed: trace indexes, and the
    annotations and shapes named in the relayout keys."""

    def plotly_update(self, restyle_data=None, relayout_data=None, trace_indexes=None, **kwargs):
        import re

        keys = " ".join(relayout_data or {})
        self._updated = getattr(self, "_updated", {"traces": set(), "annotations": set(), "shapes": set()})
        self._updated["traces"] |= set(trace_indexes or [])
        for kind in ("annotations", "shapes"):
            self._updated[kind] |= {int(i) for i in re.findall(rf"\b{kind}\[(\d+)\]", keys)}
        return super().plotly_update(restyle_data=restyle_data, relayout_data=relayout_data,
                                     trace_indexes=trace_indexes, **kwargs)


def crowded() -> Recording:
    """A figure already holding traces, a shape and an annotation of its own, so that a live
    figure drawn into it finds its own at other positions than in a figure of its own."""
    fig = Recording()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name=OTHERS))
    fig.add_trace(go.Bar(x=["a"], y=[1]))  # no name at all
    fig.add_shape(type="line", x0=0, x1=1, y0=0, y1=1, name=OTHERS)
    fig.add_annotation(text="a note of someone else's", x=0, y=0, name=OTHERS)
    return fig


def named(figure: dict, name: str) -> dict:
    (trace,) = [t for t in figure["data"] if t.get("name") == name]
    return trace


def own(items) -> list[dict]:
    return [item for item in items if item.get("name") != OTHERS]


def assert_others_untouched(fig: Recording) -> None:
    data = fig.to_dict()
    assert data["data"][0]["name"] == OTHERS and list(data["data"][0]["y"]) == [0, 1]
    assert list(data["data"][1]["y"]) == [1] and "name" not in data["data"][1]
    assert [(s["name"], s.get("visible", True)) for s in data["layout"]["shapes"] if s.get("name") == OTHERS] == [(OTHERS, True)]
    note = next(a for a in data["layout"]["annotations"] if a.get("name") == OTHERS)
    assert note["text"] == "a note of someone else's" and note.get("visible", True)


def assert_addressed_by_unique_names(fig: Recording) -> None:
    """Every trace, annotation and shape an update changed is the only one of its figure with
    its name (a legend entry of the map: its legendgroup), and none was someone else's."""
    updated = fig._updated
    assert updated["traces"]
    for kind, items, keys in [("traces", fig.data, ("name", "legendgroup")),
                              ("annotations", fig.layout.annotations, ("name",)),
                              ("shapes", fig.layout.shapes, ("name",))]:
        for i in updated[kind]:
            key = next(k for k in keys if items[i][k] not in (None, " "))
            name = items[i][key]
            assert name != OTHERS, (kind, i)
            assert [item[key] for item in items].count(name) == 1, (kind, name)


def test_live_figures_find_their_traces_annotations_and_shapes_by_name(store):
    launches = wave_launches(store)
    waves = list(launches["wave_id"])
    timeline = LiveTimeline(crowded(), launches, freq="week", title="Tips per week")
    for tips in [TipFilter(), TipFilter(objects=("NO-SUCH-OBJECT",)), TipFilter(wave=waves[1])]:
        over_time = tips_over_time(store, tips, freq="week")
        timeline.update(over_time)
        want = tips_timeline(over_time, launches, title="Tips per week").to_dict()
        got = timeline.figure.to_dict()
        assert list(named(got, "tips")["y"]) == list(want["data"][0]["y"]), tips
        assert [(a["text"], a["y"]) for a in own(shown(got["layout"]["annotations"]))] == [
            (a["text"], a["y"]) for a in want["layout"].get("annotations", [])
        ], tips
        assert days(s["x0"] for s in own(shown(got["layout"]["shapes"]))) == days(
            s["x0"] for s in want["layout"].get("shapes", [])
        ), tips

    half = response_half_life(store, days=90)
    half_life = LiveHalfLife(crowded(), half, title="Half-life")
    for chosen in [list(half["wave_id"])[:1], []]:
        half_life.show(chosen)
        want = half_life_chart(half[half["wave_id"].isin(chosen)], title="Half-life").to_dict()
        got = half_life.figure.to_dict()
        assert list(named(got, "half-life")["y"]) == list(want["data"][0]["y"])
        assert {a["text"] for a in own(shown(got["layout"]["annotations"]))} == {
            a["text"] for a in want["layout"].get("annotations", [])
        }, chosen

    consensus = origin_consensus(store, as_of=AS_OF)
    evidence = LiveConsensus(crowded())
    for object_id in [consensus["object_id"].iat[0], "NO-SUCH-OBJECT"]:
        evidence.show(consensus, object_id)
        want = consensus_chart(consensus, object_id).to_dict()
        got = evidence.figure.to_dict()
        assert list(named(got, "share")["y"]) == list(want["data"][0]["y"]), object_id
        assert {a["text"] for a in own(shown(got["layout"]["annotations"]))} == {
            a["text"] for a in want["layout"]["annotations"]
        }, object_id

    for live in (timeline, half_life, evidence):
        assert_others_untouched(live.figure)
        assert_addressed_by_unique_names(live.figure)


def test_a_name_a_live_figure_needs_held_by_another_trace_or_note_is_an_error(store):
    taken = go.Figure(go.Bar(x=[0], y=[0], name="share"))
    with pytest.raises(LookupError, match="'share'"):
        LiveConsensus(taken)
    noted = go.Figure()
    noted.add_annotation(text="nothing here", name="empty", x=0, y=0)
    with pytest.raises(LookupError, match="'empty'"):
        LiveConsensus(noted)
