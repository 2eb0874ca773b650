"""The fault suite (issue 11, item 7): damaged database files and full or read-only disks.

Every failure a user can meet is one line on stderr, ``caselib: error: …``, with its class's
exit status (caselib/errors.py): 5 for a damaged database, 7 for a disk that refuses a write;
never an internal error (3), never "in use by another process" (6), never a traceback, never
a long wait. The kill -9 spill scan lives in tests/test_anonymity.py; a full disk during
`report` in tests/test_report.py; `demo` into a read-only folder in tests/test_demo.py.

The damaged copies are made systematically from one small demo database (truncated at the
edges of DuckDB's file layout, single bytes flipped at fixed and seeded-random offsets), and
each copy gets the commands an analyst runs. To keep the run short, one child process per
copy runs them all in-process through click's CliRunner (exit status and stderr as the real
command gives them: the CLI's error handling is inside the click group, and
``test_the_in_process_runner_matches_the_real_command`` checks a few copies against the real
command); a crash or a hang of DuckDB still only ends that child, and is reported per copy.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import small_filesystem, tip, write_csv

CASELIB = [sys.executable, "-m", "caselib"]
BLOCK = 262_144  # DuckDB's block size
HEADERS = 12_288  # the 4 KiB file header, then the two 4 KiB database headers; blocks follow
AS_OF = "2025-12-31"
LOCK_WAIT = "30"  # a damaged file wrongly taken for a locked one would wait this long
PER_COMMAND = 30.0  # seconds: a damaged file is said to be damaged at once


def _env(**extra: str) -> dict:
    return {**os.environ, "CASELIB_LOCK_WAIT": LOCK_WAIT, **extra}


def run(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CASELIB, *args], capture_output=True, text=True, env=env or _env(), timeout=timeout)


def one_line_error(stderr: str) -> str | None:
    """The one stderr line of a failure, or None when stderr is not exactly one line."""
    lines = stderr.strip().splitlines()
    return lines[0] if len(lines) == 1 else None


def assert_one_line(result: subprocess.CompletedProcess, exit_code: int, *, contains: str = "") -> str:
    assert result.returncode == exit_code, (result.returncode, result.stdout[-2000:], result.stderr)
    line = one_line_error(result.stderr)
    assert line is not None, result.stderr
    assert line.startswith("caselib: error: "), line
    assert "internal error" not in line and "Traceback" not in result.stderr + result.stdout
    assert contains.lower() in line.lower(), line
    return line


# -- the child that runs an analyst's commands on one copy -----------------------------------

# Run as `python -c DRIVER DB WORK TIPS`: each command through CliRunner on caselib.cli.cli,
# one JSON object out with each command's exit status, stderr, duration, and what its output
# says (status counts, flags, quarantine, audit head, report figures), for comparing with the
# intact database's. The load of a small valid tips file comes last (it writes).
DRIVER = r"""
import json, os, sys, time, traceback
from pathlib import Path
from click.testing import CliRunner
from caselib.cli import cli

db, work, tips = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
as_of = sys.argv[4]
report = work / "report.html"
commands = {
    "status": ["status", "--format", "json"],
    "flags": ["flags", "--as-of", as_of, "--format", "json"],
    "rejected": ["rejected", "--format", "json"],
    "audit verify": ["audit", "verify"],
    "report": ["report", "--as-of", as_of, "-o", str(report)],
    "load tips": ["load", "tips", "--no-refresh", tips, "--no-progress"],
}
out = {}
for name, args in commands.items():
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=True)
    seconds = time.monotonic() - started
    entry = {"exit": result.exit_code, "stderr": result.stderr, "seconds": round(seconds, 2)}
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        entry["traceback"] = "".join(traceback.format_exception(result.exception))
    if result.exit_code == 0:
        text = result.stdout
        if name == "status":
            figures = json.loads(text)
            figures.pop("database", None)
            entry["figures"] = figures
        elif name in ("flags", "rejected"):
            entry["figures"] = json.loads(text)
        elif name == "audit verify":
            entry["figures"] = text.split("head ")[1].split()[0]
        elif name == "report":
            from caselib.presentation.report import report_figures
            entry["figures"] = report_figures(report.read_text(encoding="utf-8"))
        else:
            entry["stdout"] = text
    if report.exists():
        report.unlink()
    out[name] = entry
print(json.dumps(out))
"""


def analyst_commands(db: Path, work: Path, tips_file: Path) -> dict:
    """Each analyst command's outcome on ``db`` (see DRIVER); a crash or hang of the child is
    returned as ``{"child": …}``."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        child = subprocess.run([sys.executable, "-c", DRIVER, str(db), str(work), str(tips_file), AS_OF],
                               capture_output=True, text=True, env=_env(), timeout=6 * PER_COMMAND + 30)
    except subprocess.TimeoutExpired:
        return {"child": f"hung: no answer after {time.monotonic() - started:.0f} s"}
    if child.returncode != 0:
        return {"child": f"exit {child.returncode}: {child.stderr.strip()[-3000:]}"}
    return json.loads(child.stdout.strip().splitlines()[-1])


def problems(outcome: dict, intact: dict) -> list[str]:
    """What is wrong with one copy's outcome: anything but exit 0 with the intact figures, or
    exactly one line `caselib: error: …` with exit 5 (4 and `caselib: audit chain broken: …`
    for `audit verify`), in under PER_COMMAND seconds."""
    if "child" in outcome:
        return [f"the commands' process died or hung: {outcome['child']}"]
    found = []
    for name, entry in outcome.items():
        stderr, code = entry["stderr"], entry["exit"]
        if "traceback" in entry or "Traceback" in stderr:
            found.append(f"{name}: traceback (exit {code}): {entry.get('traceback', stderr)[-1500:]}")
            continue
        if entry["seconds"] > PER_COMMAND:
            found.append(f"{name}: took {entry['seconds']} s (a lock wait?)")
        if code == 0:
            if name == "load tips":
                if "read 5 = inserted 5 + updated 0 + unchanged 0 + rejected 0" not in entry["stdout"]:
                    found.append(f"{name}: exit 0 with an implausible summary: {entry['stdout'][:500]!r}")
            elif entry.get("figures") != intact[name]["figures"]:
                found.append(f"{name}: exit 0 with figures that differ from the intact database's")
            continue
        line = one_line_error(stderr)
        if line is None:
            found.append(f"{name}: exit {code} with {len(stderr.strip().splitlines())} stderr lines: {stderr[-1500:]!r}")
            continue
        if "in use by another process" in line or "internal error" in line:
            found.append(f"{name}: exit {code}: {line}")
        elif code == 5 and line.startswith("caselib: error: ") and (
                "is damaged" in line and "restore it from a backup" in line or "is not a caselib database" in line):
            continue
        elif code == 4 and name == "audit verify" and line.startswith("caselib: audit chain broken: "):
            continue
        else:
            found.append(f"{name}: exit {code}: {line}")
    return found


# -- the damaged copies ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    """One small demo database (4,000 tips: 17 blocks of 256 KiB after the headers)."""
    folder = tmp_path_factory.mktemp("faults-demo")
    db = folder / "demo.duckdb"
    built = run("--db", str(db), "demo", "--no-refresh", "--tips", "4000", "--seed", "5", "--no-progress")
    assert built.returncode == 0, built.stderr
    assert not db.with_name(db.name + ".wal").exists()  # the copies are the whole database
    return db


@pytest.fixture(scope="module")
def small_tips(tmp_path_factory) -> Path:
    """A small valid tips file for the demo's objects."""
    rows = [tip(f"FAULT{i}", object_id="G001", received_at=f"2020-01-0{i}T10:00:00Z") for i in range(1, 6)]
    return write_csv(tmp_path_factory.mktemp("faults-tips") / "tips.csv", rows)


@pytest.fixture(scope="module")
def intact(demo_file, small_tips, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("faults-intact")
    copy = folder / "intact.duckdb"
    copy.write_bytes(demo_file.read_bytes())
    outcome = analyst_commands(copy, folder / "work", small_tips)
    assert "child" not in outcome, outcome
    for name, entry in outcome.items():
        assert entry["exit"] == 0, (name, entry)
    assert outcome["status"]["figures"]["tips"] == 4000
    assert "inserted 5" in outcome["load tips"]["stdout"]
    return outcome


def damages(size: int) -> list[tuple[str, dict]]:
    """(id, damage) for every copy: truncations and flipped bytes across the file's layout."""
    blocks = (size - HEADERS) // BLOCK
    middle = HEADERS + (blocks // 2) * BLOCK
    last = HEADERS + (blocks - 1) * BLOCK
    cuts = {
        "in-file-header-1": 1, "in-magic": 10, "after-magic": 12, "in-file-header": 100,
        "file-header-end": 4096, "in-header-1": 5000, "between-headers": 8192, "in-header-2": 10_000,
        "headers-short-1": HEADERS - 1, "headers-end": HEADERS, "first-block-mid": HEADERS + BLOCK // 2,
        "block-boundary-1": HEADERS + BLOCK, "block-boundary-3": HEADERS + 3 * BLOCK,
        "mid-block": middle + BLOCK // 2, "half": size // 2, "last-block-start": last,
        "last-block-mid": last + BLOCK // 2, "one-byte-short": size - 1,
    }
    flips = {
        "header-checksum": 0, "magic": 8, "version": 12, "file-header-flags": 20, "file-header-pad": 2000,
        "header-1-checksum": 4096, "header-1-iteration": 4104, "header-1-meta": 4112, "header-1-pad": 6000,
        "header-2-checksum": 8192, "header-2-iteration": 8200, "header-2-meta": 8208, "header-2-pad": 10_000,
        "first-block-checksum": HEADERS, "first-block": HEADERS + 100, "first-block-late": HEADERS + BLOCK - 100,
        "middle-block": middle + 1000, "last-block": last + 8, "last-byte": size - 1,
    }
    sample = random.Random(11).sample(range(size), 20)
    return ([(f"cut-{name}-{n}", {"truncate_to": n}) for name, n in cuts.items()]
            + [(f"flip-{name}-{at}", {"flip_at": at}) for name, at in flips.items()]
            + [(f"flip-random-{at}", {"flip_at": at}) for at in sorted(sample)])


def damaged_copy(source: Path, target: Path, *, flip_at: int | None = None, truncate_to: int | None = None) -> Path:
    """A copy of ``source`` with one byte flipped (every bit) or cut at ``truncate_to`` bytes."""
    data = bytearray(source.read_bytes())
    if flip_at is not None:
        data[flip_at] ^= 0xFF
    if truncate_to is not None:
        del data[truncate_to:]
    target.write_bytes(bytes(data))
    return target


def test_every_damaged_copy_is_read_correctly_or_refused_in_one_line(demo_file, small_tips, intact, tmp_path):
    """Each copy, each command: exit 0 with exactly the intact database's figures, or one line
    `caselib: error: … is damaged …` and exit 5 (`audit verify`: also 4, a broken chain), at
    once; nothing left beside the database (no spill folder)."""
    size = demo_file.stat().st_size
    assert (size - HEADERS) % BLOCK == 0 and size > HEADERS + 4 * BLOCK, size
    found: dict[str, list[str]] = {}
    refused = 0
    started = time.monotonic()
    copies = damages(size)
    for name, damage in copies:
        folder = tmp_path / name
        folder.mkdir()
        db = damaged_copy(demo_file, folder / "case.duckdb", **damage)
        outcome = analyst_commands(db, tmp_path / "work" / name, small_tips)
        wrong = problems(outcome, intact)
        left = sorted(p.name for p in folder.iterdir() if p.name not in ("case.duckdb", "case.duckdb.wal"))
        if left:
            wrong.append(f"left beside the database: {left}")
        if "child" not in outcome:
            refused += sum(entry["exit"] != 0 for entry in outcome.values())
        if wrong:
            found[name] = wrong
    elapsed = time.monotonic() - started
    print(f"{len(copies)} damaged copies x 6 commands in {elapsed:.0f} s; {refused} refusals")
    assert not found, json.dumps(found, indent=1)
    assert refused > len(copies)  # the damage was seen, not just survived


def _unplaced(stderr: str) -> str:
    return re.sub(r"read \d+ bytes from location \d+", "read N bytes from location L", stderr)


def test_the_in_process_runner_matches_the_real_command(demo_file, small_tips, tmp_path):
    """The child's CliRunner gives what `python -m caselib` gives: the same exit status and
    stderr, command by command, on copies that fail at opening, in a query, and only in a load."""
    commands = {
        "status": ["status", "--format", "json"],
        "flags": ["flags", "--as-of", AS_OF, "--format", "json"],
        "rejected": ["rejected", "--format", "json"],
        "audit verify": ["audit", "verify"],
        "report": ["report", "--as-of", AS_OF, "-o", str(tmp_path / "report.html")],
        "load tips": ["load", "tips", "--no-refresh", str(small_tips), "--no-progress"],
    }
    size = demo_file.stat().st_size
    middle = HEADERS + ((size - HEADERS) // BLOCK // 2) * BLOCK
    for name, damage in [("header", {"flip_at": 4096}), ("half", {"truncate_to": size // 2}),
                         ("middle", {"flip_at": middle + 1000})]:
        (tmp_path / "runner" / name).mkdir(parents=True)
        (tmp_path / "real" / name).mkdir(parents=True)
        in_process = analyst_commands(damaged_copy(demo_file, tmp_path / "runner" / name / "case.duckdb", **damage),
                                      tmp_path / "work" / name, small_tips)
        real_db = damaged_copy(demo_file, tmp_path / "real" / name / "case.duckdb", **damage)
        for command, args in commands.items():
            real = run("--db", str(real_db), *args, timeout=PER_COMMAND + 30)
            expected = in_process[command]
            assert real.returncode == expected["exit"], (name, command, real.stderr, expected)
            # which damaged block a query meets first depends on which of its threads gets there
            # first: the message names the failed read's place, which may differ run to run
            assert _unplaced(real.stderr.replace("/real/", "/runner/")) == _unplaced(expected["stderr"]), (name, command)


# -- a full disk -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def many_tips(tmp_path_factory) -> Path:
    """40,000 valid tips (8 MB) for the demo's objects: more than a 4 MB disk can take."""
    rows = [tip(f"BIG{i:06d}", object_id=f"G{i % 140 + 1:03d}", received_at=f"2019-{i % 12 + 1:02d}-{i % 28 + 1:02d}T10:00:00Z",
                tip_text="seen in a shop window near the station, the same wrapper as in the picture " * 2)
           for i in range(40_000)]
    return write_csv(tmp_path_factory.mktemp("faults-many") / "tips.csv", rows)


def status_figures(db: Path) -> dict:
    result = run("--db", str(db), "status", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def beside(db: Path) -> set[str]:
    """Every name in the database's folder but the database and its write-ahead log."""
    return {p.name for p in db.parent.iterdir()} - {db.name, db.name + ".wal"}


def test_a_load_onto_a_full_disk_is_one_line_and_changes_nothing(demo_file, many_tips, tmp_path):
    """The waves and objects fit on a 4 MB tmpfs, 40,000 tips do not: exit 7, one line; the
    database holds what it held, its audit is intact, nothing is left beside it; once the
    disk is grown the same load goes through and reconciles."""
    import re

    demo_files = demo_file.parent / "demo"
    with small_filesystem(tmp_path / "small", "size=4m") as small:
        db = small / "case.duckdb"
        for kind in ("waves", "objects"):
            loaded = run("--db", str(db), "load", kind, "--no-refresh", str(demo_files / f"{kind}.csv"), "--no-progress")
            assert loaded.returncode == 0, loaded.stderr
        before = status_figures(db)
        assert (before["waves"], before["objects"], before["tips"], before["loads"]) == (6, 140, 0, 2)

        failed = run("--db", str(db), "load", "tips", "--no-refresh", str(many_tips), "--no-progress")
        assert_one_line(failed, 7, contains="no space left on device")
        assert "Loaded" not in failed.stdout
        assert status_figures(db) == before
        verified = run("--db", str(db), "audit", "verify")
        assert verified.returncode == 0 and "Audit chain intact" in verified.stdout, verified.stderr
        assert beside(db) == set()  # no spill folder, no temporary file

        subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
        loaded = run("--db", str(db), "load", "tips", "--no-refresh", str(many_tips), "--no-progress")
        assert loaded.returncode == 0, loaded.stderr
        read, inserted, updated, unchanged, rejected = map(int, re.search(
            r"read (\d+) = inserted (\d+) \+ updated (\d+) \+ unchanged (\d+) \+ rejected (\d+)", loaded.stdout).groups())
        assert read == inserted + updated + unchanged + rejected == 40_000 == inserted
        after = status_figures(db)
        assert (after["tips"], after["loads"], after["rejected_rows"]) == (40_000, 3, 0)
        assert beside(db) == set()


def test_a_demo_into_a_full_folder_is_one_line_and_keeps_the_old_database(demo_file, tmp_path):
    """`caselib demo` over a demo database on a disk with room for the old one but not for a
    second: exit 7, one line; the old database is the same bytes, no `.building` file left."""
    import hashlib

    room = -(-demo_file.stat().st_size * 3 // 2 // 2**20)  # MiB: the old database and a half
    with small_filesystem(tmp_path / "small", f"size={room}m") as small:
        db = small / "demo.duckdb"
        db.write_bytes(demo_file.read_bytes())
        digest = hashlib.sha256(db.read_bytes()).hexdigest()
        result = run("--db", str(db), "demo", "--no-refresh", "--tips", "4000", "--seed", "6", "--no-progress")
        assert_one_line(result, 7, contains="no space left on device")
        assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
        assert beside(db) <= {"demo"}, beside(db)  # the demo's CSV folder only
        assert status_figures(db)["tips"] == 4000


# -- a read-only disk ------------------------------------------------------------------------


def test_a_database_on_a_read_only_disk_is_read_and_a_load_refused_in_one_line(demo_file, small_tips, intact, tmp_path):
    """Reading works (status, flags, rejected, audit verify, a report written elsewhere) with
    the intact figures; a load is one line with exit 7 — the file system refuses to open the
    file for writing (EROFS), which is a disk that cannot be written, not a damaged database
    (5) — and the file is left as it was."""
    import hashlib

    out = tmp_path / "out"
    out.mkdir()
    with small_filesystem(tmp_path / "ro", "size=8m") as folder:
        db = folder / "case.duckdb"
        db.write_bytes(demo_file.read_bytes())
        digest = hashlib.sha256(db.read_bytes()).hexdigest()
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

        status = status_figures(db)
        status.pop("database")
        assert status == intact["status"]["figures"]
        flags = run("--db", str(db), "flags", "--as-of", AS_OF, "--format", "json")
        assert flags.returncode == 0 and json.loads(flags.stdout) == intact["flags"]["figures"], flags.stderr
        rejected = run("--db", str(db), "rejected", "--format", "json")
        assert rejected.returncode == 0 and json.loads(rejected.stdout) == intact["rejected"]["figures"], rejected.stderr
        verified = run("--db", str(db), "audit", "verify")
        assert verified.returncode == 0 and intact["audit verify"]["figures"] in verified.stdout, verified.stderr
        report = run("--db", str(db), "report", "--as-of", AS_OF, "-o", str(out / "report.html"))
        assert report.returncode == 0, report.stderr
        from caselib.presentation.report import report_figures

        assert report_figures((out / "report.html").read_text(encoding="utf-8")) == intact["report"]["figures"]

        for kind, path in (("tips", small_tips), ("waves", demo_file.parent / "demo" / "waves.csv")):
            refused = run("--db", str(db), "load", kind, "--no-refresh", str(path), "--no-progress")
            assert_one_line(refused, 7, contains="read-only file system")
        assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
        assert beside(db) == set()
