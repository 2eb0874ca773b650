"""Near-duplicate clusters of tips: quality on planted copies, incremental refresh, decisions."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.csv as pacsv
import pytest

from caselib import Store, load_file
from caselib.domain import clusters as C
from caselib.domain.sample import generate_campaign
from caselib.domain.sample.duplicates import pairwise_quality, planted_pairs
from caselib.errors import CaselibError
from caselib.store import clusters as state
from conftest import tip, write_csv

TIP_COLUMNS = ["tip_id", "object_id", "received_at", "reporter_country", "suggested_country", "triage_status", "tip_text"]


def load_tips(store: Store, path, rows: list[dict]) -> None:
    load_file(store, "tips", write_csv(path, rows, columns=TIP_COLUMNS), progress=False)


def by_tip(store: Store) -> dict[str, tuple]:
    """tip_id -> (cluster_id, score, state)."""
    return {r.tip_id: (r.cluster_id, r.score, r.state) for r in C.clusters(store).itertuples()}


def pairs(frame) -> set[tuple[str, str]]:
    return C.clustered_pairs(frame)


# -- quality on a generated campaign with planted near-duplicates ---------------------------

@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    campaign = generate_campaign(folder, tips=8000, seed=5, near_duplicates=0.1)
    store = Store(folder / "case.duckdb")
    for kind, path in (("waves", campaign.waves_path), ("objects", campaign.objects_path), ("tips", campaign.tips_path)):
        load_file(store, kind, path, progress=False)
    stats = C.refresh_clusters(store)
    yield store, json.loads(campaign.truth_path.read_text())["near_duplicates"], stats
    store.close()


def test_planted_near_duplicates_are_found_with_precision_and_recall_of_at_least_0_9(planted):
    store, truth, stats = planted
    expected = planted_pairs(truth)
    found = pairs(C.clusters(store))
    precision, recall = pairwise_quality(found, expected)
    print(f"\npairwise precision {precision:.4f}, recall {recall:.4f} ({len(expected)} planted pairs, {len(found)} found; {stats})")
    assert all(truth["kinds"][kind] > 50 for kind in ("exact", "case_punctuation", "word_added", "word_dropped", "misspelt"))
    assert precision >= 0.9 and recall >= 0.9
    # Each kind of change is found, not only the easy ones.
    for kind in truth["kinds"]:
        kind_pairs = {tuple(sorted((c, e["of"]))) for c, e in truth["copies"].items() if e["kind"] == kind}
        assert len(kind_pairs & found) / len(kind_pairs) >= 0.9, kind


def test_every_clustered_tip_has_a_score_and_one_cluster_of_its_own_object(planted):
    store = planted[0]
    frame = C.clusters(store)
    assert frame["tip_id"].is_unique
    assert frame.groupby("cluster_id")["object_id"].nunique().max() == 1
    assert frame["score"].between(C.SIMILAR, 1.0).all()
    assert set(frame["state"]) == {"suggested"}
    objects = dict(store.rows("SELECT tip_id, object_id FROM tips"))
    assert all(objects[t] == o for t, o in zip(frame["tip_id"], frame["object_id"]))
    one = C.clusters(store, object_id=frame["object_id"].iloc[0])
    assert set(one["object_id"]) == {frame["object_id"].iloc[0]} and 0 < len(one) < len(frame)


def test_planting_changes_only_the_texts_and_the_default_campaign_has_none(tmp_path):
    plain = generate_campaign(tmp_path / "plain", tips=4000, seed=8, messy=False)
    copied = generate_campaign(tmp_path / "copied", tips=4000, seed=8, messy=False, near_duplicates=0.2)
    assert "near_duplicates" not in json.loads(plain.truth_path.read_text())
    a, b = pacsv.read_csv(plain.tips_path), pacsv.read_csv(copied.tips_path)
    assert a.drop(["tip_text"]).equals(b.drop(["tip_text"]))
    texts = b.column("tip_text").to_pylist()
    assert len(set(texts)) > 0.8 * len(texts)  # texts of their own, besides the copies
    truth = json.loads(copied.truth_path.read_text())["near_duplicates"]
    assert 0.15 * 4000 < len(truth["copies"]) < 0.25 * 4000


# -- the rules, on small hand-made campaigns ------------------------------------------------

LONG = "I bought this exact soap at the weekly market in Porto during the summer of 2014"


def test_same_text_after_normalising_scores_one(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path / "t.csv", [
        tip("T1", tip_text=LONG),
        tip("T2", tip_text="  i BOUGHT this exact soap, at the weekly market in Porto (during the summer of 2014)!! "),
        tip("T3", tip_text="Hotel towels like this were common in Lisbon"),
    ])
    C.refresh_clusters(campaign_store)
    assert by_tip(campaign_store) == {"T1": ("C-T1", 1.0, "suggested"), "T2": ("C-T1", 1.0, "suggested")}


def test_a_word_added_dropped_or_misspelt_clusters_with_a_score_below_one(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path / "t.csv", [
        tip("T1", tip_text=LONG),
        tip("T2", tip_text=LONG.replace("weekly ", "")),
        tip("T3", tip_text=LONG.replace("market", "markte")),
        tip("T4", tip_text=LONG + " definitely"),
        tip("T5", tip_text="A towel from a hotel in Lisbon, I stayed there in 2016 with my family"),
    ])
    C.refresh_clusters(campaign_store)
    found = by_tip(campaign_store)
    assert set(found) == {"T1", "T2", "T3", "T4"}
    assert {c for c, _, _ in found.values()} == {"C-T1"}
    assert all(C.SIMILAR <= score < 1.0 for _, score, _ in found.values())


def test_short_texts_cluster_only_when_equal(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path / "t.csv", [
        tip("T1", tip_text="Seen in Spain"),
        tip("T2", tip_text="Seen in Spian"),  # one letter off, but three words
        tip("T3", tip_text="seen in SPAIN!"),
        tip("T4", tip_text="Seen it in Spain"),
        tip("T5", tip_text="Seen it in Italy"),  # four words, one apart: fuzzy but below the threshold
        tip("T6", tip_text=""),
        tip("T7", tip_text="..."),
        tip("T8", tip_text="!!"),
    ])
    stats = C.refresh_clusters(campaign_store)
    assert stats.compared == 8
    assert by_tip(campaign_store) == {"T1": ("C-T1", 1.0, "suggested"), "T3": ("C-T1", 1.0, "suggested")}


def test_tips_of_different_objects_never_cluster(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path / "t.csv", [
        tip("T1", object_id="G01", tip_text=LONG),
        tip("T2", object_id="G02", tip_text=LONG),
        tip("T3", object_id="G03", tip_text=LONG.replace("market", "markte")),
        tip("T4", object_id="G02", tip_text=LONG.upper()),
    ])
    C.refresh_clusters(campaign_store)
    assert by_tip(campaign_store) == {"T2": ("C-T2", 1.0, "suggested"), "T4": ("C-T2", 1.0, "suggested")}


def test_refresh_compares_only_new_tips(campaign_store, tmp_path):
    first = [tip(f"T{i:02d}", tip_text=f"{LONG} number {i} {'x' * i}") for i in range(1, 21)]
    first += [tip("T90", tip_text="Another object altogether, a blue soap wrapper from a hotel in Nice")]
    load_tips(campaign_store, tmp_path / "a.csv", first)
    one = C.refresh_clusters(campaign_store)
    assert one.compared == 21 and state.compared_count(campaign_store) == 21
    clustered = C.clusters(campaign_store)
    bands = campaign_store.scalar("SELECT count(*) FROM tip_cluster_bands")

    again = C.refresh_clusters(campaign_store)  # nothing new: nothing is compared, nothing written
    assert again == C.RefreshStats(seconds=again.seconds)
    assert len(state.refreshes(campaign_store)) == 1
    assert C.clusters(campaign_store).equals(clustered)
    assert campaign_store.scalar("SELECT count(*) FROM tip_cluster_bands") == bands

    load_tips(campaign_store, tmp_path / "b.csv", first + [
        tip("T91", tip_text="another object altogether: a blue soap wrapper from a hotel in nice"),
        tip("T92", tip_text="Another object altogether, a blue soap wraper from a hotel in Nice"),
        tip("T93", tip_text="Something else entirely, nothing like the others at all"),
    ])
    two = C.refresh_clusters(campaign_store)
    assert two.compared == 3 and state.compared_count(campaign_store) == 24
    assert two.exact_pairs == 1 and two.fuzzy_pairs == 1
    refreshes = state.refreshes(campaign_store)
    assert list(refreshes["compared"]) == [21, 3]
    found = by_tip(campaign_store)
    assert found["T91"] == ("C-T90", 1.0, "suggested") and found["T92"][0] == "C-T90"
    assert "T93" not in found
    # The old tips kept their clusters and scores.
    assert {t: found[t] for t in clustered["tip_id"]} == {r.tip_id: (r.cluster_id, r.score, r.state) for r in clustered.itertuples()}


def test_a_changed_text_is_compared_again(campaign_store, tmp_path):
    rows = [tip("T1", tip_text=LONG), tip("T2", tip_text="Nothing like it, a wooden box from a flea market in Riga")]
    load_tips(campaign_store, tmp_path / "a.csv", rows)
    C.refresh_clusters(campaign_store)
    assert by_tip(campaign_store) == {}
    # A load does not change a tip's text (it quarantines the conflict); an intake system's
    # correction would, so the tip is compared again.
    campaign_store.execute("UPDATE tips SET tip_text = $text WHERE tip_id = 'T2'", {"text": LONG + "!"})
    assert C.refresh_clusters(campaign_store).compared == 1
    assert by_tip(campaign_store) == {"T1": ("C-T1", 1.0, "suggested"), "T2": ("C-T1", 1.0, "suggested")}


def test_a_confirmed_cluster_stays_confirmed_and_new_copies_join_it_as_suggested(campaign_store, tmp_path):
    rows = [tip("T1", tip_text=LONG), tip("T2", tip_text=LONG.lower())]
    load_tips(campaign_store, tmp_path / "a.csv", rows)
    C.refresh_clusters(campaign_store)
    record = C.decide_cluster(campaign_store, "C-T1", "confirmed", reason="the same tipster, web form and e-mail", by="ana")
    assert record.action == "cluster_confirmed" and record.actor == "ana"
    load_tips(campaign_store, tmp_path / "b.csv", rows + [tip("T3", tip_text=LONG + " Thanks")])
    C.refresh_clusters(campaign_store)
    found = by_tip(campaign_store)
    assert found["T1"][2] == found["T2"][2] == "confirmed"
    assert found["T3"][:1] == ("C-T1",) and found["T3"][2] == "suggested"
    row = state.cluster_row(campaign_store, "C-T1")
    assert row[2:4] == ("confirmed", "ana") and row[5] == "the same tipster, web form and e-mail"
    C.decide_cluster(campaign_store, "C-T1", "confirmed", reason="T3 too", by="ana")
    assert {s for _, _, s in by_tip(campaign_store).values()} == {"confirmed"}
    assert list(state.decisions(campaign_store)["action"]) == ["confirmed", "confirmed"]


def test_a_rejected_cluster_is_never_changed_by_a_refresh(campaign_store, tmp_path):
    rows = [tip("T1", tip_text=LONG), tip("T2", tip_text=LONG.replace("weekly ", ""))]
    load_tips(campaign_store, tmp_path / "a.csv", rows)
    C.refresh_clusters(campaign_store)
    C.decide_cluster(campaign_store, "C-T1", "rejected", reason="two tipsters, two markets", by="ana")
    before = by_tip(campaign_store)
    assert {s for _, _, s in before.values()} == {"rejected"}
    load_tips(campaign_store, tmp_path / "b.csv", rows + [tip("T3", tip_text=LONG), tip("T4", tip_text=LONG + " Regards")])
    C.refresh_clusters(campaign_store)
    after = by_tip(campaign_store)
    assert {t: after[t] for t in before} == before
    assert after["T3"][0] == after["T4"][0] == "C-T3"  # the new copies group among themselves
    assert state.cluster_row(campaign_store, "C-T1")[2:4] == ("rejected", "ana")


def test_a_removed_tip_is_not_clustered_again(campaign_store, tmp_path):
    rows = [tip("T1", tip_text=LONG), tip("T2", tip_text=LONG), tip("T3", tip_text=LONG)]
    load_tips(campaign_store, tmp_path / "a.csv", rows)
    C.refresh_clusters(campaign_store)
    C.remove_from_cluster(campaign_store, "T2", reason="a different tipster", by="ana")
    assert set(by_tip(campaign_store)) == {"T1", "T3"}
    load_tips(campaign_store, tmp_path / "b.csv", rows + [tip("T4", tip_text=LONG)])
    C.refresh_clusters(campaign_store)
    assert set(by_tip(campaign_store)) == {"T1", "T3", "T4"}
    members = C.cluster_members(campaign_store, "C-T1")
    assert list(members["tip_id"]) == ["T1", "T3", "T4"] and set(members["tip_text"]) == {LONG}


def test_another_method_compares_every_tip_again_and_keeps_the_clusters(campaign_store, tmp_path, monkeypatch):
    rows = [tip("T1", tip_text=LONG), tip("T2", tip_text=LONG), tip("T3", tip_text=LONG), tip("T4", tip_text=LONG + " Bye")]
    load_tips(campaign_store, tmp_path / "a.csv", rows)
    C.refresh_clusters(campaign_store)
    C.remove_from_cluster(campaign_store, "T2", reason="a different tipster", by="ana")
    C.decide_cluster(campaign_store, "C-T1", "confirmed", reason="same", by="ana")
    before = by_tip(campaign_store)
    monkeypatch.setattr(C, "METHOD", C.METHOD + "/other")
    assert C.refresh_clusters(campaign_store).compared == 4
    assert by_tip(campaign_store) == before
    assert campaign_store.scalar("SELECT held_out FROM tip_cluster_compared WHERE tip_id = 'T2'")
    assert C.refresh_clusters(campaign_store).compared == 0


def test_decisions_are_explained_and_audited(campaign_store, tmp_path):
    load_tips(campaign_store, tmp_path / "a.csv", [tip("T1", tip_text=LONG), tip("T2", tip_text=LONG)])
    C.refresh_clusters(campaign_store)
    with pytest.raises(CaselibError, match="no cluster 'C-T9'"):
        C.decide_cluster(campaign_store, "C-T9", "confirmed", reason="x")
    with pytest.raises(CaselibError, match="'confirmed' or 'rejected'"):
        C.decide_cluster(campaign_store, "C-T1", "merged", reason="x")
    with pytest.raises(CaselibError, match="a reason is required"):
        C.decide_cluster(campaign_store, "C-T1", "confirmed", reason="  ")
    with pytest.raises(CaselibError, match="in no cluster"):
        C.remove_from_cluster(campaign_store, "T7", reason="x")
    C.decide_cluster(campaign_store, "C-T1", "confirmed", reason="same", by="ana")
    from caselib.domain.audit import verify

    assert verify(campaign_store).ok
    assert campaign_store.scalar("SELECT count(*) FROM audit_log WHERE action = 'cluster_confirmed'") == 1


def test_signatures_are_datasketchs_minhash():
    from datasketch import MinHash

    rng = np.random.default_rng(1)
    keys = np.repeat(np.arange(5), [1, 3, 7, 2, 20])
    hashes = rng.integers(0, 2**32, len(keys), dtype=np.uint64).astype(np.uint32)
    got_keys, got = C.signatures(keys, hashes)
    assert list(got_keys) == [0, 1, 2, 3, 4]
    for row, key in enumerate(got_keys):
        expected = MinHash(num_perm=C.NUM_PERM, seed=C.SEED, scheme="affine32", hashfunc=int)
        expected.update_batch([int(h) for h in hashes[keys == key]])
        assert np.array_equal(got[row], expected.hashvalues)
