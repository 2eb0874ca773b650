"""Triage decisions in the workbench (issue 14, item 1): from the CLI and the library, into
the triage history with who, when and why, and into the audit chain; as of an earlier day
the tips stand as they were; a later re-export never silently overwrites a decision."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from caselib import Store, load_file
from caselib.cli import cli
from caselib.domain import triage
from caselib.domain.audit import verify
from caselib.domain.closure import flag_figures
from caselib.errors import CaselibError
from conftest import tip, write_csv

TODAY = dt.datetime.now(dt.UTC).date()


def _tips(tmp_path, name="tips.csv", **statuses):
    rows = [tip(f"T{i}", received_at=f"2017-06-0{1 + i % 5}T10:00:00Z") for i in range(1, 11)]
    for row in rows:
        row["triage_status"] = statuses.get(row["tip_id"], row["triage_status"])
    return write_csv(tmp_path / name, rows)


@pytest.fixture
def loaded(campaign_store, tmp_path):
    load_file(campaign_store, "tips", _tips(tmp_path), progress=False)
    return campaign_store


def _invoke(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def test_a_decision_from_the_cli_is_in_the_history_the_tips_and_the_audit(loaded, db_path):
    loaded.close()
    done = _invoke(db_path, "triage", "T1", "T2", "--status", "actionable", "--reason", "names a shop in Porto", "--by", "ana")
    assert done.exit_code == 0, done.output
    assert "2 tips now actionable" in done.output and "decided by ana" in done.output
    with Store(db_path) as store:
        assert store.rows("SELECT tip_id, triage_status FROM tips WHERE tip_id IN ('T1', 'T2', 'T3') ORDER BY 1") == [
            ("T1", "actionable"), ("T2", "actionable"), ("T3", "new")]
        history = store.rows(
            "SELECT tip_id, source, old_triage_status, new_triage_status, decided_by, reason, audit_seq, batch_id "
            "FROM tip_triage_history ORDER BY tip_id")
        seq = history[0][6]
        assert history == [
            ("T1", "analyst", "new", "actionable", "ana", "names a shop in Porto", seq, None),
            ("T2", "analyst", "new", "actionable", "ana", "names a shop in Porto", seq, None),
        ]
        action, actor, payload = store.rows("SELECT action, actor, payload FROM audit_log WHERE seq = $s", {"s": seq})[0]
        assert (action, actor) == ("triage", "ana")
        assert json.loads(payload)["tips"] == 2 and json.loads(payload)["objects"] == ["G01"]
        assert verify(store).ok
        # the fingerprints of decided tips are dropped: the next re-export compares them
        assert store.scalar("SELECT count(*) FROM tip_fingerprints WHERE tip_id IN ('T1', 'T2')") == 0
        assert store.scalar("SELECT count(*) FROM tip_fingerprints") == 8
    again = _invoke(db_path, "triage", "T1", "--status", "actionable", "--reason", "again", "--by", "ana")
    assert again.exit_code == 0 and "nothing to change" in again.output
    with Store(db_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM audit_log WHERE action = 'triage'") == 1
    listed = _invoke(db_path, "triage-history", "--analyst", "--format", "json")
    assert [row["tip_id"] for row in json.loads(listed.output)] == ["T1", "T2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["T1", "T99", "--status", "actionable", "--reason", "x"], "1 of the tips named are not stored: T99"),
        (["T1", "--status", "forwarded", "--reason", "x"], "needs the country it went to"),
        (["T1", "--status", "forwarded", "--forwarded-to", "Atlantis", "--reason", "x"], "not a country"),
        (["T1", "--status", "actionable", "--forwarded-to", "PRT", "--reason", "x"], "goes with --status forwarded"),
        (["T1", "--status", "actionable", "--reason", "   "], "a reason is required"),
        (["--status", "actionable", "--reason", "x"], "no tips to triage"),
    ],
)
def test_a_refused_decision_is_one_line_and_writes_nothing(loaded, db_path, args, message):
    loaded.close()
    done = _invoke(db_path, "triage", *args)
    assert done.exit_code != 0
    assert message in done.output and "Traceback" not in done.output and done.output.count("\n") == 1
    with Store(db_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tip_triage_history") == 0
        assert store.scalar("SELECT count(*) FROM audit_log") == 0


def test_a_forwarding_decision_keeps_the_country_as_alpha3(loaded):
    done = triage.decide(loaded, ["T3"], status="forwarded", forwarded_to="Portugal", reason="sent", by="ana")
    assert (done.changed, done.forwarded_to) == (1, "PRT")
    assert loaded.rows("SELECT triage_status, forwarded_to FROM tips WHERE tip_id = 'T3'") == [("forwarded", "PRT")]


def test_as_of_a_day_before_the_decision_the_tips_stand_as_they_were(loaded):
    yesterday = TODAY - dt.timedelta(days=1)
    before = flag_figures(loaded, as_of=yesterday).set_index("object_id").loc["G01"]
    assert before["untriaged_tips"] == 10 and before["countable_tips"] == 0
    triage.decide(loaded, [f"T{i}" for i in range(1, 7)], status="actionable", reason="all name France", by="ana")
    now = flag_figures(loaded, as_of=TODAY).set_index("object_id").loc["G01"]
    assert (now["untriaged_tips"], now["countable_tips"], now["leading_country"]) == (4, 6, "FRA")
    then = flag_figures(loaded, as_of=yesterday).set_index("object_id").loc["G01"]
    assert (then["untriaged_tips"], then["countable_tips"]) == (10, 0)


def test_a_reexport_never_overwrites_a_decision_and_the_disagreement_is_kept_and_counted(loaded, tmp_path):
    triage.decide(loaded, ["T1"], status="actionable", reason="names a shop", by="ana")
    reexport = _tips(tmp_path, "reexport.csv", T1="not_actionable", T2="duplicate")
    result = load_file(loaded, "tips", reexport, progress=False)
    assert (result.updated, result.disagreements, result.unchanged) == (1, 1, 9)
    assert "1 tip the file would re-triage against an analyst's decision" in result.summary()
    assert loaded.rows("SELECT tip_id, triage_status FROM tips WHERE tip_id IN ('T1', 'T2') ORDER BY 1") == [
        ("T1", "actionable"), ("T2", "duplicate")]
    kept = loaded.rows("SELECT tip_id, source, old_triage_status, new_triage_status, batch_id FROM tip_triage_history "
                       "WHERE source <> 'analyst' ORDER BY tip_id")
    assert kept == [("T1", "intake_disagrees", "actionable", "not_actionable", result.batch_id),
                    ("T2", "load", "new", "duplicate", result.batch_id)]
    assert verify(loaded).ok
    # the same file again: counted again, kept once
    again = load_file(loaded, "tips", reexport, progress=False)
    assert again.disagreements == 1 and again.updated == 0
    assert loaded.scalar("SELECT count(*) FROM tip_triage_history WHERE source = 'intake_disagrees'") == 1
    # an analyst's new decision, then the intake's other value again: a new disagreement
    triage.decide(loaded, ["T1"], status="duplicate", reason="same as T2", by="ben")
    load_file(loaded, "tips", reexport, progress=False)
    assert loaded.scalar("SELECT count(*) FROM tip_triage_history WHERE source = 'intake_disagrees'") == 2
    assert loaded.scalar("SELECT triage_status FROM tips WHERE tip_id = 'T1'") == "duplicate"


def test_an_edited_or_unchained_decision_breaks_the_audit(loaded):
    done = triage.decide(loaded, ["T1", "T2"], status="off_topic", reason="about a car", by="ana")
    assert verify(loaded).ok
    loaded.execute("UPDATE tip_triage_history SET reason = 'other' WHERE tip_id = 'T1'")
    broken = verify(loaded)
    assert not broken.ok and broken.first_bad_seq == done.audit_seq and "triage decision" in broken.problem
    loaded.execute("UPDATE tip_triage_history SET reason = 'about a car' WHERE tip_id = 'T1'")
    assert verify(loaded).ok
    loaded.execute("INSERT INTO tip_triage_history (tip_id, changed_at, old_triage_status, new_triage_status, source, "
                   "decided_by, reason) VALUES ('T3', now()::TIMESTAMP, 'new', 'actionable', 'analyst', 'x', 'forged')")
    forged = verify(loaded)
    assert not forged.ok and "T3" in forged.problem


def test_a_saved_filter_chooses_the_tips(campaign_store, tmp_path, db_path):
    rows = [tip("A1"), tip("A2", object_id="G02"), tip("A3", object_id="G02", triage_status="actionable")]
    load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), progress=False)
    campaign_store.close()
    saved = tmp_path / "g02-new.toml"
    saved.write_text('objects = ["G02"]\ntriage = ["new"]\n', encoding="utf-8")
    done = _invoke(db_path, "triage", "--filter", str(saved), "--status", "under_review", "--reason", "batch of G02")
    assert done.exit_code == 0, done.output
    with Store(db_path, read_only=True) as store:
        assert store.rows("SELECT tip_id, triage_status FROM tips ORDER BY 1") == [
            ("A1", "new"), ("A2", "under_review"), ("A3", "actionable")]
    bad = tmp_path / "bad.toml"
    bad.write_text('object = ["G02"]\n', encoding="utf-8")
    refused = _invoke(db_path, "triage", "--filter", str(bad), "--status", "new", "--reason", "x")
    assert refused.exit_code != 0 and "unknown fields object" in refused.output
    with pytest.raises(CaselibError, match="not valid TOML"):
        (tmp_path / "broken.toml").write_text("objects = [", encoding="utf-8")
        triage.read_filter(tmp_path / "broken.toml")
