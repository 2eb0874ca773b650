"""The report's PDF as management gets it: A4 (or Letter on request), a footer with the page
number and the as-of day on every page, every map whole with its legend inside the page
margins, no value broken across lines, outcomes in words, and no label over another.

The pages are rendered to images with poppler's ``pdftoppm`` (installed with apt-get when
missing) and the maps found in them by their sea colour; text and page sizes come from pypdf,
word positions from poppler's ``pdftotext -bbox``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from browser import ensure_chromium
from caselib.domain.closure import OUTCOME_LABELS
from caselib.domain.demo import build_demo
from caselib.presentation.figures.maps import OCEAN, project

CASELIB = [sys.executable, "-m", "caselib"]
AS_OF = "2024-06-30"
AS_OF_WORDS = "as of 30 June 2024"
DPI = 50
MM = DPI / 25.4  # image pixels per millimetre
# The report's @page margins (top, right, bottom, left), in mm; the footer sits in the bottom one.
MARGINS = (14, 14, 18, 14)
PAPER_POINTS = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}
MAPS = 3
CLASS = re.compile(r"[\d.,]+–[\d.,]+")  # a legend's class of values

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def poppler() -> None:
    """``pdftoppm`` and ``pdftotext``, installed with apt-get if missing (skip only if that fails)."""
    from browser import apt_install

    apt_install("poppler-utils", lambda: bool(shutil.which("pdftoppm") and shutil.which("pdftotext")),
                "these tests need poppler-utils (pdftoppm)")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report-pdf") / "demo.duckdb"
    build_demo(path, tips=5000, progress=False, enrich=False)
    return path


@pytest.fixture(scope="module", params=["a4", "letter"])
def pdf(request, demo_db, tmp_path_factory, poppler) -> tuple[str, Path]:
    """(paper, path) of the report printed by the CLI: A4 without ``--paper``, Letter with it."""
    ensure_chromium()
    paper = request.param
    out = tmp_path_factory.mktemp(paper) / "report.pdf"
    options = [] if paper == "a4" else ["--paper", paper]
    result = subprocess.run([*CASELIB, "--db", str(demo_db), "report", "--as-of", AS_OF, *options, "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return paper, out


def page_images(path: Path) -> list[np.ndarray]:
    """Every page of ``path`` as an RGB array (height × width × 3) at :data:`DPI`."""
    folder = path.parent / f"{path.stem}-pages"
    folder.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(DPI), str(path), str(folder / "page")], check=True, timeout=120)
    return [_read_ppm(p) for p in sorted(folder.glob("page-*.ppm"))]


def _read_ppm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    # P6 <width> <height> <maxval> then the raw bytes (pdftoppm writes no comments).
    magic, width, height, maxval, rest = data.split(maxsplit=4)
    assert magic == b"P6" and maxval == b"255"
    return np.frombuffer(rest, dtype=np.uint8, count=int(width) * int(height) * 3).reshape(int(height), int(width), 3)


def sea_boxes(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The (left, top, right, bottom) pixel box of each map's sea on a page image, top to bottom.

    The sea is the only large area of the report in its colour (a warm grey; the edges of
    grey text come close to it, a row or two at a time); a map is a run of rows holding it,
    at least 20 mm tall.
    """
    pixels = image.astype(int)
    sea = np.array([int(OCEAN[i:i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(pixels - sea) <= 2).all(axis=2) & (pixels[..., 0] - pixels[..., 2] >= 2)
    rows = np.flatnonzero(mask.sum(axis=1) >= 5)
    boxes = []
    for run in np.split(rows, np.flatnonzero(np.diff(rows) > 3) + 1) if len(rows) else []:
        if run[-1] - run[0] < 20 * MM:
            continue
        columns = np.flatnonzero(mask[run[0]:run[-1] + 1].any(axis=0))
        boxes.append((int(columns[0]), int(run[0]), int(columns[-1]), int(run[-1])))
    return boxes


class _Words(HTMLParser):
    """The words of ``pdftotext -bbox`` output: per page, (text, x_min, y_min, x_max, y_max) in points."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[list[list]] = []
        self._word: list | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "page":
            self.pages.append([])
        elif tag == "word":
            self._word = ["", *(float(values[k]) for k in ("xmin", "ymin", "xmax", "ymax"))]
            self.pages[-1].append(self._word)

    def handle_data(self, data):
        if self._word is not None:
            self._word[0] += data

    def handle_endtag(self, tag):
        if tag == "word":
            self._word = None


def words(path: Path) -> list[list[list]]:
    result = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True)
    parser = _Words()
    parser.feed(result.stdout)
    return parser.pages


def test_the_pdf_is_on_the_paper_asked_for(pdf):
    from pypdf import PdfReader

    paper, path = pdf
    width, height = PAPER_POINTS[paper]
    reader = PdfReader(path)
    assert len(reader.pages) >= 4
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - width) < 1.5 and abs(float(box.height) - height) < 1.5, (paper, box)


def test_every_page_has_its_number_and_the_as_of_day_in_the_footer(pdf):
    from pypdf import PdfReader

    paper, path = pdf
    reader = PdfReader(path)
    pages = len(reader.pages)
    height = PAPER_POINTS[paper][1]
    placed = words(path)
    bottom = height - MARGINS[2] * 72 / 25.4  # the footer's margin starts here, in points
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text, (paper, number)
        assert AS_OF_WORDS in text, (paper, number)
        footer = " ".join(w[0] for w in placed[number - 1] if w[2] >= bottom)
        assert f"Page {number} of {pages}" in footer and AS_OF_WORDS in footer, (paper, number, footer)
        # Nothing else reaches into the footer's margin.
        assert all(w[4] <= bottom + 0.5 for w in placed[number - 1] if w[2] < bottom), (paper, number)


def test_every_map_is_whole_inside_the_margins_with_its_legend_under_it(pdf):
    paper, path = pdf
    images = page_images(path)
    placed = words(path)
    x_max = float(project(180, 0)[0])
    # The maps show the sea from the top of the world down to 58° S (below it, only Antarctica).
    aspect = 2 * x_max / float(project(0, 90)[1] - project(0, -58)[1] + 1)
    found = 0
    for number, image in enumerate(images, start=1):
        height, width = image.shape[:2]
        top, right, bottom, left = (m * MM for m in MARGINS)
        maps = sea_boxes(image)
        # Each legend's last entry, "no data", as the image's pixel row of its top.
        page_words = placed[number - 1]
        no_data = [w[2] * DPI / 72 for w, after in zip(page_words, page_words[1:])
                   if (w[0], after[0]) == ("no", "data") and abs(w[2] - after[2]) < 1]
        for x0, y0, x1, y1 in maps:
            found += 1
            assert x0 >= left - 1 and x1 <= width - right + 1, (paper, number, "map wider than the page", x0, x1)
            assert y0 >= top - 1 and y1 <= height - bottom + 1, (paper, number, "map outside the page", y0, y1)
            # Not cut by a page break or a frame: the whole sea, in its proportions.
            drawn = (x1 - x0 + 1) / (y1 - y0 + 1)
            assert abs(drawn - aspect) / aspect < 0.06, (paper, number, drawn, aspect)
            assert (x1 - x0) > 0.8 * (width - left - right), (paper, number, "map drawn small")
            # Its legend under it (within 60 mm), on the same page, above the footer.
            legend = [y for y in no_data if y1 < y < min(y1 + 60 * MM, height - bottom)]
            assert len(legend) == 1, (paper, number, "no legend under the map", y1, no_data)
            # Its classes ("730–3,179") under it too, not over the map.
            classes = [(w[1] * DPI / 72, w[2] * DPI / 72) for w in page_words if CLASS.fullmatch(w[0])]
            assert not [(x, y) for x, y in classes if x0 <= x <= x1 and y0 <= y <= y1], (paper, number, "legend over the map")
            assert len([y for x, y in classes if y1 < y <= legend[0] + 1]) >= 2, (paper, number, classes)
    assert found == MAPS, paper


def test_no_value_is_broken_across_lines_and_outcomes_are_words(pdf):
    from pypdf import PdfReader

    paper, path = pdf
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    started = re.findall(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text)
    assert len(started) >= 4, paper  # each load's start, whole
    assert not re.search(r"\d{4}-\d{2}-?\n", text), paper
    assert not re.search(r"\bG\d{0,2}\n\d", text), paper  # no object id split
    for code in OUTCOME_LABELS:
        assert "_" not in code or code not in text, (paper, code)
    # The outcomes of the demo campaign, each whole on one line.
    for code in ("not_ready", "origin_established", "widely_distributed", "exhausted", "closed"):
        assert OUTCOME_LABELS[code] in text, (paper, code)


_LABEL_BOXES_JS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((div) => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const frame = box(div);
  const labels = Array.from(div.querySelectorAll('.annotation-text-g, .gtitle, .g-xtitle, .g-ytitle, .legendtext, .xtick text, .ytick text, .bartext'))
    .filter((el) => el.getBoundingClientRect().width > 0).map((el) => ({text: el.textContent, box: box(el)}));
  return {id: div.id, frame: frame, labels: labels};
})
"""


def test_no_label_overlaps_another_or_leaves_its_figure(browser, demo_db, tmp_path):
    out = tmp_path / "report.html"
    result = subprocess.run([*CASELIB, "--db", str(demo_db), "report", "--as-of", AS_OF, "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = browser.open_page(out.as_uri())
    report.plot_marks(count=7)
    figures = report.page.evaluate(_LABEL_BOXES_JS)
    assert len(figures) == 7
    launches = 0
    for figure in figures:
        fx0, fy0, fx1, fy1 = figure["frame"]
        labels = figure["labels"]
        for i, label in enumerate(labels):
            x0, y0, x1, y1 = label["box"]
            assert fx0 - 1 <= x0 and x1 <= fx1 + 1 and fy0 - 1 <= y0 and y1 <= fy1 + 1, (figure["id"], label)
            for other in labels[i + 1:]:
                a0, b0, a1, b1 = other["box"]
                overlap = min(x1, a1) - max(x0, a0), min(y1, b1) - max(y0, b0)
                assert overlap[0] <= 1 or overlap[1] <= 1, (figure["id"], label["text"], other["text"])
        launches += sum(1 for label in labels if re.fullmatch(r"[A-Z][a-z]+ \d{4}", label["text"] or ""))
    assert launches >= 6  # the timeline's wave names (and the legends' and axes' too)


def test_no_section_heading_is_left_alone_at_the_foot_of_a_page(pdf):
    """A heading and its note at the foot of a page with the section's map overleaf read as a
    missing map: each heading has at least a few lines of its section under it on its page."""
    from caselib.presentation.report import SECTIONS

    paper, path = pdf
    bottom = PAPER_POINTS[paper][1] - MARGINS[2] * 72 / 25.4
    found = set()
    for page in words(path):
        body = [w for w in page if w[2] < bottom]
        for name in SECTIONS:
            for w in body:
                # the heading is a line of its own words only (a figure's title may begin so)
                line = [x[0] for x in sorted(body, key=lambda x: x[1]) if abs(x[2] - w[2]) < 1]
                if w[0] == name.split()[0] and line == name.split():
                    below = {round(x[2]) for x in body if x[2] > w[4] + 1}
                    assert len(below) >= 4, (paper, name, sorted(below))
                    found.add(name)
    assert found == set(SECTIONS), (paper, found)
