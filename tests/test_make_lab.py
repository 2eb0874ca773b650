"""`make lab` builds the demo database when there is none and serves JupyterLab locally."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request

from caselib import Store
from servers import ROOT, free_port, lab_token, make_target, wait_for


def test_make_lab_builds_the_demo_and_serves_the_notebooks(tmp_path):
    db = tmp_path / "lab.duckdb"
    port = free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "CASELIB_DB": str(db), "PORT": str(port), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    env.pop("DISPLAY", None)
    with make_target("lab", env, log) as process:
        token = wait_for(lambda: lab_token(log, port), process, log, what="make lab")
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
