"""The management dashboard served by `make dashboard` (Voilà), in headless Chromium with the
network blocked; no code execution from the browser; working beside a load in another process."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from caselib import Store, load_file
from caselib.domain.demo import build_demo
from caselib.store.session import Session
from conftest import write_csv
from servers import served_dashboard

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_TITLE = "<img src=x onerror=alert(7)> teddy bear"
HOSTILE_TEXT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def dashboard_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dash")
    path = folder / "demo.duckdb"
    build_demo(path, tips=5000, progress=False)
    with Store(path) as store:
        objects = [{"object_id": "G999", "title": HOSTILE_TITLE, "first_published": "2017-05-01"}]
        load_file(store, "objects", write_csv(folder / "o.csv", objects), progress=False)
        # Six recent actionable tips agreeing on Belgium from three countries, and one tip
        # still to triage since before the campaign's first wave: the longest wait for triage,
        # so it leads the attention list.
        recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        tips = [{"tip_id": f"H{i}", "object_id": "G999", "received_at": recent, "triage_status": "actionable",
                 "suggested_country": "BE", "reporter_country": ["NL", "DE", "FR"][i % 3], "tip_text": HOSTILE_TEXT}
                for i in range(6)]
        tips.append({"tip_id": "H9", "object_id": "G999", "received_at": "2017-05-02T08:00:00Z",
                     "triage_status": "new", "tip_text": HOSTILE_TEXT})
        load_file(store, "tips", write_csv(folder / "t.csv", tips), progress=False)
    return path


@pytest.fixture(scope="module")
def dashboard(dashboard_db):
    """`make dashboard` on a free port, on the test database; stopped at the end."""
    with served_dashboard(dashboard_db, dashboard_db.parent) as url:
        yield url


def test_dashboard_renders_offline_with_every_plot_drawn(browser, dashboard):
    report = browser.open_page(dashboard, timeout=180_000)
    page = report.page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.wait_for_selector(".caselib-tiles", timeout=180_000)
    marks = report.plot_marks(count=2, timeout=120_000)
    maps = report.map_marks(count=1, timeout=120_000)
    assert report.external_requests == []
    assert report.page_errors == []
    assert len(marks) == 2 and len(maps) == 1
    for figure in marks:
        drawn = figure["paths"] + sum(t["fills"] + t["lines"] + t["points"] for t in figure["traces"])
        assert drawn > 0, figure
    # The tip-origin map: every outline, some coloured, small counts hatched.
    shapes = maps[0]["countries"]
    assert len(shapes) > 150
    assert sum(shape["fill"].startswith("rgb(") and shape["fill"] != "rgb(217, 217, 217)" for shape in shapes.values()) > 10
    assert any(shape["fill"].startswith("url(") for shape in shapes.values())
    assert maps[0]["title"] == "Where tips come from (the whole campaign)"
    text = page.inner_text("body")
    assert "Trace an Object · campaign dashboard" in text
    assert "objects published" in text and "ready for closure" in text
    # Presentable: no code, no traceback, no warning on the page.
    for bad in ("Traceback", "Warning", "import ", "ManagementDashboard(", "Error"):
        assert bad not in text
    # Untrusted text is shown escaped and never runs.
    assert HOSTILE_TITLE in text
    assert HOSTILE_TEXT not in text  # tip text is never on the dashboard
    page.wait_for_timeout(500)
    assert dialogs == []


def test_dashboard_selectors_recompute_the_view(browser, dashboard):
    report = browser.open_page(dashboard, timeout=180_000)
    page = report.page
    # Every byte of the kernel's websocket, recorded from a reload (so the socket is seen open).
    frames: list[int] = []

    def record(ws) -> None:
        for event in ("framesent", "framereceived"):
            ws.on(event, lambda payload: frames.append(len(payload)))

    page.on("websocket", record)
    page.reload(timeout=180_000)
    page.wait_for_selector(".caselib-tiles", timeout=180_000)
    report.plot_marks(count=2, timeout=120_000)
    report.map_marks(count=1, timeout=120_000)
    assert "wave" not in page.inner_text(".caselib-tiles")
    rows = "() => new Set([...document.querySelectorAll('.caselib-tile')].map(t => t.getBoundingClientRect().top)).size"
    tiles = "document.querySelectorAll('.caselib-tile').length"
    assert page.evaluate(f"() => {tiles}") == 8
    before = page.evaluate(rows)
    page.wait_for_timeout(1000)
    frames.clear()
    page.locator("select").first.select_option(label="March 2021")
    page.wait_for_function(
        "() => document.querySelector('.caselib-tiles').innerText.includes('in the window of wave March 2021')",
        timeout=60_000)
    assert "wave March 2021" in page.inner_text("body")
    page.wait_for_function(
        "() => document.querySelector('.caselib-map-title').textContent.includes('wave March 2021')", timeout=60_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some((gd) => gd.layout && gd.layout.title"
        " && String(gd.layout.title.text).includes('launch of March 2021'))", timeout=60_000)
    page.wait_for_timeout(1000)
    # A pick sends the wave's figures as small updates: no figure, no outline sent again.
    assert frames and sum(frames) < 100_000
    # the same eight tiles in the same rows, each saying what it covers
    assert page.evaluate(f"() => {tiles}") == 8 and page.evaluate(rows) == before
    assert page.inner_text(".caselib-tiles").count("whole campaign") == 7
    assert report.page_errors == [] and report.external_requests == []


def test_the_browser_cannot_execute_code_in_the_dashboard_kernel(browser, dashboard, tmp_path):
    """Voilà passes widget messages to the kernel, never an execute_request."""
    report = browser.open_page(dashboard, timeout=180_000)
    page = report.page
    page.wait_for_selector(".caselib-tiles", timeout=180_000)
    config = json.loads(page.inner_text("#jupyter-config-data") if page.locator("#jupyter-config-data").count()
                        else page.evaluate("() => document.getElementById('jupyter-config-data').textContent"))
    kernel = config["kernelId"]
    marker = tmp_path / "pwned"
    result = page.evaluate(
        """async ([url, code]) => {
            const ws = new WebSocket(url);
            const replies = [];
            await new Promise((ok, no) => { ws.onopen = ok; ws.onerror = no; });
            ws.onmessage = (e) => replies.push(typeof e.data === 'string' ? e.data : 'binary');
            const message = (id, type, content) => JSON.stringify({
                header: {msg_id: id, msg_type: type, username: 'x', session: 'x', date: new Date().toISOString(),
                         version: '5.3'},
                parent_header: {}, metadata: {}, channel: 'shell', buffers: [], content: content});
            const attack = 'attack-' + Math.random();
            const control = 'control-' + Math.random();
            ws.send(message(attack, 'execute_request', {code: code, silent: false, store_history: false,
                                                         user_expressions: {}, allow_stdin: false}));
            // A message Voilà does let through, to show the channel itself works.
            ws.send(message(control, 'kernel_info_request', {}));
            await new Promise((ok) => setTimeout(ok, 3000));
            ws.close();
            return [replies.filter((r) => r.includes(attack)).length, replies.filter((r) => r.includes(control)).length];
        }""",
        [dashboard.replace("http", "ws") + f"api/kernels/{kernel}/channels?session_id={uuid.uuid4()}",
         f"open({str(marker)!r}, 'w').write('x')"],
    )
    time.sleep(1)
    attack_replies, control_replies = result
    assert control_replies > 0  # the kernel answers what Voilà lets through
    assert attack_replies == 0 and not marker.exists()  # the execute_request never reached it


def test_the_browser_can_neither_stop_the_kernel_nor_read_server_paths(browser, dashboard):
    """A shutdown_request over the websocket is ignored (the kernel still answers afterwards),
    and malformed widget messages bring back no traceback, no server path."""
    report = browser.open_page(dashboard, timeout=180_000)
    page = report.page
    page.wait_for_selector(".caselib-tiles", timeout=180_000)
    config = json.loads(page.evaluate("() => document.getElementById('jupyter-config-data').textContent"))
    replies = page.evaluate(
        """async (url) => {
            const ws = new WebSocket(url);
            const replies = [];
            await new Promise((ok, no) => { ws.onopen = ok; ws.onerror = no; });
            ws.onmessage = (e) => replies.push(typeof e.data === 'string' ? e.data : 'binary');
            const message = (id, type, channel, content) => JSON.stringify({
                header: {msg_id: id, msg_type: type, username: 'x', session: 'x', date: new Date().toISOString(),
                         version: '5.3'},
                parent_header: {}, metadata: {}, channel: channel, buffers: [], content: content});
            ws.send(message('stop-1', 'shutdown_request', 'control', {restart: false}));
            ws.send(message('stop-2', 'shutdown_request', 'shell', {restart: true}));
            ws.send(message('bad-1', 'comm_msg', 'shell', {comm_id: 'no-such-comm', data: {method: 'update'}}));
            ws.send(message('bad-2', 'comm_open', 'shell', {comm_id: 'x', target_name: 'jupyter.widget',
                                                           data: {state: {_model_name: 'NoSuchModel'}}}));
            ws.send(message('bad-3', 'comm_msg', 'shell', {comm_id: 'x', data: 42}));
            await new Promise((ok) => setTimeout(ok, 3000));
            ws.send(message('alive', 'kernel_info_request', 'shell', {}));
            await new Promise((ok) => setTimeout(ok, 2000));
            ws.close();
            return replies;
        }""",
        dashboard.replace("http", "ws") + f"api/kernels/{config['kernelId']}/channels?session_id={uuid.uuid4()}",
    )
    assert [r for r in replies if '"alive"' in r and "kernel_info_reply" in r]  # still running
    assert not [r for r in replies if "shutdown_reply" in r]
    joined = "\n".join(replies)
    for leak in ("Traceback", "site-packages", str(ROOT), ".venv"):
        assert leak not in joined


def test_dashboard_keeps_working_while_a_large_load_runs(dashboard_db, tmp_path):
    """The dashboard's queries in a loop beside a load in another process: no error, and the
    counts are those from before the load or after it, never in between."""
    from caselib.domain.sample import generate_campaign
    from caselib.presentation.widgets import ManagementDashboard

    path = tmp_path / "busy.duckdb"
    shutil.copy(dashboard_db, path)
    with Store(path, read_only=True) as store:
        before = store.scalar("SELECT count(*) FROM tips")
    # A new tips file for the same objects: ids that do not exist yet, about 200,000 rows.
    campaign = generate_campaign(tmp_path / "files", tips=200_000, seed=99, messy=False)
    rows = (campaign.tips_path.read_text(encoding="utf-8").replace("\nT", "\nNEW-T"))
    big = tmp_path / "more-tips.csv"
    big.write_text(rows, encoding="utf-8")

    dashboard = ManagementDashboard(Session(path, idle=0), wait=0.2)
    loader = subprocess.Popen(
        [sys.executable, "-m", "caselib", "--db", str(path), "load", "tips", "--no-refresh", str(big), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "CASELIB_LOCK_WAIT": "60"},
    )
    seen, busy = set(), 0
    while loader.poll() is None:
        fresh = dashboard.refresh()
        busy += not fresh
        seen.add(dashboard.numbers.tips_total)
        time.sleep(0.05)
    out, err = loader.communicate()
    assert loader.returncode == 0, err
    dashboard.refresh()
    seen.add(dashboard.numbers.tips_total)
    with Store(path, read_only=True) as store:
        after = store.scalar("SELECT count(*) FROM tips")
    assert after > before
    assert seen <= {before, after} and after in seen
    assert busy > 0  # the load really overlapped with the refreshes
    assert "busy with a load" not in dashboard.status.value


def test_a_wave_pick_recomputes_only_the_waves_figures_until_the_database_changes(dashboard_db, tmp_path):
    """Picking a wave reuses the campaign-wide figures (flags, pipeline, every wave's curves)
    and sends only what the wave changes; a decision made elsewhere since is in the next pick."""
    from caselib.presentation.widgets import ManagementDashboard

    path = tmp_path / "picks.duckdb"
    shutil.copy(dashboard_db, path)
    dashboard = ManagementDashboard(Session(path, idle=0), wait=0.2)
    flags, response, pipeline = dashboard.frames["flags"], dashboard.response, dashboard.pipeline
    wave = next(iter(dashboard.wave_names))
    sent: list[dict] = []
    response._send_update_msg = lambda *args, **kwargs: sent.append(args)
    dashboard.wave.value = wave
    assert dashboard.frames["flags"] is flags and dashboard.response is response and dashboard.pipeline is pipeline
    assert len(sent) == 1  # one update of the curves: which are shown, and the title
    shown = {trace.legendgroup for trace in response.data if trace.visible is not False and trace.legendgroup}
    assert shown == {wave}
    assert response.layout.title.text == f"Response after the launch of {dashboard.wave_names[wave]}"
    assert dashboard.map.shading["title"] == f"Where tips come from (wave {dashboard.wave_names[wave]})"

    open_object = flags.loc[flags["status"] == "open", "object_id"].iat[0]
    closed = subprocess.run(
        [sys.executable, "-m", "caselib", "--db", str(path), "close", open_object, "--outcome", "exhausted",
         "--reason", "test"], capture_output=True, text=True)
    assert closed.returncode == 0, closed.stderr
    dashboard.wave.value = ""
    now = dashboard.frames["flags"]
    assert now is not flags
    assert now.set_index("object_id").loc[open_object, "status"] == "closed"
    assert dashboard.response is not response and dashboard.pipeline is not pipeline  # drawn anew
    assert dashboard.charts.children == (dashboard.response, dashboard.pipeline)
