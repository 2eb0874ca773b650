"""A re-load of a file already loaded (issue 13): when nothing since can change its outcome,
the earlier load's outcome is repeated without reading or comparing the rows again; whenever
something could, the file is loaded in full. Either way the counts are what a full load
gives, and they reconcile."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

import caselib.domain.ingest as ingest
from caselib import Store, load_file
from caselib.domain.audit import close_object
from caselib.domain.sample import generate_campaign

COUNTS = ("rows_read", "inserted", "updated", "unchanged", "rejected", "duplicates_in_file",
          "coordinates_dropped", "ignored_columns", "contact_columns", "unrecognised_countries", "skipped")


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A small generated campaign with the generator's mess: invalid rows, duplicates within
    the file, unrecognised countries, bad coordinates, contact columns."""
    return generate_campaign(tmp_path_factory.mktemp("messy"), tips=3500, seed=11, messy=True)


def _store(folder: Path, campaign) -> Store:
    store = Store(folder / "case.duckdb")
    load_file(store, "waves", campaign.waves_path, progress=False)
    load_file(store, "objects", campaign.objects_path, progress=False)
    return store


def _counts(result) -> dict:
    return {name: getattr(result, name) for name in COUNTS}


def _no_reading(monkeypatch):
    """Reading the file (or comparing its rows) fails the test from here on."""
    def refuse(*args, **kwargs):
        raise AssertionError("the file was read again")
    monkeypatch.setattr(ingest, "read_into_store", refuse)


def test_an_unchanged_file_loaded_again_repeats_the_outcome_of_a_full_load(messy, tmp_path, monkeypatch):
    # the full way: the same re-load with the shortcut turned off
    (tmp_path / "full").mkdir()
    full_store = _store(tmp_path / "full", messy)
    load_file(full_store, "tips", messy.tips_path, progress=False)
    with monkeypatch.context() as off:
        off.setattr(ingest, "_repeat_outcome", lambda *a, **k: None)
        full = load_file(full_store, "tips", messy.tips_path, progress=False)
    assert not full.repeated

    (tmp_path / "short").mkdir()
    store = _store(tmp_path / "short", messy)
    first = load_file(store, "tips", messy.tips_path, progress=False)
    assert first.rejected and first.duplicates_in_file and first.unrecognised_countries  # the mess is there
    before = store.rows("SELECT * FROM tips ORDER BY tip_id")
    quarantined = store.scalar("SELECT count(*) FROM rejected_rows")
    _no_reading(monkeypatch)
    again = load_file(store, "tips", messy.tips_path, progress=False)
    assert again.repeated and again.reconciles
    assert _counts(again) == _counts(full)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted + first.updated + first.unchanged)
    assert again.previous_batch == first.batch_id and again.batch_id > first.batch_id
    assert "nothing has changed since" in again.summary()
    # nothing stored changed, the quarantine is not repeated, and the load is a batch
    assert store.rows("SELECT * FROM tips ORDER BY tip_id") == before
    assert store.scalar("SELECT count(*) FROM rejected_rows") == quarantined
    recorded = store.rows(
        "SELECT rows_read, inserted, updated, unchanged, rejected, details->>'repeated' FROM load_batches "
        "WHERE batch_id = $b", {"b": again.batch_id},
    )
    assert recorded == [(again.rows_read, 0, 0, again.unchanged, again.rejected, "true")]
    # the summary points to where the rejected rows are: under the load that read them
    assert f"caselib rejected --batch {first.batch_id}" in again.summary()
    assert store.scalar(
        "SELECT count(*) FROM rejected_rows WHERE batch_id = $b", {"b": first.batch_id}
    ) == first.rejected
    # and a third load repeats it again, pointing to the same rows
    third = load_file(store, "tips", messy.tips_path, progress=False)
    assert third.repeated and f"caselib rejected --batch {first.batch_id}" in third.summary()
    store.close()
    full_store.close()


def _triage_copy(source: Path, target: Path) -> Path:
    """``source`` with every 10th tip's triage status changed."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    status = rows[0].index("triage_status")
    for row in rows[1::10]:
        if len(row) > status:
            row[status] = "actionable" if row[status] != "actionable" else "duplicate"
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return target


def test_a_file_whose_rows_were_changed_since_is_compared_again(messy, tmp_path):
    """A later load changed stored tips (triage): the first file's rows now differ from what
    is stored, so it is loaded in full (and its triage applies again, as a full load does)."""
    store = _store(tmp_path, messy)
    load_file(store, "tips", messy.tips_path, progress=False)
    changed = load_file(store, "tips", _triage_copy(messy.tips_path, tmp_path / "triaged.csv"), progress=False)
    assert changed.updated > 0
    again = load_file(store, "tips", messy.tips_path, progress=False)
    assert not again.repeated
    assert again.updated == changed.updated and again.reconciles
    store.close()


def test_a_quarantine_that_depends_on_what_is_stored_is_never_repeated(tmp_path):
    """A tip of an object not yet loaded is rejected; once the object is loaded, the same
    file loaded again inserts it, so the earlier outcome must not be repeated."""
    campaign = generate_campaign(tmp_path / "files", tips=3500, seed=3, messy=False)
    store = Store(tmp_path / "case.duckdb")
    load_file(store, "waves", campaign.waves_path, progress=False)
    with campaign.objects_path.open(newline="", encoding="utf-8") as handle:
        objects = list(csv.reader(handle))
    first_objects = tmp_path / "objects_but_one.csv"
    with first_objects.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(objects[:-1])
    load_file(store, "objects", first_objects, progress=False)
    first = load_file(store, "tips", campaign.tips_path, progress=False)
    assert first.rejected > 0
    load_file(store, "objects", campaign.objects_path, progress=False)
    again = load_file(store, "tips", campaign.tips_path, progress=False)
    assert not again.repeated
    assert again.inserted == first.rejected and again.rejected == 0
    store.close()


def test_an_object_closed_since_means_the_objects_file_is_compared_again(messy, tmp_path):
    store = _store(tmp_path, messy)
    [(object_id,)] = store.rows("SELECT object_id FROM objects WHERE status = 'open' ORDER BY 1 LIMIT 1")
    assert load_file(store, "objects", messy.objects_path, progress=False).repeated
    close_object(store, object_id, outcome="exhausted", reason="no new leads", by="ana")
    again = load_file(store, "objects", messy.objects_path, progress=False)
    assert not again.repeated and again.reconciles
    store.close()


def test_other_rules_an_earlier_time_or_another_mapping_mean_a_full_load(messy, tmp_path, monkeypatch):
    store = _store(tmp_path, messy)
    first = load_file(store, "tips", messy.tips_path, progress=False)
    # a load dated before the first one
    earlier = load_file(store, "tips", messy.tips_path, progress=False, now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert not earlier.repeated
    # the rules changed (another caselib, other country data)
    monkeypatch.setattr(ingest, "rules_digest", lambda: "other rules")
    assert not load_file(store, "tips", messy.tips_path, progress=False).repeated
    monkeypatch.undo()
    # pseudonymising now, where the first load did not
    monkeypatch.setenv("CASELIB_PSEUDONYM_KEY", "k" * 32)
    pseudonymised = load_file(store, "tips", messy.tips_path, progress=False, pseudonymize=True)
    assert not pseudonymised.repeated
    assert first.reconciles and pseudonymised.reconciles
    store.close()


def test_a_tip_rejected_as_after_the_time_of_loading_is_loaded_once_its_time_has_come(campaign_store, tmp_path):
    path = tmp_path / "tips.csv"
    path.write_text("tip_id,object_id,received_at\nT1,G01,2017-06-01T10:00:00Z\nT2,G01,2017-06-10T10:00:00Z\n")
    day = lambda d: dt.datetime(2017, 6, d, tzinfo=dt.UTC)  # noqa: E731
    first = load_file(campaign_store, "tips", path, progress=False, now=day(5))
    assert (first.inserted, first.rejected) == (1, 1)
    still = load_file(campaign_store, "tips", path, progress=False, now=day(6))  # T2 still after 7 June
    assert still.repeated and (still.unchanged, still.rejected) == (1, 1)
    later = load_file(campaign_store, "tips", path, progress=False, now=day(20))
    assert not later.repeated and (later.inserted, later.unchanged, later.rejected) == (1, 1, 0)


# -- a re-export: rows the same as stored are found by their fingerprint, not parsed --------


def _parsed_rows(monkeypatch) -> list[int]:
    """How many rows each load from here on parses (``_norm``), one entry per load."""
    counted = []
    execute = ingest._execute

    def counting(store, statement):
        execute(store, statement)
        if statement is not None and statement.name == "ingest/normalise":
            counted.append(store.scalar("SELECT count(*) FROM _norm"))

    monkeypatch.setattr(ingest, "_execute", counting)
    return counted


def _redelivery(campaign, folder: Path) -> Path:
    """The generator's re-delivery (triage changes, conflicts) appended to the whole first
    file with every 10th triage status changed: a cumulative re-export of the intake system."""
    triaged = _triage_copy(campaign.tips_path, folder / "triaged.csv")
    with campaign.redelivery_path.open(newline="", encoding="utf-8") as handle:
        extra = list(csv.reader(handle))
    with triaged.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert extra[0] == rows[0]
    path = folder / "reexport.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows + extra[1:])
    return path


def test_a_reexport_parses_only_the_rows_that_differ_and_counts_as_a_full_load(messy, tmp_path, monkeypatch):
    reexport = _redelivery(messy, tmp_path)
    outcome = {}
    for name in ("fingerprints", "full"):
        folder = tmp_path / name
        folder.mkdir()
        with monkeypatch.context() as patch:
            if name == "full":  # every row parsed and compared, as before fingerprints
                patch.setattr(ingest.sql, "FINGERPRINTED", {})
            store = _store(folder, messy)
            load_file(store, "tips", messy.tips_path, progress=False)
            parsed = _parsed_rows(patch)
            result = load_file(store, "tips", reexport, progress=False)
            assert result.reconciles and not result.repeated
            outcome[name] = (_counts(result), store.rows("SELECT * FROM tips ORDER BY tip_id, batch_id"),
                             store.rows("SELECT * EXCLUDE (changed_at) FROM tip_triage_history ORDER BY ALL"),
                             store.rows("SELECT reason FROM rejected_rows ORDER BY ALL"), parsed[0])
            store.close()
    assert outcome["fingerprints"][:4] == outcome["full"][:4]
    counts, parsed_with, parsed_without = outcome["full"][0], outcome["fingerprints"][4], outcome["full"][4]
    assert counts["updated"] > 0 and counts["rejected"] > 0 and counts["unrecognised_countries"]
    assert parsed_without > parsed_with
    # only what differs from the stored tips was parsed: the changed triage rows, the
    # generator's re-delivery, and the rows that were never stored (rejected the first time)
    assert parsed_with < counts["rows_read"] // 5, (parsed_with, counts["rows_read"])
    assert parsed_with >= counts["updated"] + counts["rejected"]


def test_fingerprints_of_other_rules_are_not_trusted(messy, tmp_path, monkeypatch):
    store = _store(tmp_path, messy)
    load_file(store, "tips", messy.tips_path, progress=False)
    reexport = _redelivery(messy, tmp_path)
    monkeypatch.setattr(ingest, "rules_digest", lambda: "other rules")
    parsed = _parsed_rows(monkeypatch)
    result = load_file(store, "tips", reexport, progress=False)
    assert result.reconciles and parsed == [result.rows_read - _reader_rejected(store, result)]  # every row
    store.close()


def _reader_rejected(store, result) -> int:
    return store.scalar(
        "SELECT count(*) FROM rejected_rows WHERE batch_id = $b AND record_no IS NULL", {"b": result.batch_id}
    )


def _rewrite(source: Path, target: Path, change) -> Path:
    """``source`` as CSV again, each row (a dict by header) passed through ``change``."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    changed = [change(dict(row)) for row in rows]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(changed[0]))
        writer.writeheader()
        writer.writerows(changed)
    return target


def test_a_reexport_in_another_shape_or_spelling_is_compared_once_then_found_by_fingerprint(tmp_path, monkeypatch):
    campaign = generate_campaign(tmp_path / "files", tips=3500, seed=5, messy=False)
    store = _store(tmp_path, campaign)
    first = load_file(store, "tips", campaign.tips_path, progress=False)
    parsed = _parsed_rows(monkeypatch)
    # columns reordered and one added by the intake system: the same tips, found unchanged
    reshaped = _rewrite(campaign.tips_path, tmp_path / "reshaped.csv",
                        lambda row: {"exported_by": "intake v2", **dict(reversed(list(row.items())))})
    result = load_file(store, "tips", reshaped, progress=False)
    assert (result.unchanged, result.updated, result.inserted) == (first.inserted, 0, 0)
    assert parsed[-1] == 0
    # countries spelt out: every tip compares unchanged once, and its fingerprint is renewed
    names = {"DEU": "Germany", "FRA": "France", "NLD": "Netherlands", "ITA": "Italy", "GBR": "United Kingdom"}
    spelt = _rewrite(campaign.tips_path, tmp_path / "spelt.csv",
                     lambda row: {**row, "reporter_country": names.get(row["reporter_country"], row["reporter_country"])})
    with campaign.tips_path.open(newline="", encoding="utf-8") as handle:
        respelt = sum(row["reporter_country"] in names for row in csv.DictReader(handle))
    assert respelt > 100
    once = load_file(store, "tips", spelt, progress=False)
    assert (once.unchanged, once.updated) == (first.inserted, 0)
    assert parsed[-1] == respelt  # only the tips whose text changed
    # the next export (another file: one more column) finds them all by their new fingerprints
    again = load_file(store, "tips", _rewrite(spelt, tmp_path / "spelt_again.csv",
                                              lambda row: {**row, "exported_by": "intake v3"}), progress=False)
    assert (again.unchanged, again.updated) == (first.inserted, 0) and not again.repeated
    assert parsed[-1] == 0
    store.close()
