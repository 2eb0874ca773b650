"""The `caselib` command, run as a real process; results checked through the library."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from caselib import Store
from caselib.cli import cli
from conftest import OBJECTS, WAVES, tip, write_csv

ROOT = Path(__file__).resolve().parents[1]
CASELIB = [sys.executable, "-m", "caselib"]


def run(*args: str, env: dict | None = None, check_ok: bool | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    result = subprocess.run([*CASELIB, *args], capture_output=True, text=True, env=environment, timeout=300)
    if check_ok is True:
        assert result.returncode == 0, result.stderr
    return result


def assert_one_line_error(result: subprocess.CompletedProcess, *, contains: str, code: int = 1) -> None:
    """One line ``caselib: error: …`` holding ``contains``, and exit status ``code``
    (:mod:`caselib.errors`: 5 damaged, 6 in use, 7 cannot write)."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("caselib: error: ")
    assert contains in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    tips = [
        tip("T1", reporter_country="de", suggested_country=" France "),
        tip("T2", received_at="2017-06-02T09:30:00+02:00", reporter_email="someone@example.org"),
        tip("T3", object_id="G99"),
        tip("T4", received_at="not a date", tip_text="=HYPERLINK(\"http://x\")"),
    ]
    return {
        "waves": write_csv(tmp_path / "waves.csv", WAVES),
        "objects": write_csv(tmp_path / "objects.csv", OBJECTS),
        "tips": write_csv(tmp_path / "tips.csv", tips, delimiter=";"),
    }


def load_all(db: Path, files: dict[str, Path]) -> list[subprocess.CompletedProcess]:
    return [run("--db", str(db), "load", kind, "--no-refresh", str(files[kind]), check_ok=True) for kind in ("waves", "objects", "tips")]


def test_load_prints_a_reconciling_summary_and_stores_the_rows(db_path, files):
    results = load_all(db_path, files)
    summary = results[-1].stdout
    assert "read 4 = inserted 2 + updated 0 + unchanged 0 + rejected 2" in summary
    assert "contact columns dropped: reporter_email" in summary
    with Store(db_path, read_only=True) as store:
        rows = store.rows("SELECT tip_id, reporter_country, suggested_country, received_at FROM tips ORDER BY tip_id")
    assert [r[:3] for r in rows] == [("T1", "DEU", "FRA"), ("T2", "DEU", "FRA")]
    assert rows[1][3].isoformat() == "2017-06-02T07:30:00"


def test_loading_the_same_file_again_through_the_cli_changes_nothing(db_path, files):
    load_all(db_path, files)
    again = run("--db", str(db_path), "load", "tips", "--no-refresh", str(files["tips"]), check_ok=True)
    assert "read 4 = inserted 0 + updated 0 + unchanged 2 + rejected 2" in again.stdout
    assert "loaded before, as batch 3" in again.stdout
    with Store(db_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tips") == 2
        assert store.scalar("SELECT count(*) FROM rejected_rows") == 2


def test_db_defaults_to_the_caselib_db_environment_variable(tmp_path, files):
    target = tmp_path / "from-env.duckdb"
    run("load", "waves", str(files["waves"]), env={"CASELIB_DB": str(target)}, check_ok=True)
    with Store(target, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM waves") == 2


def test_status_json_has_integer_counts_and_recent_loads(db_path, files):
    load_all(db_path, files)
    result = run("--db", str(db_path), "status", "--format", "json", check_ok=True)
    info = json.loads(result.stdout)
    assert {k: info[k] for k in ("waves", "objects", "tips", "rejected_rows")} == {
        "waves": 2,
        "objects": 3,
        "tips": 2,
        "rejected_rows": 2,
    }
    assert all(isinstance(info[k], int) for k in ("waves", "objects", "tips", "rejected_rows"))
    assert [load["kind"] for load in info["recent_loads"]] == ["tips", "objects", "waves"]
    assert info["recent_loads"][0]["rows_read"] == 4
    assert info["contents"] == "analyst"
    table = run("--db", str(db_path), "status", check_ok=True).stdout
    assert re.search(r"tips\s+2\b", table)


def test_rejected_lists_reasons_and_exports_formula_safe_csv(db_path, files):
    load_all(db_path, files)
    listing = run("--db", str(db_path), "rejected", "--batch", "3", check_ok=True).stdout
    assert 'object_id "G99" is not a known object' in listing
    assert 'received_at "not a date" is not an ISO 8601 timestamp' in listing
    assert "2 rejected rows" in listing
    exported = run("--db", str(db_path), "rejected", "--format", "csv", check_ok=True).stdout
    assert "=HYPERLINK" in exported
    # every cell that a spreadsheet would evaluate is prefixed with an apostrophe
    import csv
    import io

    for row in csv.reader(io.StringIO(exported)):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    as_json = json.loads(run("--db", str(db_path), "rejected", "--format", "json").stdout)
    assert {r["record_no"] for r in as_json} == {3, 4}
    assert "someone@example.org" not in json.dumps(as_json)
    empty = run("--db", str(db_path), "rejected", "--batch", "1", check_ok=True).stdout
    assert "No rejected rows in batch 1" in empty


def test_a_missing_file_is_one_clear_line(db_path):
    result = run("--db", str(db_path), "load", "tips", "--no-refresh", "/nonexistent/tips.csv")
    assert_one_line_error(result, contains="there is no file /nonexistent/tips.csv")
    assert not db_path.exists(), "a refused load left a new, empty database"


def test_a_file_without_a_required_column_is_refused_and_changes_nothing(db_path, files, tmp_path):
    load_all(db_path, files)
    bad = write_csv(tmp_path / "bad.csv", [{"tip_id": "T9", "received_at": "2017-06-01"}])
    result = run("--db", str(db_path), "load", "tips", "--no-refresh", str(bad))
    assert_one_line_error(result, contains="has no object_id column")
    with Store(db_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM load_batches") == 3


def test_an_unreadable_file_is_one_clear_line(db_path, files, tmp_path):
    load_all(db_path, files)
    garbage = tmp_path / "tips.parquet"
    garbage.write_bytes(b"PAR1" + os.urandom(200))
    result = run("--db", str(db_path), "load", "tips", "--no-refresh", str(garbage))
    assert_one_line_error(result, contains="cannot be read as Parquet")


def test_tips_before_objects_is_refused_with_advice(db_path, files):
    result = run("--db", str(db_path), "load", "tips", "--no-refresh", str(files["tips"]))
    assert_one_line_error(result, contains="load the objects file before tips")


def test_a_database_locked_by_another_writer_is_one_clear_line(db_path, files):
    load_all(db_path, files)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, caselib; s = caselib.Store(sys.argv[1]); print('ready', flush=True); sys.stdin.read()", str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run("--db", str(db_path), "load", "waves", str(files["waves"]), env={"CASELIB_LOCK_WAIT": "0.5"})
        assert_one_line_error(result, contains="in use by another process", code=6)
    finally:
        holder.communicate("")


def test_a_load_waits_for_a_short_lived_reader_to_let_go(db_path, files):
    """Dashboards hold the file for moments; a load retries instead of failing at once."""
    load_all(db_path, files)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time, caselib; s = caselib.Store(sys.argv[1], read_only=True); print('ready', flush=True); "
         "time.sleep(1.5); s.close(); time.sleep(5)", str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run("--db", str(db_path), "load", "waves", str(files["waves"]), env={"CASELIB_LOCK_WAIT": "20"})
        assert result.returncode == 0, result.stderr
        assert "unchanged" in result.stdout
    finally:
        holder.kill()
        holder.wait()


def test_a_bad_lock_wait_setting_is_one_clear_line(db_path, files):
    result = run("--db", str(db_path), "load", "waves", str(files["waves"]), env={"CASELIB_LOCK_WAIT": "soon"})
    assert_one_line_error(result, contains="CASELIB_LOCK_WAIT")


def test_caselib_log_debug_logs_each_query_with_its_name_and_duration(db_path, files):
    load_all(db_path, files)
    logged = run("--db", str(db_path), "status", env={"CASELIB_LOG": "debug"}, check_ok=True)
    assert re.search(r"^caselib\.store: status/counts \d+\.\d ms$", logged.stderr, re.MULTILINE), logged.stderr
    assert re.search(r"^caselib\.store: status/recent_loads \d+\.\d ms$", logged.stderr, re.MULTILINE)
    assert "tips" in logged.stdout  # the command's own output is unchanged, on stdout
    quiet = run("--db", str(db_path), "status", env={"CASELIB_LOG": ""}, check_ok=True)
    assert quiet.stderr == ""
    assert quiet.stdout == logged.stdout


def test_a_bad_log_setting_is_one_clear_line(db_path, files):
    result = run("--db", str(db_path), "load", "waves", str(files["waves"]), env={"CASELIB_LOG": "everything"})
    assert_one_line_error(result, contains="CASELIB_LOG must be debug, info or warning")


def test_an_sql_error_is_one_line_naming_the_query(db_path, files):
    load_all(db_path, files)
    with Store(db_path) as store:
        store.execute("DROP TABLE rejected_rows")  # a database this caselib cannot read (no rule macro needs it)
    result = run("--db", str(db_path), "status")
    assert result.returncode == 3, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "caselib: internal error: QueryError: query status/counts failed: "
        "Catalog Error: Table with name rejected_rows does not exist!"
    ), lines[0]
    assert lines[0].endswith("(run with --debug for the traceback)")
    assert "Traceback" not in result.stderr + result.stdout


def test_pseudonymize_keeps_a_keyed_pseudonym_and_never_the_address(db_path, files):
    run("--db", str(db_path), "load", "waves", str(files["waves"]), check_ok=True)
    run("--db", str(db_path), "load", "objects", str(files["objects"]), check_ok=True)
    run("--db", str(db_path), "load", "tips", "--no-refresh", str(files["tips"]), "--pseudonymize", check_ok=True)
    with Store(db_path, read_only=True) as store:
        pseudonyms = dict(store.rows("SELECT tip_id, reporter_pseudonym FROM tips"))
        dump = json.dumps([list(map(str, r)) for r in store.rows("SELECT * FROM tips")])
    assert pseudonyms["T1"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", pseudonyms["T2"])
    assert "someone@example.org" not in dump


def test_usage_errors_exit_2_without_traceback(db_path):
    result = run("--db", str(db_path), "load", "gadgets", "x.csv")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def _all_options(command: click.Command, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            path = f"{prefix} {name}".strip()  # a subcommand is documented as `caselib audit verify`
            found.append((path, ""))
            found.extend(_all_options(sub, path))
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            found.append((prefix, max(param.opts, key=len)))
            found.extend((prefix, o) for o in param.secondary_opts)
    return found


def test_every_command_and_option_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"{command} {option}".strip()
        for command, option in _all_options(cli)
        if option not in ("--help", "--version")
        and not (f"caselib {command}" in readme if not option else option in readme)
    ]
    assert missing == []
    for variable in ("CASELIB_DB", "CASELIB_PSEUDONYM_KEY", "CASELIB_PSEUDONYM_KEY_FILE", "CASELIB_LOAD_MEMORY_LIMIT", "CASELIB_LOCK_WAIT", "CASELIB_LOG", "PORT"):
        assert variable in readme


# -- damaged files and paths that are not a caselib database ------------------------------

BLOCK_START = 12_288  # DuckDB's file header and its two database headers come first


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    from caselib.domain.demo import build_demo

    folder = tmp_path_factory.mktemp("small-demo")
    return build_demo(folder / "demo.duckdb", tips=4000, seed=5, progress=False, enrich=False).db_path


def damaged_copy(source: Path, target: Path, *, flip_at: int | None = None, truncate_to: int | None = None) -> Path:
    target.write_bytes(source.read_bytes())
    if flip_at is not None:
        with target.open("r+b") as f:
            f.seek(flip_at)
            data = f.read(64)
            f.seek(flip_at)
            f.write(bytes(b ^ 0xFF for b in data))
    if truncate_to is not None:
        os.truncate(target, truncate_to)
    return target


@pytest.mark.parametrize(
    "damage",
    [
        {"flip_at": BLOCK_START + 100},  # the first block: the catalogue, read on opening
        {"truncate_to": 5000},  # inside the headers
        {"truncate_to": "half"},  # opens; the blocks past the end fail in a query
    ],
    ids=["flipped-block", "truncated-header", "truncated-blocks"],
)
def test_a_damaged_database_is_one_line_at_once_and_not_called_locked(small_demo, tmp_path, damage):
    if damage.get("truncate_to") == "half":
        damage = {"truncate_to": small_demo.stat().st_size // 2}
    db = damaged_copy(small_demo, tmp_path / "damaged.duckdb", **damage)
    for command in (["status"], ["flags"], ["rejected"]):
        result = run("--db", str(db), *command, env={"CASELIB_LOCK_WAIT": "30"})
        if result.returncode == 0:
            continue  # this command did not read a damaged block
        assert_one_line_error(result, contains="is damaged", code=5)
        assert "restore it from a backup" in result.stderr
        assert "in use by another process" not in result.stderr
    # at least the objects' figures read every block of the tips
    assert run("--db", str(db), "flags", env={"CASELIB_LOCK_WAIT": "30"}).returncode == 5


def test_a_damaged_database_fails_without_waiting_for_a_lock(small_demo, tmp_path):
    from caselib.errors import StoreError

    db = damaged_copy(small_demo, tmp_path / "damaged.duckdb", flip_at=BLOCK_START + 100)
    started = time.monotonic()
    with pytest.raises(StoreError, match="is damaged") as raised:
        Store(db, read_only=True, wait=30)
    assert time.monotonic() - started < 5
    assert not raised.value.locked


def _not_a_database(tmp_path: Path, kind: str) -> Path:
    if kind == "csv":
        return write_csv(tmp_path / "waves.csv", WAVES)
    if kind == "parquet":
        import pandas as pd

        path = tmp_path / "waves.parquet"
        pd.DataFrame(WAVES).to_parquet(path)
        return path
    if kind == "text":
        path = tmp_path / "notes.txt"
        path.write_text("not a database\n")
        return path
    path = tmp_path / "folder"
    path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet", "text", "folder"])
def test_a_db_path_that_is_not_a_database_is_refused_untouched(tmp_path, files, kind):
    target = _not_a_database(tmp_path, kind)
    os.chmod(target, 0o755 if kind == "folder" else 0o644)
    before = None if kind == "folder" else target.read_bytes()
    for args in (["load", "waves", str(files["waves"])], ["status"]):
        result = run("--db", str(target), *args)
        assert_one_line_error(result, contains="not a caselib database", code=5)
        assert "Loaded" not in result.stdout
    assert (target.stat().st_mode & 0o777) == (0o755 if kind == "folder" else 0o644)
    if before is not None:
        assert target.read_bytes() == before
    # and through the environment, as a folder once gave a usage message
    result = run("status", env={"CASELIB_DB": str(target)})
    assert_one_line_error(result, contains="not a caselib database", code=5)


def test_an_empty_file_becomes_a_new_database(tmp_path, files):
    target = tmp_path / "made-by-mktemp.duckdb"
    target.touch()
    assert_one_line_error(run("--db", str(target), "status"), contains="there is no database")
    run("--db", str(target), "load", "waves", str(files["waves"]), check_ok=True)
    with Store(target, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM waves") == len(WAVES)
    assert (target.stat().st_mode & 0o777) == 0o600


# -- a reader that stops reading -----------------------------------------------------------


@pytest.mark.parametrize("command", [["rejected"], ["flags"], ["status"], ["rejected", "--format", "csv"], ["flags", "--format", "json"]])
def test_a_closed_pipe_ends_the_command_quietly(small_demo, command):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write meets EPIPE
    try:
        result = subprocess.run([*CASELIB, "--db", str(small_demo), *command], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


def test_head_reading_one_line_gives_no_traceback(small_demo):
    shell = f"set -o pipefail; {' '.join(CASELIB)} --db {small_demo} flags | head -1"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""
    assert result.returncode in (0, 141)  # 0 when the whole listing fitted in the pipe first


# -- data cannot drive the terminal or forge a line -----------------------------------------

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e"


def _unsafe_in(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2028"]


def test_control_characters_from_files_are_shown_escaped(tmp_path):
    db = tmp_path / "case.duckdb"
    objects = [dict(OBJECTS[0], title="soap" + ESCAPES), *OBJECTS[1:]]
    evil_name = tmp_path / "tips\x1b[31m\nbatch 99 tips forged.csv line 1: all fine.csv"
    tips = [tip("T1"), tip("T2", received_at="soon" + ESCAPES), tip("T3", object_id="G9\x1b[8m")]
    run("--db", str(db), "load", "waves", str(write_csv(tmp_path / "waves.csv", WAVES)), check_ok=True)
    run("--db", str(db), "load", "objects", str(write_csv(tmp_path / "objects.csv", objects)), check_ok=True)
    loaded = run("--db", str(db), "load", "tips", "--no-refresh", str(write_csv(evil_name, tips)), check_ok=True)
    assert "batch 99 tips forged" not in [line.strip() for line in loaded.stdout.splitlines()]
    for args in (["status"], ["rejected"], ["flags"], ["flags", "--format", "json"], ["rejected", "--format", "json"],
                 ["status", "--format", "json"]):
        result = run("--db", str(db), *args, check_ok=True)
        assert _unsafe_in(result.stdout) == [], (args, result.stdout)
        assert not any(line.startswith("batch 99") for line in result.stdout.splitlines()), args
        if "json" in args:
            json.loads(result.stdout)  # still JSON, the same data
    rejected = run("--db", str(db), "rejected", check_ok=True).stdout
    assert "\\x1b[31m\\nbatch 99" in rejected and "\\x9b31m" in rejected
    titles = {row["object_id"]: row["title"] for row in json.loads(run("--db", str(db), "flags", "--format", "json").stdout)}
    assert titles["G01"] == "soap" + ESCAPES  # escaped in the text, not changed in the data
    # to a file or pipe, CSV is left to safe_csv (formula-safe export), not escaped again
    assert "\\x1b" not in run("--db", str(db), "flags", "--format", "csv").stdout


def test_an_error_naming_a_value_from_a_file_is_escaped(tmp_path):
    result = run("--db", str(tmp_path / "case.duckdb"), "close", "G\x1b[2J\nforged", "--outcome", "exhausted", "--reason", "x")
    assert_one_line_error(result, contains="there is no object")
    assert _unsafe_in(result.stderr.rstrip("\n")) == []


def test_each_class_of_failure_has_its_own_exit_status_and_the_readme_lists_it():
    import inspect

    import caselib.errors as errors

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    listed = {int(code) for code in re.findall(r"^\| (\d+) \| ", readme, flags=re.MULTILINE)}
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.CaselibError)]
    codes = {c.__name__: c.exit_code for c in classes}
    assert {codes["DatabaseDamaged"], codes["DatabaseLocked"], codes["CannotWrite"], codes["CaselibError"]} == {5, 6, 1, 7}
    assert set(codes.values()) <= listed, (codes, listed)
    assert {codes["Conflict"], codes["NotAllowed"]} == {8, 9}
    assert {1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 141} == listed
