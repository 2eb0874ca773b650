"""Team-mode benchmark: N concurrent analysts triaging against one PostgreSQL server.

A real server (``tests/pg.py``, durable: fsync and synchronous commit on) holds a shared
store (``caselib.store.shared.schema.init``; one administrator, 16 analysts ``analyst01..16``). A
campaign of ``--tips`` tips (1,000,000 by default, ``generate_campaign``) is loaded into it
through the administrator's copy (``caselib.domain.team.load``: waves, objects, tips, each
timed), and for comparison the same tips file by a plain ``load_file`` into a new DuckDB
file. A fresh copy is synced in full (timed).

Then for each N of ``--analysts`` (1 4 16), N processes (spawned), each logged in as its
own analyst on its own connection, triage for ``--seconds`` (30): they read pages of
untriaged tips (``triage_status = 'new'``) from the server and decide each tip with
``decisions.decide`` naming what they read (``expected``). Half of each analyst's pages come
from a pool shared by all of that round's analysts, so two analysts may decide the same
tip: one wins, the other gets a ``Conflict``; the other half from a slice of its own, which
it claims first (``decisions.claim``). Every decision is timed (``perf_counter``).

Afterwards the copy is synced (incremental, timed), ``audit.verify`` must pass, and every
successful decision must stand: in ``tip_triage_history`` (source 'analyst', decided by
that analyst, that status) and as the tip's final status. A lost decision, or an audit that
does not verify, makes the benchmark exit non-zero. Results: ``<out>/team-<tips>.json`` and
``.md``.

    python benchmarks/bench_team.py --tips 1000000 [--analysts 1 4 16] [--seconds 30] [--out bench-results]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

os.environ.setdefault("CASELIB_PSEUDONYM_KEY", "bench-key-not-secret-0123456789")

ANALYSTS = [f"analyst{i:02d}" for i in range(1, 17)]
ADMIN = "admin01"
DECIDED = ("actionable", "not_actionable", "duplicate", "off_topic", "under_review")
PAGE = 10  # tips an analyst's page shows, read at once and decided one by one
WINDOW = 40  # a shared page is PAGE tips drawn from the first WINDOW untriaged tips of the pool


def password(user: str) -> str:
    return f"pw-{user}-bench"


def _page(shared, low: str, high: str, limit: int) -> list[tuple]:
    """The first ``limit`` untriaged tips with ``low <= tip_id <= high``, as the server has them."""
    return shared.rows(
        "SELECT tip_id, triage_status, forwarded_to FROM caselib.tips "
        "WHERE tip_id >= %s AND tip_id <= %s AND triage_status = 'new' ORDER BY tip_id LIMIT %s",
        (low, high, limit),
    )


def analyst(url: str, user: str, pool: tuple[str, str], own: tuple[str, str], seconds: float,
            seed: int, claim_own: bool, barrier, results) -> None:
    """One analyst's process: pages alternately from the shared pool and its own slice,
    each tip decided with what was read; until ``seconds`` have passed."""
    from caselib.domain import team as decisions
    from caselib.store.shared import Conflict, connect

    rng = random.Random(seed)
    out = {"user": user, "decided": [], "ms": [], "conflicts": 0, "errors": 0, "error_samples": [],
           "claims": 0, "claim_ms": [], "pages": 0, "pool_empty": False, "own_empty": False,
           "conflict_sample": None, "conflict_ms": []}
    shared = connect(url, application=f"bench {user}")
    low = {"pool": pool[0], "own": own[0]}
    barrier.wait()
    deadline = time.perf_counter() + seconds
    turn = 0
    while time.perf_counter() < deadline:
        source = "pool" if turn % 2 == 0 else "own"
        turn += 1
        if out["pool_empty"] and out["own_empty"]:
            break
        if out[f"{source}_empty"]:
            continue
        high = pool[1] if source == "pool" else own[1]
        rows = _page(shared, low[source], high, WINDOW if source == "pool" else PAGE)
        if not rows:
            out[f"{source}_empty"] = True
            continue
        low[source] = rows[0][0]  # tips before it are decided: never 'new' again
        if source == "pool":
            rows = sorted(rng.sample(rows, min(PAGE, len(rows))))
        elif claim_own:
            started = time.perf_counter()
            try:
                taken, _ = decisions.claim(shared, [r[0] for r in rows])
            except Exception as error:  # counted and shown, the run goes on
                out["errors"] += 1
                out["error_samples"].append(f"claim: {type(error).__name__}: {error}"[:300])
                continue
            out["claim_ms"].append((time.perf_counter() - started) * 1000)
            out["claims"] += len(taken)
            rows = [r for r in rows if r[0] in set(taken)]
        out["pages"] += 1
        for tip, status, forwarded_to in rows:
            if time.perf_counter() >= deadline:
                break
            decided = rng.choice(DECIDED)
            started = time.perf_counter()
            try:
                decisions.decide(shared, [tip], status=decided, reason=f"benchmark: {user}'s triage",
                                 expected={tip: (status, forwarded_to)})
            except Conflict as error:
                out["ms"].append((time.perf_counter() - started) * 1000)
                out["conflict_ms"].append(out["ms"][-1])
                out["conflicts"] += 1
                out["conflict_sample"] = out["conflict_sample"] or str(error)[:300]
                continue
            except Exception as error:
                out["ms"].append((time.perf_counter() - started) * 1000)
                out["errors"] += 1
                if len(out["error_samples"]) < 5:
                    out["error_samples"].append(f"{type(error).__name__}: {error}"[:300])
                continue
            out["ms"].append((time.perf_counter() - started) * 1000)
            out["decided"].append((tip, decided))
    out["elapsed"] = seconds - max(0.0, deadline - time.perf_counter())
    shared.close()
    results.put(out)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def untriaged_file(tips_path: Path, share: float, seed: int) -> Path:
    """The generated tips file with ``share`` of its rows (drawn at random) untriaged: status
    'new', no country forwarded to, as a wave's intake arrives. (The generator's campaigns
    are mostly triaged already: 0.3 % of their tips are 'new'.) Every column is read and
    written as text, so the other values, messy rows included, stay as generated."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    with open(tips_path, newline="", encoding="utf-8") as header:
        names = next(csv.reader(header))
    table = pacsv.read_csv(tips_path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                           convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                strings_can_be_null=True))
    chosen = pa.array(np.random.default_rng(seed).random(table.num_rows) < share)
    status = pc.if_else(chosen, pa.scalar("new"), table["triage_status"])
    forwarded = pc.if_else(chosen, pa.scalar(None, pa.string()), table["forwarded_to"])
    table = table.set_column(names.index("triage_status"), "triage_status", status)
    table = table.set_column(names.index("forwarded_to"), "forwarded_to", forwarded)
    out = tips_path.with_name("tips-untriaged.csv")
    pacsv.write_csv(table, out)
    return out


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def round_of(server, database: str, n: int, ranges, seconds: float, claim_own: bool) -> dict:
    """N analysts at once; returns their merged outcome."""
    context = mp.get_context("spawn")
    barrier = context.Barrier(n + 1)
    results = context.Queue()
    pool, slices = ranges
    processes = [
        context.Process(target=analyst, args=(server.url_for(user, password(user), database), user, pool, slices[i],
                                              seconds, 1000 * n + i, claim_own, barrier, results))
        for i, user in enumerate(ANALYSTS[:n])
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    outs = [results.get(timeout=seconds + 300) for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise SystemExit(f"an analyst's process ended with exit code {process.exitcode}")
    ms = [m for o in outs for m in o["ms"]]
    decided = sum(len(o["decided"]) for o in outs)
    return {
        "analysts": n,
        "seconds": round(wall, 2),
        "decisions": decided,
        "attempts": len(ms),
        "decisions_per_s": round(decided / wall, 1),
        "attempts_per_s": round(len(ms) / wall, 1),
        "median_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(_percentile(ms, 0.95), 1),
        "slowest_ms": round(max(ms), 1) if ms else None,
        "conflicts": sum(o["conflicts"] for o in outs),
        "errors": sum(o["errors"] for o in outs),
        "error_samples": [s for o in outs for s in o["error_samples"]][:5],
        "conflict_sample": next((o["conflict_sample"] for o in outs if o["conflict_sample"]), None),
        "conflict_median_ms": round(statistics.median(cm), 1) if (cm := [m for o in outs for m in o["conflict_ms"]]) else None,
        "claimed": sum(o["claims"] for o in outs),
        "claim_median_ms": round(statistics.median([m for o in outs for m in o["claim_ms"]]), 1)
        if any(o["claim_ms"] for o in outs) else None,
        "ran_out_of_tips": [o["user"] for o in outs if o["pool_empty"] and o["own_empty"]],
        "_decided": {o["user"]: o["decided"] for o in outs},
    }


def check(store, shared, outcome: dict) -> dict:
    """Sync the copy, verify the audit, and count the successful decisions that do not stand."""
    from caselib.domain import audit
    from caselib.store.shared.sync import sync

    started = time.perf_counter()
    synced = sync(store, shared)
    sync_seconds = time.perf_counter() - started
    verified = audit.verify(store)
    rows = [(user, i, tip, status) for user, decided in outcome.pop("_decided").items()
            for i, (tip, status) in enumerate(decided)]
    store.execute("CREATE OR REPLACE TEMP TABLE bench_decided (decided_by VARCHAR, n INTEGER, tip_id VARCHAR, status VARCHAR)")
    if rows:
        import pyarrow as pa

        table = pa.table({k: [r[i] for r in rows] for i, k in enumerate(("decided_by", "n", "tip_id", "status"))})
        store.register("bench_rows", table)
        store.execute("INSERT INTO bench_decided SELECT * FROM bench_rows")
        store.unregister("bench_rows")
    # each success is one history row of that analyst and status (a tip decided twice by one
    # analyst would need as many rows of it: counted by the join's multiplicity)
    missing_history = store.scalar(
        "SELECT count(*) FROM (SELECT decided_by, tip_id, status, count(*) AS k FROM bench_decided GROUP BY ALL) d "
        "LEFT JOIN (SELECT decided_by, tip_id, new_triage_status AS status, count(*) AS k FROM tip_triage_history "
        "           WHERE source = 'analyst' GROUP BY ALL) h USING (decided_by, tip_id, status) "
        "WHERE coalesce(h.k, 0) < d.k")
    # the tip's status now is the last success of it (one analyst's order; across analysts a
    # tip decided 'new' can be won once only, the rest are conflicts)
    wrong_final = store.scalar(
        "SELECT count(*) FROM (SELECT tip_id, arg_max(status, n) AS status FROM bench_decided GROUP BY tip_id) d "
        "JOIN tips t USING (tip_id) WHERE t.triage_status IS DISTINCT FROM d.status")
    absent = store.scalar("SELECT count(DISTINCT tip_id) FROM bench_decided WHERE tip_id NOT IN (SELECT tip_id FROM tips)")
    won_twice = store.scalar("SELECT count(*) FROM (SELECT tip_id FROM bench_decided GROUP BY tip_id HAVING count(DISTINCT decided_by) > 1)")
    outcome.update({
        "sync_s": round(sync_seconds, 2),
        "sync_rows": sum(synced.rows.values()),
        "audit_ok": bool(verified.ok),
        "audit_records": verified.records,
        "audit_problem": verified.problem,
        # a tip two analysts both decided from 'new' (both won) would be an update lost: counted too
        "lost": int(missing_history) + int(wrong_final) + int(absent) + int(won_twice),
        "lost_detail": {"missing_history": int(missing_history), "wrong_final_status": int(wrong_final),
                        "absent": int(absent), "won_twice": int(won_twice)},
        "tips_won_twice": int(won_twice),
    })
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--analysts", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--untriaged", type=float, default=0.1, help="share of the tips made untriaged (default 0.1)")
    parser.add_argument("--pool", type=int, default=0, help="tips in each round's shared pool (0: what is left / 2)")
    parser.add_argument("--no-claims", action="store_true", help="do not claim the own slice's tips")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    if max(args.analysts) > len(ANALYSTS) or min(args.analysts) < 1:
        parser.error(f"--analysts: 1 to {len(ANALYSTS)}")

    import pg

    from caselib import Store, load_file
    from caselib.domain.sample import generate_campaign
    from caselib.domain.team import load
    from caselib.store.shared import connect
    from caselib.store.shared.schema import add_user, init
    from caselib.store.shared.sync import sync

    report: dict = {"tips": args.tips, "seconds_per_round": args.seconds, "machine_before": _uptime(),
                    "cpus": os.cpu_count(), "claims": not args.no_claims}
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp, pg.start(durable=True) as server:
        folder = Path(tmp)
        started = time.perf_counter()
        campaign = generate_campaign(folder / "campaign", tips=args.tips, seed=2017)
        tips_path = untriaged_file(campaign.tips_path, args.untriaged, seed=2017)
        report["generate_s"] = round(time.perf_counter() - started, 1)
        print(f"{args.tips:,} tips generated in {report['generate_s']} s", file=sys.stderr)

        with connect(server.url) as superuser:
            init(superuser)
            add_user(superuser, ADMIN, "admin", password(ADMIN))
            for user in ANALYSTS:
                add_user(superuser, user, "analyst", password(user))
        database = pg.DATABASE

        loads = {}
        with Store(folder / "admin.duckdb") as store, connect(server.url_for(ADMIN, password(ADMIN))) as admin:
            for kind, path in (("waves", campaign.waves_path), ("objects", campaign.objects_path),
                               ("tips", tips_path)):
                started = time.perf_counter()
                load(store, admin, kind, path, refresh=False, progress=False)
                loads[kind] = round(time.perf_counter() - started, 2)
                print(f"shared load of {kind}: {loads[kind]} s", file=sys.stderr)
            stored = admin.scalar("SELECT count(*) FROM caselib.tips")
        # The server settled after the load, as it is a while after one: the planner's
        # statistics (without them the analysts' page query, a range of tip ids with status
        # 'new', is a bitmap scan of the whole range, ~55 ms a page at a million tips), the
        # vacuum of the new rows and the checkpoint of the load's WAL done, not left to
        # autovacuum and the checkpointer to do during the rounds: the rounds measure the
        # decisions, not the load's after-effects
        with connect(server.url) as superuser:
            started = time.perf_counter()
            superuser.con.execute("VACUUM (ANALYZE)")
            superuser.con.execute("CHECKPOINT")
            report["settle_s"] = round(time.perf_counter() - started, 2)
        with Store(folder / "local.duckdb") as store:
            load_file(store, "waves", campaign.waves_path, progress=False)
            load_file(store, "objects", campaign.objects_path, progress=False)
            started = time.perf_counter()
            load_file(store, "tips", tips_path, progress=False)
            local = time.perf_counter() - started
        report["load"] = {"shared_s": loads, "tips_stored": int(stored), "local_tips_s": round(local, 2),
                          "shared_over_local": round(loads["tips"] / local, 1)}
        print(f"local load of tips: {local:.2f} s (shared {loads['tips'] / local:.1f}×)", file=sys.stderr)

        copy = Store(folder / "check.duckdb")
        checker = connect(server.url_for(ANALYSTS[0], password(ANALYSTS[0])))
        started = time.perf_counter()
        sync(copy, checker)
        report["first_sync_s"] = round(time.perf_counter() - started, 2)
        print(f"first full sync of a copy: {report['first_sync_s']} s", file=sys.stderr)

        untriaged = [row[0] for row in checker.rows("SELECT tip_id FROM caselib.tips WHERE triage_status = 'new' ORDER BY tip_id")]
        report["untriaged_at_start"] = len(untriaged)
        # each round its own part of the untriaged tips: a shared pool, then one slice per analyst
        share = len(untriaged) // len(args.analysts)
        rounds = []
        failed = False
        for r, n in enumerate(args.analysts):
            part = untriaged[r * share:(r + 1) * share]
            pool_size = args.pool or len(part) // 2
            pool = part[:pool_size]
            rest = part[pool_size:]
            size = len(rest) // n
            if not pool or size == 0:
                raise SystemExit(f"too few untriaged tips ({len(untriaged):,}) for these rounds; use more --tips")
            slices = [(rest[i * size], rest[(i + 1) * size - 1]) for i in range(n)]
            print(f"{n} analyst(s) for {args.seconds:g} s …", file=sys.stderr)
            load_avg = os.getloadavg()
            outcome = round_of(server, database, n, ((pool[0], pool[-1]), slices), args.seconds, not args.no_claims)
            outcome["load_average_before"] = [round(x, 2) for x in load_avg]
            outcome["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            outcome = check(copy, checker, outcome)
            rounds.append(outcome)
            failed |= outcome["lost"] > 0 or not outcome["audit_ok"]
            print(_row(outcome), file=sys.stderr)
        checker.close()
        copy.close()
    report["rounds"] = rounds
    report["machine_after"] = _uptime()
    report["total_s"] = round(time.perf_counter() - total, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"team-{args.tips}.json").write_text(json.dumps(report, indent=2))
    text = _markdown(report)
    (args.out / f"team-{args.tips}.md").write_text(text)
    print(text)
    if failed:
        raise SystemExit("FAILED: a decision was lost or the audit does not verify (see the table)")


HEADER = ("| analysts | decisions | decisions/s | median ms | p95 ms | slowest ms | conflicts | errors "
          "| lost | audit ok | sync after s |")


def _row(o: dict) -> str:
    return (f"| {o['analysts']} | {o['decisions']:,} | {o['decisions_per_s']:,} | {o['median_ms']} | {o['p95_ms']} "
            f"| {o['slowest_ms']} | {o['conflicts']:,} | {o['errors']} | {o['lost']} "
            f"| {'yes' if o['audit_ok'] else 'NO'} | {o['sync_s']} |")


def _markdown(report: dict) -> str:
    load = report["load"]
    lines = [
        f"# Team benchmark: {report['tips']:,} tips, {report['seconds_per_round']:g} s per round",
        "",
        "One PostgreSQL server (durable: fsync, synchronous commit), each analyst a process with its own "
        "login; every decision `decisions.decide` naming what the analyst read. Half the pages from a pool "
        "shared by the round's analysts (conflicts expected), half from the analyst's own slice"
        f"{', claimed first' if report['claims'] else ''}. Time per decision includes waiting for the write "
        "clock (writes are serialised by the server). Lost = successful decisions missing from the history "
        "or not the tip's final status.",
        "",
        HEADER,
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(o) for o in report["rounds"]),
        "",
        f"- shared loads through the administrator's copy: waves {load['shared_s']['waves']} s, objects "
        f"{load['shared_s']['objects']} s, tips {load['shared_s']['tips']} s ({load['tips_stored']:,} tips stored); "
        f"a plain local `load_file` of the same tips file: {load['local_tips_s']} s "
        f"(shared / local = {load['shared_over_local']}×)",
        "- attempts (successes and conflicts) per second: "
        + ", ".join(f"{o['analysts']}: {o['attempts_per_s']:,}" for o in report["rounds"])
        + "; median of a conflict: " + ", ".join(f"{o['analysts']}: {o['conflict_median_ms']} ms" for o in report["rounds"]),
        f"- the server settled after the load (`VACUUM (ANALYZE)`, `CHECKPOINT`: what autovacuum and the "
        f"checkpointer do a while later): {report['settle_s']} s",
        f"- first full sync of a new copy: {report['first_sync_s']} s; incremental syncs after each round: "
        + ", ".join(f"{o['sync_s']} s" for o in report["rounds"]),
        f"- untriaged tips at start: {report['untriaged_at_start']:,}; generation {report['generate_s']} s; "
        f"whole run {report['total_s']} s",
        "- claims: " + ", ".join(f"{o['analysts']}: {o['claimed']:,} tips, median {o['claim_median_ms']} ms"
                                 for o in report["rounds"]),
        "- load average (1 min) before / after each round: "
        + ", ".join(f"{o['analysts']}: {o['load_average_before'][0]} / {o['load_average_after'][0]}" for o in report["rounds"]),
        f"- machine ({report['cpus']} CPUs) before: `{report['machine_before']}`; after: `{report['machine_after']}`",
    ]
    sample = next((o["conflict_sample"] for o in report["rounds"] if o["conflict_sample"]), None)
    if sample:
        lines.append(f"- a conflict as the analyst is told it: “{sample}”")
    errors = [s for o in report["rounds"] for s in o["error_samples"]]
    if errors:
        lines.append("- errors: " + "; ".join(errors[:5]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
