"""Closure flags (contract v1, "Closure rules"): every rule at and around its threshold, on
small campaigns loaded through the real loader into a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from caselib import CaselibError, Store, load_file
from caselib.domain.closure import FLAG_COLUMNS, ClosureRules, closure_flags, read_rules
from caselib.domain.countries import country_name
from caselib.domain.demo import build_demo
from conftest import OBJECTS, WAVES, tip, write_csv

PUBLISHED = dt.date(2017, 6, 1)  # G01 and G02 in conftest's OBJECTS
AS_OF = dt.date(2017, 9, 1)  # 92 days after publication: rule 6 cannot apply yet
LATER = dt.date(2018, 12, 1)  # 548 days after publication: old enough for rule 6
REPORTERS = ("DE", "NL", "BE")


def at(day: dt.date, clock: str = "10:00:00", zone: str = "Z") -> str:
    return f"{day.isoformat()}T{clock}{zone}"


def countable(prefix: str, suggested, reporters=REPORTERS, *, status: str = "actionable", **fields) -> list[dict]:
    """One tip per entry of ``suggested``; reporter countries cycle through ``reporters``."""
    suggested = list(suggested)
    return [
        tip(
            f"{prefix}{i}",
            triage_status=status,
            suggested_country=country,
            reporter_country=reporters[(i - 1) % len(reporters)],
            **fields,
        )
        for i, country in enumerate(suggested, start=1)
    ]


def spread(prefix: str, counts: dict[str, int], **fields) -> list[dict]:
    """Countable tips naming each country ``counts[country]`` times."""
    return countable(prefix, [c for c, n in counts.items() for _ in range(n)], **fields)


_files = iter(range(1, 10_000))


def _build(path: Path, objects: list[dict]) -> Path:
    with Store(path) as store:
        load_file(store, "waves", write_csv(path.parent / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(path.parent / "objects.csv", objects), progress=False)
    return path


def _copy(template: Path, db_path: Path):
    shutil.copyfile(template, db_path)
    store = Store(db_path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def campaign_template(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("campaign") / "campaign.duckdb", OBJECTS)


@pytest.fixture
def campaign_store(campaign_template: Path, db_path: Path):
    """conftest's campaign (two waves, three objects, through the real loader), built once
    per module and copied for each test: a fresh build costs more than most tests here."""
    yield from _copy(campaign_template, db_path)


def load_tips(store: Store, rows: list[dict], *, rejected: int = 0):
    """Load ``rows`` as one tips CSV through the real loader (beside the database file)."""
    path = write_csv(store.path.parent / f"tips-{next(_files)}.csv", rows)
    result = load_file(store, "tips", path, progress=False)
    assert result.rejected == rejected, result.summary()
    return result


def flag(store: Store, object_id: str = "G01", *, as_of: dt.date = AS_OF, rules: ClosureRules | None = None) -> dict:
    """The flag of one object as a dict, missing values as None."""
    frame = closure_flags(store, as_of=as_of, rules=rules)
    row = frame.set_index("object_id").loc[object_id].to_dict()
    return {key: None if _missing(value) else value for key, value in row.items()}


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def assert_ready(result: dict, outcome: str, origin: str | None = None) -> None:
    assert (result["ready"], result["outcome"], result["origin_country"]) == (True, outcome, origin), result["reasons"]


def assert_not_ready(result: dict, *reason_parts: str, outcome: str = "not_ready") -> None:
    assert (result["ready"], result["outcome"]) == (False, outcome), result["reasons"]
    assert result["origin_country"] is None or outcome == "closed"
    for part in reason_parts:
        assert part in result["reasons"]


# -- the flag table ------------------------------------------------------------------------


def test_one_flag_per_object_with_the_documented_columns(campaign_store):
    load_tips(campaign_store, countable("T", ["FR"] * 5))
    frame = closure_flags(campaign_store, as_of=AS_OF)
    assert list(frame.columns) == FLAG_COLUMNS
    assert list(frame["object_id"]) == ["G01", "G02", "G03"]
    assert frame["ready"].dtype == bool
    assert list(frame["ready"]) == [True, False, False]
    ready = closure_flags(campaign_store, as_of=AS_OF, ready_only=True)
    assert list(ready["object_id"]) == ["G01"]


def test_the_figures_behind_a_flag(campaign_store):
    load_tips(
        campaign_store,
        countable("T", ["FR", "FR", "FR", "IT", "ES"])
        + countable("N", ["FR"], status="not_actionable")
        + countable("D", ["FR"], status="duplicate", received_at=at(dt.date(2017, 8, 3))),
    )
    result = flag(campaign_store)
    assert {k: result[k] for k in FLAG_COLUMNS if k not in ("object_id", "reasons", "title")} == {
        "ready": True,
        "outcome": "origin_established",
        "origin_country": "FRA",
        "countable_tips": 5,
        "leading_country": "FRA",
        "leading_share": 0.6,
        "leading_reporter_countries": 3,
        "suggested_countries": 3,
        "duplicate_tips": 0,
        "duplicate_groups": 0,
        "last_tip_on": dt.date(2017, 8, 3),  # any tip counts as activity, countable or not
        "untriaged_tips": 0,
        "days_since_last_tip": 29,
        "days_since_published": 92,
        "status": "open",
    }
    assert result["reasons"] == "3 of 5 countable tips (60%) suggest France (FRA), sent from 3 reporter countries"


def test_as_of_defaults_to_today_utc(campaign_store):
    today = dt.datetime.now(dt.UTC).date()
    frame = closure_flags(campaign_store)
    assert list(frame["days_since_published"]) == [(today - PUBLISHED).days] * 2 + [(today - dt.date(2019, 3, 1)).days]
    assert list(frame["outcome"]) == ["exhausted"] * 3


# -- rule 4: countable tips, share, reporter countries -------------------------------------


@pytest.mark.parametrize(("n", "ready"), [(4, False), (5, True), (6, True)])
def test_five_countable_tips_are_needed(campaign_store, n, ready):
    load_tips(campaign_store, countable("T", ["FR"] * n))
    result = flag(campaign_store)
    assert result["countable_tips"] == n
    if ready:
        assert_ready(result, "origin_established", "FRA")
    else:
        assert_not_ready(result, "too few countable tips: 4 of 5 needed")


def test_forwarded_tips_count_and_other_triage_statuses_do_not(campaign_store):
    load_tips(
        campaign_store,
        countable("A", ["FR"] * 2)
        + countable("F", ["FR"] * 2, status="forwarded", forwarded_to="FR")
        + countable("X", ["FR"], status="not_actionable")
        + countable("Y", ["FR"], status="duplicate")
        + countable("Z", ["FR"], status="off_topic"),
    )
    result = flag(campaign_store)
    assert result["countable_tips"] == 4
    assert_not_ready(result, "too few countable tips: 4 of 5 needed")
    load_tips(campaign_store, countable("G", ["FR"], reporters=("BE",), status="forwarded"))
    assert_ready(flag(campaign_store), "origin_established", "FRA")


@pytest.mark.parametrize(
    ("suggested", "share", "ready"),
    [
        (["FR"] * 3 + ["IT", "ES"], 0.6, True),  # 3 of 5: exactly 0.6
        (["FR"] * 6 + ["IT"] * 2 + ["ES"] * 2, 0.6, True),  # 6 of 10
        (["FR"] * 12 + ["IT"] * 8, 0.6, True),  # 12 of 20
        (["FR"] * 5 + ["IT"] * 2 + ["ES"] * 2, 5 / 9, False),  # 0.556: just below
        (["FR"] * 11 + ["IT"] * 8, 11 / 19, False),  # 0.579
    ],
)
def test_the_leading_country_needs_a_share_of_at_least_60_percent(campaign_store, suggested, share, ready):
    # the first three tips naming FR come from three reporter countries
    load_tips(campaign_store, countable("T", suggested))
    result = flag(campaign_store)
    assert result["leading_country"] == "FRA"
    assert result["leading_share"] == pytest.approx(share)
    if ready:
        assert result["leading_share"] >= 0.6
        assert_ready(result, "origin_established", "FRA")
    else:
        assert_not_ready(result, "split consensus", "France")


@pytest.mark.parametrize(
    ("reporters", "expected", "ready"),
    [
        (("DE", "DE", "NL", "NL", "NL"), 2, False),
        (("DE", "NL", "BE", "DE", "DE"), 3, True),
        (("de", "Germany", "DEU", "276", "NL"), 2, False),  # one country, four spellings
        (("DE", "NL", "Atlantis", "Deutschland", ""), 2, False),  # unrecognised or empty: not counted
        (("DE", "NL", "Atlantis", "", "BE"), 3, True),
    ],
)
def test_three_reporter_countries_are_needed(campaign_store, reporters, expected, ready):
    load_tips(campaign_store, countable("T", ["FR"] * 5, reporters=reporters))
    result = flag(campaign_store)
    assert result["leading_reporter_countries"] == expected
    if ready:
        assert_ready(result, "origin_established", "FRA")
    else:
        assert_not_ready(result, f"too few independent reporter countries: {expected} suggest France (FRA), 3 needed")


def test_only_reporters_of_countable_tips_naming_the_leading_country_count(campaign_store):
    load_tips(
        campaign_store,
        countable("T", ["FR"] * 3, reporters=("DE",))  # the three FR tips come from DE only
        + countable("I", ["IT", "ES"], reporters=("NL", "BE"))  # other countries' reporters
        + countable("X", ["FR", "FR"], reporters=("PL", "AT"), status="not_actionable"),
    )
    result = flag(campaign_store)
    assert (result["countable_tips"], result["leading_share"], result["leading_reporter_countries"]) == (5, 0.6, 1)
    assert_not_ready(result, "too few independent reporter countries: 1 suggest France (FRA)")


def test_unrecognised_suggested_countries_are_not_countable(campaign_store):
    load_tips(
        campaign_store,
        countable("T", ["FR", "FR", "FR", "FR", "Atlantis"])
        + countable("E", ["", "Narnia"]),
    )
    result = flag(campaign_store)
    assert (result["countable_tips"], result["suggested_countries"], result["leading_share"]) == (4, 1, 1.0)
    assert_not_ready(result, "too few countable tips: 4 of 5 needed")
    # nor do they dilute the share: 5 recognised FR tips beside 3 unrecognised ones
    load_tips(campaign_store, countable("U", ["France", "Utopia", "Utopia"]))
    result = flag(campaign_store)
    assert (result["countable_tips"], result["leading_share"]) == (5, 1.0)
    assert_ready(result, "origin_established", "FRA")


# -- ties -----------------------------------------------------------------------------------


def test_a_tie_goes_to_the_alphabetically_first_alpha3(campaign_store):
    # Estonia is EE / EST, Spain ES / ESP: by alpha-2 or by name Estonia would come first.
    load_tips(campaign_store, countable("E", ["EE"] * 3) + countable("S", ["Spain"] * 3) + countable("I", ["IT"]))
    result = flag(campaign_store)
    assert (result["leading_country"], result["leading_share"]) == ("ESP", 3 / 7)
    assert_not_ready(result, "split consensus: Spain 43%, Estonia 43%, Italy 14% (60% needed)")
    assert_ready(flag(campaign_store, rules=ClosureRules(min_share=0.4)), "origin_established", "ESP")


def test_a_tie_for_the_lead_decides_whose_reporters_count(campaign_store):
    load_tips(
        campaign_store,
        countable("P", ["PT"] * 3, reporters=("DE", "NL", "BE")) + countable("A", ["AT"] * 3, reporters=("DE",)),
    )
    result = flag(campaign_store, rules=ClosureRules(min_share=0.5))
    assert (result["leading_country"], result["leading_reporter_countries"]) == ("AUT", 1)
    assert_not_ready(result, "too few independent reporter countries: 1 suggest Austria (AUT)")


# -- rule 6: quiet and old ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "days", "ready"),
    [
        (at(LATER - dt.timedelta(days=180), "23:59:59"), 180, True),
        (at(LATER - dt.timedelta(days=180), "01:00:00", "+02:00"), 181, True),  # 23:00 UTC the day before
        (at(LATER - dt.timedelta(days=179), "00:00:00"), 179, False),  # whole calendar days, not 24 h
        (at(LATER - dt.timedelta(days=180), "23:30:00", "-02:00"), 179, False),  # 01:30 UTC the next day
    ],
)
def test_180_days_without_a_tip_are_needed(campaign_store, received_at, days, ready):
    load_tips(campaign_store, [tip("T1", triage_status="not_actionable", received_at=received_at)])
    result = flag(campaign_store, as_of=LATER)
    assert result["days_since_last_tip"] == days
    assert result["last_tip_on"] == LATER - dt.timedelta(days=days)
    if ready:
        assert_ready(result, "exhausted")
        assert result["reasons"] == f"no tip for {days} days; published 548 days ago"
    else:
        assert_not_ready(result, "recent activity: last tip 179 days ago (180 days of quiet needed)")


@pytest.mark.parametrize(("age", "ready"), [(364, False), (365, True)])
def test_365_days_since_publication_are_needed(campaign_store, age, ready):
    load_tips(campaign_store, [tip("T1", triage_status="off_topic", received_at=at(PUBLISHED))])
    as_of = PUBLISHED + dt.timedelta(days=age)
    for object_id, activity in (("G01", f"no tip for {age} days"), ("G02", "no tips at all")):
        result = flag(campaign_store, object_id, as_of=as_of)
        assert result["days_since_published"] == age
        if ready:
            assert_ready(result, "exhausted")
            assert result["reasons"] == f"{activity}; published 365 days ago"
        else:
            assert_not_ready(result, "published only 364 days ago (365 needed before it counts as exhausted)")


def test_an_object_without_tips_has_no_last_tip(campaign_store):
    result = flag(campaign_store, "G02", as_of=LATER)
    assert result["last_tip_on"] is None and result["days_since_last_tip"] is None
    assert (result["countable_tips"], result["leading_country"], result["leading_share"]) == (0, None, None)
    assert_ready(result, "exhausted")


def test_an_object_not_yet_published_is_not_ready(campaign_store):
    result = flag(campaign_store, "G03", as_of=AS_OF)  # G03 goes public on 2019-03-01
    assert result["days_since_published"] < 0
    assert_not_ready(result, "not yet published on 2017-09-01", outcome="not_published")


# -- the as-of date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "counts"),
    [
        (at(AS_OF, "23:59:59"), True),
        (at(AS_OF, "23:59:59.999"), True),
        (at(AS_OF + dt.timedelta(days=1), "00:00:00"), False),
        (at(AS_OF + dt.timedelta(days=1), "01:30:00", "+02:00"), True),  # 23:30 UTC on the as-of day
        (at(AS_OF, "23:30:00", "-02:00"), False),  # 01:30 UTC the next day
        (f"{AS_OF.isoformat()} 23:59:59", True),  # naive means UTC
    ],
)
def test_only_tips_received_on_or_before_the_as_of_day_utc_count(campaign_store, received_at, counts):
    load_tips(campaign_store, countable("T", ["FR"] * 4) + [tip("T5", triage_status="actionable", received_at=received_at)])
    result = flag(campaign_store)
    assert result["countable_tips"] == (5 if counts else 4)
    assert result["last_tip_on"] == (AS_OF if counts else PUBLISHED)
    assert result["ready"] is counts


def test_tips_after_the_as_of_day_neither_block_nor_count_as_activity(campaign_store):
    after = at(LATER + dt.timedelta(days=1), "00:00:00")
    load_tips(
        campaign_store,
        countable("T", ["FR"] * 5, received_at=at(PUBLISHED + dt.timedelta(days=2)))
        + [tip("N1", triage_status="new", received_at=after), tip("N2", object_id="G02", received_at=after)],
    )
    assert_ready(flag(campaign_store), "origin_established", "FRA")  # N1 not yet received
    assert_ready(flag(campaign_store, "G02", as_of=LATER), "exhausted")  # N2 is no activity yet
    assert_not_ready(flag(campaign_store, "G02", as_of=LATER + dt.timedelta(days=1)), "1 tip still to triage")
    # as of a day before any tip, nothing of them counts
    early = flag(campaign_store, as_of=PUBLISHED + dt.timedelta(days=1))
    assert (early["countable_tips"], early["last_tip_on"]) == (0, None)


# -- re-deliveries --------------------------------------------------------------------------


def test_a_redelivery_from_new_to_actionable_changes_the_flag(campaign_store):
    first = countable("T", ["FR"] * 4) + [tip("T5", triage_status="new")]
    load_tips(campaign_store, first)
    assert_not_ready(flag(campaign_store), "1 tip still to triage")
    # a conflicting re-delivery (received_at differs) is rejected and changes nothing
    conflicting = [tip("T5", triage_status="actionable", received_at=at(PUBLISHED, "11:00:00"))]
    result = load_tips(campaign_store, conflicting, rejected=1)
    assert result.updated == 0
    assert_not_ready(flag(campaign_store), "1 tip still to triage")
    # the intake system triages T5: the same row with the new triage_status
    result = load_tips(campaign_store, first[:4] + [tip("T5", triage_status="actionable")])
    assert (result.updated, result.unchanged) == (1, 4)
    assert_ready(flag(campaign_store), "origin_established", "FRA")


def test_a_conflicting_redelivery_leaves_a_ready_flag_as_it_was(campaign_store):
    load_tips(campaign_store, countable("T", ["FR"] * 5))
    before = flag(campaign_store)
    conflicting = [
        {**row, "suggested_country": "IT", "triage_status": "forwarded"} for row in countable("T", ["FR"] * 3)
    ]
    load_tips(campaign_store, conflicting, rejected=3)
    assert flag(campaign_store) == before


def test_a_redelivery_can_make_a_ready_object_not_ready(campaign_store):
    rows = countable("T", ["FR"] * 5)
    load_tips(campaign_store, rows)
    assert_ready(flag(campaign_store), "origin_established", "FRA")
    load_tips(campaign_store, [{**rows[4], "triage_status": "duplicate"}])
    assert_not_ready(flag(campaign_store), "too few countable tips: 4 of 5 needed")
    load_tips(campaign_store, [{**rows[4], "triage_status": "under_review"}])
    assert_not_ready(flag(campaign_store), "1 tip still to triage")


# -- rule order -----------------------------------------------------------------------------

REGISTER = [
    {"object_id": "C01", "title": "closed one", "status": "closed", "origin_country": "NL"},
    {"object_id": "W01", "title": "withdrawn one", "status": "withdrawn"},
    {"object_id": "I01", "title": "identified one", "status": "identified", "origin_country": "Netherlands"},
    {"object_id": "I02", "title": "identified, no origin", "status": "identified"},
    {"object_id": "O01", "title": "open one", "status": ""},  # empty: open
]


@pytest.fixture(scope="module")
def register_template(tmp_path_factory) -> Path:
    objects = [{"first_published": PUBLISHED.isoformat(), "wave_id": "2017-06", **row} for row in REGISTER]
    return _build(tmp_path_factory.mktemp("register") / "register.duckdb", objects)


@pytest.fixture
def register_store(register_template: Path, db_path: Path):
    """Objects of every status, first published with the 2017-06 wave."""
    yield from _copy(register_template, db_path)


def ready_tips(object_id: str) -> list[dict]:
    """Five countable tips naming France from three countries: rule 4 applies."""
    return countable(f"{object_id}-", ["FR"] * 5, object_id=object_id)


@pytest.mark.parametrize("object_id", ["C01", "W01"])
def test_closed_and_withdrawn_come_first(register_store, object_id):
    load_tips(register_store, ready_tips(object_id) + [tip(f"{object_id}-new", object_id=object_id)])
    result = flag(register_store, object_id)
    status = "closed" if object_id == "C01" else "withdrawn"
    assert_not_ready(result, f"status is {status}", outcome="closed")
    assert result["untriaged_tips"] == 1 and result["countable_tips"] == 5
    assert flag(register_store, object_id, as_of=LATER)["outcome"] == "closed"


def test_untriaged_tips_block_even_an_identified_object(register_store):
    load_tips(register_store, [tip("I1", object_id="I01", triage_status="under_review")])
    assert_not_ready(flag(register_store, "I01"), "1 tip still to triage")
    load_tips(register_store, [tip("I2", object_id="I01", triage_status="new"), tip("I3", object_id="I01", triage_status="")])
    result = flag(register_store, "I01")
    assert result["untriaged_tips"] == 3  # an empty triage_status means new
    assert_not_ready(result, "3 tips still to triage")


@pytest.mark.parametrize("status", ["new", "under_review"])
def test_untriaged_tips_block_an_object_rules_4_to_6_would_close(register_store, status):
    load_tips(register_store, ready_tips("O01") + [tip("U1", object_id="O01", triage_status=status)])
    assert_not_ready(flag(register_store, "O01"), "1 tip still to triage")
    assert_not_ready(flag(register_store, "O01", as_of=LATER), "1 tip still to triage")


def test_an_identified_object_with_an_origin_is_ready_with_that_origin(register_store):
    result = flag(register_store, "I01")  # without any tip
    assert_ready(result, "origin_established", "NLD")
    assert result["reasons"] == "identified by investigators: origin Netherlands (NLD)"
    load_tips(register_store, ready_tips("I01"))  # the tips point to France; the register says NLD
    result = flag(register_store, "I01")
    assert_ready(result, "origin_established", "NLD")
    assert result["leading_country"] == "FRA"


def test_an_identified_object_without_an_origin_falls_through_to_the_tips(register_store):
    assert_not_ready(flag(register_store, "I02"), "too few countable tips: 0 of 5 needed")
    load_tips(register_store, ready_tips("I02"))
    assert_ready(flag(register_store, "I02"), "origin_established", "FRA")


def test_consensus_comes_before_exhaustion(register_store):
    load_tips(register_store, ready_tips("O01"))
    assert_ready(flag(register_store, "O01", as_of=LATER), "origin_established", "FRA")


@pytest.mark.parametrize(
    ("counts", "ready"),
    [
        ({"FR": 5, "IT": 5, "ES": 4, "PT": 3, "NL": 3}, True),  # |C| 20, k 5, s 0.25
        ({"FR": 5, "IT": 4, "ES": 4, "PT": 3, "NL": 3}, False),  # |C| 19
        ({"FR": 5, "IT": 5, "ES": 5, "PT": 5}, False),  # k 4
        ({"FR": 6, "IT": 4, "ES": 4, "PT": 3, "NL": 3}, False),  # s exactly 0.3
        ({"FR": 6, "IT": 5, "ES": 4, "PT": 3, "NL": 3}, True),  # s 6/21 = 0.286
        ({"FR": 3, "IT": 3, "ES": 3, "PT": 3, "NL": 3, "BE": 3, "AT": 2}, True),
    ],
)
def test_widely_distributed_needs_20_tips_5_countries_and_a_leading_share_below_30_percent(
    campaign_store, counts, ready
):
    load_tips(campaign_store, spread("T", counts))
    result = flag(campaign_store)
    assert result["countable_tips"] == sum(counts.values())
    assert result["suggested_countries"] == len(counts)
    if ready:
        assert_ready(result, "widely_distributed", None)
        leader = result["leading_country"]
        assert result["reasons"].startswith(
            f"{sum(counts.values())} countable tips spread over {len(counts)} countries; the leading one, "
                f"{country_name(leader)} ({leader})"
        )
    else:
        assert_not_ready(result, "split consensus")
        # and the same object is exhausted once old and quiet: rule 5 did not apply
        assert_ready(flag(campaign_store, as_of=LATER), "exhausted")


def test_widely_distributed_comes_before_exhaustion(campaign_store):
    load_tips(campaign_store, spread("T", {"FR": 5, "IT": 5, "ES": 4, "PT": 3, "NL": 3}))
    assert_ready(flag(campaign_store, as_of=LATER), "widely_distributed")


# -- reasons --------------------------------------------------------------------------------


def test_reasons_name_what_blocks(campaign_store):
    load_tips(
        campaign_store,
        countable("A", ["FR"] * 2)  # G01: too few tips
        + countable("B", ["FR"] * 5 + ["IT"] * 2 + ["ES"] * 2, object_id="G02"),  # G02: split
    )
    assert_not_ready(flag(campaign_store, "G01"), "too few countable tips: 2 of 5 needed")
    assert_not_ready(flag(campaign_store, "G02"), "split consensus: France 56%, Spain 22%, Italy 22% (60% needed)")
    recent = LATER - dt.timedelta(days=30)
    load_tips(campaign_store, [tip("R1", triage_status="not_actionable", received_at=at(recent))])
    result = flag(campaign_store, "G01", as_of=LATER)
    assert result["reasons"] == (
        "too few countable tips: 2 of 5 needed; recent activity: last tip 30 days ago (180 days of quiet needed)"
    )


# -- configurable thresholds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tips", "as_of", "rules", "outcome"),
    [
        (countable("T", ["FR"] * 4), AS_OF, ClosureRules(min_countable=4), "origin_established"),
        (countable("T", ["FR"] * 5 + ["IT"] * 4), AS_OF, ClosureRules(min_share=0.55), "origin_established"),
        (countable("T", ["FR"] * 5, reporters=("DE", "NL")), AS_OF, ClosureRules(min_reporter_countries=2), "origin_established"),
        (spread("T", {"FR": 5, "IT": 4, "ES": 4, "PT": 3, "NL": 3}), AS_OF, ClosureRules(wide_min_countable=19), "widely_distributed"),
        (spread("T", {"FR": 5, "IT": 5, "ES": 5, "PT": 5}), AS_OF, ClosureRules(wide_min_countries=4), "widely_distributed"),
        (spread("T", {"FR": 6, "IT": 4, "ES": 4, "PT": 3, "NL": 3}), AS_OF, ClosureRules(wide_max_share=0.31), "widely_distributed"),
        (
            [tip("T1", triage_status="duplicate", received_at=at(LATER - dt.timedelta(days=90)))],
            LATER,
            ClosureRules(quiet_days=90),
            "exhausted",
        ),
        ([], PUBLISHED + dt.timedelta(days=30), ClosureRules(min_age_days=30), "exhausted"),
    ],
)
def test_every_threshold_is_configurable(campaign_store, tips, as_of, rules, outcome):
    if tips:
        load_tips(campaign_store, tips)
    assert not flag(campaign_store, as_of=as_of)["ready"]
    assert flag(campaign_store, as_of=as_of, rules=rules)["outcome"] == outcome


def test_stricter_thresholds_hold_a_flag_back(campaign_store):
    load_tips(campaign_store, countable("T", ["FR"] * 5))
    assert_not_ready(flag(campaign_store, rules=ClosureRules(min_countable=6)), "too few countable tips: 5 of 6 needed")
    assert_not_ready(
        flag(campaign_store, rules=ClosureRules(min_reporter_countries=4)), "3 suggest France (FRA), 4 needed"
    )
    assert ClosureRules().with_overrides(min_countable=None, quiet_days=90) == ClosureRules(quiet_days=90)


def test_rules_describe_themselves_with_their_thresholds():
    text = "\n".join(ClosureRules(min_countable=7, quiet_days=90).describe())
    assert "At least 7 countable tips" in text and "60%" in text and "No tip for 90 days" in text


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_from_a_toml_file(tmp_path, campaign_store):
    path = write_rules(tmp_path, "[closure]\nmin_countable = 4\nmin_share = 1\nquiet_days = 90\n")
    rules = read_rules(path)
    assert rules == ClosureRules(min_countable=4, min_share=1.0, quiet_days=90)
    assert isinstance(rules.min_share, float) and isinstance(rules.min_countable, int)
    load_tips(campaign_store, countable("T", ["FR"] * 4))
    assert_ready(flag(campaign_store, rules=rules), "origin_established", "FRA")
    # keys at the top level work too, and whole-number floats are whole numbers
    assert read_rules(write_rules(tmp_path, "min_countable = 4.0\n")) == ClosureRules(min_countable=4)
    assert read_rules(write_rules(tmp_path, "")) == ClosureRules()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[closure]\nmin_tips = 4\n", "unknown setting(s) min_tips"),
        ("[closure]\nmin_countable = 'five'\n", "min_countable must be a non-negative number"),
        ("[closure]\nmin_countable = -1\n", "min_countable must be a non-negative number"),
        ("[closure]\nmin_share = true\n", "min_share must be a non-negative number"),
        ("[closure]\nquiet_days = [180]\n", "quiet_days must be a non-negative number"),
        ("[closure]\nquiet_days = inf\n", "quiet_days must be a non-negative number"),
        ("[closure]\nmin_share = nan\n", "min_share must be a non-negative number"),
        ("[closure]\nmin_countable = 4.5\n", "min_countable must be a whole number"),
        ("[closure]\nmin_share = 60\n", "min_share is a share"),
        ("[closure]\nwide_max_share = 1.5\n", "wide_max_share is a share"),
        ("closure = 5\n", "[closure] must be a table"),
        ("[closure]\nmin_countable = \n", "is not valid TOML"),
        ("[closure\nmin_countable = 4\n", "is not valid TOML"),
        ("\xff\xfe", "is not valid TOML"),
    ],
)
def test_a_bad_rules_file_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "rules.toml"
    path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode("utf-8"))
    with pytest.raises(CaselibError) as error:
        read_rules(path)
    assert message in str(error.value)
    assert "rules.toml" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_rules_file_is_a_clear_error(tmp_path):
    with pytest.raises(CaselibError, match="cannot read the rules file"):
        read_rules(tmp_path / "nope.toml")


# -- the generator's ground truth -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("closure-demo")
    built = build_demo(folder / "demo.duckdb", tips=5000, seed=11, progress=False, enrich=False)
    return built, json.loads((built.files_dir / "truth.json").read_text())


def test_the_flags_recover_the_generators_ground_truth(demo):
    built, truth = demo
    with Store(built.db_path, read_only=True) as store:
        frame = closure_flags(store, as_of=dt.date.fromisoformat(truth["as_of"]))
    assert sorted(frame["object_id"]) == sorted(truth["objects"])
    got, expected = {}, {}
    for row in frame.to_dict(orient="records"):
        entry = truth["objects"][row["object_id"]]
        outcome = entry["expected_outcome"]
        origin = entry["true_origin"] if outcome in ("origin_established", "closed") else None
        ready = outcome not in ("not_ready", "closed")
        got[row["object_id"]] = (row["ready"], row["outcome"], None if _missing(row["origin_country"]) else row["origin_country"])
        expected[row["object_id"]] = (ready, outcome, origin)
    assert got == expected
    # the campaign shows every outcome, so the comparison covers every rule
    assert {outcome for _, outcome, _ in expected.values()} == {
        "closed",
        "not_ready",
        "origin_established",
        "widely_distributed",
        "exhausted",
    }
