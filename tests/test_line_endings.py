"""CSV files mixing line endings (issue 13, item 6) load row for row as Python's ``csv``
module reads them: CRLF, LF and CR all end a record, line breaks inside quoted fields are
kept. Files with one kind of line ending still go through DuckDB's reader."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from caselib import load_file
from caselib.domain.ingest import readers
from caselib.domain.ingest.readers import _mixed_line_endings, read_into_store

COLUMNS = ["tip_id", "object_id", "received_at", "suggested_place", "tip_text"]
ENDINGS = ["\r\n", "\n", "\r"]


def _field(rng: random.Random, row: int) -> str:
    """A tip text: words, sometimes a quote, a delimiter or a line break of any kind inside."""
    parts = [rng.choice(["soap", "wrapper", "Lyon", "bleu", "Köln", "x"]) for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(0, 2)):
        parts.insert(rng.randint(0, len(parts)), rng.choice(ENDINGS + ['"', ",", "a\r\n\r\nb"]))
    return f"t{row} " + " ".join(parts) + " end"


def _mixed_file(path: Path, seed: int, rows: int = 200, *, sloppy: bool = False) -> Path:
    """A tips CSV whose records end with a random mix of CRLF, LF and CR, every field with a
    line break or quote quoted (as csv.writer does), some fields quoted anyway. ``sloppy``:
    as csv.writer writes with a one-character line terminator, which leaves a field with the
    other line break unquoted (csv.reader then splits that record)."""
    rng = random.Random(seed)
    out = io.StringIO()
    records = [COLUMNS] + [
        [f"L{seed}-{i}", "G01", "2017-06-01", rng.choice(["Lyon", "", "a;b", "x\ny"]), _field(rng, i)]
        for i in range(rows)
    ]
    for record in records:
        ending = rng.choice(ENDINGS)
        quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
        if sloppy:
            csv.writer(out, quoting=quoting, lineterminator=ending).writerow(record)
        else:
            line = io.StringIO()
            csv.writer(line, quoting=quoting, lineterminator="\r\n").writerow(record)
            out.write(line.getvalue()[:-2] + ending)
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def _csv_module_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [row for row in csv.reader(handle) if row][1:]


def _contract_text(value: str) -> str | None:
    """What the loader stores for a value: trimmed, empty meaning none."""
    value = value.strip(" \t\r\n\u00a0\u2007\u202f\ufeff")
    return value or None


@pytest.mark.parametrize("sloppy", [False, True], ids=["quoted", "sloppy"])
@pytest.mark.parametrize("seed", range(4))
def test_a_file_mixing_endings_loads_row_for_row_as_csv_reader_reads_it(campaign_store, tmp_path, seed, sloppy):
    path = _mixed_file(tmp_path / f"mixed{seed}.csv", seed, sloppy=sloppy)
    assert _mixed_line_endings(path)
    rows = _csv_module_rows(path)
    expected = [row for row in rows if len(row) == len(COLUMNS)]  # others: the reader's rejects
    assert sloppy or expected == rows
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (
        len(rows), len(expected), len(rows) - len(expected)
    ), result.summary()
    stored = campaign_store.rows(
        "SELECT tip_id, object_id, received_at::DATE::VARCHAR, suggested_place, tip_text FROM tips "
        f"WHERE tip_id LIKE 'L{seed}-%' ORDER BY batch_id, split_part(tip_id, '-', 2)::INT"
    )
    assert stored == [tuple(_contract_text(v) for v in row) for row in expected]
    assert any("\r" in (r[4] or "") or "\n" in (r[4] or "") for r in stored)  # breaks inside fields kept


def test_the_raw_rows_are_the_csv_modules_fields_exactly(fresh_store, tmp_path):
    """Before any trimming: ``_raw`` holds csv.reader's fields (empty ones as NULL)."""
    path = _mixed_file(tmp_path / "mixed.csv", 99, rows=300)
    with fresh_store.transaction():
        raw = read_into_store(fresh_store, path, "csv")
        got = fresh_store.rows(f"SELECT {', '.join(f'c{i}' for i in range(len(COLUMNS)))} FROM _raw ORDER BY _line")
    assert raw.has_line_numbers and raw.headers == tuple(COLUMNS)
    assert got == [tuple(v or None for v in row) for row in _csv_module_rows(path)]


def test_line_numbers_and_rejects_of_a_mixed_file(campaign_store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(
        b'tip_id,object_id,received_at,tip_text\r\n'
        b'M1,G01,2017-06-01,"two\r\nlines"\n'  # lines 2-3
        b'M2,G01,2017-06-01,a,b\n'  # line 4: a field too many
        b'\r'  # line 5: blank, no record
        b'M3,G01,not a date,c\r\n'  # line 6
        b'M4,G01,2017-06-01,\xff\xfe\n'  # line 7: not UTF-8
        b'M5,G01,2017-06-01\n'  # line 8: a field missing
        b'M6,G01,2017-06-01,"x\ry"\r\n'  # lines 9-10
    )
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (6, 2, 4), result.summary()
    assert campaign_store.rows("SELECT tip_id, tip_text FROM tips ORDER BY 1") == [("M1", "two\r\nlines"), ("M6", "x\ry")]
    assert campaign_store.rows("SELECT line_no, reason FROM rejected_rows ORDER BY line_no") == [
        (4, "line 4 could not be read as CSV: too many columns (expected 4 fields, found 5)"),
        (6, 'received_at "not a date" is not an ISO 8601 timestamp'),
        (7, "line 7 could not be read as CSV: invalid encoding"),
        (8, "line 8 could not be read as CSV: missing columns (expected 4 fields, found 3)"),
    ]
    assert "\xff" not in repr(campaign_store.rows("SELECT raw_record FROM rejected_rows"))


def test_contact_columns_of_a_mixed_file_never_reach_duckdb(fresh_store, tmp_path, monkeypatch):
    path = tmp_path / "m.csv"
    path.write_bytes(b"tip_id,reporter_email,object_id,received_at\r\nC1,secret1@example.org,G01,2017-06-01\n"
        b"C2,secret2@example.org,G01,2017-06-01\r\n")
    from caselib.domain import contract
    from caselib.domain.ingest.mapping import Mapping
    from caselib.domain.ingest.plan import plan_columns

    handed = []
    batch = readers._csv_batch
    monkeypatch.setattr(readers, "_csv_batch", lambda *args: handed.append(batch(*args)) or handed[-1])
    plan_for = lambda headers: plan_columns(headers, contract.kind("tips"), Mapping(), path.name)  # noqa: E731
    with fresh_store.transaction():
        read_into_store(fresh_store, path, "csv", plan_for=plan_for)
        raw = repr(fresh_store.rows("SELECT * FROM _raw"))
    assert "secret" not in raw and handed  # the batches DuckDB was handed hold none either
    assert all("secret" not in repr(b.to_pylist()) for b in handed)


@pytest.mark.parametrize(
    "content",
    [
        b"tip_id,object_id,received_at\nA1,G01,2017-06-01\nA2,G01,2017-06-01\n",
        b"tip_id,object_id,received_at\r\nA1,G01,2017-06-01\r\nA2,G01,2017-06-01\r\n",
        b"tip_id,object_id,received_at\rA1,G01,2017-06-01\rA2,G01,2017-06-01\r",
        # Excel: records end with CRLF, a line break inside a cell is LF alone
        b'tip_id,object_id,received_at,tip_text\r\nA1,G01,2017-06-01,"a\nb"\r\nA2,G01,2017-06-01,"c\rd"\r\n',
    ],
    ids=["lf", "crlf", "cr", "excel"],
)
def test_a_file_with_one_kind_of_line_ending_is_read_by_duckdb(campaign_store, tmp_path, monkeypatch, content):
    path = tmp_path / "clean.csv"
    path.write_bytes(content)
    assert not _mixed_line_endings(path)

    def refuse(*args, **kwargs):
        raise AssertionError("a clean file went through the csv module")

    monkeypatch.setattr(readers, "_read_csv_mixed", refuse)
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted) == (2, 2), result.summary()


def test_the_check_sees_a_mix_across_its_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_BLOCK", 7)
    path = tmp_path / "m.csv"
    path.write_bytes(b'a,b\r\n"x\r\n",1\r\n' + b"y,2\r\n" * 5 + b"z,3\n")
    assert _mixed_line_endings(path)
    path.write_bytes(b'a,b\r\n"x\n\n",1\r\n' + b"y,2\r\n" * 5)
    assert not _mixed_line_endings(path)


def test_a_mixed_file_with_skip_rows_and_a_mapping(campaign_store, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('skip_rows = 1\n[constants]\nobject_id = "G02"\n')
    path = tmp_path / "m.csv"
    path.write_bytes(b"tip_id,received_at\r\n#id,#date\nK1,2017-06-01\rK2,2017-06-02\r\n")
    result = load_file(campaign_store, "tips", path, mapping=mapping, progress=False)
    assert (result.rows_read, result.inserted, result.skipped) == (2, 2, 1), result.summary()
    assert campaign_store.rows("SELECT tip_id, object_id FROM tips ORDER BY 1") == [("K1", "G02"), ("K2", "G02")]


def test_an_error_of_the_csv_module_is_one_line_and_changes_nothing(campaign_store, tmp_path):
    before = campaign_store.rows("SELECT count(*) FROM tips")
    path = tmp_path / "m.csv"
    # a field over the csv module's size limit (128 KiB)
    path.write_bytes(b"tip_id,object_id,received_at,tip_text\r\nN1,G01,2017-06-01,a\nN2,G01,2017-06-01,"
                     + b"x" * 200_000 + b"\r\n")
    from caselib.errors import FileLoadError

    with pytest.raises(FileLoadError) as raised:
        load_file(campaign_store, "tips", path, progress=False)
    assert str(raised.value).startswith("m.csv cannot be read as CSV: line 3: ") and "\n" not in str(raised.value)
    assert campaign_store.rows("SELECT count(*) FROM tips") == before
