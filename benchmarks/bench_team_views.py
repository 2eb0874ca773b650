"""Triage view decisions in team mode, kernel side (as bench_widgets.triage_decisions does).

A real server (tests/pg.py, durable), a shared store with ``--tips`` tips loaded by an
administrator (caselib.domain.team.load), 10 % of them untriaged; an analyst's TriageView on
a new copy (its opening syncs the copy in full), then ``--decisions`` decisions by key, each
timed by the view (server decision + claim of the tip coming into the page + sync + redraw),
with the parts timed apart (wrapping decisions.decide, decisions.claim, TeamMode.sync).

    python benchmarks/bench_team_views.py --tips 30000 [--decisions 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]
os.environ.setdefault("CASELIB_PSEUDONYM_KEY", "bench-key-not-secret-0123456789")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tips", type=int, default=30_000)
    parser.add_argument("--decisions", type=int, default=40)
    args = parser.parse_args()

    import pg
    from bench_team import untriaged_file

    from caselib import Store
    from caselib.domain import team as decisions
    from caselib.domain.sample import generate_campaign
    from caselib.domain.team import load
    from caselib.presentation import team as team_mode
    from caselib.store.session import Session
    from caselib.store.shared import ENV, connect
    from caselib.store.shared.schema import add_user, init

    parts: dict[str, list[float]] = {"decide": [], "claim": [], "sync": []}

    def timed(name, function):
        def wrapper(*a, **k):
            started = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                parts[name].append((time.perf_counter() - started) * 1000)
        return wrapper

    with tempfile.TemporaryDirectory(prefix="bench-team-views-") as tmp, pg.start(durable=True) as server:
        folder = Path(tmp)
        started = time.perf_counter()
        campaign = generate_campaign(folder / "campaign", tips=args.tips, seed=2017)
        tips_path = untriaged_file(campaign.tips_path, 0.1, seed=2017)
        print(f"{args.tips:,} tips generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        with connect(server.url) as superuser:
            init(superuser)
            add_user(superuser, "ada", "admin", "pw-ada")
            add_user(superuser, "ann", "analyst", "pw-ann")
        started = time.perf_counter()
        with Store(folder / "ada.duckdb") as store, connect(server.url_for("ada", "pw-ada")) as ada:
            for kind, path in (("waves", campaign.waves_path), ("objects", campaign.objects_path), ("tips", tips_path)):
                load(store, ada, kind, path, refresh=False, progress=False)
        print(f"loaded into the shared store in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        os.environ[ENV] = server.url_for("ann", "pw-ann")
        from caselib.presentation.widgets import TriageView

        session = Session(folder / "ann.duckdb", idle=None)
        started = time.perf_counter()
        view = TriageView(session)
        opened = time.perf_counter() - started
        print(f"view opened on a new copy in {opened:.2f} s: {view.team.note}", file=sys.stderr)
        decisions.decide = timed("decide", decisions.decide)
        decisions.claim = timed("claim", decisions.claim)
        team_mode.TeamMode.sync = timed("sync", team_mode.TeamMode.sync)
        # Inside the sync: the server read (pull), the copy's writes (apply, by statement), the commit.
        from caselib.store import Store as StoreClass
        from caselib.store.shared import sync as sync_module

        parts.update({"pull": [], "apply": [], "store_id": [], "rev check": []})
        sync_module.pull = timed("pull", sync_module.pull)
        sync_module.apply = timed("apply", sync_module.apply)
        sync_module.copy_rev = timed("rev check", sync_module.copy_rev)
        statements: dict[str, list[float]] = {}
        original = StoreClass.execute

        def execute(self, sql, params=None, *, name=None, **k):
            started = time.perf_counter()
            try:
                return original(self, sql, params, name=name, **k)
            finally:
                if name and name.startswith("shared/"):
                    statements.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        StoreClass.execute = execute
        view.list._message(view.list, {"type": "focus"}, [])
        keys = "ando" * (args.decisions // 4 + 1)
        for key in keys[: args.decisions]:
            view.key(key)
            if "now" not in view.message.value:
                raise SystemExit(f"the decision was not recorded: {view.message.value}")
        ms = [t * 1000 for t in view.timings]
        print(f"{args.tips:,} tips · {len(ms)} decisions in the triage view, team mode (kernel side): "
              f"median {statistics.median(ms):.1f} ms, slowest {max(ms):.1f} ms")
        for name, values in parts.items():
            if values:
                print(f"  {name:<7} median {statistics.median(values):6.1f} ms  slowest {max(values):6.1f} ms  ({len(values)} calls)")
        for name, values in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
            print(f"    {name:<40} median {statistics.median(values):6.1f} ms  slowest {max(values):6.1f} ms  ({len(values)})")
        rest = [t - d - s - c for t, d, s, c in zip(ms, parts["decide"], parts["sync"],
                                                        [0.0] * len(ms), strict=False)]
        print(f"  rest (claim + redraw + re-reads) median {statistics.median(rest):.1f} ms, slowest {max(rest):.1f} ms")
        session.release()
        team_mode._CONNECTIONS.pop(session).close()


if __name__ == "__main__":
    main()
