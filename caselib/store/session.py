"""Interactive access to the campaign database that leaves room for loads in other processes.

DuckDB lets one process write a database file, or several read it. A notebook or dashboard
that held its connection for hours would block every ``caselib load``. A :class:`Session`
keeps its connection while the analyst works, so that interactions do not pay for opening
the file, and lets go of it as soon as another process waits for the file (a load, or a
decision in another notebook: a waiting process leaves a marker beside the database, see
:func:`caselib.store.others_waiting`), or after some idle minutes. The connection is
read-only, except after a decision: the read-write connection it took then serves what
follows until it is let go.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from caselib.config import default_db_path
from caselib.store import Store, on_in_process_conflict, others_waiting

__all__ = ["Session"]

_SESSIONS: weakref.WeakSet = weakref.WeakSet()


def _release_idle(path: Path) -> bool:
    """Close the idle sessions of this process on ``path`` (a store is being opened the other way)."""
    released = False
    for session in list(_SESSIONS):
        if session.path == Path(path).resolve() and session.holding and session._busy == 0:
            session.release()
            released = True
    return released


on_in_process_conflict(_release_idle)


class Session:
    """Opens the database when needed and closes it when idle.

    Parameters
    ----------
    path
        The database file (default: ``CASELIB_DB``, else ``data/caselib.duckdb``).
    idle
        Seconds without use after which the connection is closed (None: only when
        another process waits for the file).
    watch
        Seconds between looks for another process waiting for the file.
    """

    def __init__(self, path: str | Path | None = None, *, idle: float | None = 300.0, watch: float = 0.2) -> None:
        self.path = Path(path or default_db_path()).expanduser().resolve()
        self.idle = idle
        self._lock = threading.RLock()
        self._reader: Store | None = None
        self._timer: threading.Timer | None = None
        self.generation = 0  # grows with every write through this session
        self._busy = 0  # reading() or writing() blocks under way
        self.watch = watch
        self._watcher: threading.Thread | None = None
        self._reclaim = False  # let go for another process: take the file back when it is done
        _SESSIONS.add(self)
        # Close before the interpreter shuts down: a timer closing DuckDB during shutdown aborts.
        atexit.register(_release, weakref.ref(self))

    @contextlib.contextmanager
    def reading(self, *, wait: float | None = None) -> Iterator[Store]:
        """A store to read, reused while the session is busy (read-only unless a write just
        went through this session).

        ``wait``: seconds to wait for a writing process (default ``CASELIB_LOCK_WAIT``);
        after that a :class:`~caselib.errors.StoreError` with ``locked`` set.
        """
        with self._lock:
            self._cancel_timer()
            if self._reader is None:
                self._reader = Store(self.path, read_only=True, wait=wait)
                self._watch()
            self._busy += 1
            try:
                yield self._reader
            finally:
                self._busy -= 1
                self._arm_timer()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Store]:
        """A read-write store for one change.

        The read-only connection is replaced by a read-write one, which then serves the
        reads that follow (the view recomputing after a decision, the next decision) until
        the session is idle: reopening the file costs tens of milliseconds each way.
        """
        with self._lock:
            self._cancel_timer()
            if self._reader is not None and self._reader.read_only:
                self._close_reader()
            if self._reader is None:
                self._reader = Store(self.path)
                self._watch()
            self._busy += 1
            try:
                yield self._reader
            finally:
                self._busy -= 1
                self.generation += 1
                self._arm_timer()

    def prepare_writing(self) -> None:
        """Open the read-write connection now, ahead of a decision (e.g. while its reason is typed).

        Idle, it is closed like any other; a decision that follows soon finds it open.
        """
        with self._lock:
            self._cancel_timer()
            if self._reader is not None and self._reader.read_only and self._busy == 0:
                self._close_reader()
            if self._reader is None:
                self._reader = Store(self.path)
                self._watch()
            self._arm_timer()

    def release(self) -> None:
        """Close the connection now (another process may then write)."""
        with self._lock:
            self._cancel_timer()
            self._close_reader()
            self._reclaim = False  # taken back only after letting go for a waiting process

    close = release

    @property
    def holding(self) -> bool:
        """Whether a connection (read-only, or read-write after a decision) is open right now."""
        return self._reader is not None

    def _watch(self) -> None:
        """Look for other processes waiting for the file (one thread per session, started once)."""
        if self._watcher is not None and self._watcher.is_alive():
            return
        self._watcher = threading.Thread(target=_watch, args=(weakref.ref(self), self.watch), daemon=True,
                                         name=f"caselib-session-watch-{self.path.name}")
        self._watcher.start()

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm_timer(self) -> None:
        self._cancel_timer()
        if self.idle is not None and self.idle >= 0:
            self._timer = threading.Timer(self.idle, self.release)
            self._timer.daemon = True
            self._timer.start()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _watch(ref: weakref.ref, every: float) -> None:
    """Release the session whenever another process waits for its file, and take the file
    back (read-only, caches warmed) once that process is done; ends with the session."""
    import time

    from caselib.errors import StoreError

    while True:
        time.sleep(every)
        session = ref()
        if session is None:
            return
        if session.holding and others_waiting(session.path):
            with session._lock:  # after any read or write under way
                session.release()
                # Taken back later, unless the session never keeps the file (idle 0).
                session._reclaim = session.idle is None or session.idle > 0
        elif session._reclaim and not session.holding and not others_waiting(session.path):
            # The next interaction would otherwise pay for opening the file and reading its
            # columns from disk: about 50 ms at a million tips.
            with session._lock, contextlib.suppress(StoreError):
                if not session.holding:
                    store = Store(session.path, read_only=True, wait=0)
                    store.scalar(_WARM_UP)
                    session._reader = store
                    session._arm_timer()
                session._reclaim = False
        del session


# The columns the views filter and count on, read once into DuckDB's buffers.
_WARM_UP = (
    "SELECT count(object_id) + count(received_at) + count(triage_status) + count(reporter_country)"
    " + count(suggested_country) + count(reporter_country_raw) + count(suggested_country_raw) FROM tips"
)


def _release(ref: weakref.ref) -> None:
    session = ref()
    if session is not None:
        session.release()
