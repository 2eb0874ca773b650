"""Figures agree on every surface, as of any day (issue: one definition per campaign rule).

On the demo campaign and on campaigns generated with other seeds and waves, for as-of days
before any publication, the day before each wave's launch, a launch day and today, and for
each wave: what `caselib flags` and `caselib status` print, the report's `caselib-figures`
JSON, the dashboard's tiles and map, and the closure review's queue say the same, and the
invariants hold. Every surface is read as a user gets it (the real CLI, the report's HTML,
the widgets' HTML), so a surface that computed a figure its own way would fail here.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from caselib import Store, load_file
from caselib.cli import cli
from caselib.domain.audit import close_object, reopen_object
from caselib.domain.demo import build_demo
from caselib.domain.rules import today_utc
from caselib.presentation.report import build_report, report_figures
from caselib.store.session import Session
from conftest import write_csv

K = 5
OTHER_WAVES = """
[[waves]]
wave_id = "A"
name = "Wave A"
launched_on = 2019-02-11
objects = 6

[[waves]]
wave_id = "B"
name = "Wave B"
launched_on = 2019-09-30
objects = 4

[[waves]]
wave_id = "C"
name = "Wave C"
launched_on = 2020-05-04
objects = 5
"""


def _campaign(folder: Path, *, tips: int, seed: int, waves: str | None = None) -> Path:
    config = None
    if waves:
        config = folder / "waves.toml"
        config.write_text(waves, encoding="utf-8")
    path = folder / "campaign.duckdb"
    build_demo(path, tips=tips, seed=seed, waves_config=config, progress=False, enrich=False)
    return path


@pytest.fixture(scope="module", params=["demo", "seed-11", "seed-23-other-waves"])
def campaign(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "demo":
        path = _campaign(folder, tips=28_000, seed=2017)
    elif request.param == "seed-11":
        path = _campaign(folder, tips=6_000, seed=11)
    else:
        path = _campaign(folder, tips=4_000, seed=23, waves=OTHER_WAVES)
    # Decisions made today, which earlier days must not see: a close, a close then a reopen,
    # and the reopening of an object the register closed a month after its publication.
    with Store(path) as store:
        ready = [o for (o,) in store.rows("SELECT object_id FROM objects WHERE status = 'open' ORDER BY object_id")]
        close_object(store, ready[0], outcome="exhausted", reason="test: closed today")
        close_object(store, ready[1], outcome="exhausted", reason="test: closed today")
        reopen_object(store, ready[1], reason="test: reopened today")
        columns = ["object_id", "title", "category", "first_published", "wave_id", "description"]
        row = dict(zip(columns, store.rows(f"SELECT {', '.join(columns)} FROM objects WHERE object_id = $o",
                                           {"o": ready[2]})[0]))
        row.update(status="closed", closed_on=row["first_published"] + dt.timedelta(days=30))
        assert load_file(store, "objects", write_csv(folder / "register.csv", [row]), progress=False).updated == 1
        reopen_object(store, ready[2], reason="test: reopened today")
    return path


def _days(path: Path) -> list[dt.date]:
    with Store(path, read_only=True) as store:
        first = store.scalar("SELECT min(first_published) FROM objects")
        launches = [d for (d,) in store.rows("SELECT DISTINCT launched_on FROM waves ORDER BY 1")]
    days = {first - dt.timedelta(days=1), launches[-1], today_utc() - dt.timedelta(days=1), today_utc()}
    days |= {launch - dt.timedelta(days=1) for launch in launches}
    return sorted(days)


def _waves(path: Path) -> list[str]:
    with Store(path, read_only=True) as store:
        return [w for (w,) in store.rows("SELECT wave_id FROM waves ORDER BY launched_on, wave_id")]


def _cli_json(path: Path, *args: str):
    result = CliRunner().invoke(cli, ["--db", str(path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _from_flags(flags: list[dict]) -> dict:
    """The object figures as a user of `caselib flags` counts them."""
    published = [f for f in flags if f["outcome"] != "not_published"]
    by_outcome: dict[str, int] = {}
    for f in published:
        by_outcome[f["outcome"]] = by_outcome.get(f["outcome"], 0) + 1
    return {
        "published": len(published),
        "open": sum(f["status"] == "open" for f in published),
        "ready": sum(f["ready"] for f in flags),
        "closed": sum(f["outcome"] == "closed" for f in flags),
        "by_outcome": by_outcome,
    }


_TILE = re.compile(r'<div class="value">(.*?)</div><div class="label">(.*?)</div>')


def _tiles(markup: str) -> dict[str, str]:
    return {html.unescape(label): html.unescape(value) for value, label in _TILE.findall(markup)}


_SCOPE = re.compile(r'<div class="label">([^<]*)</div>(?:<div class="scope">([^<]*)</div>)?')


def _scopes(markup: str) -> dict[str, str | None]:
    """Each tile's label and the scope line under it (None when it has none)."""
    return {html.unescape(label): html.unescape(scope) if scope else None for label, scope in _SCOPE.findall(markup)}


def _number(text: str) -> int | None:
    return None if text.startswith("fewer than") else int(text.replace(",", ""))


def _unrecoverable(cells: list[tuple[bool, int]], total: int, shown: int, k: int) -> bool:
    """Whether no hidden cell's count follows from the total: ``cells`` are the hidden ones,
    (``small``, true count), a small one known to lie in 1..k-1 and one hidden with it at k or
    above (what the maps say of each). Each cell's range given the others' is worked out on
    its own, without the suppression code's reasoning."""
    rest = total - shown
    assert rest == sum(n for _, n in cells)
    for i, (small, _) in enumerate(cells):
        lows = [1 if s else k for j, (s, _) in enumerate(cells) if j != i]
        highs = [k - 1 if s else float("inf") for j, (s, _) in enumerate(cells) if j != i]
        low = max(1 if small else k, rest - sum(highs))
        high = min(k - 1 if small else float("inf"), rest - sum(lows))
        if low >= high:
            return False
    return True


def _check_countries(store: Store, data: dict, wave: str | None, as_of: dt.date) -> None:
    """The report's country rows: shares and rates only beside shown counts, and no hidden count
    recoverable from the breakdown's total."""
    for by in ("reporter", "suggested"):
        rows = [r for r in data["countries"] if r["by"] == by]
        for row in rows:
            if row["suppressed"]:
                assert (row["tips"], row["share"], row["per_million"]) == (None, None, None)
            else:
                assert row["tips"] >= K and row["share"] is not None
        hidden = [r for r in rows if r["suppressed"]]
        column = f"{by}_country"
        window = "in_wave_window(received_at, $wave)" if wave else "true"
        truth = dict(store.rows(
            f"SELECT coalesce({column}, CASE WHEN {column}_raw IS NULL THEN '(none)' ELSE '(unrecognised)' END), "
            f"count(*) FROM tips WHERE received_by(received_at, $as_of) AND {window} GROUP BY 1",
            {"as_of": as_of, **({"wave": wave} if wave else {})},
        ))
        total = sum(truth.values())
        assert data["tips"]["in_wave" if wave else "total"] in (total, None)
        shown = sum(r["tips"] for r in rows if not r["suppressed"])
        cells = [(truth[r["country"]] < K, truth[r["country"]]) for r in hidden]
        for key, name in (("unrecognised", "(unrecognised)"), ("no_country", "(none)")):
            value = data["tips"][f"{by}_{key}"]
            if value is None:
                cells.append((truth[name] < K, truth[name]))
            else:
                assert value == truth.get(name, 0)
                shown += value
        if cells and total >= K:
            assert len(cells) >= 2, (by, cells)
            assert _unrecoverable(cells, total, shown, K), (by, cells, total, shown)


def test_every_surface_gives_the_same_figures_as_of_every_day(campaign):
    session = Session(campaign, idle=None)
    from caselib.presentation.widgets import ClosureReview, ManagementDashboard

    with Store(campaign, read_only=True) as store:
        first_published = store.scalar("SELECT min(first_published) FROM objects")
    dashboard = None
    checked = 0
    for as_of in _days(campaign):
        day = as_of.isoformat()
        flags = _cli_json(campaign, "flags", "--as-of", day, "--format", "json")
        expected = _from_flags(flags)
        status = _cli_json(campaign, "status", "--as-of", day, "--format", "json")["campaign"]["objects"]
        with session.reading() as store:
            data = report_figures(build_report(store, as_of=as_of, k=K).html)
            _check_countries(store, data, None, as_of)
        assert data["as_of"] == day and data["k"] == K
        for figures in (status, data["objects"]):
            assert {key: figures[key] for key in ("published", "open", "ready", "closed")} == {
                key: expected[key] for key in ("published", "open", "ready", "closed")}, day
            assert {o: n for o, n in figures["by_outcome"].items() if n} == expected["by_outcome"], day
        # Invariants of the day.
        objects = data["objects"]
        assert objects["ready"] <= objects["published"] - objects["closed"]
        assert sum(objects["by_outcome"].values()) == objects["published"]
        assert objects["identified"] <= objects["published"]
        if as_of < first_published:  # before any publication: no object counts anywhere
            assert {key: objects[key] for key in ("published", "open", "ready", "closed", "identified")} == dict.fromkeys(
                ("published", "open", "ready", "closed", "identified"), 0)
            assert all(f["outcome"] == "not_published" for f in flags)

        if dashboard is None:
            dashboard = ManagementDashboard(session, k=K, as_of=as_of)
        else:
            dashboard.as_of.value = as_of
        tiles = _tiles(dashboard.tiles.value)
        assert _number(tiles["objects published"]) == objects["published"]
        assert _number(tiles["open"]) == objects["open"]
        assert _number(tiles["ready for closure"]) == objects["ready"]
        assert _number(tiles["closed or withdrawn"]) == objects["closed"]
        assert _number(tiles["tips in total"]) == data["tips"]["total"]
        assert set(_scopes(dashboard.tiles.value).values()) == {None}  # no wave: nothing to say
        shown_map = dashboard.frames["origins"]
        reporters = {r["country"]: r for r in data["countries"] if r["by"] == "reporter"}
        assert {c: None if h else int(n) for c, n, h in zip(shown_map["country"], shown_map["tips"],
                                                             shown_map["suppressed"])} == \
            {c: r["tips"] for c, r in reporters.items()}

        review = ClosureReview(session, as_of=as_of)
        assert len(review.queue.options) == objects["ready"], day
        assert {o for _, o in review.queue.options} == {f["object_id"] for f in flags if f["ready"]}
        checked += 1
    assert checked >= 5
    session.close()


def test_each_wave_gives_the_same_tip_figures_everywhere(campaign):
    session = Session(campaign, idle=None)
    from caselib.presentation.widgets import ManagementDashboard

    with Store(campaign, read_only=True) as store:
        launches = dict(store.rows("SELECT wave_id, launched_on FROM waves"))
    dashboard = ManagementDashboard(session, k=K, as_of=today_utc())
    for wave in _waves(campaign):
        for as_of in (today_utc(), launches[wave] - dt.timedelta(days=1)):
            with session.reading() as store:
                data = report_figures(build_report(store, as_of=as_of, wave=wave, k=K).html)
                _check_countries(store, data, wave, as_of)
                in_window = store.scalar(
                    "SELECT count(*) FROM tips WHERE received_by(received_at, $d) AND in_wave_window(received_at, $w)",
                    {"d": as_of, "w": wave})
            expected_in_wave = None if 0 < in_window < K else in_window
            assert data["wave"] == wave and data["tips"]["in_wave"] == expected_in_wave
            dashboard.as_of.value = as_of
            dashboard.wave.value = wave
            tiles = _tiles(dashboard.tiles.value)
            name = dashboard.wave_names[wave]
            assert _number(tiles["tips"]) == data["tips"]["in_wave"]
            assert _number(tiles["ready for closure"]) == data["objects"]["ready"]
            # eight tiles in one grid: the wave's tips say whose they are, the rest say they
            # cover the whole campaign
            scopes = _scopes(dashboard.tiles.value)
            assert len(scopes) == 8 and scopes["tips"] == f"in the window of wave {name}"
            assert {s for label, s in scopes.items() if label != "tips"} == {"whole campaign"}
            if as_of < launches[wave]:
                assert in_window == 0  # nothing is received in a window that has not opened
    session.close()


def test_a_decision_today_leaves_yesterday_as_it_was(campaign):
    yesterday = (today_utc() - dt.timedelta(days=1)).isoformat()
    with Store(campaign, read_only=True) as store:
        closed, reopened = [o for (o,) in store.rows(
            "SELECT object_id FROM audit_log WHERE action = 'close' AND payload LIKE '%test: closed today%' "
            "ORDER BY seq")]
        register_closed = store.scalar(
            "SELECT object_id FROM audit_log WHERE action = 'reopen' ORDER BY seq DESC LIMIT 1")
    before = {f["object_id"]: f for f in _cli_json(campaign, "flags", "--as-of", yesterday, "--format", "json")}
    today = {f["object_id"]: f for f in _cli_json(campaign, "flags", "--format", "json")}
    assert today[closed]["outcome"] == "closed" and before[closed]["outcome"] != "closed"
    assert before[closed]["status"] in ("open", "identified")
    assert today[reopened]["outcome"] != "closed" and before[reopened]["outcome"] != "closed"
    # Reopened today: as of yesterday it was still closed, as the register had it.
    assert (before[register_closed]["outcome"], before[register_closed]["status"]) == ("closed", "closed")
    assert today[register_closed]["outcome"] != "closed" and today[register_closed]["status"] == "open"
    before_status = _cli_json(campaign, "status", "--as-of", yesterday, "--format", "json")["campaign"]["objects"]
    today_status = _cli_json(campaign, "status", "--as-of", "today", "--format", "json")["campaign"]["objects"]
    assert today_status["closed"] == before_status["closed"]  # one closed today, one reopened today
