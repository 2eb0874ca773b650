"""Browser benchmark of the triage view: a key pressed in the list → the next row painted.

On a copy of the widget benchmark's database made a day one of triage
(``bench_widgets.prepare_triage``: the object with the most tips, all of them new again,
clusters refreshed), ``make lab`` serves ``notebooks/05_triage``; headless Chromium (network
blocked) runs it, clicks the list and presses decision keys (n, d, o, a) and moves (j),
each timed inside the page from the ``keydown`` (capture phase) to the list's next
``caselib-triage-drawn`` (sent once the browser has painted the new rows). The kernel's own
share is ``bench_widgets.py``'s "triage view" lines.

    python benchmarks/bench_triage_browser.py --tips 30000 1000000 [--out bench-results]

Results: ``bench-results/browser-triage-N.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

_RECORDER_JS = """
() => {
  const rec = window.__triage = {keys: [], drawn: []};
  window.addEventListener('keydown', () => rec.keys.push(performance.now()), true);
  document.addEventListener('caselib-triage-drawn', () => rec.drawn.push(performance.now()), true);
}
"""


def _summary(values: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1), "n": len(values)}


def bench_triage(browser, db: Path, folder: Path, decisions: int = 12) -> dict:
    """Serve ``05_triage`` on a prepared copy of ``db`` and time keys in the page; returns the
    medians and maxima of key → painted, for decisions and for moves."""
    from bench_widgets import prepare_triage

    from servers import free_port, lab_token, make_target, wait_for

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "triage.duckdb"
    shutil.copy(db, copy)
    prepare_triage(copy)
    port = free_port()
    log = folder / "triage-lab.log"
    env = {**os.environ, "CASELIB_DB": str(copy.resolve()), "JUPYTER_RUNTIME_DIR": str(folder / "rt"), "PORT": str(port)}
    env.pop("DISPLAY", None)
    with make_target("lab", env, log) as process:
        token = wait_for(lambda: lab_token(log, port), process, log, what="make lab")
        url = f"http://127.0.0.1:{port}/lab/workspaces/bench-{uuid.uuid4().hex[:8]}/tree/notebooks/05_triage.ipynb?reset&token={token}"
        report = browser.open_page(url, timeout=120_000, viewport=(1600, 1100))
        page = report.page
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_timeout(3000)
        page.evaluate(_RECORDER_JS)
        page.keyboard.press("Escape")
        page.click(".jp-Notebook .jp-Cell >> nth=1", timeout=30_000)
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(".caselib-triage tr.current", timeout=300_000)
        listed = page.locator(".caselib-triage")
        listed.click()
        page.wait_for_timeout(1000)  # the focus takes the write connection

        def press(key: str) -> float:
            before = int(listed.get_attribute("data-drawn"))
            page.keyboard.press(key)
            page.wait_for_function("(n) => Number(document.querySelector('.caselib-triage').dataset.drawn) > n",
                                   arg=before, timeout=60_000)
            times = page.evaluate("() => window.__triage")
            pressed = times["keys"][-1]
            return min(d for d in times["drawn"] if d > pressed) - pressed

        decided, moved = [], []
        for i in range(decisions):
            moved.append(press("j"))
            decided.append(press("ndoa"[i % 4]))
        if report.page_errors or report.external_requests:
            raise SystemExit(f"the page failed: {report.page_errors or report.external_requests}")
    return {"decision_key_to_painted": _summary(decided), "move_key_to_painted": _summary(moved)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[30_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--decisions", type=int, default=12)
    args = parser.parse_args()

    from browser import Browser
    from caselib.domain.demo import build_demo

    for tips in args.tips:
        db = args.out / f"widgets-{tips}.duckdb"
        if not db.exists():
            print(f"building a demo database of {tips:,} tips at {db} …", file=sys.stderr)
            build_demo(db, tips=tips, progress=False)
        browser = Browser()
        try:
            result = {"tips": tips, "budget_ms": 250,
                      **bench_triage(browser, db, args.out / f"servers-{tips}", args.decisions)}
        finally:
            browser.close()
        (args.out / f"browser-triage-{tips}.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result))


if __name__ == "__main__":
    main()
