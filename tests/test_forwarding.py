"""Forwarding packages (issue 14, item 6): one ZIP for one country's police, every file
listed with its SHA-256 in the manifest, no contact data anywhere, formula-safe
spreadsheets, owner-only; the tips become forwarded in the audit, and running it again
forwards nothing new."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import stat
import zipfile

import pytest
from click.testing import CliRunner

from browser import ensure_chromium
from caselib import Store, load_file
from caselib.cli import cli
from caselib.domain import triage
from caselib.domain.audit import verify
from caselib.store.triage import forwarded_by_country
from conftest import tip, write_csv

FORMULA = '=HYPERLINK("http://example.org/x","click")'
EMAILS = [f"tipster{i}@example.org" for i in range(1, 8)]
PHONES = [f"+351 912 345 67{i}" for i in range(1, 8)]
FILES = {"tips.csv", "tips.xlsx", "objects.csv", "cover.html", "cover.pdf", "manifest.json"}


@pytest.fixture
def forwardable(campaign_store, tmp_path, db_path):
    rows = [
        tip("P1", suggested_country="Portugal", tip_text="Sold at a market in Porto"),
        tip("P2", suggested_country="PRT", tip_text=FORMULA),
        tip("P3", object_id="G02", suggested_country="PT", tip_text="<b>hotel</b> in Faro"),
        tip("P4", suggested_country="PRT", tip_text="still to triage"),
        tip("F1", suggested_country="France", tip_text="Paris"),
        tip("P5", suggested_country="PRT", triage_status="actionable", tip_text="came in actionable"),
        tip("P6", suggested_country="PRT", triage_status="not_actionable"),
    ]
    for i, row in enumerate(rows):
        row["reporter_email"], row["reporter_phone"] = EMAILS[i], PHONES[i]
    load_file(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows), progress=False, pseudonymize=True)
    triage.decide(campaign_store, ["P1", "P2", "P3", "F1"], status="actionable", reason="names a place", by="ana")
    campaign_store.close()
    return db_path


def test_a_package_holds_the_actionable_tips_for_the_country_and_nothing_else(forwardable, tmp_path):
    ensure_chromium()
    target = tmp_path / "out" / "prt.zip"
    done = CliRunner().invoke(cli, ["--db", str(forwardable), "forward", "--country", "Portugal", "--handling", "H2",
                                    "--by", "ana", "-o", str(target)])
    assert done.exit_code == 0, done.output
    assert "4 tips of 2 objects, now forwarded" in done.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with zipfile.ZipFile(target) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert set(files) == FILES
    manifest = json.loads(files["manifest.json"])
    assert manifest["country"] == "PRT" and manifest["codes"] == {"source": "X", "information": "4", "handling": "H2"}
    assert sorted(manifest["tip_ids"]) == ["P1", "P2", "P3", "P5"] and manifest["objects"] == ["G01", "G02"]
    # every file but the manifest is listed, with its size and SHA-256
    assert {f["name"] for f in manifest["files"]} == FILES - {"manifest.json"}
    for listed in manifest["files"]:
        data = files[listed["name"]]
        assert (len(data), hashlib.sha256(data).hexdigest()) == (listed["bytes"], listed["sha256"])
    # no contact data in any file, in any form
    everything = b"\n".join(files.values())
    with zipfile.ZipFile(io.BytesIO(files["tips.xlsx"])) as book:
        everything += b"\n".join(book.read(name) for name in book.namelist())
    text = everything.decode("utf-8", errors="replace")
    for value in EMAILS + PHONES:
        assert value not in text and value.replace(" ", "") not in text
    assert not re.search(r"[\w.]+@[\w-]+\.\w+", text)
    # the tips, formula-safe in both spreadsheets
    tips = list(csv.DictReader(io.StringIO(files["tips.csv"].decode())))
    assert [t["tip_id"] for t in tips] == ["P1", "P2", "P5", "P3"]
    assert tips[1]["tip_text"] == "'" + FORMULA and "reporter_email" not in tips[0]
    assert tips[0]["reporter_pseudonym"] and tips[0]["received_at"] == "2017-06-01T10:00:00Z"
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(files["tips.xlsx"])).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    assert "'" + FORMULA in [c.value for c in cells]
    objects = list(csv.DictReader(io.StringIO(files["objects.csv"].decode())))
    assert [o["object_id"] for o in objects] == ["G01", "G02"] and objects[0]["title"] == "blue soap wrapper"
    # the cover: escaped, local, with the codes; its PDF is a real PDF with the same words
    cover = files["cover.html"].decode()
    assert "Portugal (PRT)" in cover and "H2" in cover and "hotel towel" in cover and "<script" not in cover
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", cover)
    assert files["cover.pdf"].startswith(b"%PDF")
    from pypdf import PdfReader

    printed = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(files["cover.pdf"])).pages)
    assert "Portugal" in printed and "Handling" in printed and "cannot be judged" in printed
    # the tips are forwarded, in the audit, and the chain holds
    with Store(forwardable, read_only=True) as store:
        assert store.rows("SELECT tip_id, triage_status, forwarded_to FROM tips ORDER BY tip_id") == [
            ("F1", "actionable", None), ("P1", "forwarded", "PRT"), ("P2", "forwarded", "PRT"),
            ("P3", "forwarded", "PRT"), ("P4", "new", None), ("P5", "forwarded", "PRT"), ("P6", "not_actionable", None)]
        action, payload = store.rows("SELECT action, payload FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
        payload = json.loads(payload)
        assert action == "forward" and payload["zip_sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
        assert payload["manifest_sha256"] == hashlib.sha256(files["manifest.json"]).hexdigest()
        assert verify(store).ok
        shown = forwarded_by_country(store)
        assert shown.to_dict("records")[0] | {"last_package_on": None} == {
            "country": "PRT", "tips": 4, "packages": 1, "last_package_on": None}
    # again: nothing new, no file
    again = CliRunner().invoke(cli, ["--db", str(forwardable), "forward", "--country", "PRT", "-o", str(tmp_path / "again.zip")])
    assert again.exit_code == 0 and "Nothing new to forward to Portugal" in again.output
    assert not (tmp_path / "again.zip").exists()


def test_a_package_of_one_object_and_refusals(forwardable, tmp_path):
    ensure_chromium()
    one = CliRunner().invoke(cli, ["--db", str(forwardable), "forward", "--country", "PRT", "--object", "G02",
                                   "-o", str(tmp_path / "g02.zip")])
    assert one.exit_code == 0 and "1 tip of 1 object" in one.output
    existing = tmp_path / "g02.zip"
    for args, message in (
        (["--country", "PRT", "-o", str(existing)], "exists already"),
        (["--country", "Atlantis", "-o", str(tmp_path / "a.zip")], "not a country"),
        (["--country", "PRT", "-o", str(tmp_path / "a.tar")], "written as a .zip"),
        (["--country", "PRT", "--object", "G99", "-o", str(tmp_path / "b.zip")], "there is no object"),
    ):
        refused = CliRunner().invoke(cli, ["--db", str(forwardable), "forward", *args])
        assert refused.exit_code != 0 and message in refused.output and "Traceback" not in refused.output
    with Store(forwardable, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM audit_log WHERE action = 'forward'") == 1


def test_a_failure_before_commit_leaves_neither_file_nor_decision(forwardable, tmp_path, monkeypatch):
    ensure_chromium()
    import caselib.presentation.forwarding as forwarding

    def broken(path, data):
        path.write_bytes(data)
        raise OSError("disk full")

    monkeypatch.setattr(forwarding, "write_private", broken)
    target = tmp_path / "broken.zip"
    with Store(forwardable) as store, pytest.raises(OSError):
        forwarding.write_package(store, "PRT", target)
    assert not target.exists()
    with Store(forwardable, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tips WHERE triage_status = 'forwarded'") == 0
        assert store.scalar("SELECT count(*) FROM audit_log WHERE action = 'forward'") == 0


def test_the_dashboard_shows_what_was_forwarded_where_with_small_counts_hidden(forwardable, tmp_path):
    ensure_chromium()
    import datetime as dt

    from caselib.presentation.forwarding import write_package
    from caselib.presentation.widgets.management_dashboard import ManagementDashboard
    from caselib.store.session import Session

    with Store(forwardable) as store:
        write_package(store, "PRT", tmp_path / "prt.zip")
        assert forwarded_by_country(store, as_of=dt.date(2017, 6, 30)).empty  # before the package
    today = dt.datetime.now(dt.UTC).date()
    dashboard = ManagementDashboard(Session(forwardable, idle=0), k=5, as_of=today)
    shown = dashboard.forwarded.value
    assert "Portugal (PRT)" in shown and "fewer than 5" in shown and f"{today:%d %b %Y}" in shown
    small = ManagementDashboard(Session(forwardable, idle=0), k=2, as_of=today).forwarded.value
    assert "<td>4</td>" in small
    dashboard.as_of.value = today - dt.timedelta(days=1)  # the day before: nothing forwarded yet
    assert "Nothing forwarded yet" in dashboard.forwarded.value


def test_the_dashboard_lists_the_countries_with_the_most_forwarded_and_counts_the_rest():
    import pandas as pd

    from caselib.presentation.widgets.management_dashboard import forwarded_html

    frame = pd.DataFrame({"country": ["PRT", "FRA", "DEU"] * 5, "tips": range(15, 0, -1), "packages": [1] * 15,
                          "last_package_on": [pd.NaT] * 15})
    shown = forwarded_html(frame, 5)
    assert shown.count("<tr>") == 13 and "…and 3 more countries." in shown and "fewer than 5" in shown
