"""A real PostgreSQL server for the team-mode tests and benchmark, started by them.

Debian's ``postgresql`` (installed with apt-get when missing, as the browser tests install
Chromium) runs a temporary cluster owned by the ``postgres`` user, listening on 127.0.0.1 on a
free port, with password (SCRAM) authentication over TCP so that connecting as a role is a
real login. CI has no server running: :func:`start` makes one and stops it afterwards.

    with pg.start() as server:
        server.url            # postgresql://postgres:…@127.0.0.1:PORT/caselib (superuser)
        server.login("alice", "secret")   # a login role, no rights yet
        server.url_for("alice", "secret")
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DATABASE = "caselib"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def ensure_postgresql() -> Path:
    """The folder of Debian's PostgreSQL server programs, installing ``postgresql`` when missing."""
    from browser import apt_install

    apt_install("postgresql", lambda: _bin_dir() is not None, "team-mode tests need a PostgreSQL server")
    return _bin_dir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:  # the server refuses to run as root
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


@dataclass
class Server:
    host: str
    port: int
    password: str
    folder: Path

    def url_for(self, user: str, password: str, database: str = DATABASE) -> str:
        return f"postgresql://{quote(user)}:{quote(password)}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """The superuser's URL (what ``caselib shared init`` is run with)."""
        return self.url_for("postgres", self.password)

    def sql(self, statement: str, *params, user: str | None = None, password: str | None = None):
        """Run one statement (as the superuser unless ``user``) and return its rows, or None."""
        import psycopg

        url = self.url if user is None else self.url_for(user, password)
        with psycopg.connect(url, autocommit=True) as con:
            cur = con.execute(statement, params or None)
            return cur.fetchall() if cur.description else None

    def login(self, user: str, password: str) -> str:
        """Create the login role ``user`` (no memberships) and return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(password)))
        return self.url_for(user, password)

    def fresh_database(self, name: str) -> str:
        """Create an empty database ``name``; returns the superuser's URL of it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for("postgres", self.password, name)


@contextlib.contextmanager
def start(*, durable: bool = False):
    """Run a temporary PostgreSQL cluster until the block ends, then remove it.

    Its folder is a new one under the system's temporary folder (the ``postgres`` user
    must reach it, which a test's own ``tmp_path`` does not allow).

    ``durable`` keeps PostgreSQL's defaults (fsync, synchronous commit): the benchmark's
    setting. The tests run without them, as a throwaway cluster may."""
    import tempfile

    import psycopg

    bin_dir = ensure_postgresql()
    folder = Path(tempfile.mkdtemp(prefix="caselib-pg-"))
    data = folder / "data"
    run = folder / "run"
    for path in (data, run):
        path.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        for path in (data, run, pwfile):
            shutil.chown(path, "postgres", "postgres")
    init = _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}",
                         "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8"])
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    pwfile.unlink()
    port = _free_port()
    options = ["-c listen_addresses=127.0.0.1", f"-c port={port}", f"-c unix_socket_directories={run}",
               "-c max_connections=100", "-c shared_buffers=256MB"]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    log = folder / "server.log"
    started = _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                            "-o", " ".join(options), "start"])
    if started.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else started.stderr
        raise RuntimeError(f"the PostgreSQL server did not start: {tail}")
    server = Server("127.0.0.1", port, password, folder)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(server.url_for("postgres", password, "postgres"), autocommit=True) as con:
                    con.execute(f"CREATE DATABASE {DATABASE}")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
