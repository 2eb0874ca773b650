"""Campaign response over time: tiny campaigns loaded through the real loader, with answers
known by hand, then the figures as data, then the shape the demo generator promises."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from caselib import Store, load_file
from caselib.domain.demo import build_demo
from caselib.domain.filters import TipFilter
from caselib.domain.response import (
    channel_mix,
    language_mix,
    object_timeline,
    response_half_life,
    tips_over_time,
    wave_launches,
    wave_response,
)
from caselib.errors import CaselibError
from caselib.presentation.figures.response import (
    channel_mix_chart,
    half_life_chart,
    language_mix_chart,
    response_curves,
    tips_timeline,
)
from conftest import OBJECTS, WAVES, tip, write_csv

D = dt.date
SECRET = "Seen it in the corner shop of Exampletown"


def load_tips(store: Store, tmp_path, rows: list[dict], name: str = "tips.csv") -> None:
    result = load_file(store, "tips", write_csv(tmp_path / name, rows), progress=False)
    assert result.rejected == 0, "a test tip was rejected"


def at(day: str, n: int, prefix: str, **fields) -> list[dict]:
    """``n`` tips received at noon UTC on ``day``."""
    return [tip(f"{prefix}{i}", received_at=f"{day}T12:00:00Z", **fields) for i in range(n)]


def by_day(frame: pd.DataFrame, wave_id: str) -> dict[int, int]:
    rows = frame[(frame["wave_id"] == wave_id) & frame["counted"]]
    return dict(zip(rows["day"], rows["tips"].astype(int), strict=True))


def half_life_of(frame: pd.DataFrame, wave_id: str):
    return frame.set_index("wave_id").loc[wave_id]


# -- tips over time ------------------------------------------------------------------------


def test_tips_per_day_fill_quiet_days_with_zero_and_mark_launches(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path, at("2017-06-01", 2, "A") + at("2017-06-04", 1, "B"))
    frame = tips_over_time(campaign_store)
    assert list(frame["period_start"]) == [D(2017, 6, 1), D(2017, 6, 2), D(2017, 6, 3), D(2017, 6, 4)]
    assert list(frame["tips"]) == [2, 0, 0, 1]
    assert list(frame["label"]) == ["2017-06-01", "2017-06-02", "2017-06-03", "2017-06-04"]
    assert frame["launched_waves"].tolist()[0] == "2017-06"
    assert frame["launched_waves"].iloc[1:].isna().all()


def test_days_are_utc_days_whatever_offset_the_tip_was_sent_with(campaign_store, tmp_path):
    load_tips(
        campaign_store,
        tmp_path,
        [
            tip("A", received_at="2017-06-01T23:59:59Z"),
            tip("B", received_at="2017-06-02T00:00:00Z"),
            tip("C", received_at="2017-06-02T01:30:00+02:00"),  # 1 June 23:30 UTC
            tip("D", received_at="2017-06-01T21:00:00-05:00"),  # 2 June 02:00 UTC
            tip("E", received_at="2017-06-01T23:00:00"),  # naive: UTC
        ],
    )
    frame = tips_over_time(campaign_store)
    assert dict(zip(frame["period_start"], frame["tips"], strict=True)) == {D(2017, 6, 1): 3, D(2017, 6, 2): 2}


def test_iso_weeks_start_on_monday_and_belong_to_their_iso_year(campaign_store, tmp_path):
    load_tips(
        campaign_store,
        tmp_path,
        [
            tip("A", received_at="2017-06-04T23:59:59Z"),  # Sunday: week 22
            tip("B", received_at="2017-06-05T00:00:00Z"),  # Monday: week 23
            tip("C", received_at="2017-06-05T01:00:00+02:00"),  # Sunday 23:00 UTC: week 22
            tip("D", received_at="2017-06-19T08:00:00Z"),  # week 25; week 24 empty
            tip("E", object_id="G03", received_at="2021-01-03T10:00:00Z"),  # Sunday of 2020-W53
            tip("F", object_id="G03", received_at="2021-01-04T10:00:00Z"),  # Monday of 2021-W01
        ],
    )
    frame = tips_over_time(campaign_store, freq="week")
    head = frame.head(4)
    assert list(head["label"]) == ["2017-W22", "2017-W23", "2017-W24", "2017-W25"]
    assert list(head["period_start"]) == [D(2017, 5, 29), D(2017, 6, 5), D(2017, 6, 12), D(2017, 6, 19)]
    assert list(head["period_end"]) == [D(2017, 6, 4), D(2017, 6, 11), D(2017, 6, 18), D(2017, 6, 25)]
    assert list(head["tips"]) == [2, 1, 0, 1]
    tail = frame.tail(2)
    assert list(tail["label"]) == ["2020-W53", "2021-W01"]
    assert list(tail["period_start"]) == [D(2020, 12, 28), D(2021, 1, 4)]
    assert list(tail["tips"]) == [1, 1]
    # every week between is present, with zeros, and the 2019 launch is marked in its week
    assert (frame["period_start"].diff().dropna() == dt.timedelta(days=7)).all()
    assert frame["tips"].sum() == 6
    assert frame.loc[frame["period_start"] == D(2019, 2, 25), "launched_waves"].item() == "2019-03"


def test_a_chosen_date_range_or_wave_bounds_the_periods(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path, at("2017-06-02", 3, "A") + at("2019-03-05", 1, "B", object_id="G03"))
    chosen = TipFilter(received_from="2017-05-30", received_to="2017-06-04")
    frame = tips_over_time(campaign_store, chosen)
    assert frame["period_start"].tolist() == [D(2017, 5, 30) + dt.timedelta(days=i) for i in range(6)]
    assert frame["tips"].tolist() == [0, 0, 0, 3, 0, 0]
    wave = tips_over_time(campaign_store, TipFilter(wave="2017-06"))
    assert (wave["period_start"].min(), wave["period_end"].max()) == (D(2017, 6, 1), D(2019, 2, 28))
    assert wave["tips"].sum() == 3
    assert tips_over_time(campaign_store, TipFilter(objects=("G02",))).empty


def test_unknown_period_is_a_clear_error(campaign_store):
    with pytest.raises(CaselibError, match="cannot count tips per 'year'"):
        tips_over_time(campaign_store, freq="year")
    with pytest.raises(CaselibError, match="days must be"):
        wave_response(campaign_store, days=0)


def test_wave_launches_give_names_and_windows(campaign_store):
    launches = wave_launches(campaign_store)
    assert launches.to_dict(orient="records") == [
        {"wave_id": "2017-06", "name": "June 2017", "launched_on": D(2017, 6, 1), "window_ends_on": D(2019, 2, 28)},
        {"wave_id": "2019-03", "name": "March 2019", "launched_on": D(2019, 3, 1), "window_ends_on": None},
    ]


# -- waves aligned on launch day -------------------------------------------------------------


def test_tips_align_on_the_utc_launch_day(campaign_store, tmp_path):
    load_tips(
        campaign_store,
        tmp_path,
        [
            tip("A", received_at="2017-06-01T00:00:00Z"),  # day 0
            tip("B", received_at="2017-06-01T23:59:59Z"),  # day 0
            tip("C", received_at="2017-06-02T00:00:00Z"),  # day 1
            tip("D", received_at="2017-06-02T01:00:00+02:00"),  # 1 June 23:00 UTC: day 0
            tip("E", received_at="2017-06-01T20:00:00-05:00"),  # 2 June 01:00 UTC: day 1
            tip("F", received_at="2017-06-04T09:00:00Z"),  # day 3
            tip("G", received_at="2017-05-31T23:59:59Z"),  # before the first launch: no wave
            tip("H", object_id="G03", received_at="2019-06-30T12:00:00Z"),  # data reach day 120 of wave 2
        ],
    )
    frame = wave_response(campaign_store, days=5)
    first = frame[frame["wave_id"] == "2017-06"]
    assert first["day"].tolist() == [0, 1, 2, 3, 4]
    assert first["date"].tolist() == [D(2017, 6, d) for d in range(1, 6)]
    assert first["counted"].all()
    assert first["tips"].tolist() == [3, 2, 0, 1, 0]
    assert first["cumulative_tips"].tolist() == [3, 5, 5, 6, 6]
    assert first["share"].tolist() == pytest.approx([0.5, 1 / 3, 0, 1 / 6, 0])
    assert first["cumulative_share"].tolist() == pytest.approx([0.5, 5 / 6, 5 / 6, 1, 1])
    second = frame[frame["wave_id"] == "2019-03"]
    assert second["tips"].tolist() == [0] * 5
    assert second["share"].isna().all()  # no tips: no shares, and no error


def test_the_window_ends_at_the_first_n_days_and_at_the_next_launch(campaign_store, tmp_path):
    waves = WAVES + [{"wave_id": "2017-07", "name": "July 2017", "launched_on": "2017-07-01"}]
    load_file(campaign_store, "waves", write_csv(tmp_path / "waves2.csv", waves), progress=False)
    load_tips(
        campaign_store,
        tmp_path,
        at("2017-06-01", 2, "A")
        + at("2017-06-30", 1, "B")  # day 29 of June 2017, its last day
        + at("2017-07-01", 4, "C")  # day 0 of July 2017 (a relaunch: old objects' tips too)
        + at("2017-09-28", 1, "D")  # day 89 of July 2017
        + at("2017-09-29", 5, "E")  # day 90: beyond the first 90 days
        + at("2019-03-01", 1, "F", object_id="G03"),
    )
    frame = wave_response(campaign_store, days=90)
    assert by_day(frame, "2017-06") == {0: 2, 29: 1} | {d: 0 for d in range(1, 29)}
    june = frame[frame["wave_id"] == "2017-06"]
    assert june["counted"].tolist() == [True] * 30 + [False] * 60
    assert june["tips"].iloc[30:].isna().all()
    july = by_day(frame, "2017-07")
    assert (len(july), july[0], july[89], sum(july.values())) == (90, 4, 1, 5)

    half = response_half_life(campaign_store, days=90)
    june, july = half_life_of(half, "2017-06"), half_life_of(half, "2017-07")
    assert (june["span_days"], june["counted_days"], june["total_tips"], june["complete"]) == (30, 30, 3, True)
    assert (july["span_days"], july["total_tips"], july["half_life_days"]) == (90, 5, 0)
    # the same window as the wave filter
    in_window = TipFilter(wave="2017-06")
    assert response_half_life(campaign_store, in_window)["total_tips"].tolist() == [3]
    assert tips_over_time(campaign_store, in_window)["tips"].sum() == 3
    assert wave_response(campaign_store, in_window)["wave_id"].unique().tolist() == ["2017-06"]


HALF_LIFE_CASES = [  # tips by day since launch, and the half-life they give
    ({0: 5, 10: 5}, 0),  # exactly half on launch day
    ({0: 6, 10: 4}, 0),
    ({0: 4, 3: 1, 20: 5}, 3),  # day 0 falls one short; day 3 reaches it
    ({0: 4, 1: 0, 3: 1, 4: 5}, 3),
    ({0: 4, 3: 1, 20: 4}, 3),  # 9 tips: 5 is the first count >= 4.5
    ({0: 4, 20: 5}, 20),
    ({7: 1}, 7),
    ({89: 2}, 89),  # the last of the first 90 days
]


def test_half_life_is_the_first_day_with_half_the_tips(fresh_store, tmp_path):
    # One wave per case, 200 days apart, each with its own object.
    launches = [D(2010, 1, 1) + dt.timedelta(days=200 * i) for i in range(len(HALF_LIFE_CASES))]
    waves = [{"wave_id": f"H{i}", "launched_on": str(day)} for i, day in enumerate(launches)]
    objects = [
        {"object_id": f"O{i}", "title": f"object {i}", "first_published": str(day), "wave_id": f"H{i}"}
        for i, day in enumerate(launches)
    ]
    load_file(fresh_store, "waves", write_csv(tmp_path / "waves.csv", waves), progress=False)
    load_file(fresh_store, "objects", write_csv(tmp_path / "objects.csv", objects), progress=False)
    rows = []
    for i, ((days_and_tips, _), launch) in enumerate(zip(HALF_LIFE_CASES, launches, strict=True)):
        for day, n in days_and_tips.items():
            received = f"{launch + dt.timedelta(days=day)}T08:00:00Z"
            rows += [tip(f"T{i}-{day}-{k}", object_id=f"O{i}", received_at=received) for k in range(n)]
        late = f"{launch + dt.timedelta(days=92)}T08:00:00Z"  # beyond the first 90 days: not counted
        rows += [tip(f"L{i}-{k}", object_id=f"O{i}", received_at=late) for k in range(3)]
    load_tips(fresh_store, tmp_path, rows)

    half = response_half_life(fresh_store).set_index("wave_id")
    assert half["name"].tolist() == [f"H{i}" for i in range(len(HALF_LIFE_CASES))]  # no name: the id
    for i, (days_and_tips, half_life) in enumerate(HALF_LIFE_CASES):
        row = half.loc[f"H{i}"]
        peak = max(sorted(days_and_tips), key=lambda d: days_and_tips[d])
        got = (row["half_life_days"], row["total_tips"], row["launch_day_tips"], row["peak_day"], row["peak_tips"])
        wanted = (half_life, sum(days_and_tips.values()), days_and_tips.get(0, 0), peak, days_and_tips[peak])
        assert got == wanted, f"case {days_and_tips}"
        assert row["complete"] and row["counted_days"] == 90


def test_a_wave_without_tips_has_no_half_life_and_an_open_wave_is_not_complete(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path, at("2017-06-01", 2, "A") + at("2019-04-10", 4, "B", object_id="G03"))
    half = response_half_life(campaign_store)
    june, march = half_life_of(half, "2017-06"), half_life_of(half, "2019-03")
    assert (june["complete"], june["half_life_days"]) == (True, 0)
    # the data end on 10 April 2019: day 40 of the March 2019 wave
    assert (march["complete"], march["counted_days"], march["total_tips"], march["half_life_days"]) == (
        False, 41, 4, 40,
    )
    nothing = response_half_life(campaign_store, TipFilter(objects=("G02",)))
    assert nothing["half_life_days"].isna().all()
    assert nothing["peak_day"].isna().all()
    assert nothing["total_tips"].tolist() == [0, 0]
    curves = wave_response(campaign_store)
    march_days = curves[curves["wave_id"] == "2019-03"]
    assert march_days["counted"].sum() == 41
    assert march_days["cumulative_share"].dropna().iloc[-1] == 1


def test_filters_choose_the_tips_a_wave_counts(campaign_store, tmp_path):
    rows = (
        at("2017-06-01", 3, "A", triage_status="not_actionable")
        + at("2017-06-02", 1, "B", triage_status="actionable")
        + at("2017-06-05", 2, "C", triage_status="forwarded", object_id="G02")
        + at("2019-06-01", 1, "D", object_id="G03")
    )
    load_tips(campaign_store, tmp_path, rows)
    useful = TipFilter(triage=("actionable", "forwarded"))
    row = half_life_of(response_half_life(campaign_store, useful), "2017-06")
    assert (row["total_tips"], row["launch_day_tips"], row["half_life_days"], row["peak_day"]) == (3, 0, 4, 4)
    row = half_life_of(response_half_life(campaign_store, TipFilter(objects=("G01",))), "2017-06")
    assert (row["total_tips"], row["half_life_days"]) == (4, 0)
    assert tips_over_time(campaign_store, useful)["tips"].tolist() == [1, 0, 0, 2]
    # a date range: days outside it are not counted, and the wave is not complete
    late = TipFilter(received_from="2017-06-02", received_to="2017-06-30")
    row = half_life_of(response_half_life(campaign_store, late), "2017-06")
    assert (row["counted_days"], row["total_tips"], row["complete"]) == (29, 3, False)
    assert pd.isna(row["launch_day_tips"])


# -- objects ---------------------------------------------------------------------------------


def test_days_to_first_actionable_tip_and_to_identification(campaign_store, tmp_path):
    objects = [dict(o) for o in OBJECTS]
    objects[2].update(status="identified", origin_country="FR", identified_on="2019-05-01")
    load_file(campaign_store, "objects", write_csv(tmp_path / "objects2.csv", objects), progress=False)
    load_tips(
        campaign_store,
        tmp_path,
        [
            tip("A", received_at="2017-06-01T10:00:00Z", triage_status="new"),
            tip("B", received_at="2017-06-05T10:00:00Z", triage_status="actionable"),
            tip("C", received_at="2017-06-04T01:30:00+02:00", triage_status="forwarded"),  # 3 June 23:30 UTC
            tip("D", object_id="G02", received_at="2017-06-02T10:00:00Z", triage_status="not_actionable"),
            tip("E", object_id="G03", received_at="2019-03-11T10:00:00Z", triage_status="actionable"),
        ],
    )
    frame = object_timeline(campaign_store).set_index("object_id")
    assert frame.loc["G01", "days_to_first_tip"] == 0
    assert frame.loc["G01", "days_to_first_actionable"] == 2
    assert frame.loc["G01", "first_actionable_at"] == pd.Timestamp("2017-06-03 23:30:00")
    assert (frame.loc["G01", "tips"], frame.loc["G01", "actionable_tips"]) == (3, 2)
    assert pd.isna(frame.loc["G02", "days_to_first_actionable"])
    assert pd.isna(frame.loc["G01", "days_to_identification"])
    assert frame.loc["G03", "days_to_first_actionable"] == 10
    assert frame.loc["G03", "identified_on"] == D(2019, 5, 1)
    assert frame.loc["G03", "days_to_identification"] == 61

    earlier = object_timeline(campaign_store, as_of=D(2019, 4, 30)).set_index("object_id")
    assert pd.isna(earlier.loc["G03", "days_to_identification"])
    assert earlier.loc["G03", "days_to_first_actionable"] == 10
    before = object_timeline(campaign_store, as_of=D(2017, 6, 3)).set_index("object_id")
    # the forwarded tip came at 23:30 UTC on the as-of day: it counts
    assert before.loc["G01", "days_to_first_actionable"] == 2
    assert before.loc["G01", "tips"] == 2
    assert pd.isna(object_timeline(campaign_store, as_of=D(2017, 6, 2)).set_index("object_id").loc["G01", "days_to_first_actionable"])


# -- channel and language mix ----------------------------------------------------------------


def test_channel_mix_counts_and_shares_per_month(campaign_store, tmp_path):
    load_tips(
        campaign_store,
        tmp_path,
        at("2017-06-01", 3, "A", channel="web")
        + at("2017-06-20", 1, "B", channel="email")
        + at("2017-06-21", 1, "C")  # no channel
        + at("2017-08-02", 2, "D", channel="email"),
    )
    mix = channel_mix(campaign_store, freq="month")
    assert mix["channel"].unique().tolist() == ["web", "email", "unknown"]  # contract order, unknown last
    june = mix[mix["label"] == "2017-06"].set_index("channel")
    assert june["tips"].to_dict() == {"web": 3, "email": 1, "unknown": 1}
    assert june["share"].to_dict() == pytest.approx({"web": 0.6, "email": 0.2, "unknown": 0.2})
    july = mix[mix["label"] == "2017-07"]
    assert july["tips"].tolist() == [0, 0, 0] and july["share"].isna().all()
    sums = mix.dropna(subset=["share"]).groupby("period_start")["share"].sum()
    assert sums.tolist() == pytest.approx([1.0, 1.0])
    weekly = channel_mix(campaign_store, TipFilter(received_to="2017-06-30"), freq="week")
    assert weekly["period_start"].min() == D(2017, 5, 29)
    assert weekly.groupby("period_start")["period_tips"].first().tolist() == [3, 0, 0, 2, 0]


def test_language_mix_keeps_the_top_languages_and_groups_the_rest(campaign_store, tmp_path):
    load_tips(
        campaign_store,
        tmp_path,
        at("2017-06-01", 3, "A", language="en")
        + at("2017-06-02", 2, "B", language="de")
        + at("2017-06-03", 1, "C", language="fr")
        + at("2017-06-03", 1, "D", language="nl")
        + at("2017-06-04", 2, "E")  # no language
        + at("2017-06-12", 1, "F", language="nl"),
    )
    mix = language_mix(campaign_store, freq="week", top=2)
    assert mix["language"].unique().tolist() == ["en", "de", "other", "unknown"]
    first = mix[mix["label"] == "2017-W22"].set_index("language")
    assert first["tips"].to_dict() == {"en": 3, "de": 2, "other": 2, "unknown": 2}
    assert first["share"].sum() == pytest.approx(1)
    second = mix[mix["label"] == "2017-W24"].set_index("language")
    assert second["tips"].to_dict() == {"en": 0, "de": 0, "other": 1, "unknown": 0}
    assert second["share"]["other"] == 1
    every = language_mix(campaign_store, freq="month")
    assert every["language"].tolist() == ["en", "de", "nl", "fr", "unknown"]
    assert every["share"].sum() == pytest.approx(1)
    with pytest.raises(CaselibError, match="top must be"):
        language_mix(campaign_store, top=0)


# -- figures, as data ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_store(tmp_path_factory):
    """Two waves with a few tips each, for the figures (which only read it)."""
    folder = tmp_path_factory.mktemp("busy")
    store = Store(folder / "case.duckdb")
    load_file(store, "waves", write_csv(folder / "waves.csv", WAVES), progress=False)
    load_file(store, "objects", write_csv(folder / "objects.csv", OBJECTS), progress=False)
    rows = (
        at("2017-06-01", 5, "A", channel="web", language="en", tip_text=SECRET)
        + at("2017-06-03", 2, "B", channel="phone", language="de", tip_text=SECRET)
        + at("2017-07-20", 1, "C", tip_text=SECRET)
        + at("2019-03-01", 3, "D", object_id="G03", channel="email", language="fr", tip_text=SECRET)
        + at("2019-03-09", 1, "E", object_id="G03", tip_text=SECRET)
    )
    load_tips(store, folder, rows)
    yield store
    store.close()


def test_timeline_marks_every_launch_with_its_name(busy_store):
    fig = tips_timeline(tips_over_time(busy_store, freq="week"), wave_launches(busy_store))
    figure = fig.to_dict()
    assert [t["type"] for t in figure["data"]] == ["bar"]
    assert sum(figure["data"][0]["y"]) == 12
    texts = [a["text"] for a in figure["layout"]["annotations"]]
    assert texts == ["<b>June 2017</b>", "<b>March 2019</b>"]
    lines = [s for s in figure["layout"]["shapes"] if s["type"] == "line"]
    assert sorted(str(s["x0"])[:10] for s in lines) == ["2017-06-01", "2019-03-01"]
    assert "Tips received per week" in figure["layout"]["title"]["text"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "tips per week"
    # without the launches frame, the wave ids mark the launch periods
    plain = tips_timeline(tips_over_time(busy_store, freq="day")).to_dict()
    assert [a["text"] for a in plain["layout"]["annotations"]] == ["<b>2017-06</b>", "<b>2019-03</b>"]
    # launches outside the periods shown are left out
    june = tips_over_time(busy_store, TipFilter(received_to="2017-06-30"))
    assert [a["text"] for a in tips_timeline(june, wave_launches(busy_store)).to_dict()["layout"]["annotations"]] == [
        "<b>June 2017</b>"
    ]


def test_response_curves_draw_two_lines_per_wave_in_one_legend_group(busy_store):
    fig = response_curves(wave_response(busy_store, days=30)).to_dict()
    names = [(t["name"], t["legendgroup"], t["showlegend"]) for t in fig["data"]]
    assert names == [
        ("June 2017", "2017-06", True),
        ("June 2017", "2017-06", False),
        ("March 2019", "2019-03", True),
        ("March 2019", "2019-03", False),
    ]
    june_tips, june_share = fig["data"][0], fig["data"][1]
    assert list(june_tips["x"]) == list(range(30))
    assert list(june_tips["y"][:3]) == [5, 0, 2]
    assert june_share["y"][2] == pytest.approx(1.0)
    assert june_tips["line"]["color"] == june_share["line"]["color"] != fig["data"][2]["line"]["color"]
    assert fig["layout"]["yaxis2"]["tickformat"] == ".0%"
    assert "first 30 days" in fig["layout"]["title"]["text"]


def test_half_life_chart_has_one_bar_per_wave_and_marks_open_waves(busy_store):
    fig = half_life_chart(response_half_life(busy_store)).to_dict()
    bar = fig["data"][0]
    assert list(bar["x"]) == ["June 2017", "March 2019"]
    assert list(bar["y"]) == [0, 0]
    assert list(bar["text"]) == ["0 days", "0 days*"]  # March 2019 has not had 90 days of data
    assert any("still open" in a["text"] for a in fig["layout"]["annotations"])
    empty = half_life_chart(response_half_life(busy_store, TipFilter(objects=("G02",)))).to_dict()
    assert list(empty["data"][0]["text"]) == ["no tips", "no tips*"]


def test_mix_charts_stack_one_trace_per_value_in_the_frames_order(busy_store):
    fig = channel_mix_chart(channel_mix(busy_store, freq="month")).to_dict()
    assert [t["name"] for t in fig["data"]] == ["Web form", "E-mail", "Phone", "Not recorded"]
    assert {t["stackgroup"] for t in fig["data"]} == {"shares"}
    web = fig["data"][0]
    assert len(web["x"]) == 3  # the months with tips: June 2017, July 2017, March 2019
    bars = language_mix_chart(language_mix(busy_store, freq="month", top=2), shares=False).to_dict()
    assert [t["name"] for t in bars["data"]] == ["English (en)", "French (fr)", "Other languages", "Not recorded"]
    assert bars["layout"]["barmode"] == "stack"
    colours = [t["marker"]["color"] for t in bars["data"]]
    assert len(set(colours)) == 4


def test_figures_carry_no_tip_text(busy_store):
    figures = [
        tips_timeline(tips_over_time(busy_store), wave_launches(busy_store)),
        response_curves(wave_response(busy_store)),
        half_life_chart(response_half_life(busy_store)),
        channel_mix_chart(channel_mix(busy_store)),
        language_mix_chart(language_mix(busy_store)),
    ]
    assert busy_store.scalar("SELECT count(*) FROM tips WHERE tip_text = $t", {"t": SECRET}) == 12
    for fig in figures:
        text = fig.to_json()
        assert SECRET not in text and "Exampletown" not in text
        json.loads(text)


def test_importing_the_response_analyses_loads_no_plotting_library():
    code = "import sys, caselib.domain.response; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the demo campaign -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("response_demo")
    built = build_demo(folder / "demo.duckdb", tips=5000, progress=False, enrich=False)
    store = Store(built.db_path, read_only=True)
    yield store
    store.close()


def test_demo_first_wave_is_front_loaded_and_later_waves_are_smaller(demo_store):
    half = response_half_life(demo_store)
    first, later = half.iloc[0], half.iloc[1:]
    assert first["wave_id"] == "2017-06"
    assert half["complete"].all()
    # the launch spike: most tips on launch day, half of the first 90 days' within two weeks
    assert first["peak_day"] == 0
    assert first["launch_day_tips"] >= 0.15 * first["total_tips"]
    assert 1 <= first["half_life_days"] <= 14
    assert (later["total_tips"] < first["total_tips"] / 5).all()
    assert (later["half_life_days"] <= first["half_life_days"]).all()
    assert (later["peak_day"] == 0).all()


def test_demo_figures_are_consistent_with_the_frames(demo_store):
    over_time = tips_over_time(demo_store, freq="week")
    launches = wave_launches(demo_store)
    assert over_time["tips"].sum() == demo_store.scalar("SELECT count(*) FROM tips")
    assert over_time["launched_waves"].dropna().tolist() == launches["wave_id"].tolist()
    fig = tips_timeline(over_time, launches).to_dict()
    assert [a["text"] for a in fig["layout"]["annotations"]] == [f"<b>{n}</b>" for n in launches["name"]]
    response = wave_response(demo_store)
    curves = response_curves(response).to_dict()
    assert len(curves["data"]) == 2 * len(launches)
    last = response.groupby("wave_id")["cumulative_share"].last()
    assert all(math.isclose(v, 1.0) for v in last)
    shares = channel_mix(demo_store, freq="month").dropna(subset=["share"]).groupby("period_start")["share"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)
