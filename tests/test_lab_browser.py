"""The tip explorer in a real JupyterLab, served by `make lab`, in headless Chromium with the
network blocked: its maps draw with their legends, and hostile tip text shows as text."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid

import pytest
from conftest import write_csv
from servers import free_port, lab_token, make_target, wait_for

from caselib import Store, load_file
from caselib.demo import build_demo

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    db = folder / "demo.duckdb"
    build_demo(db, tips=5000, progress=False)
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with Store(db) as store:
        rows = [{"tip_id": "XSS-1", "object_id": "G001", "received_at": recent, "reporter_country": "NL",
                 "triage_status": "new", "tip_text": HOSTILE}]
        load_file(store, "tips", write_csv(folder / "hostile.csv", rows), progress=False)
    port = free_port()
    log = folder / "lab.log"
    env = {**os.environ, "CASELIB_DB": str(db), "PORT": str(port), "JUPYTER_RUNTIME_DIR": str(folder / "rt")}
    env.pop("DISPLAY", None)
    with make_target("lab", env, log) as process:
        token = wait_for(lambda: lab_token(log, port), process, log, what="make lab")
        yield f"http://127.0.0.1:{port}", token


def test_tip_explorer_draws_its_maps_and_shows_tip_text_as_text(browser, lab):
    base, token = lab
    url = f"{base}/lab/workspaces/test-{uuid.uuid4().hex[:8]}/tree/notebooks/01_tip_explorer.ipynb?reset&token={token}"
    report = browser.open_page(url, timeout=120_000, viewport=(1500, 1100))
    page = report.page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_timeout(3000)
    page.keyboard.press("Escape")
    page.click(".jp-Notebook .jp-Cell >> nth=1", timeout=30_000)  # the explorer's code cell
    page.keyboard.press("Shift+Enter")
    marks = report.plot_marks(count=3, timeout=180_000)
    maps = [m for m in marks if sum(t["fill_subpaths"] for t in m["traces"]) > 150]
    assert len(maps) == 2
    for figure in maps:
        # The legend holds the colour classes (not one entry per country) and the hover
        # markers stay invisible: the figure reached the browser as it was built.
        assert 2 <= figure["legend_items"] <= 9
    # Open the folded tip table: the hostile text is there, as text, and nothing ran.
    page.get_by_text(re.compile(r"^Tips: [\d,]+ chosen")).first.click()
    page.wait_for_selector("text=XSS-1", timeout=60_000)
    body = page.inner_text("body")
    assert "<script>alert(1)</script>" in body
    page.wait_for_timeout(1000)
    assert dialogs == []
    assert page.locator(".caselib-table script, .caselib-table img").count() == 0
    assert report.external_requests == []
    assert report.page_errors == []
