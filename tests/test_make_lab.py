"""`make lab` builds the demo database when there is none and serves JupyterLab locally."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from caselib import Store

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_lab_builds_the_demo_and_serves_the_notebooks(tmp_path):
    db = tmp_path / "lab.duckdb"
    port = _free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "CASELIB_DB": str(db), "PORT": str(port), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    env.pop("DISPLAY", None)
    with log.open("w") as out:
        process = subprocess.Popen(["make", "-s", "lab"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        token = None
        while time.monotonic() < deadline and token is None:
            assert process.poll() is None, log.read_text()[-2000:]
            match = re.search(rf"http://127\.0\.0\.1:{port}/\S*token=([0-9a-f]+)", log.read_text())
            token = match.group(1) if match else None
            time.sleep(0.5)
        assert token, log.read_text()[-2000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/notebooks?token={token}", timeout=30) as response:
            listing = json.load(response)
        assert "00_start_here.ipynb" in {item["name"] for item in listing["content"]}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=30) as response:
            assert response.status == 200
        # bound to loopback only
        with socket.socket() as sock:
            addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
            for address in addresses:
                assert sock.connect_ex((address, port)) != 0
        with Store(db, read_only=True) as store:
            assert store.scalar("SELECT count(*) FROM tips") > 20_000
            assert store.scalar("SELECT count(*) FROM load_batches WHERE origin <> 'demo'") == 0
        assert "--no-browser" in subprocess.run(["make", "-n", "lab"], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
