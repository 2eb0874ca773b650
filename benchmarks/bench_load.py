"""Load benchmark: caselib's loader against DuckDB's own read_csv and pandas, in one run.

Generates a synthetic tips file of N tips (the same generator as the demo), then runs each
contender in its own process, measuring wall time and peak resident memory (from wait4).
Figures are reported as ratios against DuckDB's raw read_csv measured in the same run.

Then the Excel case: the first ``--xlsx-tips`` rows (200,000 unless 0) written as an .xlsx
workbook (numbers as number cells where their text reads back the same, the rest as text)
and as CSV, each loaded by caselib; reported as the XLSX/CSV ratio of the load times.

    python benchmarks/bench_load.py --tips 1000000 [--xlsx-tips 200000] [--out bench-results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONTENDERS = {
    # DuckDB reading the same file into a table, every column typed by its sniffer.
    "duckdb_read_csv": """
import sys
from caselib import Store
with Store(sys.argv[2]) as store:
    store.execute("CREATE TABLE raw_tips AS SELECT * FROM read_csv($p)", {"p": sys.argv[1]})
    store.checkpoint()
""",
    "pandas_read_csv": """
import sys, pandas
frame = pandas.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
assert len(frame) > 0
""",
    "caselib_load": """
import sys
from caselib import Store, load_file
waves, objects = sys.argv[3], sys.argv[4]
with Store(sys.argv[2]) as store:
    load_file(store, "waves", waves, progress=False)
    load_file(store, "objects", objects, progress=False)
    result = load_file(store, "tips", sys.argv[1], progress=False)
    store.checkpoint()
print(result.summary().splitlines()[1].strip())
""",
}

# The tips file's load alone, timed inside the process (the waves and objects are loaded first).
LOAD_TIPS = """
import sys, time
from caselib import Store, load_file
with Store(sys.argv[2]) as store:
    load_file(store, "waves", sys.argv[3], progress=False)
    load_file(store, "objects", sys.argv[4], progress=False)
    started = time.perf_counter()
    result = load_file(store, "tips", sys.argv[1], progress=False)
    store.checkpoint()
    seconds = time.perf_counter() - started
print(f"{seconds:.2f}", result.summary().splitlines()[1].strip())
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


GENERATE = """
import sys
from caselib.domain.sample import generate_campaign
c = generate_campaign(sys.argv[1], tips=int(sys.argv[2]), seed=int(sys.argv[3]), messy=False)
print(c.tips_path, c.waves_path, c.objects_path)
"""


def _measure(code: str, args: list[str]) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    output = process.stdout.read().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark step failed: {code.splitlines()[1]}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "output": output}


def _excel_case(scratch: Path, campaign, rows: int, repeats: int = 3) -> dict:
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
            db = scratch / f"excel_{fmt}.duckdb"
            run = _measure(LOAD_TIPS, [str(path), str(db), str(campaign.waves_path), str(campaign.objects_path)])
            run["load_seconds"] = float(run["output"].split()[0])
            runs[fmt].append(run)
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
    best = {fmt: min(found, key=lambda r: r["load_seconds"]) for fmt, found in runs.items()}
    return {
        "tips": rows,
        "csv_mib": round(paths["csv"].stat().st_size / 2**20, 1),
        "xlsx_mib": round(paths["xlsx"].stat().st_size / 2**20, 1),
        **best,
        "load_seconds_all_runs": {fmt: [r["load_seconds"] for r in found] for fmt, found in runs.items()},
        "ratio_process": round(best["xlsx"]["seconds"] / best["csv"]["seconds"], 2),
        "ratio_load": round(best["xlsx"]["load_seconds"] / best["csv"]["load_seconds"], 2),
    }


def _own_peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--xlsx-tips", type=int, default=200_000, help="rows of the Excel case (0: none)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="caselib-bench-") as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        # Generated in a child process: a child's peak memory (ru_maxrss) starts from its
        # parent's size at fork, so a parent holding the generator's arrays would set a floor
        # under every measurement below.
        paths = subprocess.run(
            [sys.executable, "-c", GENERATE, str(scratch / "files"), str(args.tips), str(args.seed)],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        campaign = argparse.Namespace(tips_path=Path(paths[0]), waves_path=Path(paths[1]), objects_path=Path(paths[2]))
        generated = time.perf_counter() - started
        size_mib = campaign.tips_path.stat().st_size / 2**20
        results = {}
        for name, code in CONTENDERS.items():
            db = scratch / f"{name}.duckdb"
            results[name] = _measure(
                code, [str(campaign.tips_path), str(db), str(campaign.waves_path), str(campaign.objects_path)]
            )
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
        excel = _excel_case(scratch, campaign, min(args.xlsx_tips, args.tips)) if args.xlsx_tips else None
    base = results["duckdb_read_csv"]
    report = {
        "tips": args.tips,
        "file_mib": round(size_mib, 1),
        "generate_seconds": round(generated, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "parent_rss_mib_at_start": round(_own_peak_mib(), 1),
        "results": results,
        "ratios_vs_duckdb_read_csv": {
            name: {
                "time": round(r["seconds"] / base["seconds"], 2),
                "memory": round(r["peak_rss_mib"] / base["peak_rss_mib"], 2),
            }
            for name, r in results.items()
        },
    }
    if excel:
        report["excel"] = excel
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"load_{args.tips}.json").write_text(json.dumps(report, indent=2))
    print(f"{args.tips:,} tips, {size_mib:.0f} MiB CSV (generated in {generated:.0f} s)")
    for name, r in results.items():
        ratio = report["ratios_vs_duckdb_read_csv"][name]
        print(
            f"  {name:<18} {r['seconds']:8.2f} s  {r['peak_rss_mib']:8.0f} MiB peak"
            f"   x{ratio['time']:.2f} time  x{ratio['memory']:.2f} memory vs duckdb read_csv"
        )
    if excel:
        print(f"{excel['tips']:,} tips as XLSX ({excel['xlsx_mib']} MiB) and as CSV ({excel['csv_mib']} MiB), caselib load:")
        for fmt in ("csv", "xlsx"):
            r = excel[fmt]
            print(f"  {fmt:<5} {r['seconds']:8.2f} s process  {r['load_seconds']:8.2f} s load  {r['peak_rss_mib']:8.0f} MiB peak")
        print(f"  xlsx/csv: x{excel['ratio_process']:.2f} process time, x{excel['ratio_load']:.2f} load time")


if __name__ == "__main__":
    main()
