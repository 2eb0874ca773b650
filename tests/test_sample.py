"""The seeded sample campaign: contract files, public-record shape, ground truth, mess."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from caselib.domain import sample
from caselib.domain.contract import CATEGORIES, CHANNELS, TRIAGE_STATUSES
from caselib.domain.countries import language_codes, normalise_country
from caselib.domain.sample import SCENARIOS, SampleConfigError, generate_campaign, load_wave_config
from caselib.errors import CaselibError

TIP_COLUMNS = [
    "tip_id",
    "object_id",
    "received_at",
    "channel",
    "language",
    "reporter_country",
    "suggested_country",
    "suggested_place",
    "latitude",
    "longitude",
    "brand",
    "shop",
    "period",
    "tip_text",
    "triage_status",
    "forwarded_to",
    "reporter_email",
    "reporter_phone",
]
COUNTABLE = {"actionable", "forwarded"}
UNTRIAGED = {"new", "under_review"}


def read_tips(path: Path) -> pd.DataFrame:
    """Read a tips file as text, with "" for no value, whatever its format."""
    if path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
        for column in ("latitude", "longitude"):
            frame[column] = frame[column].map(lambda x: "" if pd.isna(x) else repr(float(x)))
        return frame.astype(object).where(frame.notna(), "").astype(str)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def parse_times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")


def alpha3(values: pd.Series) -> pd.Series:
    lookup = {v: normalise_country(v) for v in values.unique()}
    return values.map(lookup)


def valid_tips(tips: pd.DataFrame, object_ids: set[str]) -> pd.DataFrame:
    """The rows a loader keeps: required fields present, known object, not in the future."""
    at = parse_times(tips["received_at"])
    keep = (
        (tips["tip_id"] != "")
        & tips["object_id"].isin(object_ids)
        & at.notna()
        & (at < pd.Timestamp("2030-01-01", tz="UTC"))
    )
    valid = tips[keep].drop_duplicates().copy()
    valid["at"] = at[valid.index]
    valid["day"] = valid["at"].dt.date
    valid["suggested"] = alpha3(valid["suggested_country"])
    valid["reporter"] = alpha3(valid["reporter_country"])
    return valid


def closure_outcomes(valid: pd.DataFrame, objects: pd.DataFrame, as_of: dt.date) -> dict[str, str]:
    """The contract's default closure rules, written out plainly for the check."""
    counted = valid[valid["day"] <= as_of]
    by_object = dict(list(counted.groupby("object_id")))
    outcomes = {}
    for row in objects.itertuples():
        tips = by_object.get(row.object_id, counted.iloc[:0])
        countable = tips[tips["triage_status"].isin(COUNTABLE) & tips["suggested"].notna()]
        shares = countable["suggested"].value_counts()
        if len(shares):
            top = shares[shares == shares.max()].index.min()
            s = shares.max() / len(countable)
            r = countable.loc[countable["suggested"] == top, "reporter"].dropna().nunique()
        else:
            s, r = 0.0, 0
        last = tips["day"].max() if len(tips) else None
        published = dt.date.fromisoformat(row.first_published)
        if row.status in ("closed", "withdrawn"):
            outcomes[row.object_id] = "closed"
        elif tips["triage_status"].isin(UNTRIAGED).any():
            outcomes[row.object_id] = "not_ready"
        elif row.status == "identified" and row.origin_country:
            outcomes[row.object_id] = "origin_established"
        elif len(countable) >= 5 and s >= 0.6 and r >= 3:
            outcomes[row.object_id] = "origin_established"
        elif len(countable) >= 20 and len(shares) >= 5 and s < 0.3:
            outcomes[row.object_id] = "widely_distributed"
        elif (last is None or (as_of - last).days >= 180) and (as_of - published).days >= 365:
            outcomes[row.object_id] = "exhausted"
        else:
            outcomes[row.object_id] = "not_ready"
    return outcomes


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_campaign(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def truth(demo):
    return json.loads(demo.truth_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tips(demo):
    return read_tips(demo.tips_path)


@pytest.fixture(scope="module")
def objects(demo):
    return pd.read_csv(demo.objects_path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def valid(tips, objects):
    return valid_tips(tips, set(objects["object_id"]))


@pytest.fixture(scope="module")
def redelivery(demo):
    return read_tips(demo.redelivery_path)


def file_bytes(campaign) -> dict[str, bytes]:
    paths = [
        campaign.waves_path,
        campaign.objects_path,
        campaign.tips_path,
        campaign.redelivery_path,
        campaign.truth_path,
    ]
    return {p.name: p.read_bytes() for p in paths}


# --------------------------------------------------------------------------- determinism


def test_same_arguments_give_byte_identical_files(demo, tmp_path_factory):
    again = generate_campaign(tmp_path_factory.mktemp("again"))
    assert file_bytes(again) == file_bytes(demo)
    assert again.n_tips == demo.n_tips


def test_another_seed_gives_another_campaign(demo, tmp_path_factory):
    other = generate_campaign(tmp_path_factory.mktemp("other"), seed=2018)
    mine, theirs = file_bytes(demo), file_bytes(other)
    assert theirs["tips.csv"] != mine["tips.csv"]
    assert theirs["objects.csv"] != mine["objects.csv"]
    assert theirs["waves.csv"] == mine["waves.csv"]


def test_parquet_is_deterministic_and_holds_the_csv_rows(demo, tips, tmp_path_factory):
    first = generate_campaign(tmp_path_factory.mktemp("pq1"), fmt="parquet")
    second = generate_campaign(tmp_path_factory.mktemp("pq2"), fmt="parquet")
    assert file_bytes(first) == file_bytes(second)
    assert first.waves_path.suffix == ".csv" and first.objects_path.suffix == ".csv"
    assert first.tips_path.suffix == ".parquet" and first.redelivery_path.suffix == ".parquet"
    table = pq.read_table(first.tips_path)
    assert table.column_names == TIP_COLUMNS
    from_parquet = read_tips(first.tips_path)
    from_csv = tips.copy()
    for column in ("latitude", "longitude"):
        from_csv[column] = from_csv[column].map(lambda x: repr(float(x)) if x else "")
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)


# --------------------------------------------------------------------------- public record


def test_launch_follows_the_public_record(valid, truth):
    day = valid["day"]
    launch = dt.date(2017, 6, 1)
    assert abs((day == launch).sum() - 4_500) <= 450
    assert (day < launch + dt.timedelta(days=14)).sum() >= 10_000
    assert abs((day < launch + dt.timedelta(days=365)).sum() - 21_000) <= 2_100
    assert abs((day <= dt.date(2023, 12, 31)).sum() - 28_000) <= 1_400
    assert len(valid) == truth["tips"] == 28_000
    assert day.min() == launch
    assert dt.date(2024, 1, 1) <= day.max() <= dt.date(2024, 6, 30)
    assert truth["as_of"] == "2024-06-30"


def test_later_waves_are_front_loaded_spikes(valid, objects, truth):
    wave_of = dict(zip(objects["object_id"], objects["wave_id"], strict=True))
    launches = {w["wave_id"]: dt.date.fromisoformat(w["launched_on"]) for w in truth["waves"]}
    first_wave_tips = truth["waves"][0]["tips"]
    for wave in truth["waves"][1:]:
        days = valid.loc[valid["object_id"].map(wave_of) == wave["wave_id"], "day"]
        launch = launches[wave["wave_id"]]
        age = days.map(lambda d, launch=launch: (d - launch).days)
        first_90 = (age < 90).sum()
        assert (age < 0).sum() == 0
        assert (age < 14).sum() / first_90 > 0.5, wave["wave_id"]
        assert len(days) == wave["tips"] < first_wave_tips / 5
        # A long thin tail: some tips arrive after the first 90 days.
        assert len(days) > first_90


# --------------------------------------------------------------------------- ground truth


def test_every_scenario_is_present(truth, objects):
    scenarios = [o["scenario"] for o in truth["objects"].values()]
    assert set(scenarios) == set(SCENARIOS)
    assert list(truth["objects"]) == list(objects["object_id"])
    assert len(objects) == 140 and objects["object_id"].is_unique
    assert scenarios.count("closed") + scenarios.count("withdrawn") <= 20


def test_closure_outcomes_match_the_truth(valid, objects, truth):
    as_of = dt.date.fromisoformat(truth["as_of"])
    outcomes = closure_outcomes(valid, objects, as_of)
    expected = {oid: o["expected_outcome"] for oid, o in truth["objects"].items()}
    assert outcomes == expected


def test_converging_tips_point_to_the_true_origin(valid, truth):
    for oid, o in truth["objects"].items():
        tips = valid[valid["object_id"] == oid]
        countable = tips[tips["triage_status"].isin(COUNTABLE)]
        assert len(countable) == o["countable_tips"], oid
        assert tips["triage_status"].isin(UNTRIAGED).sum() == o["untriaged_tips"], oid
        shares = countable["suggested"].value_counts(normalize=True)
        if o["scenario"] == "converging":
            assert shares.index[0] == o["true_origin"] and shares.iloc[0] >= 0.6
            assert len(countable) >= 5
            reporters = countable.loc[countable["suggested"] == o["true_origin"], "reporter"]
            assert reporters.dropna().nunique() >= 3
            assert o["traceable"] is True
        elif o["scenario"] == "split":
            a, b = o["split_between"]
            assert a == o["true_origin"] and o["traceable"] is False
            assert 0.35 <= shares[a] <= 0.55 and 0.35 <= shares[b] <= 0.55
        elif o["scenario"] == "everywhere":
            assert len(countable) >= 20 and len(shares) >= 5 and shares.iloc[0] < 0.3
            assert o["true_origin"] is None
        elif o["scenario"] == "quiet":
            assert o["true_origin"] is None and len(countable) == 0
            assert tips.empty or tips["day"].max() <= dt.date(2024, 1, 1)


def test_statuses_and_origins_of_objects(objects, truth):
    by_id = objects.set_index("object_id")
    for oid, o in truth["objects"].items():
        row = by_id.loc[oid]
        if o["scenario"] in ("identified", "closed"):
            assert row["status"] == o["scenario"]
            assert row["origin_country"] == o["true_origin"]
            assert row["first_published"] < row["identified_on"] <= truth["as_of"]
        elif o["scenario"] == "withdrawn":
            assert row["status"] == "withdrawn" and row["closed_on"] and not row["origin_country"]
        else:
            assert row["status"] == "open" and not row["origin_country"]
    assert set(objects["category"]) <= set(CATEGORIES)
    assert objects["title"].is_unique and (objects["title"] != "").all()
    launches = {w["wave_id"]: w["launched_on"] for w in truth["waves"]}
    assert (objects["first_published"] == objects["wave_id"].map(launches)).all()
    assert not any("image" in c or "photo" in c for c in objects.columns)


def test_only_untriaged_objects_have_tips_to_triage(valid, truth):
    pending = valid.loc[valid["triage_status"].isin(UNTRIAGED), "object_id"].unique()
    assert {truth["objects"][oid]["scenario"] for oid in pending} == {"untriaged"}
    forwarded = valid[valid["triage_status"] == "forwarded"]
    assert (alpha3(forwarded["forwarded_to"]) == forwarded["suggested"]).all()
    assert (valid.loc[valid["triage_status"] != "forwarded", "forwarded_to"] == "").all()


# --------------------------------------------------------------------------- mess


def test_mess_counts_match_the_file(tips, objects, truth):
    messy, detail = truth["messy"], truth["messy_detail"]
    known = set(objects["object_id"])
    at = parse_times(tips["received_at"])
    assert (~tips["object_id"].isin(known) & (tips["object_id"] != "")).sum() == messy[
        "unknown_object"
    ]
    assert (tips["tip_id"] == "").sum() == detail["missing_required"]["tip_id"]
    assert (tips["object_id"] == "").sum() == detail["missing_required"]["object_id"]
    assert (tips["received_at"] == "").sum() == detail["missing_required"]["received_at_empty"]
    assert (tips["received_at"] == "yesterday").sum() == detail["missing_required"][
        "received_at_unparseable"
    ]
    assert at.isna().sum() == (
        detail["missing_required"]["received_at_empty"]
        + detail["missing_required"]["received_at_unparseable"]
    )
    assert sum(detail["missing_required"].values()) == messy["missing_required"] > 0
    assert (at.dt.year == 2099).sum() == messy["future"] == 2
    assert tips.duplicated().sum() == messy["exact_duplicate"] > 0
    odd = tips["reporter_country"].value_counts()
    assert {v: int(odd.get(v, 0)) for v in detail["odd_country"]} == detail["odd_country"]
    assert sum(detail["odd_country"].values()) == messy["odd_country"] > 0
    lat = pd.to_numeric(tips["latitude"].replace("", None))
    lon = pd.to_numeric(tips["longitude"].replace("", None))
    invalid = (lat.isna() != lon.isna()) | (lat.abs() > 90) | (lon.abs() > 180)
    assert invalid.sum() == messy["invalid_coordinates"] > 0
    rejected = messy["unknown_object"] + messy["missing_required"] + messy["future"]
    assert len(tips) == truth["n_tips"] == truth["tips"] + messy["exact_duplicate"] + rejected
    assert truth["tips_file"] == {
        "rows": len(tips),
        "valid_tips": 28_000,
        "exact_duplicate": messy["exact_duplicate"],
        "rejected": rejected,
    }
    # Mess is a few percent, not the bulk.
    assert 0.005 < (len(tips) - truth["tips"]) / len(tips) < 0.05


def test_country_values_are_recognised_except_the_odd_ones(tips, truth):
    unrecognisable = {
        v for v, a3 in truth["messy_detail"]["odd_country_alpha3"].items() if a3 is None
    }
    for column in ("reporter_country", "suggested_country", "forwarded_to"):
        values = tips[column][tips[column] != ""]
        normalised = alpha3(values)
        assert set(values[normalised.isna()]) == (
            unrecognisable if column == "reporter_country" else set()
        )
    for value, expected in truth["messy_detail"]["odd_country_alpha3"].items():
        assert normalise_country(value) == expected
    spellings = tips["suggested_country"][tips["suggested_country"] != ""]
    alpha3_share = spellings.str.fullmatch(r"[A-Z]{3}").mean()
    assert 0.6 < alpha3_share < 0.8
    assert spellings.str.fullmatch(r"[A-Z]{2}").any() and spellings.str.fullmatch(r"\d{3}").any()
    assert spellings.str.fullmatch(r"[a-z]{3}").any() and (spellings != spellings.str.strip()).any()
    assert spellings.str.contains(r"[a-z]{4}").any()  # names


def test_valid_values_follow_the_contract(valid):
    assert valid["tip_id"].is_unique and valid["tip_id"].str.fullmatch(r"T\d{7}").all()
    assert set(valid["channel"]) == set(CHANNELS)
    assert (valid["channel"] == "web").mean() > 0.6
    statuses = valid["triage_status"].value_counts(normalize=True)
    assert set(statuses.index) == set(TRIAGE_STATUSES)
    assert statuses[["not_actionable", "off_topic", "duplicate"]].sum() > 0.7
    assert set(valid["language"]) - {""} <= language_codes()
    with_reporter = valid[valid["reporter"].notna() & (valid["language"] != "")]
    assert len(with_reporter) > 0.8 * len(valid)
    received = valid["received_at"]
    assert received.str.endswith("Z").mean() > 0.7
    assert received.str.endswith("+02:00").any() and received.str.endswith("-05:00").any()
    assert received.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").any()
    lat = pd.to_numeric(valid["latitude"].replace("", None))
    assert 0.05 < lat.notna().mean() < 0.4
    # Tip ids follow the time of receipt.
    ordered = valid.sort_values("tip_id")
    assert ordered["at"].is_monotonic_increasing


def test_quoting_contact_columns_and_injection_texts(demo, tips, truth):
    with demo.tips_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == TIP_COLUMNS and len(rows) - 1 == demo.n_tips == len(tips)
    text = tips["tip_text"]
    for needle in (",", ";", '"', "\n"):
        assert text.str.contains(needle, regex=False).any(), needle
    script = tips[text == "<script>alert(1)</script>"]
    formula = tips[text.str.startswith("=HYPERLINK(")]
    assert list(script["tip_id"]) == [truth["special_tips"]["script"]]
    assert list(formula["tip_id"]) == [truth["special_tips"]["formula"]]
    email, phone = tips["reporter_email"], tips["reporter_phone"]
    assert (email != "").sum() == truth["contact_rows"]["reporter_email"] > 0.03 * len(tips)
    assert (phone != "").sum() == truth["contact_rows"]["reporter_phone"] > 0.01 * len(tips)
    assert email[email != ""].str.fullmatch(r"tipster\d+@example\.org").all()
    assert phone[phone != ""].str.fullmatch(r"\+00 \d{8}").all()


def test_redelivery_changes_triage_keeps_some_and_has_conflicts(redelivery, valid, objects, truth):
    counts = truth["redelivery"]
    assert list(redelivery.columns) == TIP_COLUMNS
    assert (
        len(redelivery)
        == counts["rows"]
        == counts["triage_update"] + counts["unchanged"] + counts["conflict"]
    )
    assert redelivery["tip_id"].is_unique
    original = valid.set_index("tip_id").loc[redelivery["tip_id"], TIP_COLUMNS[1:]]
    again = redelivery.set_index("tip_id")[TIP_COLUMNS[1:]]
    differs = original.ne(again)
    unchanged = ~differs.any(axis=1)
    conflict = differs[["received_at", "object_id"]].any(axis=1)
    update = ~unchanged & ~conflict
    assert not differs.loc[update].drop(columns=["triage_status", "forwarded_to"]).any().any()
    assert not differs.loc[conflict].drop(columns=["received_at", "object_id"]).any().any()
    assert (update.sum(), unchanged.sum(), conflict.sum()) == (
        counts["triage_update"],
        counts["unchanged"],
        counts["conflict"],
    )
    assert counts["triage_update"] > counts["unchanged"] > counts["conflict"] >= 3
    assert differs.loc[conflict, "received_at"].sum() == counts["conflict_detail"]["received_at"]
    assert again.loc[conflict, "object_id"].isin(set(objects["object_id"])).all()
    # Applying the allowed updates keeps every expected closure outcome.
    applied = valid.set_index("tip_id")
    updated = again[update]
    applied.loc[updated.index, ["triage_status", "forwarded_to"]] = updated[
        ["triage_status", "forwarded_to"]
    ]
    as_of = dt.date.fromisoformat(truth["as_of"])
    outcomes = closure_outcomes(applied.reset_index(), objects, as_of)
    assert outcomes == {oid: o["expected_outcome"] for oid, o in truth["objects"].items()}


# --------------------------------------------------------------------------- a current campaign

# A fixed last day keeps the test reproducible whatever today is; `caselib demo` passes today.
UNTIL = dt.date(2025, 11, 30)


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    return generate_campaign(tmp_path_factory.mktemp("current"), until=UNTIL)


def test_a_campaign_until_a_day_is_byte_identical_for_that_day(current, demo, tmp_path_factory):
    again = generate_campaign(tmp_path_factory.mktemp("current-again"), until=UNTIL)
    assert file_bytes(again) == file_bytes(current)
    mine, default = file_bytes(current), file_bytes(demo)
    assert mine["waves.csv"] == default["waves.csv"]  # the waves keep their launch days
    assert mine["tips.csv"] != default["tips.csv"]
    assert current.until == UNTIL and demo.until == dt.date(2024, 6, 30)
    # The configured end given as `until` is the default campaign, byte for byte.
    configured = generate_campaign(tmp_path_factory.mktemp("configured"), until=dt.date(2024, 6, 30))
    assert file_bytes(configured) == default


def test_a_current_campaign_is_live_on_its_last_day(current):
    truth = json.loads(current.truth_path.read_text(encoding="utf-8"))
    objects = pd.read_csv(current.objects_path, dtype=str, keep_default_na=False)
    valid = valid_tips(read_tips(current.tips_path), set(objects["object_id"]))
    assert truth["as_of"] == UNTIL.isoformat()
    assert valid["day"].max() == UNTIL
    last_30 = valid[valid["day"] > UNTIL - dt.timedelta(days=30)]
    assert len(last_30) >= 80, len(last_30)  # 0 as of that day in the default campaign
    # The latest wave still trickles in: most of the month's tips, its intake backlog among them.
    wave_of = dict(zip(objects["object_id"], objects["wave_id"], strict=True))
    by_wave = last_30["object_id"].map(wave_of).value_counts()
    assert by_wave.index[0] == truth["waves"][-1]["wave_id"], by_wave
    assert last_30["triage_status"].isin(UNTRIAGED).sum() >= 40
    # The ground truth still holds as of that day, and the mix is a live one.
    expected = {oid: o["expected_outcome"] for oid, o in truth["objects"].items()}
    assert closure_outcomes(valid, objects, UNTIL) == expected
    outcomes = pd.Series(expected).value_counts()
    assert set(outcomes.index) == {
        "origin_established", "widely_distributed", "exhausted", "not_ready", "closed"
    }
    assert outcomes["exhausted"] <= 0.25 * len(objects), outcomes
    assert outcomes["not_ready"] >= 0.25 * len(objects), outcomes
    # The re-delivery comes before the campaign's last day is over.
    redelivered = parse_times(read_tips(current.redelivery_path)["received_at"]).dropna()
    assert (redelivered.dt.date <= UNTIL).all()


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (dt.date(2024, 6, 29), "needs until 2024-06-30 at least"),
        (dt.date.today() + dt.timedelta(days=2), "after today"),
        ("2025-01-01", "is not a day"),
        (dt.datetime(2025, 1, 1), "is not a day"),
    ],
)
def test_a_bad_until_is_explained(tmp_path, until, message):
    with pytest.raises(SampleConfigError, match=message) as raised:
        generate_campaign(tmp_path, until=until)
    assert "\n" not in str(raised.value)


# --------------------------------------------------------------------------- options


def test_tidy_campaign_has_no_mess(tmp_path):
    campaign = generate_campaign(tmp_path, messy=False, tips=10_000)
    truth = json.loads(campaign.truth_path.read_text())
    tips = read_tips(campaign.tips_path)
    assert campaign.n_tips == len(tips) == 10_000
    assert set(truth["messy"].values()) == {0} and truth["redelivery"]["conflict"] == 0
    objects = pd.read_csv(campaign.objects_path, dtype=str, keep_default_na=False)
    assert len(valid_tips(tips, set(objects["object_id"]))) == 10_000
    assert alpha3(tips["reporter_country"][tips["reporter_country"] != ""]).notna().all()


def test_tips_scale_up_quickly(tmp_path):
    started = time.perf_counter()
    campaign = generate_campaign(tmp_path, tips=200_000)
    assert time.perf_counter() - started < 10
    truth = json.loads(campaign.truth_path.read_text())
    assert 200_000 < campaign.n_tips < 206_000
    assert truth["waves"][0]["tips"] == round(200_000 * 22_500 / 28_000)
    received = pd.read_csv(
        campaign.tips_path, usecols=["received_at"], dtype=str, keep_default_na=False
    )
    day_one = (received["received_at"].str[:10] == "2017-06-01").sum()
    assert abs(day_one - 200_000 * 4_500 / 28_000) < 0.1 * 200_000 * 4_500 / 28_000


def test_objects_argument_sets_totals_or_per_wave_counts(tmp_path):
    total = generate_campaign(tmp_path / "a", objects=70)
    per_wave = generate_campaign(tmp_path / "b", objects=[30, 30, 25, 20, 25, 20])
    a = pd.read_csv(total.objects_path, dtype=str)
    b = pd.read_csv(per_wave.objects_path, dtype=str)
    assert len(a) == 70 and a["wave_id"].value_counts()["2017-06"] == 10
    assert len(b) == 150 and b["wave_id"].value_counts()["2017-06"] == 30


def test_wave_config_round_trip(tmp_path):
    config = tmp_path / "waves.toml"
    config.write_text(
        '[[waves]]\nwave_id = "A"\nname = "First"\nlaunched_on = 2020-01-15\n'
        "objects = 12\ntip_weight = 30\n\n"
        '[[waves]]\nwave_id = "B"\nname = "Second"\nlaunched_on = "2021-05-01"\nobjects = 10\n',
        encoding="utf-8",
    )
    waves = load_wave_config(config)
    assert [(w["wave_id"], w["launched_on"], w["objects"]) for w in waves] == [
        ("A", dt.date(2020, 1, 15), 12),
        ("B", dt.date(2021, 5, 1), 10),
    ]
    campaign = generate_campaign(tmp_path / "out", waves=waves, tips=8_000)
    truth = json.loads(campaign.truth_path.read_text())
    assert truth["as_of"] == "2021-11-30"
    assert [(w["wave_id"], w["objects"]) for w in truth["waves"]] == [("A", 12), ("B", 10)]
    written = pd.read_csv(campaign.waves_path, dtype=str, keep_default_na=False)
    assert list(written.columns) == ["wave_id", "name", "launched_on", "notes"]
    assert list(written["launched_on"]) == ["2020-01-15", "2021-05-01"]
    assert sum(w["tips"] for w in truth["waves"]) == 8_000
    # B has no tip_weight, so it weighs its number of objects: 30 to 10.
    assert [w["tips"] for w in truth["waves"]] == [6_000, 2_000]
    default = load_wave_config(Path(sample.__file__).parents[2] / "data" / "demo_campaign.toml")
    assert [w["objects"] for w in default] == [20, 30, 25, 20, 25, 20]
    assert default[0]["launched_on"] == dt.date(2017, 6, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "xlsx"}, "use 'csv' or 'parquet'"),
        ({"tips": 1_000}, "pass tips="),
        ({"tips": 0}, "positive whole number"),
        ({"objects": 3}, "every wave needs an object"),
        ({"waves": [{"wave_id": "X", "name": "no date"}]}, "has no launched_on"),
        ({"waves": [{"wave_id": "X", "launched_on": "1 May 2020"}]}, "YYYY-MM-DD"),
        ({"waves": [{"wave_id": "X", "launched_on": dt.date.today()}]}, "not yet past"),
        (
            {"waves": [{"wave_id": "X", "launched_on": "2020-01-01", "colour": "red"}]},
            "unknown keys colour",
        ),
    ],
)
def test_bad_arguments_are_explained(tmp_path, kwargs, message):
    with pytest.raises(SampleConfigError, match=message) as raised:
        generate_campaign(tmp_path, **kwargs)
    # The CLI prints a CaselibError as one line; ValueError keeps plain-Python callers working.
    assert isinstance(raised.value, CaselibError) and isinstance(raised.value, ValueError)
    assert "\n" not in str(raised.value)


def test_bad_wave_file_is_explained(tmp_path):
    config = tmp_path / "waves.toml"
    config.write_text("[[waves]\nwave_id = 1\n", encoding="utf-8")
    with pytest.raises(SampleConfigError, match="not valid TOML"):
        load_wave_config(config)
    config.write_text('title = "no waves"\n', encoding="utf-8")
    with pytest.raises(SampleConfigError, match=r"no \[\[waves\]\] tables"):
        load_wave_config(config)


# The package's modules, each importing only those before it.
SAMPLE_MODULES = ("configuration", "planning", "drawing", "duplicates", "mess", "rendering", "truth", "__init__")


def sample_imports() -> dict[str, set[str]]:
    """Per module of caselib.domain.sample, the absolute imports (``caselib.*`` in full)."""
    found = {}
    for path in sorted(Path(sample.__file__).parent.glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                imported.add(
                    node.module if node.module.startswith("caselib") else node.module.split(".")[0]
                )
        found[path.stem] = imported
    return found


def test_generator_imports_only_numpy_pyarrow_and_the_standard_library():
    imported = set().union(*sample_imports().values())
    assert {name for name in imported if not name.startswith("caselib.domain.sample.")} <= {
        "caselib.domain.contract",
        "caselib.errors",
        "__future__",
        "collections",
        "csv",
        "itertools",
        "dataclasses",
        "datetime",
        "importlib",
        "json",
        "math",
        "pathlib",
        "tomllib",
        "numpy",
        "pyarrow",
    }


def test_the_generator_modules_import_downwards():
    imports = sample_imports()
    assert sorted(imports) == sorted(SAMPLE_MODULES)
    for position, module in enumerate(SAMPLE_MODULES):
        own = {name.removeprefix("caselib.domain.sample.") for name in imports[module] if name.startswith("caselib.domain.sample")}
        assert own <= set(SAMPLE_MODULES[:position]), module
