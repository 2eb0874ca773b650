"""`caselib demo` swaps the new database in atomically: at every moment, even when killed,
the path holds the old database or the new one; the old database's WAL goes with its backup
and is never left beside the new file; the files are owner-only whatever the umask."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from caselib import Store, load_file
from caselib.domain import demo as demo_module
from caselib.domain.demo import build_demo
from caselib.errors import DemoRefused
from conftest import WAVES, write_csv

CASELIB = [sys.executable, "-m", "caselib"]
TIPS = 4000  # about the fewest the demo campaign can be drawn with (it depends on the seed)
MAGIC = b"DUCK"


def analyst_database(folder: Path, *, wal_marker: str | None = None) -> Path:
    """A database holding a loaded waves file; with ``wal_marker``, a last transaction
    (a meta row) that is only in the write-ahead log, as a crash would leave it."""
    db = folder / "case.duckdb"
    with Store(db) as store:
        load_file(store, "waves", write_csv(folder / "waves.csv", WAVES), progress=False)
    if wal_marker:
        con = duckdb.connect(str(db))
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.execute("SET wal_autocheckpoint = '10GB'")
        con.execute("INSERT INTO meta VALUES ('wal_marker', $v)", {"v": wal_marker})
        con.close()
        assert wal(db).exists()
    return db


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def contents(path: Path) -> str:
    with Store(path, read_only=True, wait=0) as store:
        return store.scalar("SELECT value FROM meta WHERE key = 'contents'") or "analyst"


def is_duckdb_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(12)[8:] == MAGIC
    except FileNotFoundError:
        return False


def test_every_file_operation_of_a_forced_rebuild_leaves_a_database_at_the_path(tmp_path, monkeypatch):
    db = analyst_database(tmp_path)
    old_inode = db.stat().st_ino
    seen = []
    real = {name: getattr(os, name) for name in ("replace", "rename", "unlink", "remove", "link")}

    def watched(name):
        def operation(*args, **kwargs):
            result = real[name](*args, **kwargs)
            present = is_duckdb_file(db)
            seen.append((name, str(args[0]), present, present and db.stat().st_ino, wal(db).exists()))
            return result

        return operation

    for name in real:
        monkeypatch.setattr(os, name, watched(name))
    result = build_demo(db, tips=TIPS, seed=3, force=True, progress=False, enrich=False)
    monkeypatch.undo()
    assert [step for step in seen if not step[2]] == []  # never missing, never not a DuckDB file
    new_inode = db.stat().st_ino
    assert new_inode != old_inode and {step[3] for step in seen} <= {old_inode, new_inode}
    assert [step for step in seen if step[3] == new_inode and step[4]] == []  # no old WAL beside the new file
    assert contents(db) == "demo" and contents(result.backup) == "analyst"


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from caselib.domain import demo
    from caselib.store import Store
    db, kill_after, tips = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    calls = {"n": 0, "armed": False}
    def counted(real):
        def operation(*args, **kwargs):
            result = real(*args, **kwargs)
            if calls["armed"]:
                calls["n"] += 1
                if calls["n"] >= kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)
            return result
        return operation
    for name in ("replace", "rename", "unlink", "remove", "link"):
        setattr(os, name, counted(getattr(os, name)))
    real_checkpoint = Store.checkpoint
    def checkpoint(self):  # the demo's last step before it moves the new file into place
        real_checkpoint(self)
        calls["armed"] = True
        if kill_after == 0:
            os.kill(os.getpid(), signal.SIGKILL)
    Store.checkpoint = checkpoint
    demo.build_demo(db, tips=tips, seed=5, force=True, progress=False, enrich=False)
    print("operations", calls["n"])
    """
)


def test_a_forced_rebuild_killed_at_any_step_of_the_swap_leaves_the_old_or_the_new_database(tmp_path):
    complete = subprocess.run([sys.executable, "-c", KILLER, str(analyst_database(tmp_path, wal_marker="x")), "999", str(TIPS)], capture_output=True, text=True, timeout=300)
    assert complete.returncode == 0, complete.stderr
    operations = int(complete.stdout.split()[-1])
    assert operations >= 2
    for kill_after in range(operations + 1):
        folder = tmp_path / f"kill{kill_after}"
        folder.mkdir()
        db = analyst_database(folder, wal_marker="last transaction")
        killed = subprocess.run([sys.executable, "-c", KILLER, str(db), str(kill_after), str(TIPS)], capture_output=True, text=True, timeout=300)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        now = contents(db)  # opens: present, complete, and no foreign WAL beside it
        assert now in ("analyst", "demo"), kill_after
        backups = [p for p in folder.glob("case.duckdb.bak-*") if not p.name.endswith(".wal")]
        assert now == "analyst" or len(backups) == 1
        for old in ([db] if now == "analyst" else []) + backups:  # the old data, last transaction and all
            with Store(old, read_only=True) as store:
                assert store.scalar("SELECT value FROM meta WHERE key = 'wal_marker'") == "last transaction"


WATCHER = textwrap.dedent(
    """
    import collections, json, os, sys, time
    import duckdb
    path, stop = sys.argv[1], sys.argv[2]
    seen = collections.Counter()
    while True:
        last = os.path.exists(stop)
        try:
            if not os.path.exists(path):
                seen["missing"] += 1
            else:
                con = duckdb.connect(path, read_only=True)
                try:
                    value = con.execute("SELECT value FROM meta WHERE key = 'contents'").fetchone()
                    seen[value[0] if value else "analyst"] += 1
                finally:
                    con.close()
        except Exception as error:
            seen["error: " + str(error).splitlines()[0]] += 1
        if last:
            break
    print(json.dumps(seen))
    """
)


def test_a_reader_polling_during_a_forced_rebuild_always_finds_a_whole_database(tmp_path):
    db = analyst_database(tmp_path)
    stop = tmp_path / "stop"
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(db), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        result = subprocess.run(
            [*CASELIB, "--db", str(db), "demo", "--no-refresh", "--tips", str(TIPS), "--force", "--no-progress"],
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=lambda: os.umask(0),  # owner-only whatever the umask
        )
        assert result.returncode == 0, result.stderr
    finally:
        stop.touch()
        out, _ = watcher.communicate(timeout=60)
    seen = json.loads(out)
    assert set(seen) <= {"analyst", "demo"}, seen
    assert seen.get("analyst", 0) > 0 and seen.get("demo", 0) > 0, seen
    [backup] = tmp_path.glob("case.duckdb.bak-*")
    for path in (db, backup):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert backup.stat().st_nlink == 1  # the old file lives on under the backup's name only
    assert not wal(db).exists()


def test_the_old_wal_is_kept_in_the_backup_and_never_left_beside_the_new_database(tmp_path):
    db = analyst_database(tmp_path, wal_marker="only in the WAL")
    result = subprocess.run(
        [*CASELIB, "--db", str(db), "demo", "--no-refresh", "--tips", str(TIPS), "--force", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert not wal(db).exists()
    assert contents(db) == "demo"
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM meta WHERE key = 'wal_marker'") == 0
    [backup] = tmp_path.glob("case.duckdb.bak-*")  # the WAL was folded into the old file first
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with Store(backup, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'wal_marker'") == "only in the WAL"
        assert store.scalar("SELECT count(*) FROM waves") == len(WAVES)


def test_a_backup_made_while_a_wal_is_there_takes_the_wal_along_and_leaves_the_path_whole(tmp_path):
    db = analyst_database(tmp_path, wal_marker="in the WAL")
    backup = demo_module._keep_backup(db)  # the case of a WAL that appeared after the fold
    assert wal(backup).exists() and wal(db).exists()  # the path is untouched
    for path in (backup, wal(backup)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = demo_module._keep_backup(db)  # a second backup in the same second gets its own name
    assert again != backup and again.exists()
    for path in (backup, db):
        with Store(path, read_only=True) as store:
            assert store.scalar("SELECT value FROM meta WHERE key = 'wal_marker'") == "in the WAL"


def test_a_demo_rebuild_over_a_demo_with_a_wal_opens_cleanly(tmp_path):
    db = tmp_path / "demo.duckdb"
    build_demo(db, tips=TIPS, seed=1, progress=False, enrich=False)
    con = duckdb.connect(str(db))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("SET wal_autocheckpoint = '10GB'")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_seed', 'from the old WAL')")
    con.close()
    assert wal(db).exists()
    build_demo(db, tips=TIPS, seed=2, progress=False, enrich=False)
    assert not wal(db).exists()
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'demo_seed'") == "2"
    assert not list(tmp_path.glob("*.bak-*")) and not list(tmp_path.glob("*.building*"))


def test_analyst_data_that_arrives_during_the_build_is_still_refused(tmp_path, monkeypatch):
    db = analyst_database(tmp_path)
    before = db.read_bytes()
    monkeypatch.setattr(demo_module, "_contents", lambda path: "demo")  # as if loaded meanwhile
    with pytest.raises(DemoRefused, match="holds loaded"):
        build_demo(db, tips=TIPS, seed=1, progress=False, enrich=False)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob("*.building*")) and not list(tmp_path.glob("*.bak-*"))
