"""Files that are broken as a whole get one clear error and change nothing; broken lines are
quarantined with their line numbers; nothing ever surfaces as a traceback."""

from __future__ import annotations

import json
import os

import pytest

from caselib import load_file
from caselib.errors import FileLoadError

HEADER = b"tip_id,object_id,received_at,tip_text\n"


def snapshot(store):
    return {t: store.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in ("tips", "rejected_rows", "load_batches", "tip_triage_history")}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("garbage.csv", bytes(range(128, 256)) * 20, "is not UTF-8 text"),
        ("bad.xlsx", b"PK\x03\x04 this is no workbook", "cannot be read as an Excel workbook"),
        ("bad.parquet", b"PAR1" + b"\x00" * 64, "cannot be read as Parquet"),
        ("broken.json", b'[{"tip_id": "T9"', "is not a JSON array of records"),
        ("object.json", b'{"tip_id": "T9"}\n', None),  # a .json holding JSON Lines is fine
        ("noheader.csv", b"\n\n", None),
    ],
)
def test_whole_file_failures_are_one_clear_error_and_change_nothing(campaign_store, tmp_path, name, content, message):
    before = snapshot(campaign_store)
    path = tmp_path / name
    path.write_bytes(content)
    if message is None:
        try:
            result = load_file(campaign_store, "tips", path, progress=False)
        except FileLoadError as error:  # a file without the required columns is refused whole
            assert "has no" in str(error)
            assert snapshot(campaign_store) == before
        else:
            assert result.reconciles
        return
    with pytest.raises(FileLoadError, match=message) as raised:
        load_file(campaign_store, "tips", path, progress=False)
    assert "\n" not in str(raised.value)
    assert snapshot(campaign_store) == before


def test_a_line_with_bad_bytes_is_quarantined_and_the_rest_loads(campaign_store, tmp_path):
    path = tmp_path / "tips.csv"
    path.write_bytes(HEADER + b"T1,G01,2017-06-01,ok\nT2,G01,2017-06-01,bad \xff\xfe bytes\nT3,G01,2017-06-01,ok\n")
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    [(line, reason)] = campaign_store.rows("SELECT line_no, reason FROM rejected_rows")
    assert line == 3 and "invalid encoding" in reason


def test_ragged_and_unterminated_lines_are_quarantined_by_line(campaign_store, tmp_path):
    path = tmp_path / "tips.csv"
    path.write_bytes(HEADER + b"T5,G01,2017-06-01,x,extra\nT6,G01\nT8,G01,2017-06-01,fine\n\"T7,G01,2017-06-01,x\n")
    result = load_file(campaign_store, "tips", path, progress=False)
    assert result.inserted == 1 and result.rejected == 3 and result.reconciles
    rows = campaign_store.rows("SELECT line_no, reason, raw_record FROM rejected_rows ORDER BY line_no")
    assert [r[0] for r in rows] == [2, 3, 5]
    assert "too many columns" in rows[0][1] and "missing columns" in rows[1][1] and "unterminated quote" in rows[2][1].lower()
    # Nothing of a line's text is kept (a ragged line's extra field may be contact data), only its length.
    assert json.loads(rows[0][2]) == {"length": len("T5,G01,2017-06-01,x,extra")}


def test_unreadable_line_text_is_never_kept(campaign_store, tmp_path):
    path = tmp_path / "tips.csv"
    path.write_bytes(b"tip_id,object_id,received_at,reporter_email\nT5,G01,2017-06-01,a@example.org,extra\n")
    load_file(campaign_store, "tips", path, progress=False)
    [(reason, raw)] = campaign_store.rows("SELECT reason, raw_record FROM rejected_rows")
    assert json.loads(raw) == {"length": 37} and "too many columns" in reason
    assert "example.org" not in str(campaign_store.rows("SELECT * FROM rejected_rows"))


def test_a_json_lines_file_with_broken_lines_keeps_the_good_ones(campaign_store, tmp_path):
    path = tmp_path / "tips.jsonl"
    path.write_text('{"tip_id": "T1", "object_id": "G01", "received_at": "2017-06-01"}\n{"tip_id": "T2", bad\n[1, 2]\n\n')
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 1, 2)
    assert campaign_store.rows("SELECT line_no FROM rejected_rows ORDER BY 1") == [(2,), (3,)]


def test_a_bad_memory_limit_setting_is_a_clear_error(campaign_store, tmp_path, monkeypatch):
    monkeypatch.setenv("CASELIB_LOAD_MEMORY_LIMIT", "lots")
    path = tmp_path / "tips.csv"
    path.write_bytes(HEADER + b"T1,G01,2017-06-01,ok\n")
    with pytest.raises(Exception, match="is not a memory size"):
        load_file(campaign_store, "tips", path, progress=False)


def test_random_bytes_never_cause_anything_but_a_clear_error_or_a_reconciled_load(campaign_store, tmp_path):
    for seed in range(12):
        path = tmp_path / f"random{seed}.csv"
        body = os.urandom(400).replace(b"\x00", b"a")
        path.write_bytes(HEADER + body)
        try:
            result = load_file(campaign_store, "tips", path, progress=False)
        except FileLoadError:
            continue
        assert result.reconciles


# -- wide and repeated columns (issue 11) ---------------------------------------------------


def test_a_json_record_of_ten_thousand_keys_loads_within_the_default_memory_limit(campaign_store, tmp_path, monkeypatch):
    """A 140 KB JSON array of one object with 10,000 keys ran out of memory even at 6 GB
    (each key had a JSON function of its own); each record is now parsed once."""
    monkeypatch.delenv("CASELIB_LOAD_MEMORY_LIMIT", raising=False)
    record = {"tip_id": "W1", "object_id": "G01", "received_at": "2017-06-01", **{f"k{i}": "v" for i in range(10_000)}}
    path = tmp_path / "wide.json"
    path.write_text(json.dumps([record]))
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted) == (1, 1)
    assert len(result.ignored_columns) == 10_000
    # the summary names the first twenty and counts the rest: one readable line, not 10,000 names
    [line] = [x for x in result.summary().splitlines() if "ignored" in x]
    assert line.endswith("k18, k19 and 9,980 more")


def test_json_lines_rows_each_with_a_key_of_its_own_load(campaign_store, tmp_path, monkeypatch):
    monkeypatch.delenv("CASELIB_LOAD_MEMORY_LIMIT", raising=False)
    path = tmp_path / "own.jsonl"
    path.write_text("".join(
        json.dumps({"tip_id": f"O{i}", "object_id": "G01", "received_at": "2017-06-01", f"own{i}": "x"}) + "\n"
        for i in range(3000)
    ))
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted) == (3000, 3000)


def test_a_json_record_giving_a_key_twice_is_quarantined_without_its_text(campaign_store, tmp_path):
    """Which of two values for one key holds is undefined in JSON: the record is refused, as
    a CSV file repeating a header is; its text (here a contact value) is not kept."""
    path = tmp_path / "tips.jsonl"
    path.write_text(
        '{"tip_id": "D1", "object_id": "G01", "received_at": "2017-06-01"}\n'
        '{"tip_id": "D2", "tip_id": "D3", "object_id": "G01", "received_at": "2017-06-01", '
        '"reporter_email": "twice@example.org", "reporter_email": "again@example.org"}\n'
    )
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (2, 1, 1)
    [(line, reason, raw)] = campaign_store.rows("SELECT line_no, reason, raw_record FROM rejected_rows")
    assert line == 2 and reason == "line 2 gives a key twice; each key may appear once in a record"
    assert "example.org" not in raw and "D3" not in raw
    assert campaign_store.rows("SELECT tip_id FROM tips") == [("D1",)]


def _two_tip_id_files(tmp_path, second: str) -> dict[str, object]:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["tip_id", "object_id", "received_at", second]
    row = ["R1", "G01", "2017-06-01", "R2"]
    csv_path = tmp_path / "two.csv"
    csv_path.write_text(",".join(names) + "\n" + ",".join(row) + "\n")
    parquet_path = tmp_path / "two.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([v]) for v in row], names=names), parquet_path)
    book = openpyxl.Workbook()
    book.active.append(names)
    book.active.append(row)
    xlsx_path = tmp_path / "two.xlsx"
    book.save(xlsx_path)
    files = {"csv": csv_path, "parquet": parquet_path, "xlsx": xlsx_path}
    if second != "tip_id":  # JSON keys are case-sensitive: TIP_ID is a second column
        for fmt in ("json", "jsonl"):
            record = dict(zip(names, row, strict=True))
            path = tmp_path / f"two.{fmt}"
            path.write_text(json.dumps([record]) if fmt == "json" else json.dumps(record) + "\n")
            files[fmt] = path
    return files


@pytest.mark.parametrize("second", ["tip_id", "TIP_ID", " Tip_Id "])
def test_two_columns_for_one_contract_column_are_refused_alike_in_every_format(campaign_store, tmp_path, second):
    """Parquet loaded the first of two tip_id columns and ignored the second; every format
    now gives the CSV reader's refusal, and nothing changes."""
    before = snapshot(campaign_store)
    files = _two_tip_id_files(tmp_path, second)
    assert len(files) == (3 if second == "tip_id" else 5)
    for fmt, path in files.items():
        with pytest.raises(FileLoadError) as raised:
            load_file(campaign_store, "tips", path, progress=False)
        assert str(raised.value) == f"{path.name} has two columns for tip_id: 'tip_id' and {second!r}", fmt
        assert snapshot(campaign_store) == before


def test_json_keys_of_any_spelling_are_read_empty_slash_tilde_and_quote_included(campaign_store, tmp_path):
    """An empty key was an internal error (``$.""`` is no JSON path); keys are now addressed as
    JSON Pointers, which name any key."""
    from caselib.domain.ingest.mapping import read_mapping

    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\n"Tip/ID~1" = "tip_id"\n"say \\"when\\"" = "received_at"\n"" = "tip_text"\n')
    path = tmp_path / "keys.jsonl"
    path.write_text(json.dumps({"Tip/ID~1": "K1", "object_id": "G01", 'say "when"': "2017-06-01", "": "from the empty key"}) + "\n")
    result = load_file(campaign_store, "tips", path, progress=False, mapping=read_mapping(mapping))
    assert (result.rows_read, result.inserted) == (1, 1), result.summary()
    assert campaign_store.rows("SELECT tip_id, received_at::DATE::VARCHAR, tip_text FROM tips") == [
        ("K1", "2017-06-01", "from the empty key")
    ]


def test_a_csv_mixing_crlf_and_lf_loads_as_the_csv_module_reads_it(campaign_store, tmp_path):
    """DuckDB's reader refuses such a file whole (its "state machine reached an invalid
    state"); it is read as Python's csv module reads it (issue 13; tests/test_line_endings.py)."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"tip_id,object_id,received_at\r\nM1,G01,2017-06-01\r\nM2,G01,2017-06-01\nM3,G01,2017-06-01\r\n")
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted) == (3, 3), result.summary()
    assert campaign_store.rows("SELECT tip_id FROM tips ORDER BY 1") == [("M1",), ("M2",), ("M3",)]


def test_an_excel_csv_with_line_breaks_inside_cells_loads(campaign_store, tmp_path):
    """Excel ends records with CRLF and a line inside a cell with LF alone: not mixed."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b'tip_id,object_id,received_at,tip_text\r\nX1,G01,2017-06-01,"two\nlines"\r\nX2,G01,2017-06-01,one\r\n')
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted) == (2, 2)
    assert campaign_store.rows("SELECT tip_text FROM tips ORDER BY tip_id") == [("two\nlines",), ("one",)]


# -- JSON read as a stream (issue 13) -------------------------------------------------------


def test_json_lines_refused_by_the_reader_keep_every_other_line_number(campaign_store, tmp_path):
    """A line that is not UTF-8 and one holding a raw control character (not JSON) are
    refused by the line reader itself; each is quarantined with its own line number, and the
    records after them keep theirs (the reader numbers only the lines it read)."""
    record = '{{"tip_id": "{}", "object_id": "G01", "received_at": "2017-06-01", "bad": {}}}\n'
    body = (
        record.format("J1", 0).encode()
        + b'{"tip_id": "J2", "tip_text": "caf\xe9"}\n'  # line 2: Latin-1, not UTF-8
        + record.format("J3", 0).encode()
        + b'{"tip_id": "J4",\x01 "x": 1}\n'  # line 4: a raw U+0001
        + b"\n"
        + record.format("J6", '"x"').encode()
        + b"[1]\n"  # line 7
        + record.format("J8", 1).encode()
    )
    path = tmp_path / "tips.jsonl"
    path.write_bytes(body)
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (7, 4, 3)
    assert campaign_store.rows("SELECT line_no, reason FROM rejected_rows ORDER BY 1") == [
        (2, "line 2 is not UTF-8 text"),
        (4, "line 4 is not a JSON object"),
        (7, "line 7 is not a JSON object"),
    ]
    assert campaign_store.rows("SELECT tip_id FROM tips ORDER BY 1") == [("J1",), ("J3",), ("J6",), ("J8",)]
    # nothing of a refused line's text is kept, only its length
    raw = campaign_store.rows("SELECT raw_record FROM rejected_rows ORDER BY line_no")
    assert all("J2" not in r[0] and "J4" not in r[0] for r in raw)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_json_file_larger_than_the_memory_limit_loads(campaign_store, tmp_path, monkeypatch, fmt):
    """JSON was read as one text (read_text): a file needed its whole size in memory, and
    ten million tips ran out of it ("failed to allocate data of size 4.0 GiB"). It is now
    streamed: a 170 MB file loads with DuckDB held to 128 MB (at 96 MB, DuckDB's own read
    buffers on two threads came within a few MiB of the limit, and once over it)."""
    monkeypatch.setenv("CASELIB_LOAD_MEMORY_LIMIT", "128MB")
    filler = "x" * 100
    records = [
        json.dumps({"tip_id": f"M{i}", "object_id": "G01", "received_at": "2017-06-01", "tip_text": filler})
        for i in range(1_000_000)
    ]
    path = tmp_path / f"big.{fmt}"
    path.write_text("\n".join(records) + "\n" if fmt == "jsonl" else "[" + ",\n".join(records) + "]")
    assert path.stat().st_size > 170 * 2**20
    result = load_file(campaign_store, "tips", path, progress=False)
    assert (result.rows_read, result.inserted, result.rejected) == (1_000_000, 1_000_000, 0)

