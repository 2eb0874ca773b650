"""Sessions: one connection reused while the analyst works, let go when idle, so that loads
in other processes and stores in this one get the file."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from caselib import Store
from caselib.domain.demo import build_demo
from caselib.errors import StoreError
from caselib.store.session import Session


@pytest.fixture
def db(tmp_path_factory, tmp_path):
    built = tmp_path_factory.getbasetemp() / "session-demo.duckdb"
    if not built.exists():
        build_demo(built, tips=4000, progress=False, enrich=False)
    import shutil

    path = tmp_path / "case.duckdb"
    shutil.copy(built, path)
    return path


def other_process_opens(path, *, read_only: bool) -> str:
    """What happens when another process opens the file right now: 'ok' or the error."""
    code = (
        "import sys\n"
        "from caselib import Store\n"
        "from caselib.errors import StoreError\n"
        "try:\n"
        f"    Store(sys.argv[1], read_only={read_only}, wait=0).close()\n"
        "    print('ok')\n"
        "except StoreError as e:\n"
        "    print('locked' if e.locked else str(e))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def wait_released(session, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while session.holding and time.monotonic() < deadline:
        time.sleep(0.1)


def test_reads_reuse_one_read_only_connection_closed_when_idle(db):
    session = Session(db, idle=6)  # long enough for two other processes to start
    with session.reading() as first:
        assert first.read_only
    with session.reading() as second:
        assert second is first
    assert session.holding
    # Another process may read beside it, but not write.
    assert other_process_opens(db, read_only=True) == "ok"
    assert other_process_opens(db, read_only=False) == "locked"
    wait_released(session)
    assert not session.holding
    assert other_process_opens(db, read_only=False) == "ok"


def test_a_decision_keeps_the_write_connection_for_what_follows_until_idle(db):
    session = Session(db, idle=4)
    with session.reading():
        pass
    with session.writing() as writer:
        assert not writer.read_only
        writer.execute("UPDATE objects SET status = 'withdrawn' WHERE object_id = 'G001'")
    with session.reading() as reader:
        assert reader is writer  # the recompute after a decision reads through it
        assert reader.scalar("SELECT status FROM objects WHERE object_id = 'G001'") == "withdrawn"
    assert other_process_opens(db, read_only=True) == "locked"  # a writer excludes other processes
    wait_released(session)
    assert not session.holding
    assert other_process_opens(db, read_only=True) == "ok"
    assert session.generation == 1


def test_preparing_a_decision_opens_the_write_connection_ahead(db):
    session = Session(db, idle=60)
    with session.reading() as reader:
        assert reader.read_only
    session.prepare_writing()
    with session.writing() as writer:
        prepared = writer
    with session.writing() as writer:
        assert writer is prepared and not writer.read_only
    session.release()
    assert not session.holding


def test_a_store_opened_the_other_way_in_this_process_takes_the_file_from_an_idle_session(db):
    session = Session(db, idle=60)
    with session.writing():
        pass
    assert session.holding
    # DuckDB refuses a read-only connection beside a read-write one in the same process;
    # the idle session lets go instead of the store failing.
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM objects") > 0
    assert not session.holding
    with session.reading() as reader:  # and the session opens again when next used
        assert reader.scalar("SELECT count(*) FROM tips") > 0
    session.release()


def test_a_session_in_use_is_not_taken_from_and_the_error_says_why(db):
    session = Session(db, idle=60)
    with session.writing():
        with pytest.raises(StoreError, match="already has .* open read-write and in use"):
            Store(db, read_only=True, wait=0)
    session.release()


def test_a_session_lets_go_at_once_when_another_process_waits_for_the_file(db):
    session = Session(db, idle=None)  # never idle: only another process's wait frees the file
    with session.reading():
        pass
    started = time.monotonic()
    code = (
        "import sys, time\n"
        "from caselib import Store\n"
        "t = time.monotonic()\n"
        "store = Store(sys.argv[1], wait=30)\n"  # a writer, as `caselib load`
        "print(round(time.monotonic() - t, 2))\n"
        "store.close()\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    waited = float(result.stdout.strip())
    assert waited < 5, f"the writer waited {waited} s for an idle-less session"
    assert time.monotonic() - started < 30
    assert not list(db.parent.glob(db.name + ".wanted.*"))  # the waiter's marker is gone
    # Once the other process is done, the session takes the file back (read-only), so that
    # the next interaction does not pay for opening it.
    deadline = time.monotonic() + 10
    while not session.holding and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.holding
    with session.reading() as store:
        assert store.read_only and store.scalar("SELECT count(*) FROM objects") > 0
    # Let go on purpose, it stays let go.
    session.release()
    time.sleep(1)
    assert not session.holding


def test_markers_of_dead_waiters_are_ignored_and_removed(db):
    from caselib.store import others_waiting

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    marker = db.with_name(f"{db.name}.wanted.{int(dead.stdout)}")
    marker.touch()
    assert not others_waiting(db)
    assert not marker.exists()
    own = db.with_name(f"{db.name}.wanted.{__import__('os').getpid()}")
    own.touch()  # this process waiting on itself is not another process
    assert not others_waiting(db)
    own.unlink()
