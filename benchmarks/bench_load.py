"""Load benchmark: caselib's loader against DuckDB's own readers, measured in the same run.

For each size given (``--tips 30000 2000000``) a synthetic campaign is generated (the
demo's generator, ``messy=False``) and its tips CSV is derived, by DuckDB in child
processes, into ``tips.parquet`` (DuckDB's typed columns), ``tips.jsonl`` and ``tips.json``
(JSON Lines and a JSON array, every value as the CSV's text) and ``tips_triage.csv`` (the
same tips, every 100th row with another triage status).

Every timed case runs in its own process and is timed inside it (interpreter start and the
untimed set-up left out); its peak resident memory comes from ``wait4``:

* baselines: DuckDB ``CREATE TABLE t AS SELECT * FROM read_csv / read_parquet / read_json``
  of each file, then ``CHECKPOINT``, through :class:`caselib.Store` (its settings);
* caselib: waves and objects loaded first (untimed), then ``load_file(store, "tips", ...)``
  and ``store.checkpoint()``: the first CSV load, a re-load of the same CSV (expected:
  inserted 0, updated 0), the re-export with 1 % triage changes after the CSV (expected:
  exactly those rows updated) and the first loads of the Parquet, JSONL and JSON files.

Each case is reported as a ratio against its baseline with its target (first loads and the
re-export at most 1.5 times the baseline, the re-load at most 0.5) and its peak memory
(target 2 GiB): printed, and written to ``<out>/load_<N>.json`` and ``<out>/load_<N>.md``.
A load that fails (out of memory, say) is recorded with its error and the others go on; a
load whose counts are not the expected ones fails the benchmark (exit status 1) once every
figure is written. ``--repeats K`` runs each timed case K times: the best counts, all runs
are kept in the JSON.

Then, once per run at the largest size, the Excel case: the first ``--xlsx-tips`` rows
(200,000 unless 0) written as an .xlsx workbook (numbers as number cells where their text
reads back the same, the rest as text) and as CSV, each loaded by caselib; reported as the
XLSX/CSV ratio of the load times (target at most 3).

    python benchmarks/bench_load.py --tips 30000 2000000 [--repeats 1] [--xlsx-tips 200000] [--out bench-results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MAX_PEAK_MIB = 2048
XLSX_TARGET = 3.0

GENERATE = """
import sys
from caselib.domain.sample import generate_campaign
c = generate_campaign(sys.argv[1], tips=int(sys.argv[2]), seed=int(sys.argv[3]), messy=False)
print(c.tips_path, c.waves_path, c.objects_path)
"""

# The files derived from the tips CSV, each written by one COPY in its own process. The JSON
# files read the CSV as text so that their values are the CSV's; the triage re-export moves
# every 100th row to the next status of the contract's enum (an empty status is the default,
# new), so each of those rows differs from what the first load stored.
DERIVED = {
    "parquet": ("tips.parquet", "COPY (SELECT * FROM read_csv($source)) TO $target (FORMAT parquet)"),
    "jsonl": (
        "tips.jsonl",
        "COPY (SELECT * FROM read_csv($source, header = true, all_varchar = true)) TO $target (FORMAT json)",
    ),
    "json": (
        "tips.json",
        "COPY (SELECT * FROM read_csv($source, header = true, all_varchar = true)) "
        "TO $target (FORMAT json, ARRAY true)",
    ),
    "triage": (
        "tips_triage.csv",
        "COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () % 100 = 0 "
        "THEN $statuses[list_position($statuses, coalesce(triage_status, 'new')) % len($statuses) + 1] "
        "ELSE triage_status END AS triage_status) "
        "FROM read_csv($source, header = true, all_varchar = true)) TO $target (FORMAT csv, HEADER true)",
    ),
}

# One COPY, timed; prints the rows written. The memory limit keeps a 10-million-row file's
# derivation well inside 2 GiB (each COPY streams; DuckDB would otherwise allow 80 % of RAM).
DERIVE = """
import json, sys, time
from caselib import Store
from caselib.domain.contract import TRIAGE_STATUSES
db, sql, source, target = sys.argv[1:]
params = {"source": source, "target": target}
if "$statuses" in sql:
    params["statuses"] = list(TRIAGE_STATUSES)
with Store(db) as store:
    store.execute("SET memory_limit = '1GB'")
    started = time.perf_counter()
    rows = store.scalar(sql, params)
    seconds = time.perf_counter() - started
print(json.dumps({"rows": rows, "seconds": seconds}))
"""

BASELINES = {
    "read_csv": ("csv", "CREATE TABLE t AS SELECT * FROM read_csv($path)"),
    "read_parquet": ("parquet", "CREATE TABLE t AS SELECT * FROM read_parquet($path)"),
    "read_json (jsonl)": ("jsonl", "CREATE TABLE t AS SELECT * FROM read_json($path)"),
    "read_json (array)": ("json", "CREATE TABLE t AS SELECT * FROM read_json($path)"),
}

# DuckDB reading one file into a table, every column typed by its sniffer; the statement and
# the checkpoint timed.
BASELINE = """
import json, sys, time
from caselib import Store
db, sql, path = sys.argv[1:]
try:
    with Store(db) as store:
        started = time.perf_counter()
        store.execute(sql, {"path": path})
        store.checkpoint()
        seconds = time.perf_counter() - started
        rows = store.scalar("SELECT count(*) FROM t")
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"}))
    sys.exit(1)
print(json.dumps({"seconds": seconds, "rows": rows}))
"""

# caselib loading one tips file, timed with its checkpoint, after the waves and objects and
# any tips files named after it (untimed).
CASELIB_LOAD = """
import json, sys, time
from caselib import Store, load_file
db, waves, objects, timed, *before = sys.argv[1:]
try:
    with Store(db) as store:
        load_file(store, "waves", waves, progress=False)
        load_file(store, "objects", objects, progress=False)
        for path in before:
            load_file(store, "tips", path, progress=False)
        store.checkpoint()
        started = time.perf_counter()
        result = load_file(store, "tips", timed, progress=False)
        store.checkpoint()
        seconds = time.perf_counter() - started
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"}))
    sys.exit(1)
counts = {k: getattr(result, k) for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")}
print(json.dumps({"seconds": seconds, "summary": result.summary().splitlines()[1].strip(), **counts}))
"""

# The first N rows of a tips CSV as CSV again and as an .xlsx workbook (openpyxl, write-only).
EXCEL_COPY = """
import csv, sys
import openpyxl
source, rows, csv_path, xlsx_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def cell(text):
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and str(int(number)) == text:
        return int(number)
    return number if repr(number) == text else text

book = openpyxl.Workbook(write_only=True)
sheet = book.create_sheet()
with open(source, newline="", encoding="utf-8-sig") as handle, open(csv_path, "w", newline="", encoding="utf-8") as out:
    reader, writer = csv.reader(handle), csv.writer(out)
    header = next(reader)
    writer.writerow(header)
    sheet.append(header)
    for n, row in enumerate(reader):
        if n == rows:
            break
        writer.writerow(row)
        sheet.append([cell(v) for v in row])
book.save(xlsx_path)
"""


@dataclass(frozen=True)
class Case:
    """One timed caselib load: the file it times, the files loaded before it (untimed), the
    DuckDB baseline it is compared with and the ratio it should not exceed."""

    name: str
    timed: str
    before: tuple[str, ...]
    baseline: str
    target: float


CASES = (
    Case("CSV first load", "csv", (), "read_csv", 1.5),
    Case("CSV re-load, unchanged", "csv", ("csv",), "read_csv", 0.5),
    Case("CSV re-export, 1 % triage", "triage", ("csv",), "read_csv", 1.5),
    Case("Parquet first load", "parquet", (), "read_parquet", 1.5),
    Case("JSONL first load", "jsonl", (), "read_json (jsonl)", 1.5),
    Case("JSON array first load", "json", (), "read_json (array)", 1.5),
)


def _run(code: str, args: list[str], scratch: Path) -> dict:
    """Run ``code`` in a child process: the JSON object it printed last, its peak resident
    memory (``peak_rss_mib``), its wall time from the parent (``process_seconds``) and, when it
    failed, ``error``: its own one-line error, else the last line of its stderr or its fate."""
    out, err = scratch / "child.out", scratch / "child.err"
    started = time.perf_counter()
    # Files, not pipes: a child writing much to stderr cannot block while we wait in wait4.
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    lines = out.read_text().strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        report = {}
    report["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    report["process_seconds"] = round(time.perf_counter() - started, 3)
    if "seconds" in report:
        report["seconds"] = round(report["seconds"], 3)
    code_ = process.returncode
    if code_ != 0 and "error" not in report:
        tail = err.read_text().strip().splitlines()
        if code_ < 0:
            report["error"] = f"killed by {signal.Signals(-code_).name}" + (
                " (out of memory?)" if -code_ == signal.SIGKILL else ""
            )
        else:
            report["error"] = tail[-1] if tail else f"exit status {code_}"
    elif code_ == 0 and "seconds" not in report and "error" not in report:
        report["error"] = "the step printed no figures"
    return report


def _cleanup(db: Path) -> None:
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _timed(code: str, db: Path, args: list[str], scratch: Path) -> dict:
    """:func:`_run` of a child whose first argument is its (scratch) database, removed after."""
    try:
        return _run(code, [str(db), *args], scratch)
    finally:
        _cleanup(db)


def _best(runs: list[dict]) -> dict:
    """The fastest successful run's figures, the highest peak of the successful runs, and
    every run; or the first failure's error when none succeeded."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"], "peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "runs": runs}
    best = min(ok, key=lambda r: r["seconds"])
    figures = {k: v for k, v in best.items() if k != "process_seconds"}
    return {**figures, "peak_rss_mib": max(r["peak_rss_mib"] for r in ok), "failed_runs": len(runs) - len(ok),
            "runs": runs}


def _generate(scratch: Path, tips: int, seed: int) -> argparse.Namespace:
    # Generated in a child process: a child's peak memory (ru_maxrss) starts from its
    # parent's size at fork, so a parent holding the generator's arrays would set a floor
    # under every measurement below.
    paths = subprocess.run(
        [sys.executable, "-c", GENERATE, str(scratch / "files"), str(tips), str(seed)],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return argparse.Namespace(tips_path=Path(paths[0]), waves_path=Path(paths[1]), objects_path=Path(paths[2]))


def _derive(scratch: Path, campaign: argparse.Namespace) -> tuple[dict[str, Path], dict]:
    """The tips files by format (``csv`` is the generated one) and each derivation's figures."""
    files = {"csv": campaign.tips_path}
    figures = {}
    for fmt, (name, sql) in DERIVED.items():
        target = campaign.tips_path.with_name(name)
        run = _timed(DERIVE, scratch / "derive.duckdb", [sql, str(campaign.tips_path), str(target)], scratch)
        if "error" in run:
            raise SystemExit(f"deriving {name} from {campaign.tips_path.name} failed: {run['error']}")
        files[fmt] = target
        figures[name] = {**run, "mib": round(target.stat().st_size / 2**20, 1)}
    return files, figures


def _check(case: Case, run: dict, expected_updates: int) -> str | None:
    """What is wrong with a successful run's counts, or None."""
    if case.timed == "csv" and case.before:
        if run["inserted"] or run["updated"]:
            return f"expected inserted 0, updated 0; got {run['summary']}"
    elif case.timed == "triage" and run["updated"] != expected_updates:
        return f"expected updated {expected_updates} (every 100th row); got {run['summary']}"
    return None


def _measure_size(tips: int, files: dict[str, Path], campaign, scratch: Path, repeats: int,
                  expected_updates: int) -> tuple[dict, dict, list[str]]:
    """Baselines and cases, ``repeats`` rounds of each in turn (the machine may be busy: the
    rounds share its moods); returns baselines, cases and the failed checks."""
    baseline_runs: dict[str, list[dict]] = {name: [] for name in BASELINES}
    case_runs: dict[str, list[dict]] = {case.name: [] for case in CASES}
    failures: list[str] = []
    for round_ in range(repeats):
        label = f" (round {round_ + 1}/{repeats})" if repeats > 1 else ""
        for name, (fmt, sql) in BASELINES.items():
            print(f"  {tips:,} tips{label}: DuckDB {name}", flush=True)
            baseline_runs[name].append(_timed(BASELINE, scratch / "baseline.duckdb", [sql, str(files[fmt])], scratch))
        for case in CASES:
            print(f"  {tips:,} tips{label}: caselib {case.name}", flush=True)
            args = [str(campaign.waves_path), str(campaign.objects_path), str(files[case.timed]),
                    *(str(files[fmt]) for fmt in case.before)]
            run = _timed(CASELIB_LOAD, scratch / "caselib.duckdb", args, scratch)
            if "error" not in run:
                problem = _check(case, run, expected_updates)
                if problem:
                    run["check_failed"] = problem
                    failures.append(f"{tips:,} tips, {case.name}: {problem}")
            case_runs[case.name].append(run)
    baselines = {name: _best(runs) for name, runs in baseline_runs.items()}
    cases = {}
    for case in CASES:
        found = _best(case_runs[case.name])
        base = baselines[case.baseline]
        ratio = (
            round(found["seconds"] / base["seconds"], 2)
            if "error" not in found and "error" not in base and base["seconds"] > 0 else None
        )
        met = ratio is not None and ratio <= case.target and found["peak_rss_mib"] <= MAX_PEAK_MIB
        checked = not any("check_failed" in r for r in case_runs[case.name])
        cases[case.name] = {
            "file": files[case.timed].name,
            "loaded_before": [files[fmt].name for fmt in case.before],
            "baseline": case.baseline,
            "baseline_seconds": base.get("seconds"),
            "ratio": ratio,
            "target_ratio": case.target,
            "target_peak_mib": MAX_PEAK_MIB,
            "met": met and checked,
            "counts_as_expected": checked,
            **found,
        }
    return baselines, cases, failures


def _excel_case(scratch: Path, campaign, rows: int, repeats: int) -> dict:
    """The first ``rows`` tips as CSV and as XLSX, each loaded by caselib ``repeats`` times
    in turn (the best run counts: the machine may be busy with other work)."""
    paths = {"csv": scratch / f"tips_{rows}.csv", "xlsx": scratch / f"tips_{rows}.xlsx"}
    subprocess.run(
        [sys.executable, "-c", EXCEL_COPY, str(campaign.tips_path), str(rows), str(paths["csv"]), str(paths["xlsx"])],
        check=True,
    )
    runs: dict[str, list[dict]] = {"csv": [], "xlsx": []}
    for _ in range(repeats):
        for fmt, path in paths.items():
            print(f"  Excel case, {rows:,} tips: caselib {fmt} load", flush=True)
            args = [str(campaign.waves_path), str(campaign.objects_path), str(path)]
            runs[fmt].append(_timed(CASELIB_LOAD, scratch / f"excel_{fmt}.duckdb", args, scratch))
    best = {fmt: _best(found) for fmt, found in runs.items()}
    failed = [f"{fmt}: {b['error']}" for fmt, b in best.items() if "error" in b]
    ratio = None if failed else round(best["xlsx"]["seconds"] / best["csv"]["seconds"], 2)
    return {
        "tips": rows,
        "csv_mib": round(paths["csv"].stat().st_size / 2**20, 1),
        "xlsx_mib": round(paths["xlsx"].stat().st_size / 2**20, 1),
        **best,
        "ratio_process": None if failed else round(
            min(r["process_seconds"] for r in runs["xlsx"]) / min(r["process_seconds"] for r in runs["csv"]), 2
        ),
        "ratio_load": ratio,
        "target_ratio": XLSX_TARGET,
        "met": ratio is not None and ratio <= XLSX_TARGET,
        "errors": failed,
    }


def _own_peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _seconds(value: float | None) -> str:
    return "failed" if value is None else f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _rows(report: dict) -> list[list[str]]:
    """The table's rows: case, baseline, caselib s, baseline s, ratio, target, peak MiB, met."""
    rows = []
    for name, case in report["cases"].items():
        rows.append([
            name,
            case["baseline"],
            _seconds(case.get("seconds")),
            _seconds(case["baseline_seconds"]),
            "-" if case["ratio"] is None else f"{case['ratio']:.2f}",
            f"≤{case['target_ratio']:g}",
            f"{case['peak_rss_mib']:.0f}",
            "yes" if case["met"] else "no",
        ])
    return rows


HEADER = ["case", "baseline", "caselib s", "baseline s", "ratio", "target", "peak MiB", "met"]


def _notes(report: dict) -> list[str]:
    notes = []
    for name, case in report["cases"].items():
        if "error" in case:
            notes.append(f"{name} failed: {case['error']}")
        elif case.get("failed_runs"):
            notes.append(f"{name}: {case['failed_runs']} of {len(case['runs'])} runs failed")
        for run in case["runs"]:
            if "check_failed" in run:
                notes.append(f"{name}: {run['check_failed']}")
    for name, base in report["baselines"].items():
        if "error" in base:
            notes.append(f"baseline {name} failed: {base['error']}")
    return notes


def _heading(report: dict) -> str:
    sizes = ", ".join(f"{d['mib']:.0f} MiB {name}" for name, d in report["derived"].items())
    return (
        f"{report['tips']:,} tips: {report['file_mib']:.0f} MiB tips.csv, {sizes} "
        f"(generated in {report['generate_seconds']:.0f} s, derived in {report['derive_seconds']:.0f} s; "
        f"best of {report['repeats']}; peak target ≤{MAX_PEAK_MIB} MiB)"
    )


def _text_table(report: dict) -> str:
    rows = [HEADER, *_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [_heading(report)]
    for row in rows:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  " + "  ".join(cells))
    lines += [f"  ! {note}" for note in _notes(report)]
    for name, case in report["cases"].items():
        if "summary" in case:
            lines.append(f"  {name}: {case['summary']}")
    return "\n".join(lines)


def _excel_lines(excel: dict) -> list[str]:
    lines = [f"{excel['tips']:,} tips as XLSX ({excel['xlsx_mib']} MiB) and as CSV ({excel['csv_mib']} MiB), caselib load:"]
    for fmt in ("csv", "xlsx"):
        r = excel[fmt]
        if "error" in r:
            lines.append(f"  {fmt:<5} failed: {r['error']}")
        else:
            lines.append(f"  {fmt:<5} {r['seconds']:8.2f} s load  {r['peak_rss_mib']:8.0f} MiB peak")
    if excel["ratio_load"] is not None:
        lines.append(
            f"  xlsx/csv: x{excel['ratio_load']:.2f} load time (target ≤{excel['target_ratio']:g}: "
            f"{'met' if excel['met'] else 'not met'}), x{excel['ratio_process']:.2f} process time"
        )
    return lines


def _markdown(report: dict) -> str:
    lines = [f"### Load benchmark, {report['tips']:,} tips", "", _heading(report), "",
             "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---"] + ["---:"] * 6) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(report)]
    notes = _notes(report)
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    if "excel" in report:
        lines += ["", "```", *_excel_lines(report["excel"]), "```"]
    return "\n".join(lines) + "\n"


def _benchmark_size(tips: int, args: argparse.Namespace, excel_rows: int) -> tuple[dict, list[str]]:
    with tempfile.TemporaryDirectory(prefix="caselib-bench-") as scratch:
        scratch = Path(scratch)
        print(f"{tips:,} tips: generating the campaign", flush=True)
        started = time.perf_counter()
        campaign = _generate(scratch, tips, args.seed)
        generated = time.perf_counter() - started
        print(f"{tips:,} tips: deriving Parquet, JSONL, JSON and the triage re-export", flush=True)
        started = time.perf_counter()
        files, derived = _derive(scratch, campaign)
        derive_seconds = time.perf_counter() - started
        # Every 100th row of the re-export has another status: those rows, and only they, change.
        expected_updates = derived["tips_triage.csv"]["rows"] // 100
        baselines, cases, failures = _measure_size(tips, files, campaign, scratch, args.repeats, expected_updates)
        report = {
            "tips": tips,
            "rows": derived["tips_triage.csv"]["rows"],
            "file_mib": round(campaign.tips_path.stat().st_size / 2**20, 1),
            "generate_seconds": round(generated, 1),
            "derive_seconds": round(derive_seconds, 1),
            "derived": derived,
            "expected_triage_updates": expected_updates,
            "repeats": args.repeats,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "parent_rss_mib": round(_own_peak_mib(), 1),
            "baselines": baselines,
            "cases": cases,
        }
        if excel_rows:
            # Three runs at least, as before --repeats: its ratio is of two short loads.
            report["excel"] = _excel_case(scratch, campaign, min(excel_rows, tips), max(3, args.repeats))
    return report, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[30_000, 2_000_000], help="campaign sizes, in tips")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each timed case (the best counts)")
    parser.add_argument("--xlsx-tips", type=int, default=200_000,
                        help="rows of the Excel case, run once at the largest size (0: none)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    if args.repeats < 1 or min(args.tips) < 1:
        parser.error("--tips and --repeats take positive whole numbers")
    sizes = list(dict.fromkeys(args.tips))
    args.out.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    tables = []
    for tips in sizes:
        excel_rows = args.xlsx_tips if tips == max(sizes) else 0
        report, failed = _benchmark_size(tips, args, excel_rows)
        failures += failed
        (args.out / f"load_{tips}.json").write_text(json.dumps(report, indent=2))
        (args.out / f"load_{tips}.md").write_text(_markdown(report))
        table = _text_table(report)
        if "excel" in report:
            table += "\n" + "\n".join(_excel_lines(report["excel"]))
        tables.append(table)
        print(table, flush=True)
    if len(tables) > 1:
        print("\n" + "\n\n".join(tables))
    if failures:
        raise SystemExit("load benchmark: counts not as expected:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
