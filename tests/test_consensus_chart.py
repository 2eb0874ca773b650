"""The origin consensus chart, tested as data."""

from __future__ import annotations

import pandas as pd
import pytest

from caselib.presentation.figures.consensus import consensus_chart


def consensus(rows):
    frame = pd.DataFrame(rows, columns=["object_id", "country", "tips", "reporter_countries"])
    frame["countable_tips"] = frame.groupby("object_id")["tips"].transform("sum")
    frame["share"] = frame["tips"] / frame["countable_tips"]
    frame["share_low"] = (frame["share"] - 0.1).clip(lower=0)
    frame["share_high"] = (frame["share"] + 0.1).clip(upper=1)
    frame["rank"] = frame.groupby("object_id").cumcount() + 1
    return frame


def test_bars_follow_the_ranking_with_intervals_and_threshold():
    frame = consensus([("G1", "FRA", 6, 4), ("G1", "BEL", 3, 1), ("G1", "AUT", 1, 1), ("G2", "ITA", 9, 3)])
    fig = consensus_chart(frame, "G1", min_share=0.6)
    bar = fig.data[0]
    assert list(bar.y) == ["FRA", "BEL", "AUT"]
    assert list(bar.x) == pytest.approx([0.6, 0.3, 0.1])
    assert list(bar.error_x.arrayminus) == pytest.approx([0.1, 0.1, 0.1])
    assert bar.marker.color[0] != bar.marker.color[1]  # the leader stands out
    assert [s.x0 for s in fig.layout.shapes] == [0.6]
    assert "10 countable tips" in fig.layout.title.text


def test_long_tails_are_summed_into_others():
    frame = consensus([("G1", f"C{i:02d}", 10 - i, 1) for i in range(10)])
    fig = consensus_chart(frame, "G1", top=3)
    assert list(fig.data[0].y) == ["C00", "C01", "C02", "7 others"]
    assert sum(fig.data[0].x) == pytest.approx(1.0)


def test_flag_reasons_appear_under_the_title_and_an_empty_object_says_so():
    frame = consensus([("G1", "FRA", 2, 1)])
    flag = {"ready": False, "outcome": "not_ready", "reasons": "too few countable tips: 2 of 5 needed"}
    fig = consensus_chart(frame, "G1", flag=flag)
    assert "too few countable tips: 2 of 5 needed" in fig.layout.title.text
    assert "not ready" in fig.layout.title.text
    empty = consensus_chart(frame, "G9")
    assert any("no countable tips" in a.text for a in empty.layout.annotations)
