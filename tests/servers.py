"""`make lab` and `make dashboard` started by tests, on a free loopback port, and stopped."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def make_target(target: str, env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """Run ``make -s target`` in its own process group; stop the whole group at the end."""
    with log.open("w") as out:
        process = subprocess.Popen(["make", "-s", target], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_for(condition, process: subprocess.Popen, log: Path, *, seconds: float = 240, what: str = "the server"):
    """Poll ``condition()`` until it returns something true; fail with the log's tail otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} stopped: {log.read_text()[-2000:]}")
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what} did not start within {seconds:.0f} s: {log.read_text()[-2000:]}")


def lab_token(log: Path, port: int) -> str | None:
    match = re.search(rf"http://127\.0\.0\.1:{port}/\S*token=([0-9a-f]+)", log.read_text())
    return match.group(1) if match else None


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def served_lab(db: Path, folder: Path) -> Iterator[tuple[str, str, str]]:
    """`make lab` on database ``db`` (logs and runtime files in ``folder``), its working copies
    in a folder of their own inside the ignored work/ (never an analyst's; removed at the end).
    Yields the lab's URL, its token and the working-copy folder, relative to the checkout."""
    import shutil
    import uuid

    port = free_port()
    log = folder / "lab.log"
    work = f"work/pytest-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CASELIB_DB": str(db), "PORT": str(port), "JUPYTER_RUNTIME_DIR": str(folder / "rt"),
           "LAB_WORK": work}
    env.pop("DISPLAY", None)
    try:
        with make_target("lab", env, log) as process:
            token = wait_for(lambda: lab_token(log, port), process, log, what="make lab")
            yield f"http://127.0.0.1:{port}", token, work
    finally:
        shutil.rmtree(ROOT / work, ignore_errors=True)


@contextlib.contextmanager
def served_dashboard(db: Path, folder: Path) -> Iterator[str]:
    """`make dashboard` on database ``db`` (its log in ``folder``), on a free port; yields its URL."""
    port = free_port()
    env = {**os.environ, "CASELIB_DB": str(db), "PORT": str(port)}
    log = folder / "dashboard.log"
    with make_target("dashboard", env, log) as process:
        wait_for(lambda: port_open(port), process, log, seconds=180, what="make dashboard")
        yield f"http://127.0.0.1:{port}/"
