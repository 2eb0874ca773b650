"""The case audit: closing and reopening objects, triage changes from re-deliveries, and the
hash chain that `verify` walks to find the first record edited, removed or moved."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from caselib import CaselibError, Store, load_file
from caselib.domain import audit
from caselib.domain.audit import GENESIS, close_object, reopen_object, verify
from conftest import OBJECTS, WAVES, tip, write_csv

READY = [
    tip(f"T{i}", triage_status="actionable", reporter_country=country)
    for i, country in enumerate(["DE", "NL", "BE", "DE", "DE"], start=1)
]  # G01: five countable tips naming France from three countries, ready by rule 4
G02_TIPS = [tip(f"U{i}", object_id="G02", triage_status="new") for i in (1, 2, 3)]
FIGURES = (
    "countable_tips",
    "leading_country",
    "leading_share",
    "leading_reporter_countries",
    "suggested_countries",
    "last_tip_on",
    "untriaged_tips",
)
REDELIVERY = [{**G02_TIPS[0], "triage_status": "actionable"}, {**G02_TIPS[1], "triage_status": "duplicate"}, G02_TIPS[2]]


def load_tips(store: Store, rows: list[dict], name: str, **kwargs):
    return load_file(store, "tips", write_csv(store.path.parent / name, rows), progress=False, **kwargs)


def log(store: Store) -> list[tuple]:
    return store.rows("SELECT * FROM audit_log ORDER BY seq")


def objects(store: Store) -> list[tuple]:
    return store.rows("SELECT * FROM objects ORDER BY object_id")


def record(store: Store, seq: int) -> dict:
    names = store.columns("audit_log")
    return dict(zip(names, store.rows("SELECT * FROM audit_log WHERE seq = $seq", {"seq": seq})[0], strict=True))


def copy_of(template: Path, db_path: Path):
    shutil.copyfile(template, db_path)
    store = Store(db_path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def case_template(tmp_path_factory) -> Path:
    """conftest's campaign with G01 ready for closure and three new tips on G02."""
    folder = tmp_path_factory.mktemp("case")
    with Store(folder / "case.duckdb") as store:
        load_file(store, "waves", write_csv(folder / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(folder / "objects.csv", OBJECTS), progress=False)
        load_tips(store, READY + G02_TIPS, "tips.csv")
    return folder / "case.duckdb"


@pytest.fixture
def case_store(case_template, db_path):
    yield from copy_of(case_template, db_path)


@pytest.fixture(scope="module")
def chain_template(case_template, tmp_path_factory) -> Path:
    """Four records: 1 close G01, 2 triage_changes (a re-delivery for G02), 3 reopen G01,
    4 close G01 again."""
    path = tmp_path_factory.mktemp("chain") / "chain.duckdb"
    shutil.copyfile(case_template, path)
    with Store(path) as store:
        close_object(store, "G01", outcome="origin_established", reason="police confirmed the shop", by="ana")
        load_tips(store, REDELIVERY, "redelivery.csv", loaded_by="intake")
        reopen_object(store, "G01", reason="the shop was the wrong one", by="ben")
        close_object(store, "G01", outcome="exhausted", reason="no new leads", by="ana")
        assert [row[3] for row in log(store)] == ["close", "triage_changes", "reopen", "close"]
    return path


@pytest.fixture
def chain_store(chain_template, db_path):
    yield from copy_of(chain_template, db_path)


# -- close and reopen -----------------------------------------------------------------------


def test_close_sets_the_status_and_writes_one_record(case_store):
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    returned = close_object(case_store, "G01", outcome="origin_established", reason="  NL police confirmed the shop ", by="ana")
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    status, closed_on = case_store.rows("SELECT status, closed_on FROM objects WHERE object_id = 'G01'")[0]
    assert (status, closed_on) == ("closed", dt.datetime.now(dt.UTC).date())
    assert len(log(case_store)) == 1
    stored = record(case_store, 1)
    assert stored == {
        "seq": 1,
        "recorded_at": returned.recorded_at,
        "actor": "ana",
        "action": "close",
        "object_id": "G01",
        "batch_id": None,
        "payload": returned.payload,
        "prev_hash": GENESIS,
        "hash": returned.hash,
    }
    assert before <= stored["recorded_at"] <= after
    assert re.fullmatch(r"[0-9a-f]{64}", stored["hash"])
    payload = json.loads(stored["payload"])
    assert {k: payload[k] for k in ("outcome", "reason", "previous_status", "status")} == {
        "outcome": "origin_established",
        "reason": "NL police confirmed the shop",
        "previous_status": "open",
        "status": "closed",
    }
    # the flag and its figures as they stood when the analyst decided
    figures = payload["flag"]
    assert {k: figures[k] for k in ("object_id", "ready", "outcome", "origin_country", "status")} == {
        "object_id": "G01",
        "ready": True,
        "outcome": "origin_established",
        "origin_country": "FRA",
        "status": "open",
    }
    assert {k: figures[k] for k in FIGURES} == {
        "countable_tips": 5,
        "leading_country": "FRA",
        "leading_share": 1.0,
        "leading_reporter_countries": 3,
        "suggested_countries": 1,
        "last_tip_on": "2017-06-01",
        "untriaged_tips": 0,
    }
    assert figures["reasons"].startswith("5 of 5 countable tips (100%) suggest France (FRA)")
    assert verify(case_store).ok


def test_reopen_sets_the_status_and_writes_one_record_chained_to_the_close(case_store):
    closed = close_object(case_store, "G01", outcome="origin_established", reason="confirmed", by="ana")
    reopened = reopen_object(case_store, "G01", reason=" the shop was the wrong one ", by="ben")
    assert case_store.rows("SELECT status, closed_on FROM objects WHERE object_id = 'G01'") == [("open", None)]
    assert len(log(case_store)) == 2
    stored = record(case_store, 2)
    assert (stored["actor"], stored["action"], stored["object_id"]) == ("ben", "reopen", "G01")
    assert stored["prev_hash"] == closed.hash and stored["hash"] == reopened.hash
    payload = json.loads(stored["payload"])
    assert {k: payload[k] for k in ("reason", "previous_status", "status")} == {
        "reason": "the shop was the wrong one",
        "previous_status": "closed",
        "status": "open",
    }
    assert (payload["flag"]["status"], payload["flag"]["ready"], payload["flag"]["countable_tips"]) == ("open", True, 5)
    result = verify(case_store)
    assert (result.ok, result.records, result.head) == (True, 2, reopened.hash)


def test_each_record_keeps_the_figures_of_its_own_moment(case_store):
    close_object(case_store, "G02", outcome="exhausted", reason="nothing came of it", by="ana")
    load_tips(case_store, REDELIVERY, "redelivery.csv")  # two of G02's three new tips triaged
    reopen_object(case_store, "G02", reason="new tips came in", by="ana")
    close_flag = json.loads(record(case_store, 1)["payload"])["flag"]
    reopen_flag = json.loads(record(case_store, 3)["payload"])["flag"]
    assert (close_flag["untriaged_tips"], close_flag["outcome"], close_flag["ready"]) == (3, "not_ready", False)
    assert close_flag["reasons"] == "3 tips still to triage"
    assert (reopen_flag["untriaged_tips"], reopen_flag["countable_tips"]) == (1, 1)
    assert reopen_flag["reasons"] == "1 tip still to triage"


def test_withdrawn_is_a_status_of_its_own_and_can_be_reopened(case_store):
    close_object(case_store, "G03", outcome="withdrawn", reason="the image was not usable", by="ana")
    assert case_store.scalar("SELECT status FROM objects WHERE object_id = 'G03'") == "withdrawn"
    assert json.loads(record(case_store, 1)["payload"])["status"] == "withdrawn"
    reopen_object(case_store, "G03", reason="a better crop", by="ana")
    assert case_store.scalar("SELECT status FROM objects WHERE object_id = 'G03'") == "open"
    assert json.loads(record(case_store, 2)["payload"])["previous_status"] == "withdrawn"


@pytest.mark.parametrize("by", [None, "", "   "])
def test_the_actor_defaults_to_the_login_name(case_store, monkeypatch, by):
    monkeypatch.setattr(audit.getpass, "getuser", lambda: "login-name")
    assert close_object(case_store, "G01", outcome="exhausted", reason="quiet", by=by).actor == "login-name"
    assert record(case_store, 1)["actor"] == "login-name"


REFUSALS = [
    (lambda s: close_object(s, "G99", outcome="exhausted", reason="x"), "there is no object 'G99'"),
    (lambda s: close_object(s, "G01", outcome="exhausted", reason=""), "a reason is required to close"),
    (lambda s: close_object(s, "G01", outcome="exhausted", reason="  \t"), "a reason is required to close"),
    (lambda s: close_object(s, "G01", outcome="closed", reason="x"), "outcome 'closed' is not one of"),
    (lambda s: close_object(s, "G01", outcome="not_ready", reason="x"), "outcome 'not_ready' is not one of"),
    (lambda s: close_object(s, "G03", outcome="exhausted", reason="x"), "G03 is already withdrawn; reopen it first"),
    (lambda s: close_object(s, "G02", outcome="exhausted", reason="again"), "G02 is already closed; reopen it first"),
    (lambda s: reopen_object(s, "G01", reason="x"), "G01 is open, not closed; there is nothing to reopen"),
    (lambda s: reopen_object(s, "G99", reason="x"), "there is no object 'G99'"),
    (lambda s: reopen_object(s, "G02", reason=" "), "a reason is required to reopen"),
]


@pytest.mark.parametrize(("attempt", "message"), REFUSALS)
def test_refusals_are_one_line_and_write_nothing(case_store, attempt, message):
    close_object(case_store, "G02", outcome="exhausted", reason="quiet", by="ana")
    close_object(case_store, "G03", outcome="withdrawn", reason="unusable", by="ana")
    before = (objects(case_store), log(case_store))
    with pytest.raises(CaselibError) as error:
        attempt(case_store)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert (objects(case_store), log(case_store)) == before
    assert verify(case_store).ok


# -- triage changes join the chain ----------------------------------------------------------


def test_a_redelivery_that_changes_triage_adds_one_triage_changes_record(case_store):
    result = load_tips(case_store, REDELIVERY, "redelivery.csv", loaded_by="intake")
    assert (result.updated, result.unchanged) == (2, 1)
    assert len(log(case_store)) == 1
    stored = record(case_store, 1)
    assert (stored["action"], stored["batch_id"], stored["actor"], stored["object_id"]) == (
        "triage_changes",
        result.batch_id,
        "intake",
        None,
    )
    payload = json.loads(stored["payload"])
    assert payload["changes"] == 2 and re.fullmatch(r"[0-9a-f]{64}", payload["digest"])
    assert case_store.scalar("SELECT count(*) FROM tip_triage_history WHERE batch_id = $b", {"b": result.batch_id}) == 2
    # loading it again, or loads that triage nothing, add no record
    assert load_tips(case_store, REDELIVERY, "redelivery-again.csv").updated == 0
    assert load_tips(case_store, [tip("N1", object_id="G03", received_at="2019-04-01T10:00:00Z")], "new.csv").inserted == 1
    conflict = load_tips(case_store, [{**G02_TIPS[2], "suggested_country": "IT", "triage_status": "actionable"}], "conflict.csv")
    assert conflict.rejected == 1
    assert len(log(case_store)) == 1
    assert verify(case_store).ok


# -- verify ---------------------------------------------------------------------------------


def test_verify_is_ok_on_an_empty_chain(case_store):
    assert verify(case_store) == audit.VerifyResult(True, 0, GENESIS)


def test_verify_is_ok_on_an_intact_chain(chain_store):
    result = verify(chain_store)
    assert (result.ok, result.records, result.problem, result.first_bad_seq) == (True, 4, None, None)
    assert result.head == record(chain_store, 4)["hash"]
    assert [record(chain_store, n)["prev_hash"] for n in (2, 3, 4)] == [record(chain_store, n)["hash"] for n in (1, 2, 3)]


def assert_broken(store: Store, seq: int | None, *parts: str) -> None:
    result = verify(store)
    assert not result.ok
    assert result.first_bad_seq == seq, result.problem
    for part in parts:
        assert part in result.problem
    assert "\n" not in result.problem


@pytest.mark.parametrize(
    ("sql", "seq", "message"),
    [
        ("UPDATE audit_log SET payload = replace(payload, 'no new leads', 'no leads') WHERE seq = 4", 4, "record 4 (close) was edited"),
        ("UPDATE audit_log SET payload = replace(payload, '\"changes\":2', '\"changes\":1') WHERE seq = 2", 2, "record 2 (triage_changes) was edited"),
        ("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1", 1, "record 1 (close) was edited"),
        ("UPDATE audit_log SET recorded_at = recorded_at + INTERVAL 1 DAY WHERE seq = 3", 3, "record 3 (reopen) was edited"),
        ("UPDATE audit_log SET object_id = 'G02' WHERE seq = 3", 3, "record 3 (reopen) was edited"),
        ("UPDATE audit_log SET hash = repeat('0', 64) WHERE seq = 4", 4, "record 4 (close) was edited"),
        ("UPDATE audit_log SET prev_hash = repeat('0', 64) WHERE seq = 3", 3, "record 3 does not follow record 2"),
    ],
)
def test_verify_names_an_edited_record(chain_store, sql, seq, message):
    chain_store.execute(sql)
    assert_broken(chain_store, seq, message)


def test_an_edit_with_a_recomputed_hash_breaks_the_link_from_the_next_record(chain_store):
    row = record(chain_store, 1)
    forged = row["payload"].replace("police confirmed the shop", "no reason")
    digest = audit.chain_hash(row["prev_hash"], 1, row["recorded_at"], row["actor"], row["action"], row["object_id"], row["batch_id"], forged)
    chain_store.execute("UPDATE audit_log SET payload = $p, hash = $h WHERE seq = 1", {"p": forged, "h": digest})
    assert_broken(chain_store, 2, "record 2 does not follow record 1")


@pytest.mark.parametrize(("seq", "message"), [(1, "record 1 is missing"), (2, "record 2 is missing"), (3, "record 3 is missing")])
def test_verify_names_a_deleted_record(chain_store, seq, message):
    chain_store.execute("DELETE FROM audit_log WHERE seq = $seq", {"seq": seq})
    assert_broken(chain_store, seq, message, "removed")


def test_verify_detects_a_deleted_record_even_when_the_rest_is_renumbered(chain_store):
    chain_store.execute("DELETE FROM audit_log WHERE seq = 2")
    chain_store.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2")
    assert_broken(chain_store, 2, "record 2 does not follow record 1")


@pytest.mark.parametrize(("first", "second"), [(1, 2), (2, 3), (3, 4)])
def test_verify_names_a_reordered_pair(chain_store, first, second):
    chain_store.execute("UPDATE audit_log SET seq = -1 WHERE seq = $a", {"a": first})
    chain_store.execute("UPDATE audit_log SET seq = $a WHERE seq = $b", {"a": first, "b": second})
    chain_store.execute("UPDATE audit_log SET seq = $b WHERE seq = -1", {"b": second})
    assert_broken(chain_store, first, f"record {first} does not follow", "reordered")


def _redelivery_batch(store: Store) -> int:
    return store.scalar("SELECT batch_id FROM audit_log WHERE action = 'triage_changes'")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tip_triage_history SET new_triage_status = 'forwarded' WHERE tip_id = 'U2'",
        "UPDATE tip_triage_history SET old_triage_status = 'under_review' WHERE tip_id = 'U1'",
        "UPDATE tip_triage_history SET changed_at = changed_at - INTERVAL 1 HOUR WHERE tip_id = 'U1'",
        "UPDATE tip_triage_history SET new_forwarded_to = 'FRA' WHERE tip_id = 'U1'",
        "DELETE FROM tip_triage_history WHERE tip_id = 'U2'",
        "DELETE FROM tip_triage_history",
    ],
)
def test_verify_detects_an_edited_or_deleted_triage_history_row(chain_store, sql):
    batch = _redelivery_batch(chain_store)
    chain_store.execute(sql)
    assert_broken(chain_store, 2, f"the triage history of load batch {batch} no longer matches audit record 2")


def test_verify_detects_triage_history_whose_audit_record_was_removed(chain_store):
    result = load_tips(chain_store, [{**G02_TIPS[2], "triage_status": "off_topic"}], "later.csv")
    assert record(chain_store, 5)["batch_id"] == result.batch_id
    chain_store.execute("DELETE FROM audit_log WHERE seq = 5")  # the newest record
    assert_broken(chain_store, None, f"triage history of load batch {result.batch_id} has no audit record")


def test_removing_the_newest_record_shows_only_in_the_head_hash(chain_store):
    noted = verify(chain_store).head  # the head an analyst noted outside the database
    chain_store.execute("DELETE FROM audit_log WHERE seq = 4")
    result = verify(chain_store)
    # The chain itself cannot tell: what is left is a valid, shorter chain ...
    assert (result.ok, result.records) == (True, 3)
    # ... but its head is no longer the one noted outside the database.
    assert result.head != noted
    assert result.head == record(chain_store, 3)["hash"]
    # and the chain goes on from the shortened head as if nothing had happened
    reopen_object(chain_store, "G01", reason="recheck", by="ana")
    assert verify(chain_store).ok and record(chain_store, 4)["prev_hash"] == result.head


# -- tampering that is not a plain edit: verify still reports a broken chain ----------------


def forge(store: Store, seq: int, **fields) -> None:
    """Set ``fields`` of record ``seq`` and recompute its hash, as a careful forger would."""
    row = {**record(store, seq), **fields}
    digest = audit.chain_hash(row["prev_hash"], seq, row["recorded_at"], row["actor"], row["action"], row["object_id"], row["batch_id"], row["payload"])
    sets = ", ".join(f"{name} = ${name}" for name in fields)
    store.execute(f"UPDATE audit_log SET {sets}, hash = $hash WHERE seq = $seq", {**fields, "hash": digest, "seq": seq})


@pytest.mark.parametrize(
    ("seq", "fields"),
    [
        (2, {"payload": "not json"}),  # the triage record
        (2, {"payload": "[1, 2]"}),
        (2, {"payload": '{"changes": 2}'}),
        (2, {"payload": '{"changes": "two", "digest": null}'}),
        (4, {"payload": "not json"}),  # the newest close: no later record links to it
        (4, {"payload": '"a string"'}),
    ],
    ids=["triage-not-json", "triage-a-list", "triage-no-digest", "triage-wrong-types", "close-not-json", "close-a-string"],
)
def test_a_forged_payload_that_is_not_the_records_json_is_a_broken_chain(chain_store, seq, fields):
    forge(chain_store, seq, **fields)
    assert_broken(chain_store, seq, f"record {seq}", "edited")


def test_a_triage_record_forged_to_name_no_batch_is_a_broken_chain(chain_store):
    forge(chain_store, 2, batch_id=None)
    assert_broken(chain_store, 2, "record 2")


@pytest.mark.parametrize(
    ("sql", "part"),
    [
        ("DROP TABLE audit_log", "audit_log"),
        ("DROP TABLE tip_triage_history", "tip_triage_history"),
        ("ALTER TABLE audit_log DROP COLUMN actor", "audit_log"),
        ("ALTER TABLE audit_log RENAME TO old_log", "audit_log"),
    ],
)
def test_a_dropped_or_altered_audit_table_is_a_broken_chain(chain_store, sql, part):
    chain_store.execute(sql)
    result = verify(chain_store)
    assert not result.ok
    assert part in result.problem and "dropped or altered" in result.problem
    assert "\n" not in result.problem


def test_a_record_whose_time_was_removed_is_a_broken_chain(chain_store):
    chain_store.execute("ALTER TABLE audit_log ALTER recorded_at DROP NOT NULL")
    chain_store.execute("UPDATE audit_log SET recorded_at = NULL WHERE seq = 3")
    assert_broken(chain_store, 3, "record 3", "edited")


# -- what the audit keeps is visible text ----------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("\u200b", "a reason is required to close an object"),  # a zero-width space only
        ("\u200b\u2060\ufeff ", "a reason is required to close an object"),
        ("\u3164\u2800", "a reason is required to close an object"),  # Hangul filler, braille blank
        ("police\x1b[2Kconfirmed", "must not hold control characters (it holds U+001B)"),
        ("quiet\u202eredlof", "must not hold control characters (it holds U+202E)"),
        ("first\u2028second", "must not hold control characters"),
    ],
)
def test_a_reason_must_be_visible_text_without_control_characters(case_store, reason, message):
    before = log(case_store)
    with pytest.raises(CaselibError, match=re.escape(message)) as error:
        close_object(case_store, "G01", outcome="exhausted", reason=reason, by="ana")
    assert "\n" not in str(error.value)
    for refused in (lambda: audit.keep_open(case_store, "G01", reason=reason, by="ana"),):
        with pytest.raises(CaselibError):
            refused()
    assert log(case_store) == before


def test_a_reason_may_hold_paragraphs_and_keeps_them(case_store):
    close_object(case_store, "G01", outcome="exhausted", reason="quiet for a year.\r\nNo leads left.", by="ana")
    assert json.loads(record(case_store, 1)["payload"])["reason"] == "quiet for a year.\nNo leads left."


@pytest.mark.parametrize("by", ["eve\nroot", "eve\x1b[31m", "\u200b", "ana\u202e"])
def test_a_name_with_control_characters_or_nothing_visible_is_refused(case_store, by):
    with pytest.raises(CaselibError, match="the name of who decides"):
        close_object(case_store, "G01", outcome="exhausted", reason="quiet", by=by)
    assert log(case_store) == []
    close_object(case_store, "G01", outcome="exhausted", reason="quiet", by="ana")
    with pytest.raises(CaselibError, match="the name of who decides"):
        reopen_object(case_store, "G01", reason="recheck", by=by)
    assert len(log(case_store)) == 1
