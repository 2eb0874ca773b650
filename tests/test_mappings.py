"""Mapping files for real exports (issue 13, item 5): ``skip_rows``, ``first_of``,
``constants`` and ``formats``, and the shipped mapping for Ushahidi's posts CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from caselib import Store, load_file
from caselib.domain.ingest.mapping import MAX_SKIP_ROWS, read_mapping
from caselib.errors import FileLoadError, MappingError
from conftest import write_csv

MAPPINGS = Path(__file__).parent.parent / "data" / "mappings"
USHAHIDI_CSV = MAPPINGS / "ushahidi-posts-synthetic.csv"
USHAHIDI_MAPPING = MAPPINGS / "ushahidi.toml"
NOW = dt.datetime(2024, 1, 1)


def _mapping(tmp_path: Path, text: str, name: str = "mapping.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_mapping(path)


def _snapshot(store: Store) -> list:
    return [store.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in ("tips", "rejected_rows", "load_batches")]


@pytest.fixture
def g19_store(campaign_store, tmp_path):
    objects = [{"object_id": "G19", "title": "soap wrapper", "first_published": "2019-03-01", "wave_id": "2019-03"}]
    load_file(campaign_store, "objects", write_csv(tmp_path / "g19.csv", objects), progress=False)
    return campaign_store


# -- the Ushahidi export -------------------------------------------------------------------------


def test_the_ushahidi_sample_has_the_exporters_shape():
    """Header, then the HXL row, then one row per post; the dates as date("Y-m-d H:i:s")."""
    with USHAHIDI_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, hxl, posts = rows[0], rows[1], rows[2:]
    assert header[:11] == [
        "Post ID", "Survey", "Post Status", "Created (UTC)", "Updated (UTC)", "Post Date (UTC)",
        "Contact ID", "Contact", "Data Source ID", "Source", "Unstructured Description",
    ]
    assert "Location.lat" in header and "Location.lon" in header
    assert all(tag == "" or tag.startswith("#") for tag in hxl) and "#geo +lat" in hxl
    assert len(posts) == 12 and all(len(p) == len(header) for p in posts)
    assert all("SYNTHETIC" in p[1] or p[1] == "Unstructured" for p in posts)
    assert b"\r" not in USHAHIDI_CSV.read_bytes()  # PHP's fputcsv ends lines with \n


def test_the_ushahidi_export_loads_with_the_shipped_mapping(g19_store):
    result = load_file(
        g19_store, "tips", USHAHIDI_CSV, mapping=USHAHIDI_MAPPING, progress=False, pseudonymize=True, now=NOW
    )
    # 12 posts read (the HXL row is skipped, not read); the last has a date by hand
    assert (result.rows_read, result.inserted, result.rejected, result.skipped) == (12, 11, 1, 1), result.summary()
    assert result.reconciles
    assert "skipped 1 row under the header" in result.summary()
    assert result.contact_columns == ["Contact", "Contact ID"]
    rows = g19_store.rows(
        "SELECT tip_id, object_id, received_at::VARCHAR, channel, suggested_country, suggested_place, "
        "latitude, tip_text, reporter_pseudonym IS NOT NULL FROM tips WHERE object_id = 'G19' ORDER BY tip_id::INT"
    )
    assert [r[0] for r in rows] == [str(n) for n in range(101, 112)]
    assert {r[1] for r in rows} == {"G19"}  # the constant
    assert rows[0] == (
        "101", "G19", "2019-03-02 08:15:00", "web", "FRA", "Supermarché Exemple", 45.76,
        "The wrapper looks like a soap sold in Lyon supermarkets", True,
    )
    # an SMS post without a survey: text from Unstructured Description, place from Town
    assert rows[1][3:8] == ("phone", None, "Porto", None, "soap like this in Porto, shop near the river")
    assert rows[3][3] == "social"  # twitter
    assert rows[4][7] == "Brand printed on the side:\nACME Seifen"
    reason, record_no, raw = g19_store.rows("SELECT reason, record_no, raw_record FROM rejected_rows")[0]
    assert reason == 'received_at "10/03/2019 12:00" does not match the format %Y-%m-%d %H:%M:%S'
    assert record_no == 13  # the 13th row under the header: the HXL row is row 1
    assert json.loads(raw)["Post ID"] == "112" and "Contact" not in json.loads(raw)
    details = json.loads(g19_store.scalar("SELECT details FROM load_batches ORDER BY batch_id DESC LIMIT 1"))
    assert details["skipped_rows"] == 1
    stored = repr(g19_store.rows("SELECT * FROM tips")) + repr(g19_store.rows("SELECT * FROM rejected_rows"))
    assert "example.org" not in stored and "5555550" not in stored and "synthetic_tipster" not in stored


def test_the_ushahidi_export_loads_again_unchanged(g19_store):
    load_file(g19_store, "tips", USHAHIDI_CSV, mapping=USHAHIDI_MAPPING, progress=False, now=NOW)
    again = load_file(g19_store, "tips", USHAHIDI_CSV, mapping=USHAHIDI_MAPPING, progress=False, now=NOW)
    assert (again.rows_read, again.unchanged, again.rejected, again.skipped) == (12, 11, 1, 1)
    assert g19_store.scalar("SELECT count(*) FROM rejected_rows") == 1  # not quarantined twice


def test_the_readme_shows_the_ushahidi_mapping():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "data/mappings/ushahidi.toml" in readme
    for key in ("skip_rows", "[first_of]", "[constants]", "[formats]"):
        assert key in readme, key


# -- skip_rows ----------------------------------------------------------------------------------


def _tips(tmp_path, rows, name="tips.csv"):
    return write_csv(tmp_path / name, rows, columns=["tip_id", "object_id", "received_at", "tip_text"])


def test_skipped_rows_are_counted_apart_and_the_load_reconciles(campaign_store, tmp_path):
    rows = [
        {"tip_id": "#meta +id", "object_id": "#x", "received_at": "units", "tip_text": "not data"},
        {"tip_id": "(id)", "object_id": "", "received_at": "", "tip_text": "not data either"},
        {"tip_id": "S1", "object_id": "G01", "received_at": "2017-06-01", "tip_text": "a"},
        {"tip_id": "S2", "object_id": "G01", "received_at": "not a date", "tip_text": "b"},
    ]
    mapping = _mapping(tmp_path, "skip_rows = 2\n")
    result = load_file(campaign_store, "tips", _tips(tmp_path, rows), mapping=mapping, progress=False)
    assert (result.rows_read, result.inserted, result.rejected, result.skipped) == (2, 1, 1, 2)
    assert result.reconciles
    assert campaign_store.rows("SELECT record_no FROM rejected_rows") == [(4,)]
    assert "not data" not in repr(campaign_store.rows("SELECT * FROM rejected_rows"))


def test_skip_rows_beyond_the_end_skips_what_is_there(campaign_store, tmp_path):
    rows = [{"tip_id": "#meta", "object_id": "", "received_at": "", "tip_text": ""}]
    mapping = _mapping(tmp_path, "skip_rows = 5\n")
    result = load_file(campaign_store, "tips", _tips(tmp_path, rows), mapping=mapping, progress=False)
    assert (result.rows_read, result.skipped) == (0, 1) and result.reconciles


def test_skip_rows_applies_to_json_lines_and_excel(campaign_store, tmp_path):
    from openpyxl import Workbook

    mapping = _mapping(tmp_path, "skip_rows = 1\n")
    lines = [{"tip_id": "#meta", "object_id": "#x"}, {"tip_id": "J1", "object_id": "G01", "received_at": "2017-06-01"}]
    path = tmp_path / "tips.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = load_file(campaign_store, "tips", path, mapping=mapping, progress=False)
    assert (result.rows_read, result.inserted, result.skipped) == (1, 1, 1)
    book = Workbook()
    sheet = book.active
    for row in (["tip_id", "object_id", "received_at"], ["#meta +id", "#x", "#date"], ["X1", "G01", "2017-06-01"]):
        sheet.append(row)
    book.save(tmp_path / "tips.xlsx")
    result = load_file(campaign_store, "tips", tmp_path / "tips.xlsx", mapping=mapping, progress=False)
    assert (result.rows_read, result.inserted, result.skipped) == (1, 1, 1)


def test_an_unreadable_csv_line_among_the_skipped_rows_refuses_the_file(campaign_store, tmp_path):
    before = _snapshot(campaign_store)
    path = tmp_path / "tips.csv"
    path.write_text("tip_id,object_id,received_at\n#a,#b,#c,#d\nS1,G01,2017-06-01\n")
    with pytest.raises(FileLoadError) as raised:
        load_file(campaign_store, "tips", path, mapping=_mapping(tmp_path, "skip_rows = 1\n"), progress=False)
    assert str(raised.value).startswith("line 2 could not be read as CSV, and it is among the 1 row(s)")
    assert "\n" not in str(raised.value)
    assert _snapshot(campaign_store) == before


@pytest.mark.parametrize("value", ["-1", str(MAX_SKIP_ROWS + 1), "true", '"1"', "1.5"])
def test_skip_rows_must_be_a_small_whole_number(tmp_path, value):
    with pytest.raises(MappingError, match=r"^in mapping.toml, skip_rows must be a whole number from 0 to 1,000"):
        _mapping(tmp_path, f"skip_rows = {value}\n")


# -- first_of -----------------------------------------------------------------------------------


def test_first_of_takes_the_first_non_empty_in_order(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[first_of]\nsuggested_place = ["Ort", "Adresse", "Stadt"]\n')
    rows = [
        {"tip_id": "F1", "Stadt": "Lyon", "Adresse": "rue 1", "Ort": "Shop A"},
        {"tip_id": "F2", "Stadt": "Lyon", "Adresse": "rue 2", "Ort": "  "},
        {"tip_id": "F3", "Stadt": "Lyon", "Adresse": "", "Ort": ""},
        {"tip_id": "F4", "Stadt": "", "Adresse": "", "Ort": ""},
    ]
    for row in rows:
        row.update(object_id="G01", received_at="2017-06-01")
    result = load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert result.inserted == 4 and result.ignored_columns == []
    assert campaign_store.rows("SELECT tip_id, suggested_place FROM tips ORDER BY tip_id") == [
        ("F1", "Shop A"), ("F2", "rue 2"), ("F3", "Lyon"), ("F4", None)
    ]


def test_first_of_passes_over_headers_the_file_lacks_and_feeds_a_required_column(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[first_of]\ntip_id = ["Post ID", "Message ID"]\n')
    rows = [{"Message ID": "M1", "object_id": "G01", "received_at": "2017-06-01"}]
    result = load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert result.inserted == 1 and campaign_store.scalar("SELECT tip_id FROM tips") == "M1"


def test_first_of_refuses_a_contact_column_and_a_second_source(campaign_store, tmp_path):
    rows = [{"tip_id": "F1", "object_id": "G01", "received_at": "2017-06-01", "reporter_email": "a@example.org",
             "tip_text": "t", "Nachricht": "n"}]
    path = write_csv(tmp_path / "t.csv", rows)
    mapping = _mapping(tmp_path, '[first_of]\ntip_text = ["Nachricht", "reporter_email"]\n')
    with pytest.raises(FileLoadError, match=r"^t.csv: 'reporter_email' is a contact column; the mapping's first_of"):
        load_file(campaign_store, "tips", path, mapping=mapping, progress=False)
    mapping = _mapping(tmp_path, '[first_of]\ntip_text = ["Nachricht"]\n')
    with pytest.raises(FileLoadError, match=r"^t.csv has a column for tip_text \('tip_text'\), which the mapping gives first_of"):
        load_file(campaign_store, "tips", path, mapping=mapping, progress=False)


def test_first_of_must_name_lists_of_headers_for_contract_columns(tmp_path):
    with pytest.raises(MappingError, match="'first_of' must map each contract column to a list of file headers"):
        _mapping(tmp_path, '[first_of]\ntip_text = "Nachricht"\n')
    mapping = _mapping(tmp_path, '[first_of]\nnot_a_column = ["x"]\n')
    from caselib.domain import contract

    with pytest.raises(MappingError, match="the mapping's first_of names 'not_a_column', which is not a tips column"):
        mapping.check_for(contract.kind("tips"))


# -- constants ----------------------------------------------------------------------------------


def test_a_constant_fills_a_column_the_file_lacks_and_value_maps_apply(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[constants]\nobject_id = "G02"\nchannel = "Webformular"\n'
                                 '[values.channel]\nWebformular = "web"\n')
    rows = [{"tip_id": "C1", "received_at": "2017-06-01"}, {"tip_id": "C2", "received_at": "2017-06-02"}]
    result = load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert result.inserted == 2
    assert campaign_store.rows("SELECT DISTINCT object_id, channel FROM tips") == [("G02", "web")]


def test_a_constant_naming_an_unknown_object_rejects_the_rows_with_that_reason(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[constants]\nobject_id = "G99"\n')
    rows = [{"tip_id": "C1", "received_at": "2017-06-01"}]
    result = load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert result.rejected == 1
    assert campaign_store.scalar("SELECT reason FROM rejected_rows") == 'object_id "G99" is not a known object'


def test_a_constant_for_a_column_the_file_has_is_refused_in_one_line(campaign_store, tmp_path):
    before = _snapshot(campaign_store)
    mapping = _mapping(tmp_path, '[constants]\nobject_id = "G02"\n[columns]\nObjekt = "object_id"\n')
    rows = [{"tip_id": "C1", "Objekt": "G01", "received_at": "2017-06-01"}]
    with pytest.raises(FileLoadError) as raised:
        load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert str(raised.value) == (
        "t.csv has a column for object_id ('Objekt'), which the mapping gives the constant 'G02'; "
        "remove one from the mapping"
    )
    assert _snapshot(campaign_store) == before


@pytest.mark.parametrize(
    "text, message",
    [
        ('[constants]\nobject_id = ["G1"]\n', "'constants' must map contract columns to one value each"),
        ('[constants]\nobject_id = true\n', "'constants' must map contract columns to one value each"),
        ('[constants]\nobject_id = "  "\n', "constants.object_id is empty"),
    ],
)
def test_a_constant_must_be_one_value(tmp_path, text, message):
    with pytest.raises(MappingError, match=message):
        _mapping(tmp_path, text)


def test_a_constant_for_a_contact_or_unknown_column_is_refused(tmp_path):
    from caselib.domain import contract

    for column in ("reporter_email", "colour"):
        mapping = _mapping(tmp_path, f'[constants]\n{column} = "x"\n')
        with pytest.raises(MappingError, match=f"the mapping's constants names '{column}', which is not a tips column"):
            mapping.check_for(contract.kind("tips"))


# -- formats ------------------------------------------------------------------------------------


def test_a_date_format_parses_day_first_dates_and_rejects_others_naming_it(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[formats]\nreceived_at = "%d/%m/%Y %H:%M"\n')
    rows = [
        {"tip_id": "D1", "object_id": "G01", "received_at": "02/06/2017 10:30"},
        {"tip_id": "D2", "object_id": "G01", "received_at": "2017-06-02T10:30:00Z"},
        {"tip_id": "D3", "object_id": "G01", "received_at": "31/02/2017 10:30"},
        {"tip_id": "D4", "object_id": "G01", "received_at": "02/06/2099 10:30"},
    ]
    result = load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping,
                       progress=False, now=NOW)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 1, 3)
    assert campaign_store.rows("SELECT tip_id, received_at::VARCHAR FROM tips") == [("D1", "2017-06-02 10:30:00")]
    assert campaign_store.rows("SELECT record_no, reason, reason_template FROM rejected_rows ORDER BY 1") == [
        (2, 'received_at "2017-06-02T10:30:00Z" does not match the format %d/%m/%Y %H:%M',
         'received_at "…" does not match the format %d/%m/%Y %H:%M'),
        (3, 'received_at "31/02/2017 10:30" does not match the format %d/%m/%Y %H:%M',
         'received_at "…" does not match the format %d/%m/%Y %H:%M'),
        (4, 'received_at "02/06/2099 10:30" is more than one day after the time of loading',
         'received_at "…" is more than one day after the time of loading'),
    ]


def test_a_format_with_an_offset_is_converted_to_utc(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[formats]\nreceived_at = "%d.%m.%Y %H:%M %z"\n')
    rows = [{"tip_id": "Z1", "object_id": "G01", "received_at": "02.06.2017 10:30 +0200"}]
    load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert campaign_store.scalar("SELECT received_at::VARCHAR FROM tips") == "2017-06-02 08:30:00"


def test_a_format_for_a_date_column(campaign_store, tmp_path):
    mapping = _mapping(tmp_path, '[formats]\nfirst_published = "%d/%m/%Y"\n')
    rows = [{"object_id": "G50", "title": "t", "first_published": "15/07/2018"},
            {"object_id": "G51", "title": "t", "first_published": "2018-07-15"}]
    result = load_file(campaign_store, "objects", write_csv(tmp_path / "o.csv", rows), mapping=mapping, progress=False)
    assert (result.inserted, result.rejected) == (1, 1)
    assert campaign_store.scalar("SELECT first_published::VARCHAR FROM objects WHERE object_id = 'G50'") == "2018-07-15"


@pytest.mark.parametrize(
    "fmt, message",
    [("%d/%m/%Q", "has the directive %Q"), ("day", "has no directive"), ("%d%", "has a lone % at its end")],
)
def test_a_format_must_use_known_directives(tmp_path, fmt, message):
    with pytest.raises(MappingError, match=f"^in mapping.toml, formats.received_at = .* {message}; use strptime"):
        _mapping(tmp_path, f'[formats]\nreceived_at = "{fmt}"\n')


def test_a_format_for_a_column_that_is_not_a_date_is_refused(tmp_path):
    from caselib.domain import contract

    mapping = _mapping(tmp_path, '[formats]\ntip_text = "%d"\n')
    with pytest.raises(MappingError, match="^the mapping has a format for 'tip_text', which is not a date or timestamp"):
        mapping.check_for(contract.kind("tips"))


def test_the_new_sections_are_yaml_too(campaign_store, tmp_path):
    mapping = _mapping(
        tmp_path,
        "skip_rows: 1\nconstants:\n  object_id: G01\nformats:\n  received_at: '%d/%m/%Y'\n"
        "first_of:\n  tip_text: [Text, Notiz]\n",
        "mapping.yaml",
    )
    rows = [{"tip_id": "#id", "received_at": "#date", "Text": "", "Notiz": ""},
            {"tip_id": "Y1", "received_at": "02/06/2017", "Text": "", "Notiz": "eine Notiz"}]
    result = load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", rows), mapping=mapping, progress=False)
    assert (result.rows_read, result.inserted, result.skipped) == (1, 1, 1)
    assert campaign_store.rows("SELECT tip_id, object_id, tip_text FROM tips") == [("Y1", "G01", "eine Notiz")]


def test_an_unknown_section_names_the_known_ones(tmp_path):
    with pytest.raises(MappingError) as raised:
        _mapping(tmp_path, "[colums]\n")
    assert str(raised.value) == (
        "the mapping file mapping.toml has unknown section(s) colums; use columns, values, contact, "
        "first_of, constants, formats and skip_rows"
    )


def test_an_hxl_row_of_empty_fields_is_skipped_too(campaign_store, tmp_path):
    """Ushahidi writes the row even for an export without HXL: then every field is empty."""
    mapping = _mapping(tmp_path, "skip_rows = 1\n")
    for name, content in (
        ("lf.csv", b"tip_id,object_id,received_at\n,,\nE1,G01,2017-06-01\n"),
        ("mixed.csv", b"tip_id,object_id,received_at\r\n,,\nE2,G01,2017-06-01\r\n"),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        result = load_file(campaign_store, "tips", path, mapping=mapping, progress=False)
        assert (result.rows_read, result.inserted, result.skipped) == (1, 1, 1), name
