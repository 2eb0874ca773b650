"""Team mode as an analyst meets it: `make lab` pointed at a team's shared store (a real
PostgreSQL, tests/pg.py) makes her copy, and the triage view in headless Chromium (network
blocked) decides on the server, leaves out the tips a colleague has in review, and says so."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pg
import psycopg
import pytest

from caselib import Store
from caselib.domain import team
from caselib.store.shared import connect
from caselib.store.shared.schema import add_user, init
from conftest import OBJECTS, WAVES, tip, write_csv
from servers import served_lab

TIPS = [tip(f"T{i:03d}", object_id="G01", received_at=f"2017-06-{1 + i % 28:02d}T10:00:00Z",
            tip_text=f"a blue wrapper seen in shop number {i}") for i in range(1, 21)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("team-lab")
    with pg.start() as server:
        database = "t_" + uuid.uuid4().hex[:10]
        with connect(server.fresh_database(database)) as superuser:
            init(superuser)
            for name, role in {"ada": "admin", "ann": "analyst", "bob": "analyst"}.items():
                add_user(superuser, name, role, f"pw-{name}")
        ada = connect(server.url_for("ada", "pw-ada", database))
        with Store(folder / "ada.duckdb") as copy:
            for kind, rows in (("waves", WAVES), ("objects", OBJECTS), ("tips", TIPS)):
                team.load(copy, ada, kind, write_csv(folder / f"{kind}.csv", rows), refresh=False, progress=False)
        bob = connect(server.url_for("bob", "pw-bob", database))
        team.claim(bob, ["T001", "T002"])  # bob has the two oldest in review
        db = folder / "ann.duckdb"  # not there yet: `make lab` makes it, a copy of the team's store
        previous = os.environ.get("CASELIB_SHARED_URL")
        os.environ["CASELIB_SHARED_URL"] = server.url_for("ann", "pw-ann", database)
        try:
            with served_lab(db, folder) as (base, token, work):
                yield base, token, work, server.url_for("postgres", server.password, database), folder
        finally:
            if previous is None:
                os.environ.pop("CASELIB_SHARED_URL", None)
            else:
                os.environ["CASELIB_SHARED_URL"] = previous
            ada.close()
            bob.close()


def test_an_analysts_lab_on_the_shared_store_decides_on_the_server(browser, lab):
    base, token, work, superuser, folder = lab
    url = f"{base}/lab/workspaces/test-{uuid.uuid4().hex[:8]}/tree/{work}/05_triage.ipynb?reset&token={token}"
    report = browser.open_page(url, timeout=120_000, viewport=(1280, 800))
    page = report.page
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_timeout(3000)
    page.keyboard.press("Escape")
    page.click(".jp-Notebook .jp-Cell >> nth=1", timeout=30_000)  # the parameters cell
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")  # the view's cell
    page.wait_for_selector(".caselib-triage tr.current", timeout=180_000)
    view = page.locator(".caselib-triage").locator("xpath=ancestor::div[contains(@class,'jp-OutputArea')]").first
    text = view.inner_text()
    assert "Team mode" in text and "ann" in text, text
    listed = page.locator(".caselib-triage")
    shown = listed.inner_text()
    assert "T001" not in shown and "T002" not in shown and "T003" in shown  # bob's are left out
    first = page.locator(".caselib-triage tr.current").get_attribute("data-row-key")
    listed.click()
    page.wait_for_timeout(1000)
    before = int(listed.get_attribute("data-drawn"))
    page.keyboard.press("a")  # actionable
    page.wait_for_function("(n) => Number(document.querySelector('.caselib-triage').dataset.drawn) > n",
                           arg=before, timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(Path(folder) / "team-triage.png"))
    with psycopg.connect(superuser) as con:
        decided = con.execute(
            "SELECT decided_by, new_triage_status FROM caselib.tip_triage_history WHERE tip_id = %s AND source = 'analyst'",
            (first,)).fetchall()
    assert decided == [("ann", "actionable")]
    assert "on the shared store" in view.inner_text()
    assert report.external_requests == [] and report.page_errors == []
