"""Tipsters were promised anonymity: contact data planted in every shape a file can hold it
is found nowhere afterwards: not in the quarantine, not in `caselib rejected`, not in the
database file or its WAL, not in the report.

Each secret is distinct and long, so that a hit is unambiguous, and the tables are queried
as well as the bytes read (DuckDB may compress strings in its blocks).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from caselib import Store, load_file
from caselib.cli import cli
from caselib.store import quote_ident
from conftest import OBJECTS, WAVES, write_csv

SECRETS = [
    "secret-1@example.org",
    "+44 7700 900123",
    "secret-3-jane.roe@example.net",
    "+49 151 23456789",
    "secret-5-john.q@example.com",
    "198.51.100.77",
    "Secretina Verylongname",
    "secret-8-max@example.de",
]


def _campaign(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)


def _load(db: Path, path: Path, *, pseudonymize: bool = False):
    with Store(db) as store:
        return load_file(store, "tips", path, progress=False, pseudonymize=pseudonymize)


def _everything_stored(db: Path) -> str:
    with Store(db) as store:
        tables = [r[0] for r in store.rows("SELECT table_name FROM duckdb_tables() ORDER BY 1")]
        return "\n".join(repr(store.rows(f"SELECT * FROM {quote_ident(t)}")) for t in tables).lower()


def _rejected_json(db: Path) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "rejected", "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.output


def _files_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def assert_no_secret(db: Path, secrets: list[str], *, files_in: Path | None = None) -> None:
    exported = _rejected_json(db).lower()
    json.loads(exported)
    stored = _everything_stored(db)
    on_disk = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    if files_in is not None:
        on_disk += _files_under(files_in)
    for secret in secrets:
        assert secret.lower() not in exported, f"{secret} in `caselib rejected`"
        assert secret.lower() not in stored, f"{secret} in a table"
        assert secret.encode() not in on_disk, f"{secret} in a file"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db" / "case.duckdb"
    path.parent.mkdir()
    _campaign(path, tmp_path)
    return path


# -- item 1: the quarantine --------------------------------------------------------------------


def test_a_json_lines_line_that_is_not_an_object_keeps_none_of_its_text(db, tmp_path):
    path = tmp_path / "tips.jsonl"
    good = {"tip_id": "J1", "object_id": "G01", "received_at": "2017-06-01"}
    path.write_text(
        json.dumps(good) + "\n"
        # not JSON at all: a broken object with contact fields
        + '{"tip_id": "J2", "reporter_email": "secret-1@example.org", "reporter_phone": "+44 7700 900123"\n'
        # JSON, but an array of objects, not an object
        + '[{"tip_id": "J3", "contact": "secret-3-jane.roe@example.net"}]\n'
        # JSON, a bare string
        + '"+49 151 23456789"\n'
    )
    result = _load(db, path)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 1, 3)
    with Store(db) as store:
        rows = store.rows("SELECT line_no, reason, raw_record FROM rejected_rows ORDER BY line_no")
    assert [r[0] for r in rows] == [2, 3, 4]
    for line_no, reason, raw in rows:
        assert reason == f"line {line_no} is not a JSON object"
        assert set(json.loads(raw)) == {"length"}  # its length only, nothing of its content
    assert_no_secret(db, SECRETS[:4])


def test_a_json_array_element_that_is_not_an_object_keeps_none_of_its_text(db, tmp_path):
    path = tmp_path / "tips.json"
    path.write_text(json.dumps([
        {"tip_id": "A1", "object_id": "G01", "received_at": "2017-06-01"},
        "secret-5-john.q@example.com",
        [{"reporter_ip": "198.51.100.77"}],
    ]))
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (1, 2)
    assert_no_secret(db, ["secret-5-john.q@example.com", "198.51.100.77"])


def test_a_csv_line_the_reader_cannot_split_keeps_none_of_its_text(db, tmp_path):
    # No contact column in the header, but the extra field of a ragged line is an address.
    path = tmp_path / "tips.csv"
    path.write_text(
        "tip_id,object_id,received_at\n"
        "C1,G01,2017-06-01\n"
        "C2,G01,2017-06-01,secret-8-max@example.de\n"
        '"C3,G01,2017-06-01,Secretina Verylongname\n'
    )
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (1, 2) and result.reconciles
    with Store(db) as store:
        raws = [json.loads(r[0]) for r in store.rows("SELECT raw_record FROM rejected_rows ORDER BY line_no")]
    assert all(set(raw) == {"length"} for raw in raws)
    assert_no_secret(db, ["secret-8-max@example.de", "Secretina Verylongname"])


def _parquet(path: Path, names: list[str], columns: list[list]) -> Path:
    table = pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("pseudonymize", [False, True])
def test_parquet_duplicate_and_case_variant_contact_columns_are_all_removed(db, tmp_path, pseudonymize):
    path = _parquet(
        tmp_path / "tips.parquet",
        ["tip_id", "object_id", "received_at", "reporter_email", "reporter_email", "REPORTER_EMAIL",
         "Reporter_Phone", "reporter_phone"],
        [
            ["P1", "P2"],
            ["G01", "G99"],  # P2 names an unknown object: it goes to the quarantine
            ["2017-06-01", "2017-06-01"],
            ["secret-1@example.org", "secret-3-jane.roe@example.net"],
            ["secret-5-john.q@example.com", "secret-8-max@example.de"],
            ["Secretina Verylongname", "198.51.100.77"],
            ["+44 7700 900123", "+49 151 23456789"],
            ["+44 7700 900999", "+49 151 99999999"],
        ],
    )
    result = _load(db, path, pseudonymize=pseudonymize)
    assert (result.inserted, result.rejected) == (1, 1)
    assert len(result.contact_columns) == 5 and result.ignored_columns == []
    with Store(db) as store:
        [(raw,)] = store.rows("SELECT raw_record FROM rejected_rows")
        assert set(json.loads(raw)) == {"tip_id", "object_id", "received_at"}
        pseudonyms = store.rows("SELECT reporter_pseudonym FROM tips")
    assert (pseudonyms[0][0] is not None) == pseudonymize
    assert_no_secret(db, [*SECRETS, "+44 7700 900999", "+49 151 99999999"])


def test_csv_duplicate_and_case_variant_contact_columns_are_all_removed(db, tmp_path):
    path = tmp_path / "tips.csv"
    path.write_text(
        "tip_id,object_id,received_at,reporter_email,REPORTER_EMAIL, Reporter_Email \n"
        "D1,G99,2017-06-01,secret-1@example.org,secret-3-jane.roe@example.net,secret-5-john.q@example.com\n"
    )
    result = _load(db, path, pseudonymize=True)
    assert result.rejected == 1
    assert_no_secret(db, SECRETS[:1] + SECRETS[2:5:2])


def test_json_lines_case_variant_contact_keys_are_all_removed(db, tmp_path):
    path = tmp_path / "tips.jsonl"
    rows = [
        {"tip_id": "K1", "object_id": "G99", "received_at": "2017-06-01",
         "reporter_email": "secret-1@example.org", "REPORTER_EMAIL": "secret-3-jane.roe@example.net"},
        {"tip_id": "K2", "object_id": "G01", "received_at": "2017-06-01", "Contact": "+44 7700 900123"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _load(db, path)
    assert (result.inserted, result.rejected) == (1, 1)
    assert_no_secret(db, [SECRETS[0], SECRETS[1], SECRETS[2]])


# -- item 2: the report's "Rejected rows by reason" ------------------------------------------

HOSTILE = 'x" jane.doe@example.com +44 7700 900123 "'


def test_the_report_groups_rejects_by_the_reason_without_its_values(db, tmp_path):
    from caselib.presentation.report import rejection_reasons

    path = write_csv(tmp_path / "tips.csv", [
        {"tip_id": "H1", "object_id": "G01", "received_at": "2017-06-01", "channel": HOSTILE},
        {"tip_id": "H2", "object_id": HOSTILE, "received_at": HOSTILE, "language": HOSTILE},
        {"tip_id": HOSTILE, "object_id": "G01", "received_at": "2017-06-01", "triage_status": "new"},
        {"tip_id": HOSTILE, "object_id": "G02", "received_at": "2017-06-01", "triage_status": "new"},
    ])
    result = _load(db, path)
    assert result.rejected == 3
    with Store(db) as store:
        frame = rejection_reasons(store)
        stored = store.rows("SELECT reason FROM rejected_rows")
    assert any("jane.doe@example.com" in r[0] for r in stored)  # the quarantine keeps the value
    shown = " ".join(frame["reason"])
    for secret in ("jane.doe", "example.com", "7700", "900123"):
        assert secret not in shown, frame
    assert set(frame["reason"]) == {
        'channel "…" is not one of web, email, phone, social, other',
        'received_at "…" is not an ISO 8601 timestamp; language "…" is not an ISO 639-1 language code; '
        'object_id "…" is not a known object',
        'tip_id "…" appears again in this file with different values',
    }


def test_reasons_quarantined_before_templates_existed_get_one_without_values(db):
    from caselib.presentation.report import rejection_reasons
    from caselib.store import sql_text

    backfill = sql_text("schema/003_reason_templates").split("UPDATE", 1)[1]
    old = f'channel "{HOSTILE[:60]}" is not one of web; missing tip_id'
    with Store(db) as store:
        store.execute(
            "INSERT INTO rejected_rows VALUES (1, 'tips', 1, NULL, $r, NULL, 'sha', NULL),"
            " (1, 'tips', NULL, 7, 'line 7 is not a JSON object', NULL, 'sha', NULL)",
            {"r": old},
        )
        store.execute("UPDATE" + backfill)
        frame = rejection_reasons(store)
    assert set(frame["reason"]) == {'channel "…', "line … is not a JSON object"}


# -- item 3: spill files ---------------------------------------------------------------------

KILL_KEY = "kill-test-key-0123456789abcdef"


def _key_bytes(key: str) -> list[bytes]:
    from caselib.domain.ingest.pseudonym import PseudonymKey

    pads = PseudonymKey(key.encode()).params()
    return [key.encode(), pads["hmac_ipad"], pads["hmac_opad"]]


def _big_tips(path: Path, rows: int) -> Path:
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tip_id", "object_id", "received_at", "tip_text", "reporter_email", "reporter_phone"])
        for i in range(rows):
            writer.writerow([f"T{i}", "G01", "2017-06-01T10:00:00Z", f"text {i} " * 3,
                             f"tipster-{i}-secret@example.org", f"+44 7700 9{i:06d}"])
    return path


def _hits(folder: Path, needles: list[bytes]) -> dict[str, int]:
    found = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            data = file.read_bytes()
            count = sum(data.count(n) for n in needles)
            if count:
                found[str(file.relative_to(folder))] = count
    return found


def _spilled(folder: Path) -> bool:
    return any(f.is_file() and f.suffix == ".tmp" and f.stat().st_size > 0 for f in folder.rglob("*"))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_killed_spilling_load_leaves_no_contact_value_nor_the_key_on_disk(db, tmp_path, fmt):
    import os
    import signal
    import subprocess
    import sys
    import time

    path = _big_tips(tmp_path / "big.csv", 1_500_000)
    if fmt == "parquet":
        import duckdb

        parquet = tmp_path / "big.parquet"
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}', all_varchar = true)) TO '{parquet}'")
        path = parquet
    env = {**os.environ, "CASELIB_LOAD_MEMORY_LIMIT": "150MB", "CASELIB_PSEUDONYM_KEY": KILL_KEY}
    load = subprocess.Popen(
        [sys.executable, "-m", "caselib", "--db", str(db), "load", "tips", "--no-refresh", str(path), "--pseudonymize", "--no-progress"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    started, spilled = time.monotonic(), False
    while load.poll() is None and time.monotonic() - started < 120:
        spilled = spilled or _spilled(db.parent)
        if time.monotonic() - started > 3 and spilled:
            break
        time.sleep(0.1)
    assert spilled, "the load did not spill: the test proves nothing"
    assert load.poll() is None, "the load ended before it was killed"
    spill = [p for p in db.parent.iterdir() if p.is_dir()]
    assert spill and all(p.stat().st_mode & 0o777 == 0o700 for p in spill), spill
    load.send_signal(signal.SIGKILL)
    load.wait()
    # The load's watcher removes its spill folder once the load is gone: within moments,
    # and without the next open.
    deadline = time.monotonic() + 10
    while any(p.is_dir() for p in db.parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    contact = [b"-secret@example.org", b"+44 7700 9"]
    assert _hits(db.parent, contact + _key_bytes(KILL_KEY)) == {}
    assert sorted(p.name for p in db.parent.iterdir() if p.name != "case.duckdb.wal") == ["case.duckdb"]
    with Store(db) as store:  # the killed load left nothing in the database either
        assert store.scalar("SELECT count(*) FROM tips") == 0
    assert _hits(db.parent, contact + _key_bytes(KILL_KEY)) == {}


def test_the_watcher_removes_the_spill_folder_of_a_killed_process(db, tmp_path):
    """A load starts a watcher (Store.guard_spill); once the process is killed, however it
    was, its spill folder goes without any later open."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from caselib import Store\n"
        "store = Store(sys.argv[1])\n"
        "store.guard_spill()\n"
        "(store._spill / 'x.tmp').write_bytes(b'secret-in-spill')\n"
        "print(store._spill, flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True)
    folder = Path(child.stdout.readline().strip())
    assert folder.is_dir() and (folder / "x.tmp").exists()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists()


def test_a_spilling_load_that_fails_or_succeeds_leaves_no_spill_behind(db, tmp_path, monkeypatch):
    import caselib.domain.ingest as ingest

    monkeypatch.setenv("CASELIB_LOAD_MEMORY_LIMIT", "60MB")
    monkeypatch.setenv("CASELIB_PSEUDONYM_KEY", KILL_KEY)
    path = _big_tips(tmp_path / "big.csv", 400_000)
    needles = [b"-secret@example.org", b"+44 7700 9", *_key_bytes(KILL_KEY)]
    with Store(db) as store:
        original = ingest._write_changes

        def fail(*args, **kwargs):
            assert _spilled(db.parent), "the load did not spill: the test proves nothing"
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(ingest, "_write_changes", fail)
        with pytest.raises(RuntimeError, match="disk on fire"):
            load_file(store, "tips", path, progress=False, pseudonymize=True)
        assert _hits(db.parent, needles) == {}
        monkeypatch.setattr(ingest, "_write_changes", original)
        result = load_file(store, "tips", path, progress=False, pseudonymize=True)
        assert result.inserted == 400_000
        assert _hits(db.parent, needles) == {}
    assert sorted(p.name for p in db.parent.iterdir()) == ["case.duckdb"]


def test_the_pseudonym_key_is_never_handed_to_duckdb(db, tmp_path, monkeypatch):
    """Whatever DuckDB is given (SQL text, parameters) it may write to a spill file; the key
    and its padded forms are in none of it, so no spill can hold them."""
    import hashlib
    import hmac

    monkeypatch.setenv("CASELIB_PSEUDONYM_KEY", KILL_KEY)
    given: list[bytes] = []
    original = Store._result

    def recording(self, sql, params):
        given.append(sql.encode())
        given.extend(v if isinstance(v, bytes) else repr(v).encode() for v in (params or {}).values())
        return original(self, sql, params)

    monkeypatch.setattr(Store, "_result", recording)
    path = write_csv(tmp_path / "tips.csv", [{"tip_id": "K1", "object_id": "G01", "received_at": "2017-06-01",
                                               "reporter_email": "secret-1@example.org"}])
    _load(db, path, pseudonymize=True)
    everything = b"\n".join(given)
    for needle in _key_bytes(KILL_KEY):
        assert needle not in everything
    with Store(db) as store:
        [(pseudonym,)] = store.rows("SELECT reporter_pseudonym FROM tips")
    assert pseudonym == hmac.new(KILL_KEY.encode(), b"reporter_email:secret-1@example.org", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx", "jsonl", "json"])
@pytest.mark.parametrize("pseudonymize", [False, True])
def test_contact_columns_never_enter_the_raw_table_in_any_format(db, tmp_path, monkeypatch, fmt, pseudonymize):
    import caselib.domain.ingest as ingest

    names = ["tip_id", "object_id", "received_at", "reporter_email", "Contact"]
    values = [["R1"], ["G01"], ["2017-06-01"], ["secret-1@example.org"], ["+44 7700 900123"]]
    if fmt == "csv":
        path = write_csv(tmp_path / "tips.csv", [dict(zip(names, (v[0] for v in values), strict=True))])
    elif fmt == "parquet":
        path = _parquet(tmp_path / "tips.parquet", names, values)
    elif fmt in ("jsonl", "json"):
        record = dict(zip(names, (v[0] for v in values), strict=True))
        path = tmp_path / f"tips.{fmt}"
        path.write_text(json.dumps(record) + "\n" if fmt == "jsonl" else json.dumps([record]))
    else:
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(names)
        book.active.append([v[0] for v in values])
        path = tmp_path / "tips.xlsx"
        book.save(path)
    seen = {}
    original = ingest._create_country_map

    def inspect(store, spec):
        seen["columns"] = [r[0] for r in store.rows("DESCRIBE _raw")]
        seen["values"] = repr(store.rows("SELECT * FROM _raw"))
        return original(store, spec)

    # No table of the load holds them at any moment either, after any of its statements
    # (the JSON reader's records were a temporary table, which could spill, until they
    # became a table macro).
    stored: list[str] = []
    tables: set[str] = set()
    statement = Store._result

    def after_each(self, sql, params):
        result = statement(self, sql, params)
        # after each statement that changes something (a query's result must stay unread)
        first = next((line for line in sql.splitlines() if line.strip() and not line.lstrip().startswith("--")), "")
        if not first.lstrip().upper().startswith(("SELECT", "WITH", "DESCRIBE", "FROM")):
            names = [r[0] for r in self._con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]
            tables.update(names)
            stored.extend(repr(self._con.execute(f"SELECT * FROM {quote_ident(n)}").fetchall()) for n in names)
        return result

    monkeypatch.setattr(Store, "_result", after_each)
    monkeypatch.setattr(ingest, "_create_country_map", inspect)
    result = _load(db, path, pseudonymize=pseudonymize)
    assert result.inserted == 1
    line = ["_line"] if fmt in ("jsonl", "json") else []
    assert seen["columns"] == [*line, "c0", "c1", "c2"] + (["_pseudonym"] if pseudonymize else [])
    assert "secret-1" not in seen["values"] and "7700" not in seen["values"]
    assert "_raw" in tables and stored
    assert not any("secret-1" in s or "7700" in s for s in stored), sorted(tables)
    with Store(db) as store:
        assert (store.scalar("SELECT reporter_pseudonym FROM tips") is not None) == pseudonymize


def test_a_mapping_may_rename_a_foreign_header_onto_a_contact_column(db, tmp_path):
    """`"Email address" = "reporter_email"` was refused as "not a tips column"; it marks the
    column as contact data, dropped (or pseudonymised) like the contract's own."""
    from caselib.domain.ingest.mapping import read_mapping

    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\n"Email address" = "reporter_email"\n')
    for tip_id, pseudonymize in (("E1", False), ("E2", True)):
        path = write_csv(tmp_path / f"{tip_id}.csv", [{"tip_id": tip_id, "object_id": "G01", "received_at": "2017-06-01",
                                                       "Email address": "renamed-secret@example.org"}])
        with Store(db) as store:
            result = load_file(store, "tips", path, progress=False, mapping=read_mapping(mapping), pseudonymize=pseudonymize)
        assert result.contact_columns == ["Email address"]
        assert "renamed-secret" not in _everything_stored(db)
    with Store(db) as store:
        assert store.rows("SELECT tip_id, reporter_pseudonym IS NOT NULL FROM tips ORDER BY 1") == [("E1", False), ("E2", True)]
