"""Widget interaction benchmark: server-side time to recompute everything visible.

Builds (or reuses) a demo database of N tips, opens the tip explorer, the response explorer
and the closure review on it as a notebook would, then drives a fixed sequence of
interactions through the widgets' own callbacks and reports each one's server-side time
(queries, figures and the widget updates sent to the browser; not the browser's drawing).
The baseline in the same run is one bare DuckDB `count(*)` over the tips, so the figures
can be read against what this machine does for the simplest query.

    python benchmarks/bench_widgets.py --tips 1000000 [--db PATH] [--out bench-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

AFTER_LOAD = "tip explorer: first filter after a load in another process"
INTERACTIONS = [
    ("triage = actionable", dict(triage=("actionable",))),
    ("wave = March 2021", dict(wave="2021-03")),
    ("category = clothing", dict(categories=("clothing",))),
    ("reporter country = DEU (map click)", dict(reporter_countries=("DEU",))),
    ("date range 2019", dict(received_from=dt.date(2019, 1, 1), received_to=dt.date(2019, 12, 31))),
    ("object = G001", dict(objects=("G001",))),
    ("suggested country = FRA", dict(suggested_countries=("FRA",))),
    ("clear all", {}),
]


def prepare_triage(db: Path) -> str:
    """Make ``db`` (a copy) a day one of triage: clusters refreshed, and every tip of the
    object with the most tips new again (through ``triage.decide``); returns that object."""
    from caselib import Store
    from caselib.domain.clusters import refresh_clusters
    from caselib.domain.filters import TipFilter
    from caselib.domain.triage import decide, filtered_tips

    with Store(db) as store:
        refresh_clusters(store)
        object_id = store.scalar("SELECT object_id FROM tips GROUP BY ALL ORDER BY count(*) DESC, object_id LIMIT 1")
        decide(store, filtered_tips(store, TipFilter(objects=(object_id,))), status="new",
               reason="benchmark: day one of a wave, every tip to triage")
    return object_id


def triage_decisions(db: Path, repeat: int) -> dict[str, list[float]]:
    """The triage view on (a copy of) ``db`` made a day one of triage (`prepare_triage`):
    decisions by key, each timed in the kernel (the decision written through
    ``triage.decide`` and the next page drawn), moves, and choosing another object."""
    from caselib.presentation.widgets import TriageView
    from caselib.store.session import Session

    object_id = prepare_triage(db)
    session = Session(db, idle=60)
    view = TriageView(session, object_id)
    view.list._message(view.list, {"type": "focus"}, [])  # what the page sends as the list is clicked
    results: dict[str, list[float]] = {}
    for key in "andoandoandoando"[: 4 * repeat]:
        view.key("j")
        view.key(key)
        if "now" not in view.message.value:
            raise SystemExit(f"the triage decision was not recorded: {view.message.value}")
        label = "triage view: decide a cluster's row (key)" if "cluster" in view.message.value else "triage view: decide a tip (key)"
        results.setdefault(label, []).append(view.timings[-1] * 1000)
        started = time.perf_counter()
        view.key("k")
        results.setdefault("triage view: previous row (key)", []).append((time.perf_counter() - started) * 1000)
    other = next(o for _, o in view.objects.options if o != object_id)
    for _ in range(repeat):
        for chosen in (other, object_id):
            started = time.perf_counter()
            view.objects.value = chosen
            results.setdefault("triage view: choose an object", []).append((time.perf_counter() - started) * 1000)
    session.release()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse this database (built when missing)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the interaction sequence")
    args = parser.parse_args()

    from caselib import Store
    from caselib.domain.demo import build_demo

    db = args.db or args.out / f"widgets-{args.tips}.duckdb"
    if not db.exists():
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"building a demo database of {args.tips:,} tips at {db} …", file=sys.stderr)
        build_demo(db, tips=args.tips, progress=False)
    with Store(db, read_only=True) as store:
        tips = store.scalar("SELECT count(*) FROM tips")
        started = time.perf_counter()
        for _ in range(20):
            store.scalar("SELECT count(*) FROM tips WHERE triage_status = 'actionable'")
        baseline_ms = (time.perf_counter() - started) / 20 * 1000

    from caselib.presentation.widgets import ClosureReview, ResponseExplorer, TipExplorer
    from caselib.store.session import Session

    session = Session(db, idle=None)
    opened = time.perf_counter()
    explorer = TipExplorer(session)
    open_seconds = time.perf_counter() - opened
    results: dict[str, list[float]] = {name: [] for name, _ in INTERACTIONS}
    for _ in range(args.repeat):
        for name, change in INTERACTIONS:
            clear = {f: None for f in ("wave", "received_from", "received_to", "categories", "objects", "triage",
                                       "reporter_countries", "suggested_countries")}
            explorer.panel.set(**{**clear, **change})
            results[name].append(explorer.timings[-1] * 1000)
        # Opening the folded tip table and paging it are interactions too.
        started = time.perf_counter()
        explorer.table_panel.selected_index = 0
        results.setdefault("table: open", []).append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        explorer.table.next.click()
        results.setdefault("table: next page", []).append((time.perf_counter() - started) * 1000)
        explorer.table_panel.selected_index = None

    # A session lets go of the file when another process waits for it (a load), and takes
    # it back when that process is done: the first interaction after a load.
    import subprocess

    writer = "import sys\nfrom caselib import Store\nStore(sys.argv[1], wait=60).close()\n"
    for _ in range(args.repeat):
        subprocess.run([sys.executable, "-c", writer, str(db)], check=True, timeout=120)
        deadline = time.monotonic() + 10
        while not session.holding and time.monotonic() < deadline:
            time.sleep(0.05)
        explorer.panel.set(triage=("actionable",), wave=None)
        results.setdefault(AFTER_LOAD, []).append(explorer.timings[-1] * 1000)
        explorer.panel.set(triage=None)

    opened = time.perf_counter()
    response = ResponseExplorer(session)
    response_open_seconds = time.perf_counter() - opened
    waves = list(response.waves.value)
    for _ in range(args.repeat):
        response.waves.value = (waves[-1],)
        results.setdefault("response: pick one wave", []).append(response.timings[-1] * 1000)
        response.waves.value = tuple(waves)
        results.setdefault("response: all waves", []).append(response.timings[-1] * 1000)
        response.log_scale.value = not response.log_scale.value
        results.setdefault("response: log scale on/off", []).append(response.timings[-1] * 1000)

    review = ClosureReview(session, as_of=dt.date(2024, 6, 30))
    queue = [o for _, o in review.queue.options][:6]
    for object_id in queue:
        started = time.perf_counter()
        review.queue.value = object_id
        results.setdefault("closure review: select object", []).append((time.perf_counter() - started) * 1000)
    session.release()

    # A decision writes one audit record and recomputes the queue: on a copy of the database.
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "decisions.duckdb"
        shutil.copy(db, copy)
        writable = Session(copy, idle=60)
        review = ClosureReview(writable, as_of=dt.date(2024, 6, 30))
        for _ in range(args.repeat):
            review.reason.value = "benchmark: waiting for the national desk"
            started = time.perf_counter()
            review.keep_button.click()
            results.setdefault("closure review: keep open (writes the audit)", []).append(
                (time.perf_counter() - started) * 1000
            )
            if "kept open" not in review.message.value:
                raise SystemExit(f"the decision was not recorded: {review.message.value}")
        writable.release()
        results.update(triage_decisions(copy, args.repeat))

    rows = []
    for name, values in results.items():
        rows.append({"interaction": name, "median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1),
                     "median_vs_count_query": round(statistics.median(values) / baseline_ms, 1)})
    report = {"tips": tips, "baseline_count_query_ms": round(baseline_ms, 2), "explorer_open_seconds": round(open_seconds, 2),
              "response_explorer_open_seconds": round(response_open_seconds, 2),
              "interactions": rows, "budget_ms": 100,
              "over_budget": [r["interaction"] for r in rows if r["max_ms"] > 100]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"widgets-{tips}.json").write_text(json.dumps(report, indent=2))
    width = max(len(r["interaction"]) for r in rows)
    print(f"{tips:,} tips · baseline count(*) query {baseline_ms:.1f} ms · tip explorer opened in {open_seconds:.1f} s,"
          f" response explorer in {response_open_seconds:.1f} s")
    for r in rows:
        print(f"  {r['interaction']:<{width}}  median {r['median_ms']:7.1f} ms   max {r['max_ms']:7.1f} ms"
              f"   ({r['median_vs_count_query']}× count query)")
    print("over the 100 ms budget:", ", ".join(report["over_budget"]) or "none")


if __name__ == "__main__":
    main()
