"""Browser benchmark: what the analyst sees, timed in headless Chromium with the network blocked.

`bench_widgets.py` times an interaction in the kernel; this one times it in the page, from
the user's action (the pointer or the change event in the page) to the moment every
affected figure has been redrawn (a plotly figure's last ``plotly_afterplot``, a caselib map's
``caselib-map-drawn`` after its update is painted), on JupyterLab served
by ``make lab`` and on the Voilà dashboard served by ``make dashboard``. For each
interaction of the widget benchmark (``bench_widgets.INTERACTIONS``) it records

- ``drawn_ms``: action → the last redraw of the interaction;
- ``kernel_free_ms``: action → the kernel's last ``idle`` status of the interaction (after
  it the kernel answers the next pick at once; plotly's widget echoing its drawn state
  back keeps it busy after the drawing);
- ``bytes``: everything the kernel's websocket carried both ways meanwhile, and how many
  frames were plotly's ``_js2py`` state reports or ipywidgets' ``echo_update``;

and, per notebook, Run All → first complete view (every figure drawn, kernel idle), with
the bytes the page received; and the triage view's keys, decision → next rows painted
(``bench_triage_browser.py``). The baseline, in the same run, is one bare DuckDB count.
Timings and sizes are measured inside the page (a wrapped ``WebSocket``, listeners in the
capture phase), so they share one clock.

    python benchmarks/bench_browser.py --tips 30000 1000000 [--out bench-results] [--label before]

Databases are built once under ``--out`` (``widgets-N.duckdb``, as bench_widgets names them).
Results: ``bench-results/browser-N[-label].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench_triage_browser import bench_triage  # noqa: E402
from bench_widgets import INTERACTIONS  # noqa: E402

NOTEBOOKS = ["00_start_here", "01_tip_explorer", "02_campaign_response", "03_closure_review"]

# Installed before any page script: records every plotly redraw, every user action and every
# websocket frame (size, direction, kind) with performance.now().
_RECORDER_JS = r"""
(() => {
  const rec = window.__bench = {afterplots: [], actions: [], frames: [], newplots: [], outputs: []};
  for (const type of ['pointerdown', 'change', 'keydown']) {
    window.addEventListener(type, () => rec.actions.push(performance.now()), true);
  }
  const seen = new WeakSet();
  const attach = () => {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (!seen.has(gd) && typeof gd.on === 'function') {
        seen.add(gd);
        rec.newplots.push(performance.now());
        if (!gd.id) gd.id = 'bench-plot-' + rec.newplots.length;
        gd.on('plotly_afterplot', () => rec.afterplots.push([performance.now(), gd.id]));
      }
    }
  };
  // caselib's SVG maps (MapWidget) say when an update is painted.
  let maps = 0;
  window.addEventListener('caselib-map-drawn', (event) => {
    const el = event.target;
    if (!el.id) el.id = 'bench-map-' + (++maps);
    rec.afterplots.push([performance.now(), el.id]);
  }, true);
  const attachMaps = () => {
    for (const el of document.querySelectorAll('.caselib-map')) {
      if (!seen.has(el)) { seen.add(el); rec.newplots.push(performance.now()); }
    }
  };
  setInterval(() => { attach(); attachMaps(); }, 20);
  // Also at once when a graph div appears, so that its first plotly_afterplot is caught. And
  // when a cell's output changes: a view without figures is complete when its last output is.
  new MutationObserver((mutations) => {
    attach();
    if (mutations.some((m) => m.target instanceof Element && m.target.closest('.jp-OutputArea'))) {
      rec.outputs.push(performance.now());
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['class']});
  const decoder = new TextDecoder();
  const kind = (text) => {
    const k = [];
    if (text.includes('"execution_state"')) {
      if (text.includes('"idle"')) k.push('idle');
      if (text.includes('"busy"')) k.push('busy');
    }
    if (/_js2py_(traceDeltas|layoutDelta|widget_layoutDelta|restyle|relayout|update)/.test(text)) k.push('js2py');
    if (text.includes('"echo_update"')) k.push('echo');
    return k;
  };
  const size = (data) => typeof data === 'string' ? data.length : (data.byteLength ?? data.size ?? 0);
  const textOf = (data) => typeof data === 'string' ? data : (data instanceof ArrayBuffer ? decoder.decode(data)
    : ArrayBuffer.isView(data) ? decoder.decode(data) : '');
  const Native = window.WebSocket;
  class Recorded extends Native {
    constructor(...args) {
      super(...args);
      const url = String(args[0]);
      if (url.includes('/api/kernels/')) {
        this.addEventListener('message', (e) => rec.frames.push(
          [performance.now(), 'in', size(e.data), kind(textOf(e.data))]));
      }
      this._benchKernel = url.includes('/api/kernels/');
    }
    send(data) {
      if (this._benchKernel) rec.frames.push([performance.now(), 'out', size(data), kind(textOf(data))]);
      return super.send(data);
    }
  }
  window.WebSocket = Recorded;
})();
"""

_MARK_JS = "() => performance.now()"
_STATE_JS = "() => window.__bench"


def _get(url: str) -> dict | list:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _delete_kernels(base: str, token: str) -> None:
    for kernel in _get(f"{base}/api/kernels?token={token}"):
        request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def settle(page, since: float, *, quiet_ms: float = 700, timeout_s: float = 120, need_plot: bool = True) -> dict:
    """Wait until nothing has happened for ``quiet_ms`` (no redraw, no frame) after ``since``
    (a page clock time), with the kernel idle; return what happened in between."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.wait_for_timeout(150)
        state = page.evaluate(
            """([since]) => { const r = window.__bench;
                 return {now: performance.now(),
                         afterplots: r.afterplots.filter((a) => a[0] >= since),
                         frames: r.frames.filter((f) => f[0] >= since),
                         newplots: r.newplots.filter((t) => t >= since),
                         outputs: r.outputs.filter((t) => t >= since)}; }""",
            [since],
        )
        last_event = max([a[0] for a in state["afterplots"]] + [f[0] for f in state["frames"]] + state["newplots"]
                         + state["outputs"] + [since])
        statuses = [f for f in state["frames"] if "idle" in f[3] or "busy" in f[3]]
        idle = not statuses or "idle" in statuses[-1][3]
        # A figure's first draw may end before its div can be listened to: its appearance counts.
        # A view without figures has drawn once a cell's output has changed.
        drawn = bool(state["afterplots"] or state["newplots"]) if need_plot else bool(state["outputs"])
        if drawn and idle and state["now"] - last_event >= quiet_ms:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page did not settle within {timeout_s:.0f} s")


def summarise(state: dict, since: float) -> dict:
    afterplots = [a[0] for a in state["afterplots"]]
    idles = [f[0] for f in state["frames"] if "idle" in f[3]]
    frames = state["frames"]
    return {
        "drawn_ms": round(max(afterplots) - since, 1) if afterplots else None,
        "figures_redrawn": len({a[1] for a in state["afterplots"]}),
        "kernel_free_ms": round(max(idles) - since, 1) if idles else None,
        "bytes_sent": sum(f[2] for f in frames if f[1] == "out"),
        "bytes_received": sum(f[2] for f in frames if f[1] == "in"),
        "js2py_frames": sum("js2py" in f[3] for f in frames),
        "echo_frames": sum("echo" in f[3] for f in frames),
    }


def open_notebook(browser, base: str, token: str, name: str):
    url = f"{base}/lab/workspaces/bench-{uuid.uuid4().hex[:8]}/tree/notebooks/{name}.ipynb?reset&token={token}"
    report = browser.open_page(url, timeout=120_000, viewport=(1600, 1100))
    report.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    # The kernel is up once its status shows idle.
    report.page.wait_for_function(
        "() => window.__bench.frames.some((f) => f[3].includes('idle'))", timeout=120_000
    )
    report.page.wait_for_timeout(500)
    return report


def run_all(page) -> float:
    """Run All from the Run menu; return the page time of the click."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    item = page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first
    item.wait_for(timeout=10_000)
    item.hover()
    started = page.evaluate(_MARK_JS)
    item.click()
    return started


def last_action(page, before: float) -> float:
    actions = [t for t in page.evaluate("() => window.__bench.actions") if t >= before]
    return actions[0] if actions else before


def country_point(page, map_index: int, iso3: str) -> tuple[float, float]:
    """Page coordinates of a point inside a country on the map_index-th map."""
    from browser import COUNTRY_POINT_JS

    return page.evaluate(COUNTRY_POINT_JS, [map_index, iso3])


def wave_select(page, everything: str):
    """The wave menu: the select whose first option is ``everything`` ("All waves")."""
    return page.locator("select", has=page.locator("option", has_text=everything.split()[0])).filter(
        has_text=everything.split()[-1]).first


def pick_wave(page, everything: str, name: str) -> None:
    box = wave_select(page, everything)
    # ipywidgets writes a dropdown's labels with non-breaking spaces.
    labels = box.evaluate("(s) => Array.from(s.options).map((o) => o.text.replace(/\\u00a0/g, ' '))")
    box.select_option(index=next(i for i, label in enumerate(labels) if name in label))


def tip_explorer_actions(page) -> dict:
    """The widget benchmark's interactions, done as a user would in the page."""
    panel = page.locator(".jp-OutputArea").first

    def select(description: str, label: str | None = None, *, index: int | None = None):
        box = page.locator(".widget-select-multiple", has_text=description).first.locator("select")
        if label is not None:
            box.select_option(label=label)
        else:
            box.select_option(index=index)

    def dates(start: str, end: str) -> float:
        # A date picker sends its value on change, so a range is two interactions: the
        # first is let settle, the second is the one timed.
        pickers = page.locator(".widget-datepicker input")
        first = page.evaluate(_MARK_JS)
        pickers.nth(0).fill(start)
        pickers.nth(0).dispatch_event("change")
        settle(page, first, timeout_s=30)
        before = page.evaluate(_MARK_JS)
        pickers.nth(1).fill(end)
        pickers.nth(1).dispatch_event("change")
        return before

    def map_click(n: int, code: str):
        x, y = country_point(page, n, code)
        page.mouse.click(x, y)

    def option_label(description: str, value_prefix: str) -> str:
        box = page.locator(".widget-select-multiple", has_text=description).first.locator("select")
        labels = box.evaluate("(s) => Array.from(s.options).map((o) => o.text)")
        return next(lab for lab in labels if lab.startswith(value_prefix))

    del panel
    return {
        "triage = actionable": lambda: select("Triage", "actionable"),
        "wave = March 2021": lambda: pick_wave(page, "All waves", "March 2021"),
        "category = clothing": lambda: select("Category", "clothing"),
        "reporter country = DEU (map click)": lambda: map_click(0, "DEU"),
        "date range 2019": lambda: dates("2019-01-01", "2019-12-31"),
        "object = G001": lambda: select("Object", option_label("Object", "G001")),
        "suggested country = FRA": lambda: select("Suggests", option_label("Suggests", "FRA")),
        "clear all": lambda: page.get_by_role("button", name="Clear filters").click(),
    }


def bench_lab(browser, base: str, token: str, repeat: int, shots: Path) -> tuple[list[dict], list[dict]]:
    views = []
    for name in NOTEBOOKS:
        report = open_notebook(browser, base, token, name)
        page = report.page
        started = run_all(page)
        state = settle(page, started, quiet_ms=1500, timeout_s=300, need_plot=name != "00_start_here")
        row = {"notebook": name, **summarise(state, started), "figures": len(state["newplots"])}
        newest = max(state["newplots"] + [a[0] for a in state["afterplots"]] + state["outputs"] + [started])
        row["first_view_ms"] = round(newest - started, 1)
        row["external_requests"] = len(report.external_requests)
        page.screenshot(path=str(shots / f"{name}.png"))
        views.append(row)
        print(f"  {name}: first complete view {row['first_view_ms'] / 1000:.1f} s, "
              f"{row['bytes_received'] / 1e6:.1f} MB received", file=sys.stderr)
        if name != "01_tip_explorer":
            page.context.close()
            _delete_kernels(base, token)
            continue
        actions = tip_explorer_actions(page)
        results: dict[str, list[dict]] = {}
        for _ in range(repeat):
            for interaction, _change in INTERACTIONS:
                if interaction == "clear all":
                    continue
                for step in (interaction, "clear all"):
                    before = page.evaluate(_MARK_JS)
                    before = actions[step]() or before
                    try:
                        state = settle(page, before, timeout_s=30)
                    except TimeoutError:
                        print(f"  {step}: nothing redrawn within 30 s", file=sys.stderr)
                        page.screenshot(path=str(shots / "timeout.png"))
                        continue
                    since = last_action(page, before)
                    results.setdefault(step, []).append(summarise(state, since))
        interactions = []
        for step, runs in results.items():
            drawn = [r["drawn_ms"] for r in runs if r["drawn_ms"] is not None]
            free = [r["kernel_free_ms"] for r in runs if r["kernel_free_ms"] is not None]
            interactions.append({
                "interaction": step, "runs": len(runs),
                "drawn_median_ms": round(statistics.median(drawn), 1) if drawn else None,
                "drawn_max_ms": round(max(drawn), 1) if drawn else None,
                "kernel_free_median_ms": round(statistics.median(free), 1) if free else None,
                "bytes_median": int(statistics.median(r["bytes_sent"] + r["bytes_received"] for r in runs)),
                "bytes_sent_median": int(statistics.median(r["bytes_sent"] for r in runs)),
                "js2py_frames": max(r["js2py_frames"] for r in runs),
                "echo_frames": max(r["echo_frames"] for r in runs),
                "figures_redrawn": max(r["figures_redrawn"] for r in runs),
            })
        row["external_requests"] = len(report.external_requests)
        page.context.close()
        _delete_kernels(base, token)
    return views, interactions


def bench_dashboard(browser, base: str) -> dict:
    report = browser.open_page(f"{base}/", wait_until="commit", timeout=300_000, viewport=(1600, 1100))
    page = report.page
    started = 0.0  # navigation start
    state = settle(page, started, quiet_ms=1500, timeout_s=300)
    row = {"view": "dashboard", **summarise(state, started)}
    newest = max([a[0] for a in state["afterplots"]] + state["newplots"])
    row["first_view_ms"] = round(newest, 1)
    picks = []
    for _ in range(3):
        for label in ("2021", "Whole campaign"):
            before = page.evaluate(_MARK_JS)
            pick_wave(page, "Whole campaign", label)
            state = settle(page, before)
            picks.append(summarise(state, last_action(page, before)))
    drawn = [p["drawn_ms"] for p in picks if p["drawn_ms"] is not None]
    row["pick_wave_drawn_median_ms"] = round(statistics.median(drawn), 1) if drawn else None
    row["pick_wave_drawn_max_ms"] = round(max(drawn), 1) if drawn else None
    row["pick_wave_bytes_median"] = int(statistics.median(p["bytes_sent"] + p["bytes_received"] for p in picks))
    row["external_requests"] = len(report.external_requests)
    page.context.close()
    return row


def import_seconds() -> float:
    """Seconds to import the widgets in a fresh interpreter (median of three)."""
    import subprocess

    # The views and the plotly widget their first figure needs.
    code = ("import time; t = time.perf_counter(); import caselib.presentation.widgets; "
            "import caselib.presentation.widgets.plotly_widget; print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]
    return round(statistics.median(runs), 2)


def markdown(report: dict) -> str:
    lines = [f"# Browser benchmark: {report['tips']:,} tips ({report['label']}, {report['when']})", "",
             f"Baseline: bare DuckDB count(*) {report['baseline_count_query_ms']} ms · widgets import "
             f"{report['import_widgets_s']} s in a fresh interpreter.", "",
             "| interaction (tip explorer) | drawn median ms | drawn max ms | kernel free median ms | bytes/interaction | _js2py frames | echo frames | server ms (bench_widgets) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    server = report.get("server_side", {})
    for r in report["interactions"]:
        lines.append(f"| {r['interaction']} | {r['drawn_median_ms']} | {r['drawn_max_ms']} | {r['kernel_free_median_ms']} | "
                     f"{r['bytes_median']:,} | {r['js2py_frames']} | {r['echo_frames']} | {server.get(r['interaction'], '')} |")
    lines += ["", "| view | first complete view s | MB received | figures | external requests |", "|---|---:|---:|---:|---:|"]
    for v in report["views"]:
        lines.append(f"| {v.get('notebook', v.get('view'))} | {v['first_view_ms'] / 1000:.1f} | "
                     f"{v['bytes_received'] / 1e6:.2f} | {v.get('figures', v.get('figures_redrawn'))} | {v['external_requests']} |")
    if report.get("dashboard"):
        d = report["dashboard"]
        lines += ["", f"Dashboard: first view {d['first_view_ms'] / 1000:.1f} s, {d['bytes_received'] / 1e6:.2f} MB; "
                      f"pick a wave drawn median {d['pick_wave_drawn_median_ms']} ms, max {d['pick_wave_drawn_max_ms']} ms, "
                      f"{d['pick_wave_bytes_median']:,} bytes."]
    if report.get("triage_view"):
        t = report["triage_view"]
        lines += ["", f"Triage view (`bench_triage_browser.py`): a decision by key to the next rows painted, median "
                      f"{t['decision_key_to_painted']['median_ms']} ms, max {t['decision_key_to_painted']['max_ms']} ms; "
                      f"a move (j) median {t['move_key_to_painted']['median_ms']} ms."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[30_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the interaction sequence")
    parser.add_argument("--label", default="", help="suffix of the result files (e.g. before)")
    parser.add_argument("--no-dashboard", action="store_true")
    args = parser.parse_args()

    from browser import Browser
    from caselib import Store
    from caselib.domain.demo import build_demo
    from servers import free_port, lab_token, make_target, port_open, wait_for

    args.out.mkdir(parents=True, exist_ok=True)
    imported = import_seconds()
    for tips in args.tips:
        db = args.out / f"widgets-{tips}.duckdb"
        if not db.exists():
            print(f"building a demo database of {tips:,} tips at {db} …", file=sys.stderr)
            build_demo(db, tips=tips, progress=False)
        with Store(db, read_only=True) as store:
            counted = store.scalar("SELECT count(*) FROM tips")
            started = time.perf_counter()
            for _ in range(20):
                store.scalar("SELECT count(*) FROM tips WHERE triage_status = 'actionable'")
            baseline_ms = round((time.perf_counter() - started) / 20 * 1000, 2)
        server_file = args.out / f"widgets-{counted}.json"
        server = ({r["interaction"]: r["median_ms"] for r in json.loads(server_file.read_text())["interactions"]}
                  if server_file.exists() else {})
        browser = Browser()
        _init = browser._browser.new_context  # every context gets the recorder

        def new_context(*a, _init=_init, **k):
            context = _init(*a, **k)
            context.add_init_script(_RECORDER_JS)
            return context

        browser._browser.new_context = new_context
        try:
            folder = args.out / f"servers-{tips}"
            folder.mkdir(exist_ok=True)
            env = {**os.environ, "CASELIB_DB": str(db.resolve()), "JUPYTER_RUNTIME_DIR": str(folder / "rt")}
            env.pop("DISPLAY", None)
            port = free_port()
            log = folder / "lab.log"
            print(f"{counted:,} tips: JupyterLab …", file=sys.stderr)
            with make_target("lab", {**env, "PORT": str(port)}, log) as process:
                token = wait_for(lambda log=log, port=port: lab_token(log, port), process, log, what="make lab")
                views, interactions = bench_lab(browser, f"http://127.0.0.1:{port}", token, args.repeat, folder)
            dashboard = None
            if not args.no_dashboard:
                print(f"{counted:,} tips: Voilà dashboard …", file=sys.stderr)
                port = free_port()
                log = folder / "dashboard.log"
                with make_target("dashboard", {**env, "PORT": str(port)}, log) as process:
                    wait_for(lambda port=port: port_open(port), process, log, what="make dashboard")
                    dashboard = bench_dashboard(browser, f"http://127.0.0.1:{port}")
            print(f"{counted:,} tips: triage view …", file=sys.stderr)
            triage = bench_triage(browser, db, folder)
        finally:
            browser.close()
        report = {"tips": counted, "label": args.label or "current", "when": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
                  "baseline_count_query_ms": baseline_ms, "import_widgets_s": imported, "interactions": interactions,
                  "views": views + ([{"view": "dashboard", **dashboard}] if dashboard else []), "dashboard": dashboard,
                  "server_side": server, "triage_view": triage}
        stem = f"browser-{counted}" + (f"-{args.label}" if args.label else "")
        (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2))
        (args.out / f"{stem}.md").write_text(markdown(report))
        print(markdown(report))


if __name__ == "__main__":
    main()
