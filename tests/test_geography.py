"""Tip geography on small hand-built campaigns: counts, rates, consensus, map cells, suppression."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from caselib import load_file
from caselib.domain.filters import TipFilter
from caselib.domain.geography import (
    country_populations,
    origin_consensus,
    suppress_small_counts,
    tip_hexbins,
    tip_points,
    tips_by_country,
)
from caselib.errors import CaselibError
from conftest import tip, write_csv


def load_tips(store, tmp_path, rows, name="tips.csv"):
    result = load_file(store, "tips", write_csv(tmp_path / name, rows), progress=False)
    assert result.rejected == 0, result.summary()
    return result


@pytest.fixture
def geo_store(campaign_store, tmp_path):
    """12 tips: 7 from Germany, 3 from France, 1 unrecognised, 1 without a reporter country."""
    rows = [tip(f"D{i}", reporter_country="DE", suggested_country="IT", triage_status="actionable") for i in range(7)]
    rows += [tip(f"F{i}", reporter_country="fr", suggested_country="Italy", object_id="G02") for i in range(3)]
    rows += [tip("X1", reporter_country="Atlantis", suggested_country="ES", received_at="2019-03-02T00:00:00Z")]
    rows += [tip("N1", reporter_country="", suggested_country="", received_at="2019-03-05T00:00:00Z", object_id="G03")]
    load_tips(campaign_store, tmp_path, rows)
    return campaign_store


def test_counts_by_reporter_country_with_rates_and_leftovers(geo_store):
    frame = tips_by_country(geo_store, by="reporter")
    assert frame[["country", "tips"]].values.tolist() == [["DEU", 7], ["FRA", 3]]
    population = dict(zip(country_populations()["country"], country_populations()["population"]))
    germany = frame.iloc[0]
    assert germany["name"] == "Germany"
    assert germany["per_million"] == pytest.approx(7 / (population["DEU"] / 1e6))
    assert germany["share"] == pytest.approx(7 / 12)
    assert frame.attrs["total"] == 12
    assert frame.attrs["unrecognised"] == 1
    assert frame.attrs["no_country"] == 1
    assert not frame["suppressed"].any()


def test_counts_by_suggested_country(geo_store):
    frame = tips_by_country(geo_store, by="suggested")
    assert frame[["country", "tips"]].values.tolist() == [["ITA", 10], ["ESP", 1]]
    assert frame.attrs["no_country"] == 1


def test_common_filters_apply(geo_store):
    by_object = tips_by_country(geo_store, TipFilter(objects=("G02",)), by="reporter")
    assert by_object[["country", "tips"]].values.tolist() == [["FRA", 3]]
    actionable = tips_by_country(geo_store, TipFilter(triage=("actionable",)), by="reporter")
    assert actionable[["country", "tips"]].values.tolist() == [["DEU", 7]]
    # The 2019-03 wave's window starts at its launch: only the two tips received after it.
    in_wave = tips_by_country(geo_store, TipFilter(wave="2019-03"), by="reporter")
    assert in_wave.empty and in_wave.attrs["total"] == 2
    dated = tips_by_country(geo_store, TipFilter(received_to=dt.date(2019, 3, 2)), by="suggested")
    assert dated[["country", "tips"]].values.tolist() == [["ITA", 10], ["ESP", 1]]
    before = tips_by_country(geo_store, TipFilter(received_to=dt.date(2019, 3, 1)), by="suggested")
    assert before[["country", "tips"]].values.tolist() == [["ITA", 10]]


def test_unknown_by_is_a_clear_error(geo_store):
    with pytest.raises(CaselibError, match="by must be one of"):
        tips_by_country(geo_store, by="continent")


def test_management_counts_below_k_are_hidden(geo_store):
    frame = tips_by_country(geo_store, by="reporter", k=5)
    germany, france = frame.iloc[0], frame.iloc[1]
    assert germany["tips"] == 7 and not germany["suppressed"]
    assert france["suppressed"]
    # Nothing derived from the hidden count survives either.
    assert france[["tips", "share", "per_million"]].isna().all()
    assert frame.attrs["unrecognised"] is None and frame.attrs["no_country"] is None
    assert frame.attrs["total"] == 12


@pytest.mark.parametrize(("count", "hidden"), [(0, False), (1, True), (4, True), (5, False), (6, False)])
def test_suppression_threshold_is_k(count, hidden):
    import pandas as pd

    frame = pd.DataFrame({"country": ["AAA"], "tips": [count]})
    out = suppress_small_counts(frame, 5)
    assert bool(out["suppressed"].iloc[0]) is hidden
    assert pd.isna(out["tips"].iloc[0]) is hidden
    assert not suppress_small_counts(frame, None)["suppressed"].any()


def test_origin_consensus_shares_and_wilson_interval(campaign_store, tmp_path):
    rows = [tip(f"A{i}", suggested_country="FR", reporter_country=c, triage_status="actionable")
            for i, c in enumerate(["DE", "DE", "AT", "BE", "NL", "PL"])]
    rows += [tip(f"B{i}", suggested_country="BE", triage_status="forwarded") for i in range(2)]
    rows += [tip(f"C{i}", suggested_country="AT", triage_status="forwarded") for i in range(2)]
    rows += [tip("U1", suggested_country="FR", triage_status="new")]  # not countable
    rows += [tip("L1", suggested_country="FR", triage_status="actionable", received_at="2020-01-02T00:00:00Z")]
    load_tips(campaign_store, tmp_path, rows)
    frame = origin_consensus(campaign_store, "G01", as_of=dt.date(2020, 1, 1))
    assert frame["country"].tolist() == ["FRA", "AUT", "BEL"]  # tie AUT/BEL: alphabetical
    assert frame["tips"].tolist() == [6, 2, 2]
    assert (frame["countable_tips"] == 10).all()
    assert frame["reporter_countries"].tolist() == [5, 1, 1]
    leader = frame.iloc[0]
    assert leader["share"] == pytest.approx(0.6)
    # Wilson score interval for 6 of 10 at 95 %: 0.3127 to 0.8318.
    assert leader["share_low"] == pytest.approx(0.3127, abs=1e-4)
    assert leader["share_high"] == pytest.approx(0.8318, abs=1e-4)
    later = origin_consensus(campaign_store, ["G01"], as_of=dt.date(2020, 1, 2))
    assert later.iloc[0]["tips"] == 7
    assert origin_consensus(campaign_store, ["G02"], as_of=dt.date(2020, 1, 1)).empty


def test_consensus_interval_contains_the_share_and_stays_in_bounds(campaign_store, tmp_path):
    rows = [tip(f"T{i}", suggested_country="FR", triage_status="actionable") for i in range(3)]
    load_tips(campaign_store, tmp_path, rows)
    frame = origin_consensus(campaign_store, as_of=dt.date(2020, 1, 1))
    row = frame.iloc[0]
    assert row["share"] == 1.0
    assert 0.0 < row["share_low"] < 1.0 and row["share_high"] == pytest.approx(1.0)


def _nearest_centre(lon: float, lat: float, size: float) -> tuple[int, int]:
    """The hexagon whose centre is nearest (brute force over a neighbourhood)."""
    r0 = round(lat / (1.5 * size))
    best = None
    for r in range(r0 - 2, r0 + 3):
        q0 = round(lon / (size * math.sqrt(3)) - r / 2)
        for q in range(q0 - 2, q0 + 3):
            x, y = size * math.sqrt(3) * (q + r / 2), size * 1.5 * r
            d = (x - lon) ** 2 + (y - lat) ** 2
            if best is None or d < best[0]:
                best = (d, q, r)
    return best[1], best[2]


def test_hexbins_put_each_tip_in_the_hexagon_whose_centre_is_nearest(campaign_store, tmp_path):
    rng = random.Random(7)
    points = [(rng.uniform(-20, 40), rng.uniform(30, 70)) for _ in range(300)]
    rows = [tip(f"H{i}", longitude=f"{lon:.5f}", latitude=f"{lat:.5f}") for i, (lon, lat) in enumerate(points)]
    load_tips(campaign_store, tmp_path, rows)
    frame = tip_hexbins(campaign_store, size=2.0)
    expected: dict[tuple[int, int], int] = {}
    for lon, lat in points:
        key = _nearest_centre(round(lon, 5), round(lat, 5), 2.0)
        expected[key] = expected.get(key, 0) + 1
    got = {(int(q), int(r)): int(n) for q, r, n in frame[["q", "r", "tips"]].itertuples(index=False)}
    assert got == expected
    assert frame["tips"].sum() == 300
    for row in frame.itertuples():
        assert row.longitude == pytest.approx(2.0 * math.sqrt(3) * (row.q + row.r / 2))
        assert row.latitude == pytest.approx(3.0 * row.r)


def test_map_cells_do_not_grow_with_the_number_of_tips(campaign_store, tmp_path):
    # 2,000 tips in a 1°×1° square fall into a handful of 2° hexagons and 1 km points.
    rng = random.Random(3)
    rows = [tip(f"P{i}", latitude=f"{50 + rng.random() * 0.01:.4f}", longitude=f"{8 + rng.random() * 0.01:.4f}")
            for i in range(2000)]
    load_tips(campaign_store, tmp_path, rows)
    assert len(tip_hexbins(campaign_store, size=2.0)) <= 2
    points = tip_points(campaign_store, digits=2)
    assert len(points) <= 4 and points["tips"].sum() == 2000


def test_small_map_cells_are_left_out_for_management(campaign_store, tmp_path):
    rows = [tip(f"A{i}", latitude="48.1", longitude="11.5") for i in range(5)]
    rows += [tip(f"B{i}", latitude="40.4", longitude="-3.7") for i in range(4)]
    rows += [tip("C1", latitude="52.5")]  # one coordinate only: dropped by the loader
    load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), progress=False)
    assert sorted(tip_points(campaign_store)["tips"]) == [4, 5]
    assert tip_points(campaign_store, k=5)["tips"].tolist() == [5]
    assert tip_hexbins(campaign_store, k=5)["tips"].tolist() == [5]
    assert tip_points(campaign_store, TipFilter(objects=("G02",))).empty


def test_bad_cell_sizes_are_clear_errors(campaign_store):
    with pytest.raises(CaselibError, match="hexagon size"):
        tip_hexbins(campaign_store, size=0)
    with pytest.raises(CaselibError, match="digits"):
        tip_points(campaign_store, digits=9)


def test_populations_cover_every_country_the_demo_uses():
    from importlib import resources

    import pandas as pd

    with resources.files("caselib").joinpath("data/populations.csv").open() as handle:
        demo = pd.read_csv(handle, comment="#")
    known = set(country_populations()["country"])
    assert set(demo["alpha3"]) <= known
    assert (country_populations()["population"] > 0).all()
    assert country_populations()["country"].is_unique


def test_both_countings_in_one_scan_match_the_single_ones(geo_store):
    from caselib.domain.geography import tips_by_country_both

    for tips in (None, TipFilter(triage=("actionable",)), TipFilter(objects=("G09",))):
        reporters, suggested = tips_by_country_both(geo_store, tips, k=2)
        for frame, by in ((reporters, "reporter"), (suggested, "suggested")):
            single = tips_by_country(geo_store, tips, by=by, k=2)
            assert frame.equals(single) and frame.attrs == single.attrs
