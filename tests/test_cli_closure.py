"""`caselib flags`, `close`, `reopen` and `audit verify`, run as real processes (the
threshold options' wiring in-process through the same click command); results checked
through the library."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from caselib import Store, load_file
from caselib.cli import cli
from caselib.domain.audit import close_object, verify
from conftest import OBJECTS, WAVES, tip, write_csv
from test_cli import assert_one_line_error, run

AS_OF = "2017-09-01"
DEFAULT = {"G01": "origin_established", "G02": "not_ready", "G03": "not_published"}
CONTRACT_COLUMNS = ["object_id", "ready", "outcome", "origin_country", "reasons"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """G01 ready by rule 4 (five tips naming France, from three countries); G02 with four
    countable tips, three naming France (not ready: too few); G03 without tips."""
    folder = tmp_path_factory.mktemp("cli-closure")
    reporters = ["DE", "NL", "BE", "DE", "NL"]
    tips = [tip(f"A{i}", triage_status="actionable", reporter_country=reporters[i]) for i in range(5)]
    tips += [
        tip(f"B{i}", object_id="G02", triage_status="actionable", reporter_country=reporters[i], suggested_country=country)
        for i, country in enumerate(["FR", "FR", "FR", "IT"])
    ]
    with Store(folder / "case.duckdb") as store:
        load_file(store, "waves", write_csv(folder / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(folder / "objects.csv", OBJECTS), progress=False)
        load_file(store, "tips", write_csv(folder / "tips.csv", tips), progress=False)
    return folder / "case.duckdb"


@pytest.fixture
def db(template: Path, db_path: Path) -> str:
    shutil.copyfile(template, db_path)
    return str(db_path)


def flags(db: str, *args: str) -> subprocess.CompletedProcess:
    return run("--db", db, "flags", "--as-of", AS_OF, *args, check_ok=True)


def outcomes(db: str, *args: str) -> dict[str, str]:
    """The outcome of each object, by JSON output, with ``args`` as options."""
    return {r["object_id"]: r["outcome"] for r in json.loads(flags(db, "--format", "json", *args).stdout)}


def test_flags_as_csv_and_json_carry_the_contract_columns(db):
    rows = list(csv.DictReader(io.StringIO(flags(db, "--format", "csv").stdout)))
    assert list(rows[0])[:5] == CONTRACT_COLUMNS
    assert [(r["object_id"], r["ready"], r["outcome"], r["origin_country"]) for r in rows] == [
        ("G01", "true", "origin_established", "FRA"),
        ("G02", "false", "not_ready", ""),
        ("G03", "false", "not_published", ""),  # G03 goes public in 2019
    ]
    assert rows[1]["reasons"].startswith("too few countable tips: 4 of 5 needed")
    assert (rows[0]["countable_tips"], rows[0]["leading_share"], rows[0]["leading_reporter_countries"]) == ("5", "1.0", "3")
    records = json.loads(flags(db, "--format", "json").stdout)
    assert [(r["object_id"], r["ready"], r["outcome"], r["origin_country"]) for r in records] == [
        ("G01", True, "origin_established", "FRA"),
        ("G02", False, "not_ready", None),
        ("G03", False, "not_published", None),
    ]
    assert all(set(CONTRACT_COLUMNS) <= set(r) for r in records)
    assert records[0]["reasons"] == rows[0]["reasons"]
    assert (records[0]["countable_tips"], records[0]["leading_share"], records[2]["days_since_last_tip"]) == (5, 1.0, None)
    assert (records[0]["last_tip_on"], records[2]["last_tip_on"]) == ("2017-06-01", None)
    assert rows[0]["last_tip_on"] == "2017-06-01"


def test_flags_ready_only(db):
    table = flags(db, "--ready-only").stdout.splitlines()
    assert len(table) == 2
    assert table[0].startswith("READY G01") and "origin established -> FRA: " in table[0]
    assert "suggest France (FRA)" in table[0] and "_" not in table[0]
    assert table[1] == "1 of 1 objects ready for closure"


def test_a_bad_as_of_date_is_one_clear_line(db):
    value = "2017-13-01"
    result = run("--db", db, "flags", "--as-of", value)
    assert_one_line_error(result, contains=f"--as-of '{value}' is not a date; write it as YYYY-MM-DD")


def test_threshold_options_and_a_rules_file_change_the_flags(db, tmp_path):
    assert outcomes(db) == DEFAULT
    rules = tmp_path / "rules.toml"
    rules.write_text("[closure]\nmin_countable = 4\nmin_share = 0.8\n")
    # G02 (3 of 4 tips naming France) is ready only with min_countable from the file and
    # min_share from the option, which overrides the file's
    assert outcomes(db, "--rules", str(rules), "--min-share", "0.7") == {**DEFAULT, "G02": "origin_established"}


# The wiring of every threshold option, through the same click command in-process (a
# process per case would cost a second or more each).
@pytest.mark.parametrize(
    ("options", "changed"),
    [
        (("--min-countable", "4"), {"G02": "origin_established"}),  # 3 of 4: 75 %
        (("--min-countable", "4", "--min-share", "0.8"), {}),
        (("--min-reporter-countries", "4"), {"G01": "not_ready"}),
        (("--wide-min-countable", "4", "--wide-min-countries", "2", "--wide-max-share", "0.8"), {"G02": "widely_distributed"}),
        (("--wide-min-countable", "4", "--wide-min-countries", "3", "--wide-max-share", "0.8"), {}),
        # G02's last tip came 92 days before the as-of date, when it was published
        (("--quiet-days", "92", "--min-age-days", "92"), {"G02": "exhausted"}),
        (("--quiet-days", "93", "--min-age-days", "92"), {}),
        (("--quiet-days", "92", "--min-age-days", "93"), {}),
    ],
)
def test_every_threshold_option_reaches_the_rules(db, options, changed):
    result = CliRunner().invoke(cli, ["--db", db, "flags", "--as-of", AS_OF, "--format", "json", *options])
    assert result.exit_code == 0, result.output
    assert {r["object_id"]: r["outcome"] for r in json.loads(result.stdout)} == {**DEFAULT, **changed}


@pytest.mark.parametrize("option", ["--min-share=60", "--wide-max-share=-0.1", "--min-countable=-1", "--quiet-days=x"])
def test_an_out_of_range_threshold_is_a_usage_error(db, option):
    result = CliRunner().invoke(cli, ["--db", db, "flags", option])
    assert result.exit_code == 2 and option.split("=")[0] in result.output


def test_a_bad_rules_file_is_refused(db, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[closure]\nmin_tips = 4\n")
    assert_one_line_error(run("--db", db, "flags", "--rules", str(rules)), contains="unknown setting(s) min_tips")


def test_close_reopen_and_verify(db):
    closed = run(
        "--db", db, "close", "G01", "--outcome", "origin_established", "--reason", "NL police confirmed", "--by", "ana",
        check_ok=True,
    )
    assert closed.stdout.strip() == "Closed G01 (origin_established); audit record 1 by ana"
    reopened = run("--db", db, "reopen", "G01", "--reason", "wrong shop", "--by", "ben", check_ok=True)
    assert reopened.stdout.strip() == "Reopened G01; audit record 2 by ben"
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT status FROM objects WHERE object_id = 'G01'") == "open"
        records = store.rows("SELECT actor, action, object_id, payload FROM audit_log ORDER BY seq")
        head = verify(store).head
    assert [r[:3] for r in records] == [("ana", "close", "G01"), ("ben", "reopen", "G01")]
    assert json.loads(records[0][3])["reason"] == "NL police confirmed"
    result = run("--db", db, "audit", "verify", check_ok=True)
    assert result.stdout.splitlines()[0] == f"Audit chain intact: 2 records; head {head}"
    assert "Note the head hash outside the database" in result.stdout


def test_close_refusals_are_one_line(db):
    assert_one_line_error(run("--db", db, "close", "G99", "--outcome", "exhausted", "--reason", "x"), contains="there is no object 'G99'")
    missing_reason = run("--db", db, "close", "G01", "--outcome", "exhausted")
    assert missing_reason.returncode == 2 and "--reason" in missing_reason.stderr
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM audit_log") == 0
        assert store.scalar("SELECT count(*) FROM objects WHERE status <> 'open'") == 0


def test_audit_verify_fails_on_a_tampered_chain_naming_the_record(db):
    with Store(db) as store:
        close_object(store, "G01", outcome="exhausted", reason="quiet", by="ana")
        close_object(store, "G02", outcome="exhausted", reason="quiet too", by="ana")
        store.execute("UPDATE audit_log SET actor = 'bob' WHERE seq = 1")
    result = run("--db", db, "audit", "verify")
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert result.stderr.strip() == "caselib: audit chain broken: record 1 (close) was edited"
    assert "Traceback" not in result.stderr and result.stdout == ""


def _forge(store: Store, seq: int, payload: str) -> None:
    from caselib.domain import audit

    names = store.columns("audit_log")
    row = dict(zip(names, store.rows("SELECT * FROM audit_log WHERE seq = $s", {"s": seq})[0], strict=True))
    digest = audit.chain_hash(row["prev_hash"], seq, row["recorded_at"], row["actor"], row["action"], row["object_id"], row["batch_id"], payload)
    store.execute("UPDATE audit_log SET payload = $p, hash = $h WHERE seq = $s", {"p": payload, "h": digest, "s": seq})


@pytest.mark.parametrize(
    "tamper",
    [
        lambda store: _forge(store, 2, "not json"),  # the triage record, hash recomputed
        lambda store: _forge(store, 3, "{not json"),  # the newest close, hash recomputed
        lambda store: store.execute("UPDATE audit_log SET payload = '{not json' WHERE seq = 1"),
        lambda store: store.execute("DROP TABLE audit_log"),
        lambda store: store.execute("DROP TABLE tip_triage_history"),
        lambda store: store.execute("ALTER TABLE audit_log DROP COLUMN actor"),
    ],
    ids=["triage-not-json", "close-forged-not-json", "close-edited-not-json", "dropped-audit-log", "dropped-triage-history", "dropped-column"],
)
def test_audit_verify_exits_4_whatever_was_tampered(db, tmp_path, tamper):
    redelivery = [tip("A0", triage_status="duplicate", reporter_country="DE")]
    with Store(db) as store:
        close_object(store, "G01", outcome="exhausted", reason="quiet", by="ana")
        load_file(store, "tips", write_csv(tmp_path / "redelivery.csv", redelivery), progress=False)
        close_object(store, "G02", outcome="exhausted", reason="quiet too", by="ana")
        assert [r[0] for r in store.rows("SELECT action FROM audit_log ORDER BY seq")] == ["close", "triage_changes", "close"]
        tamper(store)
    result = run("--db", db, "audit", "verify")
    assert result.returncode == 4, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("caselib: audit chain broken: "), result.stderr
    assert result.stdout == ""


def test_a_forged_line_from_by_is_refused_in_one_line(db):
    result = run("--db", db, "close", "G01", "--outcome", "exhausted", "--reason", "quiet", "--by", "eve\nClosed G02 (exhausted); audit record 2 by root")
    assert_one_line_error(result, contains="the name of who decides (--by) must not hold control characters")
    assert result.stdout == ""
    result = run("--db", db, "close", "G01", "--outcome", "exhausted", "--reason", "\u200b")
    assert_one_line_error(result, contains="a reason is required to close an object")
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM audit_log") == 0
