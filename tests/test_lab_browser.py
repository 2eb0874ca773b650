"""The tip explorer in a real JupyterLab, served by `make lab`, in headless Chromium with the
network blocked: its maps draw with their legends, and hostile tip text shows as text."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from browser import COUNTRY_POINT_JS
from caselib import Store, load_file
from caselib.domain.demo import build_demo
from conftest import write_csv
from servers import served_lab

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab served by `make lab`; yields its URL, token, database and the working-copy
    folder (inside the ignored work/, never an analyst's, removed afterwards)."""
    folder = tmp_path_factory.mktemp("lab")
    db = folder / "demo.duckdb"
    build_demo(db, tips=5000, progress=False)
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with Store(db) as store:
        rows = [{"tip_id": "XSS-1", "object_id": "G001", "received_at": recent, "reporter_country": "NL",
                 "triage_status": "new", "tip_text": HOSTILE}]
        load_file(store, "tips", write_csv(folder / "hostile.csv", rows), progress=False)
    with served_lab(db, folder) as (base, token, work):
        yield base, token, db, work


def notebook_url(lab, name: str) -> str:
    """The analyst's working copy of notebook ``name``, in a fresh workspace."""
    base, token, _, work = lab
    return f"{base}/lab/workspaces/test-{uuid.uuid4().hex[:8]}/tree/{work}/{name}.ipynb?reset&token={token}"


def test_tip_explorer_draws_its_maps_and_shows_tip_text_as_text(browser, lab):
    report = browser.open_page(notebook_url(lab, "01_tip_explorer"), timeout=120_000, viewport=(1500, 1100))
    page = report.page
    # Every kernel websocket frame, both ways: (direction, bytes, whether plotly's widget
    # reported its drawn state back). Recorded from a reload, so the kernel's socket is seen open.
    frames: list[tuple[str, int, bool]] = []

    def record(ws) -> None:
        if "/api/kernels/" not in ws.url:
            return
        for event, direction in (("framesent", "out"), ("framereceived", "in")):
            ws.on(event, lambda payload, d=direction: frames.append(
                (d, len(payload), "_js2py_traceDeltas" in (payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))))

    page.on("websocket", record)
    page.reload(timeout=120_000)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_timeout(3000)
    page.keyboard.press("Escape")
    page.click(".jp-Notebook .jp-Cell >> nth=1", timeout=30_000)  # the explorer's code cell
    page.keyboard.press("Shift+Enter")
    report.plot_marks(count=1, timeout=180_000)  # the timeline
    maps = report.map_marks(count=2, timeout=180_000)
    assert len(maps) == 2
    for shown in maps:
        # Every outline drawn, the legend holds the colour classes and "no data".
        assert len(shown["countries"]) > 150
        assert 2 <= len(shown["legend"]) <= 9 and shown["legend"][-1] == "no data"
        assert shown["width"] > 300 and shown["height"] > 100
    assert [m["title"] for m in maps] == ["Where tips come from", "Where tipsters place the object"]
    # Open the folded tip table: the hostile text is there, as text, and nothing ran.
    page.get_by_text(re.compile(r"^Tips: [\d,]+ chosen")).first.click()
    page.wait_for_selector("text=XSS-1", timeout=60_000)
    body = page.inner_text("body")
    assert "<script>alert(1)</script>" in body
    page.wait_for_timeout(1000)

    # A filter chosen in the browser reaches the kernel, and the maps are recoloured in
    # place: France alone on the "sent from" map.
    from caselib.domain.countries import country_name

    # plotly's JavaScript (~5 MB) reached the page once, not once per figure.
    assert 4e6 < sum(n for d, n, _ in frames if d == "in") < 9e6
    frames.clear()
    painted = maps[0]["drawn"]
    page.locator(".widget-select-multiple", has_text="Sent from").locator("select").select_option(
        label=f"FRA · {country_name('FRA')}"
    )
    page.wait_for_function("(n) => Number(document.querySelector('.caselib-map').dataset.drawn) > n",
                           arg=painted, timeout=60_000)
    reporter = report.map_marks(count=2)[0]
    grey = "rgb(217, 217, 217)"
    coloured = {code for code, shape in reporter["countries"].items() if shape["fill"] != grey}
    assert coloured == {"FRA"}
    assert reporter["countries"]["FRA"]["label"].startswith(f"{country_name('FRA')}: tips sent from: ")
    assert reporter["countries"]["DEU"]["label"] == f"{country_name('DEU')}: tips sent from: no data"
    # Hovering a country shows its name and count, as text.
    page.locator(".caselib-map").first.scroll_into_view_if_needed()
    x, y = page.evaluate(COUNTRY_POINT_JS, [0, "FRA"])
    page.mouse.move(x, y)
    tooltip = page.locator(".caselib-map-tooltip").first
    tooltip.wait_for(state="visible", timeout=10_000)
    assert tooltip.inner_text().splitlines() == reporter["countries"]["FRA"]["label"].split(": ", 1)
    page.wait_for_timeout(1500)
    # A pick sends small updates, and the page sends no drawn state back to be echoed.
    assert frames and not any(js2py for _, _, js2py in frames)
    assert sum(n for _, n, _ in frames) < 100_000
    assert dialogs == []
    assert page.locator(".caselib-table script, .caselib-table img").count() == 0
    assert report.external_requests == []
    assert report.page_errors == []


def _kernel_figures(page) -> dict:
    """What the page shows: each caselib map's labels, and the timeline's bars."""
    return page.evaluate(
        """() => ({
            maps: Array.from(document.querySelectorAll('.caselib-map')).map((el) => Object.fromEntries(
                Array.from(el.querySelectorAll('[data-iso3]')).map((s) => [s.dataset.iso3, s.getAttribute('aria-label')]))),
            bars: Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap((gd) => (gd.data || [])
                .filter((t) => t.name === 'tips').map((t) => Array.from(t.y))),
        })"""
    )


def test_a_reload_while_the_kernel_runs_shows_the_current_selection(browser, lab):
    """Reloaded while the kernel runs, every view comes back with the figures of the
    selection made before: the maps' and the timeline's counts are the database's."""
    db = lab[2]
    report = browser.open_page(notebook_url(lab, "01_tip_explorer"), timeout=120_000, viewport=(1280, 800))
    page = report.page
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_timeout(2000)
    page.keyboard.press("Escape")
    page.click(".jp-Notebook .jp-Cell >> nth=1", timeout=30_000)
    page.keyboard.press("Shift+Enter")
    painted = report.map_marks(count=2, timeout=180_000)[0]["drawn"]
    from caselib.domain.countries import country_name

    page.locator(".widget-select-multiple", has_text="Sent from").locator("select").select_option(
        label=f"FRA · {country_name('FRA')}")
    page.wait_for_function("(n) => Number(document.querySelector('.caselib-map').dataset.drawn) > n",
                           arg=painted, timeout=60_000)
    page.wait_for_timeout(1000)
    before = _kernel_figures(page)
    # Saved (as JupyterLab's autosave does): the outputs, which name the views' widgets, are
    # in the file the reload reads; the widgets' state comes from the running kernel.
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)

    page.reload(timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    report.map_marks(count=2, timeout=120_000)
    report.plot_marks(count=1, timeout=120_000)
    page.wait_for_timeout(1000)
    after = _kernel_figures(page)
    assert after == before

    from caselib.domain.countries import country_name as name_of

    with Store(db, read_only=True) as store:
        sent = store.scalar("SELECT count(*) FROM tips WHERE reporter_country = 'FRA'")
        suggested = dict(store.rows("SELECT suggested_country, count(*) FROM tips WHERE reporter_country = 'FRA' "
                                    "AND suggested_country IS NOT NULL GROUP BY 1"))
    reporter, suggesting = after["maps"]
    assert reporter["FRA"] == f"{name_of('FRA')}: tips sent from: {sent:,}"
    assert all(label.endswith("no data") for code, label in reporter.items() if code != "FRA")
    shown = {code: label for code, label in suggesting.items() if not label.endswith("no data")}
    assert shown.keys() == suggested.keys()
    for code, count in suggested.items():
        assert shown[code] == f"{name_of(code)}: tips suggesting: {count:,}", code
    assert [sum(bars) for bars in after["bars"]] == [sent]
    assert "France" in page.inner_text(".jp-OutputArea")
    assert not [m for m in report.console_errors if "Failed to initialize" in m]
    assert report.page_errors == [] and report.external_requests == []
