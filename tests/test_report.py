"""The campaign report: self-contained, offline in a real browser, no tip text, small counts
hidden, a PDF with the same sections, and the same file from the notebook and the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from browser import ensure_chromium
from caselib import Store, load_file
from caselib.domain.demo import build_demo
from caselib.presentation.report import SECTIONS
from conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
CASELIB = [sys.executable, "-m", "caselib"]
AS_OF = "2024-06-30"
HOSTILE = "<script>alert(1)</script>"
PRIVATE_TEXT = "the soap came from my aunt's shop in Ulaanbaatar"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    path = folder / "demo.duckdb"
    build_demo(path, tips=5000, progress=False, enrich=False)
    # Two tips from Mongolia (a small count that must not show) carrying text that must not leak.
    rows = [
        {"tip_id": f"MN{i}", "object_id": "G001", "received_at": "2024-06-01T08:00:00Z", "reporter_country": "MN",
         "suggested_country": "MN", "triage_status": "new", "tip_text": text}
        for i, text in enumerate([HOSTILE, PRIVATE_TEXT])
    ]
    with Store(path) as store:
        load_file(store, "tips", write_csv(folder / "extra.csv", rows), progress=False)
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CASELIB, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def report_html(demo_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "report.html"
    result = run("--db", str(demo_db), "report", "--as-of", AS_OF, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "Report written to" in result.stdout
    return out


def figures_of(page: str) -> list[dict]:
    """The figure JSON objects embedded in the report, in order."""
    return [json.loads(m) for m in re.findall(r'Plotly\.newPlot\(\s*"figure-\d+",\s*(\[.*?\]),\s*\{', page, re.S)]


def test_report_has_every_section_and_refers_to_nothing_outside(report_html):
    page = report_html.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["\']?(https?:)?//', page, re.I)
    # The fixture added an analyst's load to the demo: the report no longer claims to be synthetic.
    assert "synthetic demo campaign" not in page
    assert "Closure rules, applied in order" in page and "fewer than 5" in page


def test_report_has_no_tip_text_and_hides_small_counts(report_html, demo_db):
    page = report_html.read_text(encoding="utf-8")
    assert HOSTILE not in page and "alert(1)" not in page
    assert PRIVATE_TEXT not in page and "Ulaanbaatar" not in page
    with Store(demo_db, read_only=True) as store:
        texts = [t for (t,) in store.rows("SELECT tip_text FROM tips WHERE length(tip_text) > 30 LIMIT 50")]
    assert texts and not [t for t in texts if t in page]
    # Mongolia sent 2 tips: on the maps it is drawn as suppressed, its count nowhere.
    hovers = [text for fig in figures_of(page) for trace in fig for text in (trace.get("hovertext") or [])
              if isinstance(text, str) and "Mongolia" in text]
    assert hovers and all("fewer than 5" in text for text in hovers)
    assert not [text for text in hovers if re.search(r"\b2\b", text)]


def test_unknown_wave_and_bad_suffix_are_one_line_errors(demo_db, tmp_path):
    result = run("--db", str(demo_db), "report", "--wave", "1999-01", "-o", str(tmp_path / "r.html"))
    assert result.returncode == 1 and "there is no wave '1999-01'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run("--db", str(demo_db), "report", "-o", str(tmp_path / "r.docx"))
    assert result.returncode == 1 and ".html or .pdf" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_wave_report_names_the_wave_and_counts_its_tips(demo_db, tmp_path):
    out = tmp_path / "wave.html"
    result = run("--db", str(demo_db), "report", "--as-of", AS_OF, "--wave", "2021-03", "-o", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "wave March 2021" in page
    with Store(demo_db, read_only=True) as store:
        n = store.scalar("SELECT count(*) FROM tips WHERE received_at >= DATE '2021-03-01' AND received_at < DATE '2023-12-01'")
    assert f"{n:,} came in wave March 2021" in page


def test_report_draws_every_figure_offline_in_chromium(browser, report_html):
    report = browser.open_page(report_html.as_uri())
    figures = len(figures_of(report_html.read_text(encoding="utf-8")))
    marks = report.plot_marks(count=figures)
    assert report.external_requests == []
    assert report.page_errors == []
    assert report.console_errors == []
    assert len(marks) == figures >= 7
    for figure in marks:
        drawn = figure["paths"] + sum(t["fills"] + t["lines"] + t["points"] for t in figure["traces"])
        assert drawn > 0, figure["id"]
    # The maps draw their countries (one fill sub-path per ring).
    maps = [f for f in marks if sum(t["fill_subpaths"] for t in f["traces"]) > 150]
    assert len(maps) == 3


@pytest.mark.slow
def test_pdf_has_the_report_sections(demo_db, tmp_path):
    from pypdf import PdfReader

    ensure_chromium()
    out = tmp_path / "report.pdf"
    result = run("--db", str(demo_db), "report", "--as-of", AS_OF, "-o", str(out))
    assert result.returncode == 0, result.stderr
    reader = PdfReader(out)
    text = " ".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 4
    for section in SECTIONS:
        assert section in text
    assert "Trace an Object" in text and "fewer than 5" in text
    assert "Ulaanbaatar" not in text


def test_notebook_and_cli_write_the_same_report(demo_db, tmp_path):
    from_cli = tmp_path / "cli.html"
    result = run("--db", str(demo_db), "report", "--as-of", AS_OF, "--wave", "2021-03", "-o", str(from_cli))
    assert result.returncode == 0, result.stderr
    notebook = nbformat.read(ROOT / "notebooks" / "04_campaign_report.ipynb", as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    from_notebook = tmp_path / "notebook.html"
    parameters.source = f"as_of = {AS_OF!r}\nwave = '2021-03'\nk = 5\noutput = {str(from_notebook)!r}"
    env_before = os.environ.get("CASELIB_DB")
    os.environ["CASELIB_DB"] = str(demo_db)
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("CASELIB_DB")
        else:
            os.environ["CASELIB_DB"] = env_before
    assert from_notebook.read_bytes() == from_cli.read_bytes()


@pytest.mark.parametrize("name", ["report.html", "new-folder/report.html"])
def test_the_report_is_written_owner_only_whatever_the_umask(demo_db, tmp_path, name):
    out = tmp_path / name
    previous = os.umask(0o022)
    try:
        result = run("--db", str(demo_db), "report", "--as-of", AS_OF, "-o", str(out))
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    if "/" in name:
        assert out.parent.stat().st_mode & 0o777 == 0o700
    assert not list(out.parent.glob(".*.tmp"))


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(demo_db, tmp_path):
    """Written on a 1 MB filesystem (a tmpfs the test mounts as root): the 5 MB report does not
    fit; one line, exit 7 (cannot write), and nothing left behind."""
    from conftest import small_filesystem

    with small_filesystem(tmp_path / "small", "size=1m") as small:
        result = run("--db", str(demo_db), "report", "--as-of", AS_OF, "-o", str(small / "report.html"))
        assert result.returncode == 7, result.stderr
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]
        assert "No space left on device" in result.stderr and "internal error" not in result.stderr
        assert list(small.iterdir()) == []


def test_the_ready_table_names_countries_rather_than_giving_codes(report_html):
    """Origin and leading suggestion in words, as every caption gives them (one source,
    countries.country_name); the code only where a name is unknown."""
    import html

    from caselib.domain.countries import country_name

    page = report_html.read_text()
    table = page.split("Objects ready for closure", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert rows, "no object ready for closure in the test campaign: the test proves nothing"
    cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
             for r in rows]
    origins = {r[3] for r in cells} - {""}
    leading = {re.sub(r" \d+%$", "", r[5]) for r in cells} - {""}
    assert origins | leading, cells
    for name in origins | leading:
        assert not re.fullmatch(r"[A-Z]{3}", name), name
    names = {country_name(code) for code in ("DEU", "FRA", "NLD", "BEL", "ITA", "ESP", "POL", "TUR", "GBR", "USA")}
    assert (origins | leading) & names, (origins, leading)
