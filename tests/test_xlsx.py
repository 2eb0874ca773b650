"""The Excel reader: a workbook's cells load exactly as the same rows written as CSV text.

Excel cells are typed (numbers, dates, times, booleans, formulas with their last computed
value); the reader (fastexcel, compiled, into Arrow) turns each into the text a CSV export of
the same rows holds, so a workbook and its CSV load into the same rows. A number's text has
at most nine decimal places (fastexcel's; a tenth of a millimetre in a coordinate), a whole
number none, a date at midnight is the date alone, any other date and time ISO 8601. A damaged workbook is one line, never a
traceback.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from caselib import Store, load_file
from caselib.domain.ingest.readers import read_into_store
from caselib.errors import CaselibError
from conftest import OBJECTS, WAVES, write_csv

COLUMNS = [
    "tip_id", "object_id", "Received_At ", "channel", "reporter_country", "suggested_country",
    "suggested_place", "latitude", "longitude", "brand", "shop", "period", "tip_text",
    "triage_status", "reporter_email", "not in the contract",
]
LONG = "Long tip. " * 3000  # 30,000 characters (a cell holds at most 32,767)

# Each row twice: the cells as Excel holds them, and the text of the same row in CSV.
# A formula is ("=", formula, cached value): the reader reads the value Excel last computed.
ROWS = [
    (
        ["007", "G01", dt.datetime(2017, 6, 2, 10, 30), "web", 276, "FR", ("=", '"Pa"&"ris"', "Paris"),
         48.5, 2.0, True, False, dt.time(12, 30), "Zürich ☃ 東京 🧼 مرحبا", "new", "secret@example.org", 1.25],
        ["007", "G01", "2017-06-02T10:30:00", "web", "276", "FR", "Paris",
         "48.5", "2", "true", "false", "12:30:00", "Zürich ☃ 東京 🧼 مرحبا", "new", "secret@example.org", "1.25"],
    ),
    (
        ["T2", "G02", dt.date(2017, 6, 3), None, "Germany", None, None,
         ("=", "40+8.5", 48.5), 0.123456789012345, "0042", ("=", "1=1", True), 2014, LONG, None, None, None],
        ["T2", "G02", "2017-06-03", "", "Germany", "", "",
         "48.5", "0.123456789", "0042", "true", "2014", LONG, "", "", ""],
    ),
    (  # a formatted but empty row, and one of blanks only: no records (CSV has no line)
        [None] * 16,
        None,
    ),
    (
        ["   ", None, None, None, None, None, None, None, None, None, None, None, None, None, None, None],
        None,
    ),
    (
        ["T3", "G01", dt.datetime(2017, 6, 4, 8, 15, 30, 250000), "email", "de ", "fra", "  padded  ",
         -33.8688, 151.2093, 1e-05, 12.0, "   ", "line one\nline two", "actionable", None, dt.datetime(2020, 1, 1)],
        ["T3", "G01", "2017-06-04T08:15:30.250", "email", "de ", "fra", "  padded  ",
         "-33.8688", "151.2093", "0.00001", "12", "   ", "line one\nline two", "actionable", "", "2020-01-01"],
    ),
    (
        ["T4", "G03", "2019-03-05T09:00:00+02:00", "phone", 40, 250.0, "Lyon", None, None, -0.0, 1e20,
         "2014-2016", "", "forwarded", "x@example.org", "-"],
        ["T4", "G03", "2019-03-05T09:00:00+02:00", "phone", "40", "250", "Lyon", "", "", "-0", "100000000000000000000",
         "2014-2016", "", "forwarded", "x@example.org", "-"],
    ),
]


def _workbook(path: Path, headers: list, rows: list[list], *, preserve: bool = True) -> Path:
    """Write an .xlsx with openpyxl; formula cells get their cached value written in (openpyxl
    writes formulas without one, as if never computed), and text with leading or trailing
    blanks is marked to keep them, as Excel marks it (``preserve``)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    cached = {}
    for r, row in enumerate(rows, start=2):
        cells = []
        for c, value in enumerate(row, start=1):
            if isinstance(value, tuple):
                cached[f"{get_column_letter(c)}{r}"] = value[2]
                value = "=" + value[1]
            cells.append(value)
        sheet.append(cells)
    # a second sheet, never read
    book.create_sheet("other").append(["tip_id", "object_id", "received_at"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in cached.items():
        kind, text = (
            ("b", "1" if value else "0") if isinstance(value, bool)
            else ("e", value) if isinstance(value, str) and value.startswith("#")
            else ("n", repr(value)) if isinstance(value, float)
            else ("str", value)
        )
        xml, count = re.subn(
            rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>',
            lambda m, ref=ref, kind=kind, text=text: f'<c r="{ref}"{m.group(1)} t="{kind}"><f>{m.group(2)}</f><v>{text}</v>',
            xml,
        )
        assert count == 1, ref
    if preserve:  # as Excel writes text with leading or trailing blanks
        xml = re.sub(r"<t>(\s[^<]*|[^<]*\s)</t>", r'<t xml:space="preserve">\1</t>', xml)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)
    return path


def _csv(path: Path, headers: list, rows: list[list]) -> Path:
    return write_csv(path, [dict(zip(headers, row, strict=True)) for row in rows], columns=headers)


@pytest.fixture
def files(tmp_path):
    workbook = _workbook(tmp_path / "tips.xlsx", COLUMNS, [cells for cells, _ in ROWS])
    text = _csv(tmp_path / "tips.csv", COLUMNS, [csv for _, csv in ROWS if csv is not None])
    return workbook, text


def test_the_cells_the_reader_reads_are_the_text_of_the_same_rows_in_csv(files, tmp_path):
    workbook, text = files
    raw = {}
    for path, fmt in ((text, "csv"), (workbook, "xlsx")):
        with Store(tmp_path / f"raw-{fmt}.duckdb") as store:
            found = read_into_store(store, path, fmt)
            raw[fmt] = (found.headers, store.rows("SELECT * FROM _raw ORDER BY rowid"))
    assert raw["xlsx"] == raw["csv"]
    assert raw["xlsx"][0] == tuple(COLUMNS)
    assert len(raw["xlsx"][1]) == 4


@pytest.mark.parametrize("pseudonymize", [False, True])
def test_a_workbook_loads_into_the_same_rows_as_its_csv(files, tmp_path, pseudonymize):
    stored = {}
    for path in files:
        with Store(tmp_path / f"{path.suffix[1:]}.duckdb") as store:
            load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
            load_file(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)
            result = load_file(store, "tips", path, progress=False, pseudonymize=pseudonymize)
            rows = store.rows("SELECT * EXCLUDE (batch_id, updated_batch_id) FROM tips ORDER BY tip_id")
            stored[path.suffix] = ((result.rows_read, result.inserted, result.rejected), rows)
    assert stored[".xlsx"] == stored[".csv"]
    assert stored[".xlsx"][0] == (4, 4, 0)
    by_id = {row[0]: row for row in stored[".xlsx"][1]}
    assert by_id["T2"][15] == LONG.strip()  # the loader trims text, whatever the format
    assert by_id["007"][2] == dt.datetime(2017, 6, 2, 10, 30)


def test_the_contact_columns_of_a_workbook_never_reach_the_raw_table(files, tmp_path):
    workbook, _ = files
    with Store(tmp_path / "plan.duckdb") as store:
        load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)
        load_file(store, "tips", workbook, progress=False)
        assert "secret@example.org" not in repr(store.rows("SELECT * FROM tips"))


def test_a_blank_cell_not_marked_to_keep_its_blanks_reads_as_empty_and_loads_the_same(tmp_path):
    """openpyxl writes a cell of blanks without ``xml:space="preserve"``; calamine then reads
    it as empty (the openpyxl reader read the blanks). Loaded, it is no value either way."""
    headers = ["tip_id", "object_id", "received_at", "brand"]
    workbook = _workbook(tmp_path / "blank.xlsx", headers, [["T1", "G01", "2017-06-01", "   "]], preserve=False)
    with Store(tmp_path / "blank.duckdb") as store:
        read_into_store(store, workbook, "xlsx")
        assert store.rows("SELECT * FROM _raw") == [("T1", "G01", "2017-06-01", None)]
    stored = {}
    for path in (workbook, _csv(tmp_path / "blank.csv", headers, [["T1", "G01", "2017-06-01", "   "]])):
        with Store(tmp_path / f"{path.suffix[1:]}.duckdb") as store:
            load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
            load_file(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)
            load_file(store, "tips", path, progress=False)
            stored[path.suffix] = store.rows("SELECT tip_id, brand FROM tips")
    assert stored[".xlsx"] == stored[".csv"] == [("T1", None)]


def test_an_error_cell_reads_as_empty(tmp_path):
    """A formula whose last value is an error (``#N/A``, ``#DIV/0!``) is no value: calamine
    does not hand out the error code (the openpyxl reader read it as the text ``#N/A``)."""
    headers = ["tip_id", "object_id", "received_at", "latitude", "longitude"]
    row = ["T1", "G01", "2017-06-01", ("=", "NA()", "#N/A"), ("=", "1/0", "#DIV/0!")]
    path = _workbook(tmp_path / "errors.xlsx", headers, [row])
    with Store(tmp_path / "errors.duckdb") as store:
        read_into_store(store, path, "xlsx")
        assert store.rows("SELECT * FROM _raw") == [("T1", "G01", "2017-06-01", None, None)]


def _one_line_error(path: Path, tmp_path: Path) -> str:
    with Store(tmp_path / "refused.duckdb") as store:
        with pytest.raises(CaselibError) as refused:
            read_into_store(store, path, "xlsx")
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
def test_a_workbook_with_a_part_cut_short_is_one_line(files, tmp_path, part):
    workbook, _ = files
    with zipfile.ZipFile(workbook) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts[part] = parts[part][: len(parts[part]) // 2]
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(damaged, "w") as target:
        for name, content in parts.items():
            target.writestr(name, content)
    assert "damaged.xlsx cannot be read as an Excel workbook: " in _one_line_error(damaged, tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        b"PK\x03\x04 this is no workbook",
        b"tip_id,object_id\nT1,G01\n",  # a CSV file named .xlsx
        b"\x00\x01\x02\x03" * 100,
    ],
)
def test_a_file_that_is_no_workbook_is_one_line(tmp_path, body):
    path = tmp_path / "tips.xlsx"
    path.write_bytes(body)
    assert "tips.xlsx cannot be read as an Excel workbook: " in _one_line_error(path, tmp_path)


def test_a_truncated_workbook_is_one_line(files, tmp_path):
    workbook, _ = files
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(workbook.read_bytes()[: workbook.stat().st_size // 2])
    assert "cut.xlsx cannot be read as an Excel workbook: " in _one_line_error(cut, tmp_path)


def test_an_empty_sheet_is_one_line(tmp_path):
    import openpyxl

    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    assert _one_line_error(path, tmp_path) == "empty.xlsx: the first sheet is empty"


def test_a_sheet_starting_beyond_column_a_keeps_its_columns_in_place(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active["B1"], book.active["C1"] = "tip_id", "object_id"
    book.active["C2"] = 5
    book.active["B4"] = "T4"
    path = tmp_path / "offset.xlsx"
    book.save(path)
    with Store(tmp_path / "offset.duckdb") as store:
        found = read_into_store(store, path, "xlsx")
        assert found.headers == ("", "tip_id", "object_id")
        assert store.rows("SELECT * FROM _raw ORDER BY rowid") == [(None, None, "5"), (None, "T4", None)]


def test_repeated_headers_are_refused_as_in_csv(tmp_path):
    headers = ["tip_id", "TIP_ID", "object_id", "received_at"]
    row = ["T1", "T2", "G01", "2017-06-01"]
    outcomes = {}
    for path in (_workbook(tmp_path / "two.xlsx", headers, [row]), _csv(tmp_path / "two.csv", headers, [row])):
        with Store(tmp_path / f"{path.suffix[1:]}.duckdb") as store:
            load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
            load_file(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)
            with pytest.raises(CaselibError) as refused:
                load_file(store, "tips", path, progress=False)
            outcomes[path.suffix] = str(refused.value).replace(path.name, "FILE")
    assert outcomes[".xlsx"] == outcomes[".csv"]


def test_a_chart_sheet_before_the_first_worksheet_is_passed_over(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["tip_id", "object_id", "received_at"])
    book.active.append(["T1", "G01", dt.datetime(2017, 6, 1, 9, 30)])
    book.create_chartsheet("chart", 0)
    path = tmp_path / "chart.xlsx"
    book.save(path)
    with Store(tmp_path / "chart.duckdb") as store:
        found = read_into_store(store, path, "xlsx")
        assert found.headers == ("tip_id", "object_id", "received_at")
        assert store.rows("SELECT * FROM _raw") == [("T1", "G01", "2017-06-01T09:30:00")]


def test_a_table_below_empty_rows_has_its_first_used_row_as_header(tmp_path):
    """Rows above a sheet's table (left empty, as a title row deleted) are not records; the
    table's first row is its header, as in a CSV file without them."""
    import openpyxl

    book = openpyxl.Workbook()
    for cell, value in (("A3", "tip_id"), ("B3", "received_at"), ("A4", "T1"),
                        ("B4", dt.date(2017, 6, 1)), ("A6", "T2"), ("B6", dt.time(8, 5))):
        book.active[cell] = value
    path = tmp_path / "below.xlsx"
    book.save(path)
    with Store(tmp_path / "below.duckdb") as store:
        found = read_into_store(store, path, "xlsx")
        assert found.headers == ("tip_id", "received_at")
        assert store.rows("SELECT * FROM _raw ORDER BY rowid") == [("T1", "2017-06-01"), ("T2", "08:05:00")]
