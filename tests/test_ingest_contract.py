"""The intake contract (../shared/intake-format.md), rule by rule, through the real loader.

Every test loads real files with `caselib.load_file` into a real DuckDB file and checks the
outcome through the database and the load's counts. Sections follow the contract: Files,
waves, objects, tips, contact columns, country values, loading rules, and mapping files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import caselib.domain.ingest
from caselib import Store, load_file
from caselib.store import quote_ident
from conftest import OBJECTS, WAVES, tip, write_csv

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # the pinned time of loading
FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
FORMATS = ("csv", "xlsx", "jsonl", "json", "parquet")


# -- helpers --------------------------------------------------------------------------------


def load(store: Store, kind: str, path: Path, **options):
    """Load through the real loader; every load must reconcile."""
    options.setdefault("progress", False)
    result = load_file(store, kind, path, **options)
    assert result.reconciles, result
    assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
    return result


def stored_tables(store: Store) -> list[str]:
    return [r[0] for r in store.rows("SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1")]


def snapshot(store: Store, *, without: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table of the database, in a fixed order."""
    return {
        table: store.rows(f"SELECT * FROM {quote_ident(table)} ORDER BY ALL")
        for table in stored_tables(store)
        if table not in without
    }


def everything_stored(store: Store) -> str:
    """The text of every value in every table (temporary ones too), lower-cased."""
    tables = [r[0] for r in store.rows("SELECT table_name FROM duckdb_tables() ORDER BY 1")]
    return "\n".join(repr(store.rows(f"SELECT * FROM {quote_ident(t)}")) for t in tables).lower()


def tips_by_id(store: Store, columns: str = "*") -> dict[str, dict]:
    frame = store.df(f"SELECT {columns} FROM tips ORDER BY tip_id")
    frame = frame.astype(object).where(frame.notna(), None)
    return {row["tip_id"]: row for row in frame.to_dict("records")}


def reasons(store: Store, kind: str = "tips") -> dict[str, str]:
    """Reason of each rejected row, by the first value of its raw record (the row's id)."""
    found = {}
    for raw, reason in store.rows(
        "SELECT raw_record, reason FROM rejected_rows WHERE kind = $kind ORDER BY batch_id, record_no",
        {"kind": kind},
    ):
        record = json.loads(raw)
        key = record.get(next(iter(record)))
        found[key] = reason
    return found


def write_records(path: Path, rows: list[dict], fmt: str) -> Path:
    """Write ``rows`` (all values text) as a contract file of format ``fmt``."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    path = path.with_suffix("." + fmt)
    if fmt == "csv":
        return write_csv(path, rows, columns=columns)
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
        book.save(path)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}), path)
    return path


def write_mapping(path: Path, data: dict) -> Path:
    """Write a mapping file as TOML or YAML, chosen by ``path``'s suffix."""
    if path.suffix == ".toml":
        lines = []
        if "contact" in data:
            lines.append("contact = [" + ", ".join(json.dumps(c) for c in data["contact"]) + "]")
        if "columns" in data:
            lines.append("[columns]")
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data["columns"].items()]
        for column, table in data.get("values", {}).items():
            lines.append(f"[values.{column}]")
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in table.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        import yaml

        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def make_campaign(tmp_path):
    """Build further databases with the conftest waves and objects loaded."""
    stores = []

    def make(name: str) -> Store:
        store = Store(tmp_path / f"{name}.duckdb")
        stores.append(store)
        load(store, "waves", write_csv(tmp_path / f"{name}-waves.csv", WAVES))
        load(store, "objects", write_csv(tmp_path / f"{name}-objects.csv", OBJECTS))
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture(scope="module")
def shared_campaign(tmp_path_factory):
    """One campaign database for the property tests, whose examples add tips with fresh ids."""
    folder = tmp_path_factory.mktemp("shared")
    store = Store(folder / "shared.duckdb")
    load(store, "waves", write_csv(folder / "waves.csv", WAVES))
    load(store, "objects", write_csv(folder / "objects.csv", OBJECTS))
    yield store, folder
    store.close()


# == Files ==================================================================================


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
@pytest.mark.parametrize("delimiter", [",", ";"], ids=["comma", "semicolon"])
def test_csv_with_or_without_bom_and_either_delimiter_loads(campaign_store, tmp_path, bom, delimiter):
    other = ";" if delimiter == "," else ","
    rows = [
        tip("T1", tip_text=f"sold{other} they say{other} in Lyon", brand="Savon"),
        tip("T2", reporter_country="AT", suggested_country="IT"),
    ]
    path = write_csv(tmp_path / "tips.csv", rows, delimiter=delimiter, bom=bom)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") is bom
    result = load(campaign_store, "tips", path)
    assert (result.rows_read, result.inserted, result.rejected) == (2, 2, 0)
    assert result.ignored_columns == []  # a BOM must not turn "tip_id" into an unknown header
    stored = tips_by_id(campaign_store)
    assert list(stored) == ["T1", "T2"]
    assert stored["T1"]["tip_text"] == f"sold{other} they say{other} in Lyon"
    assert stored["T1"]["brand"] == "Savon"
    assert (stored["T2"]["reporter_country"], stored["T2"]["suggested_country"]) == ("AUT", "ITA")


@pytest.mark.parametrize("delimiter", [",", ";"], ids=["comma", "semicolon"])
def test_quoted_csv_fields_hold_the_delimiter_quotes_and_newlines(campaign_store, tmp_path, delimiter):
    text = 'She said "it was sold, in Lyon; and Lille"\nsecond line\n\nafter a blank line'
    rows = [
        tip("T1", tip_text=text, shop='"Monoprix"', suggested_place="Lyon, Rhône; France"),
        tip("T2", tip_text='""', brand="a;b,c"),
        tip("T3"),
    ]
    path = write_csv(tmp_path / "tips.csv", rows, delimiter=delimiter)
    assert path.read_text().count("\n") > 5  # the newlines really are inside quoted fields
    result = load(campaign_store, "tips", path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 3, 0)
    stored = tips_by_id(campaign_store)
    assert stored["T1"]["tip_text"] == text
    assert stored["T1"]["shop"] == '"Monoprix"'
    assert stored["T1"]["suggested_place"] == "Lyon, Rhône; France"
    assert stored["T2"]["tip_text"] == '""'
    assert stored["T2"]["brand"] == "a;b,c"
    assert stored["T3"]["received_at"] == dt.datetime(2017, 6, 1, 10, 0)


def test_csv_delimiter_is_detected_not_guessed_from_the_file_name(campaign_store, tmp_path):
    # A ';' file whose data is full of commas, named .txt.
    path = tmp_path / "tips.txt"
    path.write_text(
        "tip_id;object_id;received_at;tip_text\nT1;G01;2017-06-01T10:00:00Z;a,b,c,d,e,f,g,h\n",
        encoding="utf-8",
    )
    result = load(campaign_store, "tips", path)
    assert result.inserted == 1
    assert campaign_store.rows("SELECT tip_id, tip_text FROM tips") == [("T1", "a,b,c,d,e,f,g,h")]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_headers_match_case_insensitively_after_trimming(campaign_store, tmp_path, fmt):
    rows = [
        {" Tip_ID ": "T1", "OBJECT_ID": "G02", "\tReceived_At": "2017-06-01T10:00:00Z", "Triage_Status  ": "actionable", " Suggested_COUNTRY": "FR"},
    ]
    result = load(campaign_store, "tips", write_records(tmp_path / "tips", rows, fmt))
    assert (result.inserted, result.rejected, result.ignored_columns) == (1, 0, [])
    assert campaign_store.rows("SELECT tip_id, object_id, triage_status, suggested_country FROM tips") == [
        ("T1", "G02", "actionable", "FRA")
    ]


def test_unknown_columns_are_ignored_and_listed_in_the_summary(campaign_store, tmp_path):
    rows = [tip("T1", favourite_colour="mauve-7731", **{"Internal Ref": "ref-7732"})]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    assert result.inserted == 1
    assert result.ignored_columns == ["favourite_colour", "Internal Ref"]
    assert "columns not in the contract, ignored: favourite_colour, Internal Ref" in result.summary()
    details = json.loads(campaign_store.scalar("SELECT details FROM load_batches WHERE batch_id = $b", {"b": result.batch_id}))
    assert details["ignored_columns"] == ["favourite_colour", "Internal Ref"]
    stored = repr(campaign_store.rows("SELECT * FROM tips"))
    assert "mauve-7731" not in stored and "ref-7732" not in stored
    assert not {"favourite_colour", "internal ref"} & set(campaign_store.columns("tips"))


def test_empty_and_blank_strings_mean_no_value(campaign_store, tmp_path):
    rows = [
        tip(
            "T1",
            channel="",
            language="",
            reporter_country="",
            suggested_country="   ",
            forwarded_to="",
            latitude="",
            longitude="",
            brand=" ",
            tip_text="",
            triage_status="",
        ),
        tip("", tip_text="no id"),
        tip("T3", object_id="  "),
        tip("T4", received_at=""),
    ]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    assert (result.inserted, result.rejected) == (1, 3)
    assert result.unrecognised_countries == {} and result.coordinates_dropped == 0
    row = tips_by_id(campaign_store)["T1"]
    assert row["triage_status"] == "new"  # the default, not an invalid ""
    for column in (
        "channel", "language", "reporter_country", "reporter_country_raw", "suggested_country",
        "suggested_country_raw", "forwarded_to", "forwarded_to_raw", "latitude", "longitude", "brand", "tip_text",
    ):
        assert row[column] is None, column
    found = sorted(r[0] for r in campaign_store.rows("SELECT reason FROM rejected_rows"))
    assert found == ["missing object_id", "missing received_at", "missing tip_id"]


def test_empty_optional_wave_id_and_status_of_an_object_mean_no_value(campaign_store, tmp_path):
    rows = [{"object_id": "G10", "title": "cup", "first_published": "2018-01-01", "wave_id": "", "status": " "}]
    result = load(campaign_store, "objects", write_csv(tmp_path / "objects.csv", rows))
    assert (result.inserted, result.rejected) == (1, 0)
    assert campaign_store.rows("SELECT wave_id, status FROM objects WHERE object_id = 'G10'") == [(None, "open")]


# Records every format must load identically: valid tips of many shapes, and rejected ones.
FORMAT_RECORDS = [
    tip("T01", received_at="2017-06-01T10:00:00Z", tip_text='quote " comma , semicolon ; \nnewline', channel="Web"),
    tip("T02", received_at="2017-06-01T12:30:00+02:00", reporter_country="276", suggested_country="United Kingdom", language="en-GB"),
    tip("T03", received_at="2017-06-02 08:15:00", reporter_country="Atlantis", latitude="48.8566", longitude="2.3522"),
    tip("T04", received_at="2017-06-03T23:59:59.5-05:30", suggested_country=" usa ", latitude="95", longitude="2", triage_status="forwarded", forwarded_to="fr"),
    tip("T05", object_id="G03", tip_text="Ünïcödé ☂ 北京", brand="Ürün", triage_status="ACTIONABLE"),
    tip("T06", reporter_email="someone@example.org", favourite_colour="teal"),
    tip("T07", object_id="G99"),
    tip("T08", received_at="yesterday"),
    tip("T09", channel="pigeon"),
    tip("T10", received_at="2999-01-01T00:00:00Z"),
]
FORMAT_VALID = 6


def _load_records(make_campaign, tmp_path, fmt: str):
    store = make_campaign(fmt)
    path = write_records(tmp_path / f"tips-{fmt}", FORMAT_RECORDS, fmt)
    return store, path, load(store, "tips", path, now=NOW)


def test_the_same_records_load_identically_in_all_five_formats(make_campaign, tmp_path):
    seen = {}
    for fmt in FORMATS:
        store, _, result = _load_records(make_campaign, tmp_path, fmt)
        assert result.format == fmt
        counts = (result.rows_read, result.inserted, result.updated, result.unchanged, result.rejected)
        assert counts == (10, FORMAT_VALID, 0, 0, 4), fmt
        assert result.ignored_columns == ["favourite_colour"], fmt
        assert result.contact_columns == ["reporter_email"], fmt
        assert result.coordinates_dropped == 1, fmt
        assert result.unrecognised_countries["reporter_country"]["examples"] == ["Atlantis"], fmt
        seen[fmt] = (
            store.rows("SELECT * FROM tips ORDER BY tip_id"),
            store.rows("SELECT record_no, reason FROM rejected_rows ORDER BY record_no"),
        )
    tips, rejected = seen["csv"]
    assert [r[0] for r in tips] == ["T01", "T02", "T03", "T04", "T05", "T06"]
    assert [r[0] for r in rejected] == [7, 8, 9, 10]
    for fmt in FORMATS[1:]:
        assert seen[fmt] == seen["csv"], fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_loading_the_same_file_twice_changes_nothing_the_second_time(make_campaign, tmp_path, fmt):
    store, path, first = _load_records(make_campaign, tmp_path, fmt)
    before = snapshot(store, without=("load_batches",))
    second = load(store, "tips", path, now=NOW)
    assert (second.rows_read, second.inserted, second.updated, second.unchanged, second.rejected) == (
        10, 0, 0, FORMAT_VALID, 10 - FORMAT_VALID,
    )
    assert second.previous_batch == first.batch_id
    assert snapshot(store, without=("load_batches",)) == before  # also no second quarantine entry
    logged = store.rows("SELECT rows_read, inserted, updated, unchanged, rejected FROM load_batches WHERE batch_id = $b", {"b": second.batch_id})
    assert logged == [(10, 0, 0, FORMAT_VALID, 4)]
    valid = write_records(tmp_path / f"valid-{fmt}", FORMAT_RECORDS[:FORMAT_VALID], fmt)
    again = load(store, "tips", valid, now=NOW)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, FORMAT_VALID, 0)
    assert snapshot(store, without=("load_batches",)) == before


def test_xlsx_reads_the_first_sheet_with_headers_in_row_one(campaign_store, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "tips"
    first.append(["tip_id", "object_id", "received_at", "suggested_country"])
    first.append(["T1", "G01", "2017-06-01T10:00:00Z", "FR"])
    first.append([None, None, None, None])  # a formatted but empty row is no record
    first.append(["T2", "G02", "2017-06-02T10:00:00Z", "DE"])
    second = book.create_sheet("other")
    second.append(["tip_id", "object_id", "received_at"])
    second.append(["X1", "G01", "2017-06-01T10:00:00Z"])
    book.active = 1  # the sheet open in Excel does not matter
    path = tmp_path / "tips.xlsx"
    book.save(path)
    result = load(campaign_store, "tips", path)
    assert (result.format, result.rows_read, result.inserted) == ("xlsx", 2, 2)
    assert campaign_store.rows("SELECT tip_id, suggested_country FROM tips ORDER BY 1") == [("T1", "FRA"), ("T2", "DEU")]


def test_xlsx_date_cells_load_as_dates_and_timestamps(fresh_store, tmp_path):
    import openpyxl

    def workbook(name, rows):
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(tmp_path / name)
        return tmp_path / name

    # Excel keeps dates as date cells, which openpyxl reads back as datetimes at midnight.
    waves = workbook("waves.xlsx", [["wave_id", "launched_on"], ["2017-06", dt.date(2017, 6, 1)]])
    objects = workbook(
        "objects.xlsx",
        [["object_id", "title", "first_published", "wave_id"], ["G01", "soap", dt.datetime(2017, 6, 1), "2017-06"]],
    )
    tips = workbook(
        "tips.xlsx",
        [["tip_id", "object_id", "received_at"], ["T1", "G01", dt.datetime(2017, 6, 2, 10, 30)], ["T2", "G01", dt.datetime(2017, 6, 3)]],
    )
    assert load(fresh_store, "waves", waves).inserted == 1
    assert load(fresh_store, "objects", objects).inserted == 1
    assert load(fresh_store, "tips", tips).inserted == 2
    assert fresh_store.scalar("SELECT launched_on FROM waves") == dt.date(2017, 6, 1)
    assert fresh_store.scalar("SELECT first_published FROM objects") == dt.date(2017, 6, 1)
    assert fresh_store.rows("SELECT received_at FROM tips ORDER BY tip_id") == [
        (dt.datetime(2017, 6, 2, 10, 30),),
        (dt.datetime(2017, 6, 3),),
    ]


def test_typed_parquet_and_json_values_load_like_their_text(make_campaign, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    typed = pa.table(
        {
            "tip_id": ["T1", "T2"],
            "object_id": ["G01", "G02"],
            "received_at": pa.array(
                [dt.datetime(2017, 6, 1, 10, tzinfo=dt.UTC), dt.datetime(2017, 6, 1, 8, tzinfo=dt.UTC)],
                pa.timestamp("us", tz="Europe/Berlin"),
            ),
            "latitude": [48.5, None],
            "longitude": [2.25, None],
            "reporter_country": [276, 40],
        }
    )
    pq.write_table(typed, tmp_path / "typed.parquet")
    (tmp_path / "typed.jsonl").write_text(
        "".join(json.dumps(r, default=dt.datetime.isoformat) + "\n" for r in typed.to_pylist()), encoding="utf-8"
    )
    text = [
        {"tip_id": "T1", "object_id": "G01", "received_at": "2017-06-01T10:00:00Z", "latitude": "48.5", "longitude": "2.25", "reporter_country": "DE"},
        {"tip_id": "T2", "object_id": "G02", "received_at": "2017-06-01T08:00:00Z", "reporter_country": "Austria"},
    ]
    expected = None
    for name, path in (
        ("text", write_csv(tmp_path / "text.csv", text)),
        ("parquet", tmp_path / "typed.parquet"),
        ("jsonl", tmp_path / "typed.jsonl"),
    ):
        store = make_campaign(name)
        assert load(store, "tips", path).inserted == 2, name
        got = store.rows("SELECT tip_id, received_at, latitude, longitude, reporter_country FROM tips ORDER BY 1")
        expected = expected or got
        assert got == expected, name
    assert expected[0][1:] == (dt.datetime(2017, 6, 1, 10), 48.5, 2.25, "DEU")
    assert expected[1][4] == "AUT"


def test_a_json_lines_file_and_a_json_array_are_both_read(campaign_store, tmp_path):
    lines = tmp_path / "tips.jsonl"
    lines.write_text(json.dumps(tip("T1")) + "\n\n" + json.dumps(tip("T2")) + "\n", encoding="utf-8")
    array = tmp_path / "more.json"
    array.write_text(json.dumps([tip("T3"), tip("T4")]), encoding="utf-8")
    assert (load(campaign_store, "tips", lines).format, load(campaign_store, "tips", array).format) == ("jsonl", "json")
    assert campaign_store.rows("SELECT tip_id FROM tips ORDER BY 1") == [("T1",), ("T2",), ("T3",), ("T4",)]


# == waves ==================================================================================


def test_a_full_wave_row_is_stored_and_name_and_notes_are_optional(fresh_store, tmp_path):
    rows = [
        {"wave_id": "2021-03", "name": "March 2021", "launched_on": "2021-03-04", "notes": "press day"},
        {"wave_id": "2022-01", "launched_on": "2022-01-10"},
    ]
    result = load(fresh_store, "waves", write_csv(tmp_path / "waves.csv", rows))
    assert (result.inserted, result.rejected) == (2, 0)
    assert fresh_store.rows("SELECT wave_id, name, launched_on, notes FROM waves ORDER BY 1") == [
        ("2021-03", "March 2021", dt.date(2021, 3, 4), "press day"),
        ("2022-01", None, dt.date(2022, 1, 10), None),
    ]


INVALID_WAVES = [  # (row, field named in the reason, wording of the reason)
    ({"wave_id": "", "launched_on": "2021-03-04"}, "wave_id", "missing wave_id"),
    ({"wave_id": "W1", "launched_on": ""}, "launched_on", "missing launched_on"),
    ({"wave_id": "W2", "launched_on": "4 March 2021"}, "launched_on", 'launched_on "4 March 2021" is not a date'),
    ({"wave_id": "W3", "launched_on": "2021-02-30"}, "launched_on", "is not a date"),
    ({"wave_id": "W4", "launched_on": "2021-3-4"}, "launched_on", "is not a date"),
    ({"wave_id": "W5", "launched_on": "04.03.2021"}, "launched_on", "is not a date"),
    ({"wave_id": "W6", "launched_on": "2021-03-04T10:00:00"}, "launched_on", "is not a date"),
]


def test_a_wave_missing_or_with_an_unparseable_required_field_is_rejected(fresh_store, tmp_path):
    rows = [row for row, _, _ in INVALID_WAVES] + [{"wave_id": "OK", "launched_on": "2021-03-04"}]
    result = load(fresh_store, "waves", write_csv(tmp_path / "waves.csv", rows))
    assert (result.rows_read, result.inserted, result.rejected) == (len(rows), 1, len(INVALID_WAVES))
    quarantined = {r[0]: r[1:] for r in fresh_store.rows("SELECT record_no, reason, raw_record FROM rejected_rows")}
    for record_no, (row, field, wording) in enumerate(INVALID_WAVES, start=1):
        reason, raw = quarantined[record_no]
        assert field in reason and wording in reason, (row, reason)
        assert json.loads(raw) == {k: v or None for k, v in row.items()}  # kept as read
    assert fresh_store.rows("SELECT wave_id FROM waves") == [("OK",)]


# == objects ================================================================================


def test_a_full_object_row_is_stored(campaign_store, tmp_path):
    row = {
        "object_id": "G20",
        "title": "blue soap wrapper with gold logo",
        "category": "toiletries",
        "first_published": "2019-03-01",
        "wave_id": "2019-03",
        "status": "Identified",
        "origin_country": " deu ",
        "identified_on": "2020-01-02",
        "closed_on": "2020-02-03",
        "description": "printed in two colours",
    }
    result = load(campaign_store, "objects", write_csv(tmp_path / "objects.csv", [row]))
    assert (result.inserted, result.rejected) == (1, 0)
    assert campaign_store.rows(
        "SELECT object_id, title, category, first_published, wave_id, status, origin_country, "
        "origin_country_raw, identified_on, closed_on, description FROM objects WHERE object_id = 'G20'"
    ) == [
        ("G20", "blue soap wrapper with gold logo", "toiletries", dt.date(2019, 3, 1), "2019-03",
         "identified", "DEU", None, dt.date(2020, 1, 2), dt.date(2020, 2, 3), "printed in two colours")
    ]


def test_object_status_defaults_to_open_and_takes_each_contract_value_in_any_case(campaign_store, tmp_path):
    statuses = ["", "open", "IDENTIFIED", "Closed", "withdrawn"]
    rows = [{"object_id": f"S{i}", "title": "t", "first_published": "2018-01-01", "status": s} for i, s in enumerate(statuses)]
    result = load(campaign_store, "objects", write_csv(tmp_path / "objects.csv", rows))
    assert (result.inserted, result.rejected) == (5, 0)
    assert campaign_store.rows("SELECT status FROM objects WHERE object_id LIKE 'S%' ORDER BY object_id") == [
        ("open",), ("open",), ("identified",), ("closed",), ("withdrawn",)
    ]


INVALID_OBJECTS = [  # (override of a good row, field named in the reason, wording)
    ({"object_id": ""}, "object_id", "missing object_id"),
    ({"title": " "}, "title", "missing title"),
    ({"first_published": ""}, "first_published", "missing first_published"),
    ({"first_published": "June 2017"}, "first_published", 'first_published "June 2017" is not a date'),
    ({"wave_id": "1999-01"}, "wave_id", 'wave_id "1999-01" is not a known wave'),
    ({"status": "solved"}, "status", 'status "solved" is not one of open, identified, closed, withdrawn'),
    ({"identified_on": "someday"}, "identified_on", "is not a date"),
    ({"closed_on": "2020-13-01"}, "closed_on", "is not a date"),
]


def test_an_invalid_object_row_is_rejected_with_its_reason(campaign_store, tmp_path):
    good = {"object_id": "G30", "title": "mug", "first_published": "2018-01-01", "wave_id": "2017-06", "status": "open", "identified_on": "", "closed_on": ""}
    rows = [{**good, "object_id": f"B{i}", **override} for i, (override, _, _) in enumerate(INVALID_OBJECTS)] + [good]
    result = load(campaign_store, "objects", write_csv(tmp_path / "objects.csv", rows))
    assert (result.rows_read, result.inserted, result.rejected) == (len(rows), 1, len(INVALID_OBJECTS))
    quarantined = dict(campaign_store.rows("SELECT record_no, reason FROM rejected_rows WHERE kind = 'objects'"))
    for record_no, (override, field, wording) in enumerate(INVALID_OBJECTS, start=1):
        reason = quarantined[record_no]
        assert field in reason and wording in reason, (override, reason)
    assert campaign_store.scalar("SELECT count(*) FROM objects WHERE object_id LIKE 'B%'") == 0


def test_an_object_file_column_for_an_image_is_ignored(campaign_store, tmp_path):
    # "No image is ever part of an object record": the table has nowhere to keep one.
    rows = [{"object_id": "G40", "title": "towel", "first_published": "2018-01-01", "image": "aGVsbG8=", "image_url": "http://x/i.png"}]
    result = load(campaign_store, "objects", write_csv(tmp_path / "objects.csv", rows))
    assert result.inserted == 1 and result.ignored_columns == ["image", "image_url"]
    assert not [c for c in campaign_store.columns("objects") if "image" in c]
    assert "agvsbg8=" not in everything_stored(campaign_store)


# == tips ===================================================================================


def test_a_full_tip_row_is_stored(campaign_store, tmp_path):
    row = tip(
        "T1", object_id="G02", received_at="2017-06-01T10:00:00+02:00", channel="email", language="de",
        reporter_country="AT", suggested_country="Germany", suggested_place="Kaufhof, Köln",
        latitude="50.9375", longitude="6.9603", brand="Nivea", shop="Kaufhof", period="2013-2015",
        tip_text="I had this one", triage_status="forwarded", forwarded_to="DEU",
    )
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", [row]))
    assert (result.inserted, result.rejected) == (1, 0)
    stored = tips_by_id(campaign_store)["T1"]
    assert {k: stored[k] for k in row if k != "tip_id"} == {
        "object_id": "G02", "received_at": dt.datetime(2017, 6, 1, 8, 0), "channel": "email", "language": "de",
        "reporter_country": "AUT", "suggested_country": "DEU", "suggested_place": "Kaufhof, Köln",
        "latitude": 50.9375, "longitude": 6.9603, "brand": "Nivea", "shop": "Kaufhof", "period": "2013-2015",
        "tip_text": "I had this one", "triage_status": "forwarded", "forwarded_to": "DEU",
    }


INVALID_TIPS = [  # (override of a good tip, field named in the reason, wording)
    ({"tip_id": ""}, "tip_id", "missing tip_id"),
    ({"object_id": ""}, "object_id", "missing object_id"),
    ({"received_at": ""}, "received_at", "missing received_at"),
    ({"received_at": "01/06/2017 10:00"}, "received_at", 'received_at "01/06/2017 10:00" is not an ISO 8601 timestamp'),
    ({"received_at": "2017-06-31T10:00:00Z"}, "received_at", "is not an ISO 8601 timestamp"),
    ({"received_at": "2017-06-01T25:00:00Z"}, "received_at", "is not an ISO 8601 timestamp"),
    ({"received_at": "1496311200"}, "received_at", "is not an ISO 8601 timestamp"),
    # v1.1: an offset outside ±14:00, or with 60 or more minutes, rejects the row; it is never applied
    *[({"received_at": f"2017-06-01T10:00:00{offset}"}, "received_at",
       f'received_at "2017-06-01T10:00:00{offset}" has an offset outside -14:00 to +14:00 or with 60 or more minutes')
      for offset in ("-00:99", "+99", "+24", "-23:60", "+14:01", "-1401", "+0960", "-15")],
    ({"object_id": "G99"}, "object_id", 'object_id "G99" is not a known object'),
    ({"channel": "pigeon"}, "channel", 'channel "pigeon" is not one of web, email, phone, social, other'),
    ({"triage_status": "done"}, "triage_status", 'triage_status "done" is not one of new, under_review'),
    ({"language": "german"}, "language", 'language "german" is not an ISO 639-1 language code'),
]


def test_an_invalid_tip_row_is_rejected_with_its_reason(campaign_store, tmp_path):
    rows = [{**tip(f"B{i:02d}"), **override} for i, (override, _, _) in enumerate(INVALID_TIPS)] + [tip("TG")]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows), now=NOW)
    assert (result.rows_read, result.inserted, result.rejected) == (len(rows), 1, len(INVALID_TIPS))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    quarantined = {r[0]: r[1:] for r in campaign_store.rows("SELECT record_no, reason, raw_record FROM rejected_rows")}
    for record_no, (row, (override, field, wording)) in enumerate(zip(rows, INVALID_TIPS), start=1):
        reason, raw = quarantined[record_no]
        assert field in reason and wording in reason, (override, reason)
        assert json.loads(raw) == {c: row.get(c) or None for c in columns}  # kept in quarantine, as read
    assert campaign_store.rows("SELECT tip_id FROM tips") == [("TG",)]


def test_a_row_with_several_faults_lists_each_of_them(campaign_store, tmp_path):
    rows = [tip("TB", object_id="G99", received_at="soon", channel="fax")]
    load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    [(reason,)] = campaign_store.rows("SELECT reason FROM rejected_rows")
    assert "object_id" in reason and "received_at" in reason and "channel" in reason


def test_tip_enums_take_every_contract_value_in_any_case_and_default(campaign_store, tmp_path):
    channels = ["web", "EMAIL", "Phone", "social", "other", ""]
    statuses = ["new", "UNDER_REVIEW", "Actionable", "not_actionable", "duplicate", "off_topic", "forwarded", ""]
    rows = [tip(f"C{i}", channel=c) for i, c in enumerate(channels)] + [tip(f"S{i}", triage_status=s) for i, s in enumerate(statuses)]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    assert (result.inserted, result.rejected) == (len(rows), 0)
    stored = tips_by_id(campaign_store, "tip_id, channel, triage_status")
    assert [stored[f"C{i}"]["channel"] for i in range(len(channels))] == ["web", "email", "phone", "social", "other", None]
    assert [stored[f"S{i}"]["triage_status"] for i in range(len(statuses))] == [
        "new", "under_review", "actionable", "not_actionable", "duplicate", "off_topic", "forwarded", "new"
    ]


def test_language_is_an_iso_639_1_code(campaign_store, tmp_path):
    rows = [tip("L1", language="de"), tip("L2", language="EN"), tip("L3", language="en-GB"), tip("L4", language="pt_BR"), tip("L5", language="xx")]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    assert (result.inserted, result.rejected) == (4, 1)
    assert campaign_store.rows("SELECT language FROM tips ORDER BY tip_id") == [("de",), ("en",), ("en",), ("pt",)]
    assert 'language "xx"' in campaign_store.scalar("SELECT reason FROM rejected_rows")


# -- received_at: the time zone rule and the one-day limit -----------------------------------


UTC_CASES = [
    ("2017-06-01T10:00:00Z", dt.datetime(2017, 6, 1, 10, 0)),
    ("2017-06-01T10:00Z", dt.datetime(2017, 6, 1, 10, 0)),
    ("2017-06-01T10:00:00+02:00", dt.datetime(2017, 6, 1, 8, 0)),
    ("2017-06-01T10:00:00-05:30", dt.datetime(2017, 6, 1, 15, 30)),
    ("2017-06-01T01:00:00+0530", dt.datetime(2017, 5, 31, 19, 30)),
    ("2017-06-01T23:00:00-03", dt.datetime(2017, 6, 2, 2, 0)),
    ("2017-06-01T10:00:00", dt.datetime(2017, 6, 1, 10, 0)),  # naive means UTC
    ("2017-06-01 10:00:00", dt.datetime(2017, 6, 1, 10, 0)),
    ("2017-06-01T10:00:00.250+01:00", dt.datetime(2017, 6, 1, 9, 0, 0, 250000)),
    ("2017-06-01T10:00:00,5Z", dt.datetime(2017, 6, 1, 10, 0, 0, 500000)),
    ("2017-06-01", dt.datetime(2017, 6, 1, 0, 0)),
]


def test_received_at_is_stored_in_utc(shared_campaign):
    store, folder = shared_campaign
    prefix = "Z" + uuid.uuid4().hex[:12] + "-"
    rows = [tip(f"{prefix}{i:02d}", received_at=text) for i, (text, _) in enumerate(UTC_CASES)]
    result = load(store, "tips", write_csv(folder / f"{prefix}.csv", rows))
    assert (result.inserted, result.rejected) == (len(rows), 0)
    stored = dict(store.rows("SELECT tip_id, received_at FROM tips WHERE starts_with(tip_id, $p)", {"p": prefix}))
    assert [stored[f"{prefix}{i:02d}"] for i in range(len(UTC_CASES))] == [utc for _, utc in UTC_CASES]
    assert dict(store.rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'tips'"))["received_at"] == "TIMESTAMP"


@st.composite
def iso_timestamps(draw):
    """An ISO 8601 text in one of the contract's forms, and the UTC instant it means."""
    naive = draw(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31)))
    timespec = draw(st.sampled_from(["minutes", "seconds", "microseconds"]))
    if timespec == "minutes":
        naive = naive.replace(second=0, microsecond=0)
    elif timespec == "seconds":
        naive = naive.replace(microsecond=0)
    zone = draw(
        st.one_of(
            st.none(),
            st.just(dt.UTC),
            st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
        )
    )
    value = naive if zone is None else naive.replace(tzinfo=zone)
    text = value.isoformat(sep=draw(st.sampled_from("Tt ")), timespec=timespec)  # v1.1: t too
    if zone is not None and value.utcoffset() == dt.timedelta(0) and draw(st.booleans()):
        text = text[:-6] + draw(st.sampled_from("Zz"))
    elif zone is not None:
        # v1.1: the offset also as ±hhmm, or ±hh when it is whole hours
        offset = text[-6:]
        forms = [offset, offset.replace(":", "")] + ([offset[:3]] if offset.endswith(":00") else [])
        text = text[:-6] + draw(st.sampled_from(forms))
    if timespec == "microseconds":
        if draw(st.booleans()):  # v1.1: any number of fraction digits, kept to the microsecond
            digits = draw(st.text("0123456789", min_size=1, max_size=9))
            head, dot, tail = text.partition(".")
            text = head + dot + tail[:6] + digits + tail[6:]
        if draw(st.booleans()):
            text = text.replace(".", ",")  # ISO 8601 allows a decimal comma
    utc = naive if zone is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    return text, utc


@settings(max_examples=20, deadline=None)
@given(stamps=st.lists(iso_timestamps(), min_size=30, max_size=80))
def test_any_iso_timestamp_with_any_offset_is_stored_as_its_utc_instant(shared_campaign, stamps):
    store, folder = shared_campaign
    prefix = "H" + uuid.uuid4().hex[:12] + "-"
    rows = [tip(f"{prefix}{i:03d}", received_at=text) for i, (text, _) in enumerate(stamps)]
    result = load(store, "tips", write_csv(folder / f"{prefix}.csv", rows), now=FAR_FUTURE)
    assert (result.inserted, result.rejected) == (len(rows), 0)
    stored = dict(store.rows("SELECT tip_id, received_at FROM tips WHERE starts_with(tip_id, $p)", {"p": prefix}))
    assert stored == {f"{prefix}{i:03d}": utc for i, (_, utc) in enumerate(stamps)}


# RFC 3339 section 5.8's examples, and the shapes ISO 8601 parsers' test suites try at the
# edges of the contract's forms: (text, the UTC instant, or None when the row is rejected).
RFC_3339_CASES = [
    ("1985-04-12T23:20:50.52Z", dt.datetime(1985, 4, 12, 23, 20, 50, 520000)),
    ("1996-12-19T16:39:57-08:00", dt.datetime(1996, 12, 20, 0, 39, 57)),
    ("1937-01-01T12:00:27.87+00:20", dt.datetime(1937, 1, 1, 11, 40, 27, 870000)),
    ("1990-12-31T23:59:60Z", None),  # a leap second: not a time Python or DuckDB can hold
    ("2017-06-01t10:00:00z", dt.datetime(2017, 6, 1, 10, 0)),
    ("2017-06-01T10:00:00.123456789012Z", dt.datetime(2017, 6, 1, 10, 0, 0, 123456)),  # 12 digits, cut
    ("2017-06-01T10:00:00,5+0530", dt.datetime(2017, 6, 1, 4, 30, 0, 500000)),
    ("2017-06-01T10:00+05", dt.datetime(2017, 6, 1, 5, 0)),
    ("2017-06-01T10:00:00+14:00", dt.datetime(2017, 5, 31, 20, 0)),
    ("2017-06-01T10:00:00-14:00", dt.datetime(2017, 6, 2, 0, 0)),
    ("2017-06-01T10:00:00 +02:00", dt.datetime(2017, 6, 1, 8, 0)),
    ("2017-06-01", dt.datetime(2017, 6, 1)),  # a date alone: midnight UTC
    ("2017-06-01T10", None),  # hours without minutes
    ("2017-06-01T10:00:00+2", None),  # a one-digit offset
    ("2017-06-01T10:00:00.Z", None),  # a point without digits
    ("2017-06-01T10:00:00+02:00:00", None),
    ("20170601T100000Z", None),  # ISO 8601's basic format is not in the contract
]


def test_rfc_3339_examples_and_edge_shapes_load_as_the_contract_says(shared_campaign):
    store, folder = shared_campaign
    prefix = "R" + uuid.uuid4().hex[:12] + "-"
    rows = [tip(f"{prefix}{i:02d}", received_at=text) for i, (text, _) in enumerate(RFC_3339_CASES)]
    result = load(store, "tips", write_csv(folder / f"{prefix}.csv", rows), now=FAR_FUTURE)
    stored = dict(store.rows("SELECT tip_id, received_at FROM tips WHERE starts_with(tip_id, $p)", {"p": prefix}))
    assert stored == {f"{prefix}{i:02d}": utc for i, (_, utc) in enumerate(RFC_3339_CASES) if utc is not None}
    assert result.rejected == sum(utc is None for _, utc in RFC_3339_CASES)


THRESHOLD_CASES = [
    ("2024-01-01T00:00:00Z", True),  # the time of loading itself
    ("2024-01-01T23:59:59Z", True),
    ("2024-01-02T00:00:00Z", True),  # exactly one day after: not *more* than a day
    ("2024-01-02T01:00:00+01:00", True),  # the same instant, with an offset
    ("2024-01-01T19:00:00-05:00", True),  # the same instant, with a negative offset
    ("2024-01-02T00:00:00", True),  # naive, so UTC: exactly one day
    ("2024-01-02T00:00:00.000001Z", False),  # a microsecond more than a day
    ("2024-01-02T00:00:01Z", False),
    ("2024-01-02T00:01:00+00:00", False),
    ("2024-01-02T00:00:00-00:01", False),  # a minute past, because of the offset
    ("2024-01-02T00:00:01", False),
    ("2024-01-02T01:00:01+01:00", False),
    ("2024-01-03", False),
    ("2031-01-01T00:00:00Z", False),
]


def _threshold_load(store, folder, now):
    prefix = "F" + uuid.uuid4().hex[:12] + "-"
    rows = [tip(f"{prefix}{i:02d}", received_at=text) for i, (text, _) in enumerate(THRESHOLD_CASES)]
    result = load(store, "tips", write_csv(folder / f"{prefix}.csv", rows), now=now)
    accepted = {r[0] for r in store.rows("SELECT tip_id FROM tips WHERE starts_with(tip_id, $p)", {"p": prefix})}
    rejected = store.rows(
        "SELECT record_no, reason FROM rejected_rows WHERE batch_id = $b ORDER BY record_no", {"b": result.batch_id}
    )
    return prefix, result, accepted, rejected


@pytest.mark.parametrize(
    "now",
    [NOW, NOW.astimezone(dt.timezone(dt.timedelta(hours=2))), NOW.astimezone(dt.timezone(dt.timedelta(hours=-7)))],
    ids=["utc", "plus-2", "minus-7"],
)
def test_received_at_more_than_one_day_after_the_time_of_loading_is_rejected(shared_campaign, now):
    store, folder = shared_campaign
    prefix, result, accepted, rejected = _threshold_load(store, folder, now)
    expected = {f"{prefix}{i:02d}" for i, (_, ok) in enumerate(THRESHOLD_CASES) if ok}
    assert accepted == expected
    assert result.rejected == len(THRESHOLD_CASES) - len(expected)
    assert [r[0] - 1 for r in rejected] == [i for i, (_, ok) in enumerate(THRESHOLD_CASES) if not ok]
    for record_no, reason in rejected:
        assert reason == f'received_at "{THRESHOLD_CASES[record_no - 1][0]}" is more than one day after the time of loading'


def test_a_naive_time_of_loading_means_utc_whatever_the_local_zone(shared_campaign, monkeypatch):
    store, folder = shared_campaign
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        prefix, _, accepted, _ = _threshold_load(store, folder, NOW.replace(tzinfo=None))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert accepted == {f"{prefix}{i:02d}" for i, (_, ok) in enumerate(THRESHOLD_CASES) if ok}


def test_without_a_pinned_time_the_limit_is_one_day_after_the_real_time(shared_campaign):
    store, folder = shared_campaign
    real_now = dt.datetime.now(dt.UTC)
    rows = [
        tip("R-soon", received_at=(real_now + dt.timedelta(hours=23)).isoformat()),
        tip("R-late", received_at=(real_now + dt.timedelta(hours=25)).isoformat()),
    ]
    result = load(store, "tips", write_csv(folder / "real-now.csv", rows))
    assert (result.inserted, result.rejected) == (1, 1)
    assert store.scalar("SELECT count(*) FROM tips WHERE tip_id = 'R-soon'") == 1


# -- coordinates -----------------------------------------------------------------------------


def test_invalid_coordinates_are_dropped_and_counted_and_the_tip_is_kept(campaign_store, tmp_path):
    pairs = {
        "ok": ("51.5074", "-0.1278", True),
        "ok-corner": ("90", "-180", True),
        "ok-corner2": ("-90", "180", True),
        "ok-zero": ("0", "0", True),
        "lat-high": ("90.0001", "10", False),
        "lat-low": ("-91", "10", False),
        "lon-high": ("10", "180.5", False),
        "lon-low": ("10", "-181", False),
        "lat-only": ("45", "", False),
        "lon-only": ("", "7", False),
        "not-number": ("north", "7", False),
        "nan": ("NaN", "NaN", False),
        "infinite": ("inf", "10", False),
    }
    rows = [tip(name, latitude=lat, longitude=lon) for name, (lat, lon, _) in pairs.items()] + [tip("none")]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    bad = sum(1 for *_, ok in pairs.values() if not ok)
    assert (result.inserted, result.rejected, result.coordinates_dropped) == (len(rows), 0, bad)
    assert f"{bad} invalid coordinate pairs dropped (tips kept)" in result.summary()
    details = json.loads(campaign_store.scalar("SELECT details FROM load_batches WHERE batch_id = $b", {"b": result.batch_id}))
    assert details["coordinates_dropped"] == bad
    stored = dict((r[0], r[1:]) for r in campaign_store.rows("SELECT tip_id, latitude, longitude FROM tips"))
    for name, (lat, lon, ok) in pairs.items():
        assert stored[name] == ((float(lat), float(lon)) if ok else (None, None)), name
    assert stored["none"] == (None, None)


# == contact columns ========================================================================

CONTACT_VALUES = {
    "reporter_email": "Alice.Secret-4711@example.org",
    "Reporter_Phone": "+49 170 5550199",
    "reporter_ip": "203.0.113.77",
    "reporter_name": "Alice Verysecretname",
    " CONTACT ": "telegram:alice_secret_4711",
    "Absender": "Absender Geheimnisvoll",
}


def _contact_file(tmp_path: Path, values: dict[str, str]) -> Path:
    rows = [
        tip("C1", **values),
        tip("C2", object_id="G99", **{k: v.replace("4711", "4712") + "-rejected" for k, v in values.items()}),
        tip("C3", received_at="not a time", **{k: v + "-bad-time" for k, v in values.items()}),
        tip("C4"),
    ]
    path = write_csv(tmp_path / "tips.csv", rows)
    with path.open("a", encoding="utf-8", newline="") as handle:  # and a line the reader cannot split
        handle.write("C5,G01,2017-06-01,DE,FR,new," + ",".join(values.values()) + ",too,many,fields\r\n")
    return path


def _assert_nowhere(store: Store, db_path: Path, secrets: list[str]) -> None:
    stored = everything_stored(store)
    for secret in secrets:
        assert secret.lower() not in stored, secret
    store.checkpoint()
    on_disk = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*") if p.is_file())
    for secret in secrets:
        assert secret.encode() not in on_disk, secret


def test_contact_columns_are_dropped_and_found_nowhere_in_the_database(campaign_store, db_path, tmp_path):
    mapping = write_mapping(tmp_path / "mapping.toml", {"contact": ["absender"]})
    path = _contact_file(tmp_path, CONTACT_VALUES)
    result = load(campaign_store, "tips", path, mapping=mapping)
    assert (result.rows_read, result.inserted, result.rejected) == (5, 2, 3)
    assert sorted(h.strip().lower() for h in result.contact_columns) == sorted(h.strip().lower() for h in CONTACT_VALUES)
    assert "contact columns dropped: reporter_email" in result.summary()
    assert result.ignored_columns == []  # contact columns are not merely "ignored"
    # The rejected rows are quarantined, but without their contact fields.
    raws = [json.loads(r[0]) for r in campaign_store.rows("SELECT raw_record FROM rejected_rows WHERE line_no IS NULL")]
    assert {r["tip_id"] for r in raws} == {"C2", "C3"}
    for raw in raws:
        assert not set(raw) & set(CONTACT_VALUES)
    assert campaign_store.scalar("SELECT count(*) FROM tips WHERE reporter_pseudonym IS NOT NULL") == 0
    secrets = [v for value in CONTACT_VALUES.values() for v in (value, value.replace("4711", "4712"))]
    secrets += ["5550199", "alice_secret", "Verysecretname", "Geheimnisvoll", "203.0.113"]
    _assert_nowhere(campaign_store, db_path, secrets)


def test_pseudonymize_stores_a_keyed_pseudonym_stable_for_the_same_value_and_key(make_campaign, tmp_path, monkeypatch):
    monkeypatch.setenv("CASELIB_PSEUDONYM_KEY", "key-one-0123456789abcdef")
    email, other = "carol.private@example.org", "dave.private@example.org"
    first = write_csv(
        tmp_path / "first.csv",
        [tip("P1", reporter_email=email), tip("P2", reporter_email=other), tip("P3"), tip("P4", object_id="G99", reporter_email=email)],
    )
    # The next export has another column order and one more column: the same sender must
    # keep the same pseudonym, or tips from one sender could not be grouped across loads.
    second = write_csv(
        tmp_path / "second.csv",
        [{"reporter_email": email, "brand": "x", **tip("P5")}, {"reporter_email": other, "brand": "y", **tip("P6")}],
        columns=["reporter_email", "brand", *tip("P0")],
    )
    store = make_campaign("key-one")
    result = load(store, "tips", first, pseudonymize=True)
    assert (result.inserted, result.rejected) == (3, 1)
    assert "contact columns replaced by a keyed pseudonym: reporter_email" in result.summary()
    load(store, "tips", second, pseudonymize=True)
    names = dict(store.rows("SELECT tip_id, reporter_pseudonym FROM tips"))
    assert len(names["P1"]) == 64 and int(names["P1"], 16) >= 0
    assert names["P1"] == names["P5"] and names["P2"] == names["P6"]
    assert names["P1"] != names["P2"] and names["P3"] is None
    # HMAC-SHA-256 under the key, of the contact column's contract name and the value.
    assert names["P1"] == hmac.new(b"key-one-0123456789abcdef", f"reporter_email:{email}".encode(), hashlib.sha256).hexdigest()
    assert store.scalar("SELECT bool_and(pseudonymized) FROM load_batches WHERE kind = 'tips'") is True
    _assert_nowhere(store, tmp_path / "key-one.duckdb", [email, other, "carol.private", "key-one-0123456789abcdef"])

    same_key = make_campaign("key-one-again")
    load(same_key, "tips", first, pseudonymize=True)
    assert dict(same_key.rows("SELECT tip_id, reporter_pseudonym FROM tips")) == {k: names[k] for k in ("P1", "P2", "P3")}

    monkeypatch.setenv("CASELIB_PSEUDONYM_KEY", "key-two-fedcba9876543210")
    other_key = make_campaign("key-two")
    load(other_key, "tips", first, pseudonymize=True)
    renamed = dict(other_key.rows("SELECT tip_id, reporter_pseudonym FROM tips"))
    assert renamed["P1"] != names["P1"] and renamed["P2"] != names["P2"]
    assert renamed["P1"] != renamed["P2"]


def test_pseudonymize_keeps_no_contact_value_of_any_contact_column(campaign_store, db_path, tmp_path):
    mapping = write_mapping(tmp_path / "mapping.yaml", {"contact": ["Absender"]})
    result = load(campaign_store, "tips", _contact_file(tmp_path, CONTACT_VALUES), mapping=mapping, pseudonymize=True)
    assert (result.inserted, result.rejected) == (2, 3)
    pseudonyms = dict(campaign_store.rows("SELECT tip_id, reporter_pseudonym FROM tips"))
    assert pseudonyms["C1"] is not None and pseudonyms["C4"] is None
    secrets = list(CONTACT_VALUES.values()) + ["5550199", "alice_secret", "Geheimnisvoll"]
    _assert_nowhere(campaign_store, db_path, secrets)


# == country values =========================================================================

COUNTRY_SPELLINGS = {
    "DE": "DEU", "de": "DEU", " dE ": "DEU", "DEU": "DEU", "deu": "DEU", "276": "DEU", " 276\t": "DEU",
    "Germany": "DEU", "GERMANY": "DEU", "  germany  ": "DEU",
    "AT": "AUT", "AUT": "AUT", "040": "AUT", "40": "AUT", "Austria": "AUT",
    "United Kingdom": "GBR", "united kingdom": "GBR", "UK": "GBR", "uk": "GBR", "GB": "GBR", "826": "GBR",
    "USA": "USA", "usa": "USA", "US": "USA", "United States": "USA", "840": "USA",
    "France": "FRA", "fra": "FRA", "\u00a0FR\u00a0": "FRA",
    "Netherlands": "NLD", "Côte d'Ivoire": "CIV", "Viet Nam": "VNM",
}


def test_country_codes_and_english_names_in_any_case_are_stored_as_alpha_3(campaign_store, tmp_path):
    spellings = list(COUNTRY_SPELLINGS)
    rows = [
        tip(f"K{i:02d}", reporter_country=s, suggested_country=s, forwarded_to=s, triage_status="forwarded")
        for i, s in enumerate(spellings)
    ]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    assert (result.inserted, result.rejected, result.unrecognised_countries) == (len(rows), 0, {})
    stored = campaign_store.rows(
        "SELECT reporter_country, suggested_country, forwarded_to, reporter_country_raw, "
        "suggested_country_raw, forwarded_to_raw FROM tips ORDER BY tip_id"
    )
    for spelling, row in zip(spellings, stored, strict=True):
        alpha3 = COUNTRY_SPELLINGS[spelling]
        assert row == (alpha3, alpha3, alpha3, None, None, None), spelling


def test_an_object_origin_country_is_stored_as_alpha_3(campaign_store, tmp_path):
    rows = [{"object_id": f"O{i}", "title": "t", "first_published": "2018-01-01", "origin_country": s} for i, s in enumerate(["fr", " 040 ", "United Kingdom", "Narnia"])]
    result = load(campaign_store, "objects", write_csv(tmp_path / "objects.csv", rows))
    assert (result.inserted, result.rejected) == (4, 0)
    assert campaign_store.rows("SELECT origin_country, origin_country_raw FROM objects WHERE object_id LIKE 'O%' ORDER BY 1 NULLS LAST") == [
        ("AUT", None), ("FRA", None), ("GBR", None), (None, "Narnia")
    ]
    assert result.unrecognised_countries == {"origin_country": {"count": 1, "examples": ["Narnia"]}}


def test_an_unrecognised_country_is_kept_raw_and_counted_and_does_not_reject_the_row(campaign_store, tmp_path):
    rows = [
        tip("U1", reporter_country="Atlantis", suggested_country="Deutschland"),
        tip("U2", reporter_country="Atlantis", suggested_country="FR"),
        tip("U3", reporter_country="El Dorado", forwarded_to="Frankreich", triage_status="forwarded"),
        tip("U4", reporter_country="DE"),
    ]
    result = load(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows))
    assert (result.rows_read, result.inserted, result.rejected) == (4, 4, 0)
    assert result.unrecognised_countries == {
        "reporter_country": {"count": 3, "examples": ["Atlantis", "El Dorado"]},
        "suggested_country": {"count": 1, "examples": ["Deutschland"]},
        "forwarded_to": {"count": 1, "examples": ["Frankreich"]},
    }
    summary = result.summary()
    assert "3 unrecognised reporter_country values kept raw (e.g. 'Atlantis', 'El Dorado')" in summary
    assert "1 unrecognised suggested_country values kept raw (e.g. 'Deutschland')" in summary
    details = json.loads(campaign_store.scalar("SELECT details FROM load_batches WHERE batch_id = $b", {"b": result.batch_id}))
    assert details["unrecognised_countries"]["reporter_country"]["count"] == 3
    assert campaign_store.rows(
        "SELECT tip_id, reporter_country, reporter_country_raw, suggested_country, suggested_country_raw, "
        "forwarded_to, forwarded_to_raw FROM tips ORDER BY tip_id"
    ) == [
        ("U1", None, "Atlantis", None, "Deutschland", None, None),
        ("U2", None, "Atlantis", "FRA", None, None, None),
        ("U3", None, "El Dorado", "FRA", None, None, "Frankreich"),
        ("U4", "DEU", None, "FRA", None, None, None),
    ]


COUNTRIES = sorted(pycountry.countries, key=lambda c: c.alpha_3)


@st.composite
def country_spellings(draw):
    """A real country written as its alpha-2, alpha-3, numeric code or English name, in any
    letter case and with white space around it; and the alpha-3 it stands for."""
    country = draw(st.sampled_from(COUNTRIES))
    text = getattr(country, draw(st.sampled_from(["alpha_2", "alpha_3", "numeric", "name"])))
    upper = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    cased = "".join(ch.upper() if up else ch.lower() for ch, up in zip(text, upper, strict=True))
    space = st.text(alphabet=" \t\n\u00a0", max_size=3)
    return draw(space) + cased + draw(space), country.alpha_3


@settings(max_examples=20, deadline=None)
@given(values=st.lists(country_spellings(), min_size=30, max_size=80))
def test_any_real_country_in_any_spelling_loads_as_its_alpha_3(shared_campaign, values):
    store, folder = shared_campaign
    prefix = "N" + uuid.uuid4().hex[:12] + "-"
    rows = [tip(f"{prefix}{i:03d}", suggested_country=text, reporter_country=text) for i, (text, _) in enumerate(values)]
    result = load(store, "tips", write_csv(folder / f"{prefix}.csv", rows))
    assert (result.inserted, result.rejected, result.unrecognised_countries) == (len(rows), 0, {})
    stored = {
        r[0]: r[1:]
        for r in store.rows(
            "SELECT tip_id, suggested_country, reporter_country FROM tips WHERE starts_with(tip_id, $p)", {"p": prefix}
        )
    }
    assert stored == {f"{prefix}{i:03d}": (alpha3, alpha3) for i, (_, alpha3) in enumerate(values)}


# == loading rules ==========================================================================


def test_every_load_reconciles_on_a_mixed_file(campaign_store, tmp_path):
    load(campaign_store, "tips", write_csv(tmp_path / "before.csv", [tip("T1"), tip("T2"), tip("T7", tip_text="first")]))
    rows = [
        tip("T1"),  # unchanged: already loaded
        tip("T2", triage_status="actionable"),  # updated
        tip("T3"),  # inserted
        tip("T3"),  # an exact copy within the file: unchanged
        tip("T4"),  # inserted
        tip("T4", tip_text="differs"),  # a differing copy: rejected
        tip("T5", object_id="G99"),  # rejected: unknown object
        tip("T6", received_at=""),  # rejected: missing received_at
        tip("T7", tip_text="second"),  # rejected: conflicting re-delivery
    ]
    path = write_csv(tmp_path / "mixed.csv", rows)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write("T8,G01\r\n")  # rejected: a line the reader cannot split
    result = load(campaign_store, "tips", path)
    counts = (result.rows_read, result.inserted, result.updated, result.unchanged, result.rejected)
    assert counts == (10, 2, 1, 2, 5)
    assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
    assert result.duplicates_in_file == 1
    logged = campaign_store.rows(
        "SELECT rows_read, inserted, updated, unchanged, rejected FROM load_batches WHERE batch_id = $b", {"b": result.batch_id}
    )
    assert logged == [counts]
    assert "read 10 = inserted 2 + updated 1 + unchanged 2 + rejected 5" in result.summary()
    assert campaign_store.scalar("SELECT count(*) FROM tips") == 5
    assert campaign_store.scalar("SELECT count(*) FROM rejected_rows WHERE batch_id = $b", {"b": result.batch_id}) == 5
    assert campaign_store.scalar("SELECT sum(rows_read) - sum(inserted + updated + unchanged + rejected) FROM load_batches") == 0
    again = load(campaign_store, "tips", path)  # and the same file once more
    assert (again.rows_read, again.inserted, again.updated, again.unchanged, again.rejected) == (10, 0, 0, 5, 5)
    assert campaign_store.scalar("SELECT count(*) FROM rejected_rows") == 5


def test_a_redelivery_may_change_triage_status_and_forwarded_to_with_history(campaign_store, tmp_path):
    original = tip("T1", channel="web", tip_text="seen in Lyon", latitude="45.76", longitude="4.83")
    first = load(campaign_store, "tips", write_csv(tmp_path / "a.csv", [original, tip("T2")]))
    before = tips_by_id(campaign_store)["T1"]
    second = load(campaign_store, "tips", write_csv(tmp_path / "b.csv", [{**original, "triage_status": "forwarded", "forwarded_to": "France"}, tip("T2")]))
    assert (second.updated, second.unchanged, second.rejected) == (1, 1, 0)
    third = load(campaign_store, "tips", write_csv(tmp_path / "c.csv", [{**original, "triage_status": "actionable", "forwarded_to": ""}]))
    assert third.updated == 1
    after = tips_by_id(campaign_store)["T1"]
    assert (after["triage_status"], after["forwarded_to"], after["updated_batch_id"]) == ("actionable", None, third.batch_id)
    assert {k: v for k, v in after.items() if k not in ("triage_status", "forwarded_to", "updated_batch_id")} == {
        k: v for k, v in before.items() if k not in ("triage_status", "forwarded_to", "updated_batch_id")
    }
    assert after["batch_id"] == first.batch_id
    history = campaign_store.rows(
        "SELECT tip_id, batch_id, old_triage_status, new_triage_status, old_forwarded_to, new_forwarded_to "
        "FROM tip_triage_history ORDER BY batch_id"
    )
    assert history == [
        ("T1", second.batch_id, "new", "forwarded", None, "FRA"),
        ("T1", third.batch_id, "forwarded", "actionable", "FRA", None),
    ]


def test_a_redelivery_spelling_the_same_values_differently_is_unchanged(campaign_store, tmp_path):
    original = tip("T1", received_at="2017-06-01T10:00:00Z", reporter_country="DE", channel="web", triage_status="new")
    load(campaign_store, "tips", write_csv(tmp_path / "a.csv", [original]))
    same = tip("T1", received_at="2017-06-01T12:00:00+02:00", reporter_country=" germany ", suggested_country="FRA", channel="WEB", triage_status="")
    result = load(campaign_store, "tips", write_csv(tmp_path / "b.csv", [same]))
    assert (result.unchanged, result.updated, result.rejected) == (1, 0, 0)
    assert campaign_store.scalar("SELECT count(*) FROM tip_triage_history") == 0


CONFLICTS = {
    "object_id": "G02",
    "received_at": "2017-06-01T10:00:01Z",
    "channel": "email",
    "language": "fr",
    "reporter_country": "AT",
    "suggested_country": "IT",
    "suggested_place": "Paris",
    "latitude": "45.0",
    "longitude": "5.0",
    "brand": "Other brand",
    "shop": "Other shop",
    "period": "2001",
    "tip_text": "changed my mind",
}


def test_a_redelivery_changing_anything_else_is_a_rejected_conflict(campaign_store, tmp_path):
    base = dict(channel="web", language="de", suggested_place="Lyon", latitude="45.76", longitude="4.83", brand="B", shop="S", period="2010", tip_text="t")
    originals = [tip(f"X-{field}", **base) for field in CONFLICTS]
    load(campaign_store, "tips", write_csv(tmp_path / "a.csv", originals))
    before = snapshot(campaign_store, without=("load_batches", "rejected_rows"))
    # Each re-delivery also changes triage_status, which must not be applied either.
    changed = [{**row, field: CONFLICTS[field], "triage_status": "actionable"} for row, field in zip(originals, CONFLICTS, strict=True)]
    result = load(campaign_store, "tips", write_csv(tmp_path / "b.csv", changed))
    assert (result.rows_read, result.updated, result.rejected) == (len(CONFLICTS), 0, len(CONFLICTS))
    assert snapshot(campaign_store, without=("load_batches", "rejected_rows")) == before
    found = reasons(campaign_store)
    for field in CONFLICTS:
        reason = found[f"X-{field}"]
        assert reason.startswith(f'conflict: this re-delivery of tip_id "X-{field}" changes {field}'), reason
        assert "only forwarded_to, triage_status may change" in reason and "stored record was kept" in reason


def test_a_failed_load_leaves_no_partial_temporary_state_for_the_next_one(campaign_store, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(caselib.domain.ingest, "_write_changes", boom)
    path = write_csv(tmp_path / "tips.csv", [tip("T1"), tip("T2", object_id="G99")])
    with pytest.raises(RuntimeError, match="simulated failure"):
        load_file(campaign_store, "tips", path, progress=False)
    monkeypatch.undo()
    result = load(campaign_store, "tips", path)
    assert (result.inserted, result.rejected, result.previous_batch) == (1, 1, None)
    assert campaign_store.scalar("SELECT count(*) FROM rejected_rows") == 1


@pytest.mark.parametrize("step", ["_write_rejects", "_write_changes", "_record_batch", "record_triage_changes"])
def test_a_failure_part_way_through_a_load_leaves_every_table_as_it_was(campaign_store, tmp_path, monkeypatch, step):
    load(campaign_store, "tips", write_csv(tmp_path / "first.csv", [tip("T1"), tip("T2", object_id="G99")]))
    before = snapshot(campaign_store)
    original = getattr(caselib.domain.ingest, step)
    calls = []

    def after_the_step_fails(*args, **kwargs):
        original(*args, **kwargs)  # the step's writes happen, then the load breaks
        calls.append(step)
        raise RuntimeError(f"disk full after {step}")

    monkeypatch.setattr(caselib.domain.ingest, step, after_the_step_fails)
    rows = [tip("T1", triage_status="actionable"), tip("T3", reporter_country="Atlantis"), tip("T4", object_id="G98"), tip("T5", latitude="99", longitude="0")]
    with pytest.raises(RuntimeError, match="disk full"):
        load_file(campaign_store, "tips", write_csv(tmp_path / "second.csv", rows), progress=False)
    assert calls == [step]
    assert snapshot(campaign_store) == before


def _write_big_tips_file(path: Path, n: int) -> None:
    countries = ["DE", "France", "usa", "Atlantis", "040"]
    lines = ["tip_id,object_id,received_at,reporter_country,suggested_country,triage_status,tip_text"]
    lines += [
        f"B{i:07d},G0{1 + i % 3},2018-01-{1 + i % 28:02d}T{i % 24:02d}:00:00+02:00,{countries[i % 5]},FR,"
        f"{'new' if i % 2 else 'actionable'},\"a tip, number {i}\""
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_a_load_killed_with_sigkill_leaves_the_database_as_it_was(db_path, tmp_path):
    with Store(db_path) as store:
        load(store, "waves", write_csv(tmp_path / "waves.csv", WAVES))
        load(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS))
        load(store, "tips", write_csv(tmp_path / "tips.csv", [tip("T1"), tip("T2", object_id="G99")]))
        before = snapshot(store)
    big = tmp_path / "big.csv"
    n = 1_000_000  # loads in 3+ s even on a quiet machine: past the bar's 1 s, before the end
    _write_big_tips_file(big, n)

    command = Path(sys.executable).with_name("caselib")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "caselib"]
    process = subprocess.Popen(
        [*argv, "--db", str(db_path), "load", "tips", "--no-refresh", str(big), "--progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stderr = bytearray()
    checking, writing = threading.Event(), threading.Event()

    def pump():  # the progress bar names the load's phase on stderr
        while chunk := process.stderr.read1(4096):
            stderr.extend(chunk)
            if b": checking" in stderr:
                checking.set()
            if b": writing" in stderr:
                writing.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        assert checking.wait(30), bytes(stderr).decode(errors="replace")
        writing.wait(1.0)  # kill while writing if we catch it, else while checking
        assert process.poll() is None, "the load finished before it could be killed; use a bigger file"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(5)
    assert process.returncode == -signal.SIGKILL

    with Store(db_path) as store:
        assert snapshot(store) == before
        result = load(store, "tips", big)
        assert (result.rows_read, result.inserted, result.rejected) == (n, n, 0)
        assert store.scalar("SELECT count(*) FROM tips") == n + 1
        assert store.scalar("SELECT count(*) FROM tips WHERE reporter_country_raw = 'Atlantis'") == n // 5


# == mapping files ==========================================================================

MAPPING = {
    "contact": ["Absender", "telefon"],
    "columns": {"Hinweis-ID": "tip_id", "EINGANG": "received_at", "Objekt": "object_id", "Kanal": "channel", "Land": "suggested_country", "Herkunft": "reporter_country"},
    "values": {"channel": {"Webformular": "web", "Anruf": "phone"}, "country": {"Deutschland": "DEU", "Frankreich": "FRA"}},
}


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_a_mapping_file_renames_headers_maps_values_and_drops_contact_columns(campaign_store, db_path, tmp_path, suffix):
    mapping = write_mapping(tmp_path / f"mapping{suffix}", MAPPING)
    rows = [
        {"hinweis-id ": "M1", "Eingang": "2017-06-01T10:00:00Z", "Objekt": "G01", "Kanal": "Webformular", "Land": "Deutschland", "Herkunft": "frankreich ", "Absender": "erika.hidden@example.de", "Telefon": "+49 30 5550123", "Bemerkung": "x"},
        {"hinweis-id ": "M2", "Eingang": "2017-06-02T10:00:00+02:00", "Objekt": "G02", "Kanal": " ANRUF ", "Land": "DE", "Herkunft": "Atlantis", "Absender": "", "Telefon": "", "Bemerkung": "y"},
        {"hinweis-id ": "M3", "Eingang": "2017-06-02T10:00:00Z", "Objekt": "G02", "Kanal": "Brieftaube", "Land": "FR", "Herkunft": "", "Absender": "max.hidden@example.de", "Telefon": "", "Bemerkung": "z"},
    ]
    result = load(campaign_store, "tips", write_csv(tmp_path / "export.csv", rows), mapping=mapping)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert sorted(result.contact_columns) == ["Absender", "Telefon"]
    assert result.ignored_columns == ["Bemerkung"]
    assert campaign_store.rows(
        "SELECT tip_id, object_id, received_at, channel, suggested_country, reporter_country, reporter_country_raw FROM tips ORDER BY 1"
    ) == [
        ("M1", "G01", dt.datetime(2017, 6, 1, 10), "web", "DEU", "FRA", None),
        ("M2", "G02", dt.datetime(2017, 6, 2, 8), "phone", "DEU", None, "Atlantis"),
    ]
    assert 'channel "Brieftaube" is not one of' in campaign_store.scalar("SELECT reason FROM rejected_rows")
    assert campaign_store.scalar("SELECT mapping_name FROM load_batches WHERE batch_id = $b", {"b": result.batch_id}) == mapping.name
    _assert_nowhere(campaign_store, db_path, ["erika.hidden@example.de", "max.hidden@example.de", "5550123", "erika.hidden", "max.hidden"])


def test_json_lines_read_whole_or_line_by_line_store_the_same_and_number_lines_alike(make_campaign, tmp_path):
    """A JSON Lines file DuckDB's reader takes whole (no blank or broken line) is read by it,
    values and all; one with a blank line goes line by line. Both must store the same values
    (numbers, booleans, nested values as text) and name the same line of a bad record."""
    records = [
        {"tip_id": "V1", "object_id": "G01", "received_at": "2017-06-01T10:00:00Z", "latitude": 52.5,
         "longitude": 13.40, "brand": True, "shop": {"name": "Lidl", "n": [1, 2]}, "tip_text": "a \"quoted\" text"},
        {"tip_id": "V2", "object_id": "G01", "received_at": "2017-06-01T10:00:00Z", "period": 1999, "tip_text": None},
        {"tip_id": "V3", "object_id": "G01", "received_at": "not a time"},
    ]
    stored = {}
    for name, separator in (("whole", "\n"), ("line_by_line", "\n\n")):
        store = make_campaign(name)
        path = tmp_path / f"{name}.jsonl"
        path.write_text(separator.join(json.dumps(r) for r in records) + "\n")
        result = load_file(store, "tips", path, progress=False)
        assert (result.inserted, result.rejected) == (2, 1)
        [(line,)] = store.rows("SELECT line_no FROM rejected_rows")
        assert line == (3 if name == "whole" else 5)
        stored[name] = store.rows(
            "SELECT tip_id, latitude, longitude, brand, shop, period, tip_text FROM tips ORDER BY 1"
        )
    assert stored["whole"] == stored["line_by_line"]
    assert stored["whole"][0][3:5] == ("true", '{"name":"Lidl","n":[1,2]}')
