"""Object state as of a day (contract v1.1): each rule at and around its edges, on small
campaigns loaded through the real loader into a real DuckDB file.

- rule 0: an object first published after the day is ``not_published`` and counts nowhere;
- a dated status holds from its date (``identified_on``, ``closed_on``), a status without
  its date from ``first_published``; the established origin only while identified;
- workbench decisions (close, reopen, keep open) take effect when recorded: as of any
  earlier day the object stands as it was before (read from the audit chain, also from
  records an older version wrote without ``closed_on``).

Decisions made "today" are recorded with the current UTC time (``caselib.domain.rules.today_utc``).
Decisions recorded on an earlier day are simulated by pointing the audit's clock at that
moment (what ``append`` and ``close_object`` read), so the chain stays valid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import shutil
import types
from pathlib import Path

import pandas as pd
import pytest

from caselib import Store, load_file
from caselib.domain import audit
from caselib.domain.audit import close_object, keep_open, reopen_object, verify
from caselib.domain.closure import closure_flags, evaluate_flags, flag_figures, with_object_state
from caselib.domain.management import attention, closure_pipeline, kpis, object_counts
from caselib.domain.rules import today_utc
from conftest import WAVES, tip, write_csv

PUB = dt.date(2017, 6, 1)  # the campaign's objects are first published with the 2017-06 wave
D = dt.date(2017, 8, 31)  # the as-of day the edges are around (a month end)
REPORTERS = ("DE", "NL", "BE")


def day(offset: int, base: dt.date = D) -> dt.date:
    return base + dt.timedelta(days=offset)


def obj(object_id: str, *, published: dt.date = PUB, status: str = "", origin: str = "",
        identified_on: dt.date | None = None, closed_on: dt.date | None = None) -> dict:
    return {
        "object_id": object_id,
        "title": f"object {object_id}",
        "first_published": published.isoformat(),
        "wave_id": "2017-06" if published < dt.date(2019, 3, 1) else "2019-03",
        "status": status,
        "origin_country": origin,
        "identified_on": "" if identified_on is None else identified_on.isoformat(),
        "closed_on": "" if closed_on is None else closed_on.isoformat(),
    }


# The register: every kind of dated and undated status around D.
REGISTER = [
    obj("OPEN"),
    obj("PUB_D", published=D),
    obj("PUB_D1", published=day(1)),
    obj("ID_M1", status="identified", origin="NL", identified_on=day(-1)),
    obj("ID_0", status="identified", origin="NL", identified_on=D),
    obj("ID_P1", status="identified", origin="NL", identified_on=day(1)),
    obj("CL_M1", status="closed", closed_on=day(-1)),
    obj("CL_0", status="closed", closed_on=D),
    obj("CL_P1", status="closed", closed_on=day(1)),
    obj("WD_M1", status="withdrawn", closed_on=day(-1)),
    obj("WD_0", status="withdrawn", closed_on=D),
    obj("WD_P1", status="withdrawn", closed_on=day(1)),
    obj("IC", status="closed", origin="NL", identified_on=day(-10), closed_on=day(1)),
    obj("IC_SAME", status="closed", origin="NL", identified_on=D, closed_on=D),
    obj("IW", status="withdrawn", origin="NL", identified_on=D, closed_on=day(1)),
    obj("ID_ND", status="identified", origin="NL"),
    obj("CL_ND", status="closed"),
    obj("WD_ND", status="withdrawn"),
    obj("ID_ND_LATE", published=day(1), status="identified", origin="NL"),
    obj("CL_ND_LATE", published=day(1), status="closed"),
]
ALL_IDS = sorted(row["object_id"] for row in REGISTER)

_files = iter(range(1, 10_000))


# -- fixtures and helpers ---------------------------------------------------------------------


def _build(path: Path, objects: list[dict]) -> Path:
    with Store(path) as store:
        load_file(store, "waves", write_csv(path.parent / "waves.csv", WAVES), progress=False)
        result = load_file(store, "objects", write_csv(path.parent / "objects.csv", objects), progress=False)
        assert (result.inserted, result.rejected) == (len(objects), 0), result.summary()
    return path


def _copy(template: Path, db_path: Path):
    shutil.copyfile(template, db_path)
    store = Store(db_path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def register_template(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("state") / "register.duckdb", REGISTER)


@pytest.fixture
def store(register_template: Path, db_path: Path):
    """The register above (through the real loader), built once per module, copied per test."""
    yield from _copy(register_template, db_path)


def load_tips(store: Store, rows: list[dict], *, rejected: int = 0):
    path = write_csv(store.path.parent / f"tips-{next(_files)}.csv", rows)
    result = load_file(store, "tips", path, progress=False)
    assert result.rejected == rejected, result.summary()
    return result


def at(moment: dt.date, clock: str = "10:00:00") -> str:
    return f"{moment.isoformat()}T{clock}Z"


def ready_tips(object_id: str, received: dt.date, status: str = "actionable") -> list[dict]:
    """Five countable tips naming France from three reporter countries: rule 4 applies."""
    return [
        tip(f"{object_id}-{i}", object_id=object_id, triage_status=status, suggested_country="FR",
            reporter_country=REPORTERS[(i - 1) % 3], received_at=at(received))
        for i in range(1, 6)
    ]


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def flag(store: Store, object_id: str, as_of: dt.date) -> dict:
    frame = closure_flags(store, as_of=as_of)
    row = frame.set_index("object_id").loc[object_id].to_dict()
    return {key: None if _missing(value) else value for key, value in row.items()}


def brief(store: Store, object_id: str, as_of: dt.date) -> tuple:
    """(status, ready, outcome, origin_country) of one object's flag."""
    f = flag(store, object_id, as_of)
    return f["status"], f["ready"], f["outcome"], f["origin_country"]


def state(store: Store, object_id: str, as_of: dt.date) -> dict:
    """The object's row of ``objects_as_of(as_of)`` (sql/rules/campaign.sql)."""
    names = ["status", "published", "identified", "identified_on", "closed_on", "established_origin"]
    rows = store.rows(
        f"SELECT {', '.join(names)} FROM objects_as_of($day) WHERE object_id = $id", {"day": as_of, "id": object_id}
    )
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def statuses(store: Store, object_id: str, days: list[dt.date]) -> list[str]:
    """The object's status on each of ``days`` (object_states over all of them at once)."""
    rows = store.rows(
        "SELECT as_of, status FROM object_states($days) WHERE object_id = $id ORDER BY as_of",
        {"days": days, "id": object_id},
    )
    by_day = dict(rows)
    return [by_day[d] for d in days]


def set_row(store: Store, object_id: str, status: str, closed_on: dt.date | None) -> None:
    store.execute(
        "UPDATE objects SET status = $status, closed_on = $closed WHERE object_id = $id",
        {"status": status, "closed": closed_on, "id": object_id},
    )


def snapshot(store: Store, days) -> dict:
    """Figures, flags, KPIs and attention list on each day: what a later decision must not change."""
    out = {}
    for d in days:
        out[d] = (
            flag_figures(store, as_of=d),
            closure_flags(store, as_of=d),
            kpis(store, as_of=d).as_dict(),
            attention(store, as_of=d, limit=None),
        )
    return out


def assert_same(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for d in before:
        (fig_a, flags_a, kpis_a, att_a), (fig_b, flags_b, kpis_b, att_b) = before[d], after[d]
        pd.testing.assert_frame_equal(fig_a, fig_b, obj=f"flag_figures as of {d}")
        pd.testing.assert_frame_equal(flags_a, flags_b, obj=f"closure_flags as of {d}")
        assert kpis_a == kpis_b, f"kpis as of {d}"
        pd.testing.assert_frame_equal(att_a, att_b, obj=f"attention as of {d}")


class _Clock(dt.datetime):
    moment: dt.datetime

    @classmethod
    def now(cls, tz=None):
        return cls.moment.replace(tzinfo=tz) if tz is not None else cls.moment


@contextlib.contextmanager
def recorded_at(monkeypatch, moment: dt.datetime):
    """Audit records written inside are recorded at ``moment`` (naive UTC), as a decision made
    then would have been; close_object's closed_on is that moment's day."""
    clock = type("Clock", (_Clock,), {"moment": moment})
    with monkeypatch.context() as patch:
        patch.setattr(audit, "dt", types.SimpleNamespace(datetime=clock, date=dt.date, UTC=dt.UTC))
        patch.setattr(audit, "today_utc", lambda: moment.date())
        yield


def midday(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(12, 0))


def legacy(store: Store, action: str, object_id: str, previous: str, status: str):
    """An audit record as an older version wrote it: no previous_closed_on / closed_on."""
    payload = {"reason": "written by an older version", "previous_status": previous, "status": status}
    if action == "close":
        payload["outcome"] = "exhausted"
    return audit.append(store, action=action, object_id=object_id, payload=payload, actor="old-version")


# -- rule 0: not yet published ----------------------------------------------------------------


def test_published_the_day_after_is_not_published_and_the_day_of_is_evaluated(store):
    late = flag(store, "PUB_D1", D)
    assert (late["status"], late["ready"], late["outcome"], late["origin_country"]) == (
        "not_published", False, "not_published", None)
    assert late["reasons"] == "not yet published on 2017-08-31 (first published 2017-09-01)"
    on_the_day = flag(store, "PUB_D", D)
    assert (on_the_day["status"], on_the_day["ready"], on_the_day["outcome"]) == ("open", False, "not_ready")
    assert on_the_day["days_since_published"] == 0
    assert on_the_day["reasons"] == (
        "too few countable tips: 0 of 5 needed; published only 0 days ago (365 needed before it counts as exhausted)"
    )
    assert brief(store, "PUB_D", day(-1)) == ("not_published", False, "not_published", None)
    # the day after, PUB_D1 is evaluated like any open object on its first day
    assert brief(store, "PUB_D1", day(1)) == ("open", False, "not_ready", None)
    assert flag(store, "PUB_D1", day(1))["days_since_published"] == 0
    assert state(store, "PUB_D1", D) == {
        "status": "not_published", "published": False, "identified": False,
        "identified_on": None, "closed_on": None, "established_origin": None,
    }


def test_not_published_comes_before_every_other_rule(store):
    # tips received before publication: untriaged ones on PUB_D1, a ready set on ID_ND_LATE
    load_tips(store, [tip("EARLY-1", object_id="PUB_D1", received_at=at(day(-3)))]
              + ready_tips("CL_ND_LATE", day(-5)) + ready_tips("ID_ND_LATE", day(-5)))
    for object_id in ("PUB_D1", "ID_ND_LATE", "CL_ND_LATE"):
        assert brief(store, object_id, D) == ("not_published", False, "not_published", None), object_id
    assert flag(store, "PUB_D1", D)["reasons"] == "not yet published on 2017-08-31 (first published 2017-09-01)"
    assert "PUB_D1" not in set(attention(store, as_of=D, limit=None)["object_id"])
    # published the next day: the rules apply again in their order
    after = flag(store, "PUB_D1", day(1))
    assert (after["outcome"], after["reasons"]) == ("not_ready", "1 tip still to triage")
    assert "PUB_D1" in set(attention(store, as_of=day(1), limit=None)["object_id"])
    assert brief(store, "ID_ND_LATE", day(1)) == ("identified", True, "origin_established", "NLD")
    assert brief(store, "CL_ND_LATE", day(1)) == ("closed", False, "closed", None)


NOT_YET = [
    obj("LIVE"),  # published, open, young: not ready
    obj("N_OPEN", published=day(1)),
    obj("N_ID", published=day(1), status="identified", origin="NL"),  # identified, no date
    obj("N_ID_DATED", published=day(1), status="identified", origin="NL", identified_on=D),
    obj("N_CLOSED", published=day(1), status="closed"),  # closed, no date
    obj("N_CLOSED_DATED", published=day(1), status="closed", closed_on=day(-5)),
    obj("N_WITHDRAWN", published=day(1), status="withdrawn", closed_on=D),
]


@pytest.fixture(scope="module")
def not_yet_template(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("not-yet") / "not-yet.duckdb", NOT_YET)


@pytest.fixture
def not_yet_store(not_yet_template: Path, db_path: Path):
    yield from _copy(not_yet_template, db_path)


def test_a_not_published_object_counts_in_no_figure(not_yet_store):
    store = not_yet_store
    # dated statuses (even dates on or before D) do not make an unpublished object count
    load_tips(store, [tip("N-1", object_id="N_OPEN", received_at=at(D), triage_status="new")])
    numbers = kpis(store, as_of=D)
    assert (numbers.objects_published, numbers.objects_open, numbers.objects_ready, numbers.objects_closed,
            numbers.objects_identified) == (1, 1, 0, 0, 0)
    assert numbers.share_identified == 0.0
    assert numbers.median_days_to_identification is None
    assert numbers.by_outcome == {"closed": 0, "not_ready": 1, "origin_established": 0,
                                  "widely_distributed": 0, "exhausted": 0}
    flags = closure_flags(store, as_of=D)
    assert dict(zip(flags["object_id"], flags["outcome"], strict=True)) == {
        "LIVE": "not_ready", **{row["object_id"]: "not_published" for row in NOT_YET[1:]}}
    assert object_counts(flags)["identified_now"] == 0
    pipeline = closure_pipeline(store, as_of=D)
    assert list(pipeline[["published", "identified", "closed"]].itertuples(index=False, name=None)) == [(1, 0, 0)] * 3
    assert [pd.Timestamp(v).date() for v in pipeline["month_end"]] == [dt.date(2017, 6, 30), dt.date(2017, 7, 31), D]
    assert list(attention(store, as_of=D, limit=None)["object_id"]) == []
    # the next day all of them are published, with their statuses
    numbers = kpis(store, as_of=day(1))
    assert (numbers.objects_published, numbers.objects_open, numbers.objects_ready, numbers.objects_closed,
            numbers.objects_identified) == (7, 2, 2, 3, 2)
    assert numbers.by_outcome == {"closed": 3, "not_ready": 2, "origin_established": 2,
                                  "widely_distributed": 0, "exhausted": 0}
    pipeline = closure_pipeline(store, as_of=day(1))
    assert list(pipeline[["published", "identified", "closed"]].itertuples(index=False, name=None)) == [
        (1, 0, 0), (1, 0, 0), (1, 0, 0), (7, 2, 3)]
    # and before the first publication there is no pipeline at all
    assert closure_pipeline(store, as_of=day(-1, PUB)).empty
    assert kpis(store, as_of=day(-1, PUB)).objects_published == 0


# -- identified from identified_on ------------------------------------------------------------


@pytest.mark.parametrize(("object_id", "identified_on"), [("ID_M1", day(-1)), ("ID_0", D)])
def test_identified_holds_from_identified_on(store, object_id, identified_on):
    result = flag(store, object_id, D)
    assert (result["status"], result["ready"], result["outcome"], result["origin_country"]) == (
        "identified", True, "origin_established", "NLD")
    assert result["reasons"] == "identified by investigators: origin Netherlands (NLD)"
    assert state(store, object_id, D) == {
        "status": "identified", "published": True, "identified": True,
        "identified_on": identified_on, "closed_on": None, "established_origin": "NLD",
    }


def test_before_identified_on_the_object_is_open_and_its_origin_not_reported(store):
    result = flag(store, "ID_P1", D)
    assert (result["status"], result["ready"], result["outcome"], result["origin_country"]) == (
        "open", False, "not_ready", None)
    assert result["reasons"] == "too few countable tips: 0 of 5 needed; published only 91 days ago (365 needed before it counts as exhausted)"
    assert state(store, "ID_P1", D) == {
        "status": "open", "published": True, "identified": False,
        "identified_on": None, "closed_on": None, "established_origin": None,
    }
    assert brief(store, "ID_P1", day(1)) == ("identified", True, "origin_established", "NLD")
    assert state(store, "ID_P1", day(1))["established_origin"] == "NLD"


def test_before_identified_on_the_tips_rules_apply(store):
    load_tips(store, ready_tips("ID_P1", day(-20)))
    # the tips point to France; the register's origin (NL) counts only from identified_on
    assert brief(store, "ID_P1", D) == ("open", True, "origin_established", "FRA")
    assert brief(store, "ID_P1", day(1)) == ("identified", True, "origin_established", "NLD")
    assert brief(store, "ID_0", D) == ("identified", True, "origin_established", "NLD")
    # an untriaged tip blocks both (rule 2 before rule 3)
    load_tips(store, [tip("ID_P1-new", object_id="ID_P1", received_at=at(day(-2)))])
    assert flag(store, "ID_P1", D)["reasons"] == "1 tip still to triage"
    assert brief(store, "ID_P1", day(1)) == ("identified", False, "not_ready", None)


def test_identification_counts_in_the_kpis_from_identified_on(store):
    # identified as of D: ID_M1, ID_0, IC (identified D-10), IC_SAME, IW (identified D), ID_ND
    before, on = kpis(store, as_of=day(-1)), kpis(store, as_of=D)
    assert on.objects_identified == 6
    assert before.objects_identified == 3  # ID_M1, IC, ID_ND
    # the next day: + ID_P1 (identified_on D+1) and ID_ND_LATE (published D+1, identified without a date)
    assert kpis(store, as_of=day(1)).objects_identified == 8
    # days from publication to identification over the dated ones: 90 (ID_M1), 81 (IC)
    assert before.median_days_to_identification == 85.5


# -- closed and withdrawn from closed_on ------------------------------------------------------


@pytest.mark.parametrize("status", ["closed", "withdrawn"])
@pytest.mark.parametrize(("offset", "expected"), [(-1, "closed"), (0, "closed"), (1, "open")])
def test_closed_and_withdrawn_hold_from_closed_on(store, status, offset, expected):
    object_id = {"closed": "CL", "withdrawn": "WD"}[status] + {-1: "_M1", 0: "_0", 1: "_P1"}[offset]
    result = flag(store, object_id, D)
    if expected == "closed":
        assert (result["status"], result["ready"], result["outcome"]) == (status, False, "closed")
        assert result["reasons"] == f"status is {status}"
        assert state(store, object_id, D)["closed_on"] == day(offset)
    else:
        assert (result["status"], result["ready"], result["outcome"], result["origin_country"]) == (
            "open", False, "not_ready", None)
        assert state(store, object_id, D)["closed_on"] is None
        assert brief(store, object_id, day(1)) == (status, False, "closed", None)
    # the day before its closed_on every one of them was open
    assert brief(store, object_id, day(offset - 1)) == ("open", False, "not_ready", None)


def test_identified_until_closed(store):
    days = [day(-11), day(-10), D, day(1)]
    # (a closed flag's origin column is left out: the contract does not say what it shows)
    assert [brief(store, "IC", d)[:3] for d in days] == [
        ("open", False, "not_ready"),
        ("identified", True, "origin_established"),
        ("identified", True, "origin_established"),
        ("closed", False, "closed"),
    ]
    assert [brief(store, "IC", d)[3] for d in days[:3]] == [None, "NLD", "NLD"]
    assert [state(store, "IC", d)["established_origin"] for d in days[:3]] == [None, "NLD", "NLD"]
    assert statuses(store, "IC", days) == ["open", "identified", "identified", "closed"]
    assert [brief(store, "IW", d)[:3] for d in (day(-1), D, day(1))] == [
        ("open", False, "not_ready"), ("identified", True, "origin_established"), ("withdrawn", False, "closed")]
    # identified and closed on the same day: closed that day, open before
    assert [brief(store, "IC_SAME", d)[:3] for d in (day(-1), D)] == [
        ("open", False, "not_ready"), ("closed", False, "closed")]
    # the identification is counted as such before and after the closure
    assert (state(store, "IC", D)["identified"], state(store, "IC", day(1))["identified"]) == (True, True)
    assert state(store, "IC", day(-11))["identified"] is False


def test_a_status_without_its_date_holds_from_first_published(store):
    before, first = day(-1, PUB), PUB
    for object_id in ("ID_ND", "CL_ND", "WD_ND"):
        assert brief(store, object_id, before) == ("not_published", False, "not_published", None), object_id
        assert state(store, object_id, before)["identified"] is False
    assert brief(store, "ID_ND", first) == ("identified", True, "origin_established", "NLD")
    assert brief(store, "CL_ND", first)[:3] == ("closed", False, "closed")
    assert brief(store, "WD_ND", first)[:3] == ("withdrawn", False, "closed")
    # published later, the status holds from that later day, not before
    for object_id in ("ID_ND_LATE", "CL_ND_LATE"):
        assert brief(store, object_id, D)[:3] == ("not_published", False, "not_published"), object_id
    assert brief(store, "ID_ND_LATE", day(1)) == ("identified", True, "origin_established", "NLD")
    assert brief(store, "CL_ND_LATE", day(1))[:3] == ("closed", False, "closed")
    assert statuses(store, "ID_ND_LATE", [D, day(1)]) == ["not_published", "identified"]


# -- workbench decisions made today -----------------------------------------------------------


@pytest.mark.parametrize(("outcome", "status"), [("origin_established", "closed"), ("withdrawn", "withdrawn")])
def test_a_close_today_takes_effect_today_and_leaves_yesterday_as_it_was(store, outcome, status):
    today = today_utc()
    yesterday = day(-1, today)
    load_tips(store, ready_tips("OPEN", day(-30, today)))
    assert brief(store, "OPEN", yesterday) == ("open", True, "origin_established", "FRA")
    days = [D, day(-30, today), yesterday]
    before = snapshot(store, days)
    kpis_today = kpis(store, as_of=today)
    close_object(store, "OPEN", outcome=outcome, reason="police confirmed the shop", by="ana")
    assert_same(before, snapshot(store, days))
    assert brief(store, "OPEN", yesterday) == ("open", True, "origin_established", "FRA")
    result = flag(store, "OPEN", today)
    assert (result["status"], result["ready"], result["outcome"], result["reasons"]) == (
        status, False, "closed", f"status is {status}")
    after = kpis(store, as_of=today)
    assert (after.objects_closed, after.objects_ready, after.objects_open) == (
        kpis_today.objects_closed + 1, kpis_today.objects_ready - 1, kpis_today.objects_open - 1)
    assert store.rows("SELECT object_id, action, old_status, new_status, old_closed_on, new_closed_on "
                      "FROM object_decisions()") == [("OPEN", "close", "open", status, None, today)]


def test_closing_an_identified_object_today(store):
    today = today_utc()
    yesterday = day(-1, today)
    before = snapshot(store, [D, yesterday])
    close_object(store, "ID_M1", outcome="origin_established", reason="confirmed", by="ana")
    assert_same(before, snapshot(store, [D, yesterday]))
    assert brief(store, "ID_M1", yesterday) == ("identified", True, "origin_established", "NLD")
    assert brief(store, "ID_M1", today)[:3] == ("closed", False, "closed")
    assert state(store, "ID_M1", today)["identified"] is True
    assert state(store, "ID_M1", today)["closed_on"] == today


@pytest.mark.parametrize(("object_id", "closed_from"), [("CL_M1", day(-1)), ("WD_0", D), ("CL_ND", PUB)])
def test_a_reopen_today_of_an_object_the_register_closed(store, object_id, closed_from):
    today = today_utc()
    yesterday = day(-1, today)
    status = "withdrawn" if object_id.startswith("WD") else "closed"
    days = [day(-1, closed_from), closed_from, D, yesterday]
    before = snapshot(store, days)
    assert brief(store, object_id, today)[:3] == (status, False, "closed")
    reopen_object(store, object_id, reason="new tips came in", by="ben")
    assert_same(before, snapshot(store, days))
    assert brief(store, object_id, yesterday)[:3] == (status, False, "closed")
    assert brief(store, object_id, closed_from)[:3] == (status, False, "closed")
    expected_before = "not_published" if closed_from == PUB else "open"
    assert brief(store, object_id, day(-1, closed_from))[0] == expected_before
    # today it is open: old and quiet, so exhausted
    assert brief(store, object_id, today) == ("open", True, "exhausted", None)


def test_a_close_and_a_reopen_today_leave_yesterday_as_it_was(store):
    today = today_utc()
    yesterday = day(-1, today)
    load_tips(store, ready_tips("OPEN", day(-30, today)))
    before = snapshot(store, [D, yesterday])
    close_object(store, "OPEN", outcome="origin_established", reason="confirmed", by="ana")
    assert brief(store, "OPEN", today)[:3] == ("closed", False, "closed")
    reopen_object(store, "OPEN", reason="the shop was the wrong one", by="ben")
    assert_same(before, snapshot(store, [D, yesterday]))
    assert brief(store, "OPEN", yesterday) == ("open", True, "origin_established", "FRA")
    assert brief(store, "OPEN", today) == ("open", True, "origin_established", "FRA")
    assert verify(store).ok


def test_keep_open_changes_no_state_on_any_day(store):
    today = today_utc()
    days = [day(-1, PUB), D, day(1), day(-1, today), today]
    load_tips(store, ready_tips("OPEN", day(-30, today)))
    before = snapshot(store, days)
    keep_open(store, "OPEN", reason="the shop is not confirmed yet", by="ana")
    keep_open(store, "ID_M1", reason="waiting for the police", by="ana")
    assert_same(before, snapshot(store, days))
    assert store.scalar("SELECT count(*) FROM object_decisions()") == 0
    assert store.scalar("SELECT count(*) FROM audit_log WHERE action = 'keep_open'") == 2


def test_with_object_state_reads_a_decision_only_from_its_day(store):
    today = today_utc()
    yesterday = day(-1, today)
    load_tips(store, ready_tips("OPEN", day(-30, today)))
    figures_yesterday = flag_figures(store, as_of=yesterday)
    figures_today = flag_figures(store, as_of=today)
    close_object(store, "OPEN", outcome="origin_established", reason="confirmed", by="ana")
    kept = with_object_state(store, figures_yesterday, "OPEN", as_of=yesterday)
    pd.testing.assert_frame_equal(kept, figures_yesterday)
    changed = evaluate_flags(with_object_state(store, figures_today, "OPEN", as_of=today), as_of=today)
    pd.testing.assert_frame_equal(changed, closure_flags(store, as_of=today))
    assert changed.set_index("object_id").at["OPEN", "outcome"] == "closed"


# -- decisions recorded on earlier days -------------------------------------------------------


def test_a_reopen_today_of_an_object_closed_by_an_earlier_close(store, monkeypatch):
    today = today_utc()
    closed_day = day(-10, today)
    with recorded_at(monkeypatch, midday(closed_day)):
        close_object(store, "OPEN", outcome="exhausted", reason="no new leads", by="ana")
    assert store.rows("SELECT closed_on FROM objects WHERE object_id = 'OPEN'") == [(closed_day,)]
    days = [day(-1, closed_day), closed_day, day(-1, today)]
    before = snapshot(store, days)
    assert statuses(store, "OPEN", days + [today]) == ["open", "closed", "closed", "closed"]
    reopen_object(store, "OPEN", reason="new tips came in", by="ben")
    assert_same(before, snapshot(store, days))
    assert statuses(store, "OPEN", days + [today]) == ["open", "closed", "closed", "open"]
    assert brief(store, "OPEN", day(-1, today))[:3] == ("closed", False, "closed")
    assert brief(store, "OPEN", today) == ("open", True, "exhausted", None)
    assert verify(store).ok


@pytest.mark.parametrize(
    ("moment", "first_closed_day"),
    [
        (dt.datetime(2017, 9, 10, 0, 0, 0), dt.date(2017, 9, 10)),  # midnight belongs to the new day
        (dt.datetime(2017, 9, 9, 23, 59, 59, 999999), dt.date(2017, 9, 9)),
    ],
)
def test_a_decision_takes_effect_from_the_moment_it_was_recorded(store, monkeypatch, moment, first_closed_day):
    with recorded_at(monkeypatch, moment):
        close_object(store, "OPEN", outcome="exhausted", reason="quiet", by="ana")
    days = [day(-1, first_closed_day), first_closed_day, day(1, first_closed_day)]
    assert statuses(store, "OPEN", days) == ["open", "closed", "closed"]
    assert brief(store, "OPEN", days[0]) == ("open", False, "not_ready", None)
    assert brief(store, "OPEN", days[1])[:3] == ("closed", False, "closed")
    with recorded_at(monkeypatch, moment + dt.timedelta(days=3)):
        reopen_object(store, "OPEN", reason="again", by="ana")
    reopened = day(3, first_closed_day)
    assert statuses(store, "OPEN", [day(-1, reopened), reopened]) == ["closed", "open"]


# -- records written by an older version (no closed_on in the payload) ------------------------


@pytest.mark.parametrize("row_closed_on", ["recorded day", None])
def test_an_old_close_takes_effect_on_its_recorded_day(store, row_closed_on):
    today = today_utc()
    yesterday = day(-1, today)
    days = [D, yesterday]
    before = snapshot(store, days)
    assert brief(store, "OPEN", yesterday) == ("open", True, "exhausted", None)
    with store.transaction():
        legacy(store, "close", "OPEN", "open", "closed")
        set_row(store, "OPEN", "closed", today if row_closed_on else None)
    assert store.rows("SELECT old_status, new_status, old_closed_on, new_closed_on FROM object_decisions()") == [
        ("open", "closed", None, today)]
    assert_same(before, snapshot(store, days))
    assert brief(store, "OPEN", today)[:3] == ("closed", False, "closed")


@pytest.mark.parametrize("row_closed_on", ["recorded day", None])
def test_an_old_close_on_an_earlier_day(store, monkeypatch, row_closed_on):
    closed_day = dt.date(2019, 1, 10)
    with recorded_at(monkeypatch, midday(closed_day)), store.transaction():
        legacy(store, "close", "OPEN", "open", "closed")
        set_row(store, "OPEN", "closed", closed_day if row_closed_on else None)
    assert statuses(store, "OPEN", [day(-1, closed_day), closed_day, day(1, closed_day)]) == ["open", "closed", "closed"]
    assert brief(store, "OPEN", day(-1, closed_day)) == ("open", True, "exhausted", None)


def test_an_old_reopen_restores_the_closed_on_of_the_last_close(store, monkeypatch):
    today = today_utc()
    first_close, first_reopen, second_close = day(-20, today), day(-15, today), day(-10, today)
    for moment, action, previous, status, closed_on in [
        (first_close, "close", "open", "closed", first_close),
        (first_reopen, "reopen", "closed", "open", None),
        (second_close, "close", "open", "closed", second_close),
    ]:
        with recorded_at(monkeypatch, midday(moment)), store.transaction():
            legacy(store, action, "OPEN", previous, status)
            set_row(store, "OPEN", status, closed_on)
    days = [day(-21, today), first_close, day(-16, today), first_reopen, day(-11, today), second_close,
            day(-1, today), today]
    timeline = ["open", "closed", "closed", "open", "open", "closed", "closed", "closed"]
    assert statuses(store, "OPEN", days) == timeline
    before = snapshot(store, days[:-1])
    with store.transaction():  # reopened today, by the older version
        legacy(store, "reopen", "OPEN", "closed", "open")
        set_row(store, "OPEN", "open", None)
    assert statuses(store, "OPEN", days) == timeline[:-1] + ["open"]
    assert [row[0] for row in store.rows("SELECT old_closed_on FROM object_decisions() ORDER BY seq")] == [
        None, first_close, None, second_close]
    assert_same(before, snapshot(store, days[:-1]))
    assert brief(store, "OPEN", day(-1, today))[:3] == ("closed", False, "closed")
    assert brief(store, "OPEN", today) == ("open", True, "exhausted", None)
    assert verify(store).ok


def test_an_old_reopen_after_the_register_closed_the_object_again(store, monkeypatch):
    """Closed in the workbench, reopened, then closed by a register re-export (closed_on dated),
    and reopened today, the two decisions written by an older version: before today's reopen
    the object stood closed from the register's closed_on, and open between the first reopen
    and that day."""
    today = today_utc()
    first_close, first_reopen, register_closed = day(-30, today), day(-20, today), day(-10, today)
    for moment, action, previous, status, closed_on in [
        (first_close, "close", "open", "closed", first_close),
        (first_reopen, "reopen", "closed", "open", None),
    ]:
        with recorded_at(monkeypatch, midday(moment)), store.transaction():
            legacy(store, action, "OPEN", previous, status)
            set_row(store, "OPEN", status, closed_on)
    reexport = [{**row, "status": "closed", "closed_on": register_closed.isoformat()} for row in REGISTER
                if row["object_id"] == "OPEN"]
    result = load_file(store, "objects", write_csv(store.path.parent / "reexport.csv", reexport), progress=False)
    assert result.updated == 1, result.summary()
    days = [day(-25, today), day(-15, today), register_closed, day(-1, today)]
    assert statuses(store, "OPEN", days + [today]) == ["closed", "open", "closed", "closed", "closed"]
    with store.transaction():  # reopened today, by the older version
        legacy(store, "reopen", "OPEN", "closed", "open")
        set_row(store, "OPEN", "open", None)
    assert statuses(store, "OPEN", days + [today]) == ["closed", "open", "closed", "closed", "open"]


def test_old_and_new_records_give_the_same_days(store, monkeypatch, tmp_path):
    """The same decisions written by the older and by this version read alike on every day."""
    today = today_utc()
    steps = [(day(-20, today), "close"), (day(-15, today), "reopen"), (day(-10, today), "close"), (today, "reopen")]
    days = [day(n, today) for n in range(-22, 1)]
    other_path = tmp_path / "other.duckdb"
    shutil.copyfile(store.path, other_path)
    with Store(other_path) as other:
        for moment, action in steps:
            with recorded_at(monkeypatch, midday(moment)):
                if action == "close":
                    close_object(other, "OPEN", outcome="exhausted", reason="quiet", by="ana")
                else:
                    reopen_object(other, "OPEN", reason="new tips", by="ana")
        new_way = statuses(other, "OPEN", days)
    for moment, action in steps:
        with recorded_at(monkeypatch, midday(moment)), store.transaction():
            if action == "close":
                legacy(store, "close", "OPEN", "open", "closed")
                set_row(store, "OPEN", "closed", moment)
            else:
                legacy(store, "reopen", "OPEN", "closed", "open")
                set_row(store, "OPEN", "open", None)
    assert statuses(store, "OPEN", days) == new_way
    assert new_way == ["open"] * 2 + ["closed"] * 5 + ["open"] * 5 + ["closed"] * 10 + ["open"]


# -- invariants over days ---------------------------------------------------------------------


def test_invariants_over_several_days(store, monkeypatch):
    today = today_utc()
    load_tips(
        store,
        ready_tips("OPEN", day(-40))
        + ready_tips("ID_P1", day(-20))
        + [tip("U-1", object_id="PUB_D", received_at=at(day(3)))]
        + [tip("U-2", object_id="CL_P1", received_at=at(day(-5)), triage_status="under_review")],
    )
    with recorded_at(monkeypatch, midday(day(45))):
        close_object(store, "OPEN", outcome="origin_established", reason="confirmed", by="ana")
        reopen_object(store, "CL_M1", reason="a new lead", by="ana")
    close_object(store, "ID_M1", outcome="origin_established", reason="confirmed", by="ana")
    reopen_object(store, "CL_ND", reason="a new lead", by="ana")
    days = sorted({day(-1, PUB), PUB, dt.date(2017, 6, 30), dt.date(2017, 7, 31), day(-11), day(-10), day(-1), D,
                   day(1), day(2), day(45), dt.date(2017, 10, 31), day(365, PUB), day(-1, today), today})
    for d in days:
        flags = closure_flags(store, as_of=d)
        counts = object_counts(flags)
        numbers = kpis(store, as_of=d, flags=flags)
        unpublished = sum(dt.date.fromisoformat(row["first_published"]) > d for row in REGISTER)
        assert counts["published"] == len(REGISTER) - unpublished == numbers.objects_published, d
        assert (flags["outcome"] == "not_published").sum() == unpublished, d
        assert numbers.objects_ready <= numbers.objects_published - numbers.objects_closed, d
        assert sum(numbers.by_outcome.values()) == numbers.objects_published, d
        assert numbers.by_outcome["closed"] == numbers.objects_closed, d
        assert counts["open"] + counts["identified_now"] + counts["closed"] == counts["published"], d
        assert numbers.objects_identified >= counts["identified_now"], d
        assert not flags.loc[flags["outcome"] == "not_published", "ready"].any(), d
        # the ready ones are exactly those with a ready outcome
        assert set(flags.loc[flags["ready"], "outcome"]) <= {"origin_established", "widely_distributed", "exhausted"}
        # the multi-day macro and the one-day macro agree
        one = store.rows("SELECT object_id, status, identified, established_origin FROM objects_as_of($d) ORDER BY 1",
                         {"d": d})
        many = store.rows("SELECT object_id, status, identified, established_origin FROM object_states($days) "
                          "WHERE as_of = $d ORDER BY 1", {"days": days, "d": d})
        assert one == many, d
    pipeline = closure_pipeline(store, as_of=today)
    ends = [pd.Timestamp(v).date() for v in pipeline["month_end"]]
    assert ends[0] == dt.date(2017, 6, 30) and ends[-1] == today
    for end in ends[:4] + ends[-3:]:
        row = pipeline.iloc[ends.index(end)]
        numbers = kpis(store, as_of=end)
        assert (int(row["published"]), int(row["identified"]), int(row["closed"])) == (
            numbers.objects_published, numbers.objects_identified, numbers.objects_closed), end
    # a pipeline cut at D ends at D with D's figures, and its months match the longer one
    short = closure_pipeline(store, as_of=D)
    assert [pd.Timestamp(v).date() for v in short["month_end"]] == [dt.date(2017, 6, 30), dt.date(2017, 7, 31), D]
    pd.testing.assert_frame_equal(short, pipeline.head(3))
    assert int(short.iloc[-1]["published"]) == kpis(store, as_of=D).objects_published == len(REGISTER) - 3
