"""Consensus counts people, not copies (issue 14, item 3): a confirmed near-duplicate
cluster counts once in the closure figures (countable tips, leading share, reporter
countries), as of the day it was confirmed, and the flag says so. Through the CLI: a load
works out the clusters, `caselib clusters` lists them, `caselib cluster --confirm` decides,
`caselib triage --cluster` triages a whole cluster."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from caselib import Store
from caselib.cli import cli
from caselib.domain.closure import closure_flags
from conftest import tip, write_csv

TODAY = dt.datetime.now(dt.UTC).date()
FRENCH = [
    ("DE", "The soap wrapper is the kind sold in French pharmacies"),
    ("IT", "I have seen that towel pattern in a hotel near Lyon"),
    ("ES", "My aunt in Marseille has exactly this bag from a market"),
    ("BE", "This logo belongs to a supermarket chain I know from Lille"),
    ("NL", "We stayed at a campsite in Brittany that used these towels"),
]
RECENT = f"{TODAY - dt.timedelta(days=10)}T10:00:00Z"  # recent: the trail is not cold
COPY = "I am sure this soap comes from a small shop in Porto, Portugal"


@pytest.fixture
def campaign(campaign_store, tmp_path, db_path):
    rows = [tip(f"A{i}", reporter_country=r, suggested_country="FR", triage_status="actionable", tip_text=t,
                received_at=RECENT)
            for i, (r, t) in enumerate(FRENCH, start=1)]
    rows += [tip(f"B{i}", reporter_country="PT", suggested_country="PT", triage_status="actionable",
                 tip_text=COPY if i % 2 else COPY.upper() + "!!", received_at=RECENT)
             for i in range(1, 5)]
    path = write_csv(tmp_path / "tips.csv", rows)
    campaign_store.close()
    return db_path, path


def _cli(db, *args):
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _flag(db, as_of=TODAY):
    with Store(db, read_only=True) as store:
        return closure_flags(store, as_of=as_of).set_index("object_id").loc["G01"]


def test_a_confirmed_cluster_counts_once_from_the_day_it_was_confirmed(campaign):
    db, path = campaign
    loaded = _cli(db, "load", "tips", str(path))
    assert "near-duplicates: 9 new tips compared" in loaded and "1 new suggested clusters" in loaded
    listed = json.loads(_cli(db, "clusters", "--format", "json"))
    assert sorted(r["tip_id"] for r in listed) == ["B1", "B2", "B3", "B4"]
    assert {r["state"] for r in listed} == {"suggested"} and {r["score"] for r in listed} == {1.0}
    cluster_id = listed[0]["cluster_id"]
    # suggested: every copy still counts, and the consensus is split
    before = _flag(db)
    assert (before["countable_tips"], before["leading_country"], before["duplicate_groups"]) == (9, "FRA", 0)
    assert not before["ready"] and "split consensus" in before["reasons"]
    decided = _cli(db, "cluster", cluster_id, "--confirm", "--reason", "one tipster, four channels", "--by", "ana")
    assert f"Cluster {cluster_id} confirmed" in decided
    after = _flag(db)
    assert (after["countable_tips"], after["leading_share"], after["leading_reporter_countries"]) == (6, 5 / 6, 5)
    assert (after["duplicate_tips"], after["duplicate_groups"]) == (4, 1)
    assert after["ready"] and after["outcome"] == "origin_established" and after["origin_country"] == "FRA"
    assert "6 countable tips counting people, not copies: of the 9 received, 4 are in 1 duplicate group" in after["reasons"]
    # as of the day before the confirmation, the copies counted as they did then
    yesterday = _flag(db, TODAY - dt.timedelta(days=1))
    assert (yesterday["countable_tips"], yesterday["ready"]) == (9, False)
    # the same rule in the consensus figures (one definition: suggested_origins)
    with Store(db, read_only=True) as store:
        from caselib.domain.geography import origin_consensus

        consensus = origin_consensus(store, as_of=TODAY)
        rows = consensus[consensus["object_id"] == "G01"].set_index("country")
        assert rows.loc["PRT", "tips"] == 1 and rows.loc["FRA", "tips"] == 5
    # a rejected cluster counts every tip again
    _cli(db, "cluster", cluster_id, "--reject", "--reason", "four tipsters after all")
    assert _flag(db)["countable_tips"] == 9


def test_a_cluster_is_triaged_in_one_step_and_loads_can_skip_the_refresh(campaign, tmp_path):
    db, path = campaign
    assert "near-duplicates" not in _cli(db, "load", "tips", str(path), "--no-refresh")
    assert "9 new tips compared" in _cli(db, "refresh", "--only", "clusters")
    cluster_id = json.loads(_cli(db, "clusters", "--format", "json"))[0]["cluster_id"]
    done = _cli(db, "triage", "--cluster", cluster_id, "--status", "duplicate", "--reason", "copies", "--by", "ana")
    assert "4 tips now duplicate" in done
    with Store(db, read_only=True) as store:
        assert store.rows("SELECT tip_id FROM tips WHERE triage_status = 'duplicate' ORDER BY 1") == [
            ("B1",), ("B2",), ("B3",), ("B4",)]
    refused = CliRunner().invoke(cli, ["--db", str(db), "triage", "--cluster", "C-nope", "--status", "new", "--reason", "x"])
    assert refused.exit_code != 0 and "there is no cluster 'C-nope'" in refused.output


def test_the_report_states_the_rule_and_how_many_groups_it_counted_once(campaign):
    from caselib.domain.clusters import clusters, decide_cluster
    from caselib.presentation.report import build_report

    db, path = campaign
    _cli(db, "load", "tips", str(path))
    with Store(db) as store:
        def methods(k):
            page = build_report(store, as_of=TODAY, k=k).html
            return page[page.index("Consensus counts people"):][:600]

        assert "no confirmed groups" in methods(5)
        decide_cluster(store, clusters(store)["cluster_id"].iloc[0], "confirmed", reason="copies", by="ana")
        assert "1 confirmed group standing for fewer than 5 countable tips" in methods(5)
        assert "1 confirmed group standing for 4 countable tips" in methods(2)
