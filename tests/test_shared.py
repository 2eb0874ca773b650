"""Team mode against a real PostgreSQL server (Debian's, started by the tests: tests/pg.py).

Each test gets a database of its own on one server, initialised by `caselib shared init`'s
code, with logins of every role: ada (admin), rita (reviewer), ann and bob (analysts), vic
(viewer). Copies are real DuckDB files; loads are the loader's own.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pg
import psycopg
import pytest

from caselib import Store
from caselib.domain import audit
from caselib.domain import team as decisions
from caselib.domain.team import load
from caselib.errors import CaselibError
from caselib.store.shared import Conflict, NotAllowed, SharedError, connect, shared_url
from caselib.store.shared.push import admin_write
from caselib.store.shared.schema import SHARED_SCHEMA_VERSION, add_user, init
from caselib.store.shared.sync import copy_rev, sync
from caselib.store.shared.tables import TABLES
from conftest import OBJECTS, WAVES, tip, write_csv

USERS = {"ada": "admin", "rita": "reviewer", "ann": "analyst", "bob": "analyst", "vic": "viewer"}


@pytest.fixture(scope="module")
def server():
    with pg.start() as running:
        yield running


class Team:
    def __init__(self, server, database: str, folder: Path):
        self.server, self.database, self.folder = server, database, folder
        self._open = []

    def url(self, user: str) -> str:
        return self.server.url_for(user, f"pw-{user}", self.database)

    def connect(self, user: str):
        shared = connect(self.url(user))
        self._open.append(shared)
        return shared

    def copy(self, name: str) -> Store:
        store = Store(self.folder / f"{name}.duckdb")
        self._open.append(store)
        return store

    def close(self):
        for item in reversed(self._open):
            item.close()


@pytest.fixture
def team(server, tmp_path):
    database = "t_" + uuid.uuid4().hex[:10]
    url = server.fresh_database(database)
    with connect(url) as superuser:
        assert init(superuser) == ["001_initial", "002_roles", "003_integrity"]
        for name, role in USERS.items():
            add_user(superuser, name, role, f"pw-{name}")
    t = Team(server, database, tmp_path)
    yield t
    t.close()


def _campaign(folder: Path, tips: list[dict]) -> dict[str, Path]:
    return {
        "waves": write_csv(folder / "waves.csv", WAVES),
        "objects": write_csv(folder / "objects.csv", OBJECTS),
        "tips": write_csv(folder / "tips.csv", tips),
    }


TIPS = [tip(f"T{i:03d}", object_id="G01" if i % 3 else "G02", tip_text=f"a blue wrapper seen in Lisbon number {i}")
        for i in range(1, 31)]


@pytest.fixture(scope="module")
def template(server, tmp_path_factory):
    """A store with two waves, three objects and 30 tips loaded by ada, made once per module:
    each test's store is made from it (CREATE DATABASE … TEMPLATE), ada's copy from her file."""
    folder = tmp_path_factory.mktemp("template")
    database = "tpl_" + uuid.uuid4().hex[:10]
    with connect(server.fresh_database(database)) as superuser:
        init(superuser)
        for name, role in USERS.items():
            add_user(superuser, name, role, f"pw-{name}")
    files = _campaign(folder, TIPS)
    with connect(server.url_for("ada", "pw-ada", database)) as ada, Store(folder / "ada.duckdb") as copy:
        for kind in ("waves", "objects", "tips"):
            load(copy, ada, kind, files[kind], refresh=False, progress=False)
    return database, folder / "ada.duckdb"


@pytest.fixture
def loaded(server, template, tmp_path):
    """The team's store with the template's campaign, and ``.admin``: ada's copy of it."""
    import shutil

    database = "t_" + uuid.uuid4().hex[:10]
    server.sql(f'CREATE DATABASE "{database}" TEMPLATE "{template[0]}"')
    shutil.copy(template[1], tmp_path / "ada.duckdb")
    t = Team(server, database, tmp_path)
    t.admin = t.copy("ada")
    yield t
    t.close()


def _table_rows(store: Store, name: str):
    return store.arrow(f"SELECT * FROM {name} ORDER BY ALL")


def assert_same_copies(a: Store, b: Store):
    for table in TABLES:
        assert _table_rows(a, table.name).equals(_table_rows(b, table.name)), table.name


# -- the store and its schema -------------------------------------------------------------


def test_init_creates_the_versioned_schema_and_the_roles_once(team):
    with connect(team.server.url_for("postgres", team.server.password, team.database)) as superuser:
        assert init(superuser) == []  # again: nothing to apply
        versions = superuser.rows("SELECT version, name FROM caselib.schema_version ORDER BY version")
        assert [v for v, _ in versions] == list(range(1, SHARED_SCHEMA_VERSION + 1))
        roles = {r for (r,) in superuser.rows("SELECT rolname FROM pg_roles WHERE rolname LIKE 'caselib\\_%'")}
        assert roles == {"caselib_viewer", "caselib_analyst", "caselib_reviewer", "caselib_admin"}
        columns = {c for (c,) in superuser.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'caselib' AND table_name = 'tips'")}
    from caselib.store import schema_columns

    assert columns == {c for c, _, _ in schema_columns()["tips"]} | {"_rev"}
    assert team.connect("ann").roles() == ["viewer", "analyst"]
    assert team.connect("ada").roles() == ["viewer", "analyst", "reviewer", "admin"]


def test_the_url_comes_from_the_option_or_the_environment_and_errors_are_one_line(monkeypatch, team):
    monkeypatch.delenv("CASELIB_SHARED_URL", raising=False)
    assert shared_url(None) is None
    monkeypatch.setenv("CASELIB_SHARED_URL", team.url("ann"))
    assert shared_url(None) == team.url("ann")
    assert shared_url("postgresql://x@h/db") == "postgresql://x@h/db"
    with pytest.raises(SharedError, match="must start with postgresql://"):
        shared_url("mysql://x@h/db")
    with pytest.raises(SharedError) as refused:
        connect(team.server.url_for("ann", "wrong-password", team.database))
    assert "pw-ann" not in str(refused.value) and "wrong-password" not in str(refused.value)
    assert "\n" not in str(refused.value) and "cannot connect to the shared store" in str(refused.value)
    with pytest.raises(SharedError, match="cannot connect"):
        connect(f"postgresql://ann:pw@127.0.0.1:{pg._free_port()}/caselib")


# -- loads and copies -------------------------------------------------------------------------


def test_a_load_into_the_shared_store_reaches_every_copy_whole(loaded, tmp_path):
    ada_copy = loaded.admin
    bob = loaded.connect("bob")
    copy = loaded.copy("bob")
    result = sync(copy, bob)
    assert result.rows["tips"] == 30 and result.rows["load_batches"] == 3
    assert_same_copies(ada_copy, copy)
    assert copy_rev(copy) == bob.rev() == 3
    assert sync(copy, bob).changed is False  # nothing new: one query


def test_a_reload_is_idempotent_and_the_quarantine_is_shared(team, tmp_path):
    bad = [*TIPS[:5], tip("T900", received_at="not a time")]
    files = _campaign(tmp_path, bad)
    ada, copy = team.connect("ada"), team.copy("ada")
    for kind in ("waves", "objects", "tips"):
        load(copy, ada, kind, files[kind], refresh=False, progress=False)
    again, _ = load(copy, ada, "tips", files["tips"], refresh=False, progress=False)
    assert again.repeated and again.inserted == 0 and again.rejected == 1
    assert ada.scalar("SELECT count(*) FROM caselib.tips") == 5
    reasons = ada.rows("SELECT reason FROM caselib.rejected_rows")
    assert len(reasons) == 1 and "received_at" in reasons[0][0]
    other = team.copy("other")
    sync(other, team.connect("vic"))
    assert_same_copies(copy, other)


def test_only_an_administrator_loads(loaded, tmp_path):
    ann = loaded.connect("ann")
    copy = loaded.copy("ann")
    sync(copy, ann)
    before = ann.rev()
    more = write_csv(tmp_path / "more.csv", [tip("T500")])
    with pytest.raises(NotAllowed, match="administrator"):
        load(copy, ann, "tips", more, refresh=False, progress=False)
    assert ann.rev() == before and copy.scalar("SELECT count(*) FROM tips WHERE tip_id = 'T500'") == 0


def test_a_copy_of_its_own_campaign_or_of_another_store_is_refused(loaded, campaign_store, server, tmp_path):
    with pytest.raises(SharedError, match="holds a campaign of its own"):
        sync(campaign_store, loaded.connect("ann"))
    copy = loaded.copy("ann")
    sync(copy, loaded.connect("ann"))
    other = server.fresh_database("o_" + uuid.uuid4().hex[:8])
    with connect(other) as superuser:
        init(superuser)
        with pytest.raises(SharedError, match="another shared store"):
            sync(copy, superuser)


def test_a_failed_write_leaves_neither_the_server_nor_the_copy_changed(loaded):
    ada = loaded.connect("ada")
    copy = loaded.admin
    before = ada.rev()
    with pytest.raises(RuntimeError, match="boom"):
        with admin_write(copy, ada):
            copy.execute("UPDATE tips SET tip_text = 'changed' WHERE tip_id = 'T001'")
            raise RuntimeError("boom")
    assert ada.rev() == before
    assert copy.scalar("SELECT tip_text FROM tips WHERE tip_id = 'T001'") != "changed"
    assert ada.scalar("SELECT tip_text FROM caselib.tips WHERE tip_id = 'T001'") != "changed"


# -- decisions --------------------------------------------------------------------------------


def _seen(store: Store, *tips) -> dict:
    return {t: tuple(store.rows("SELECT triage_status, forwarded_to FROM tips WHERE tip_id = $t", {"t": t})[0]) for t in tips}


def test_a_decision_on_the_server_reaches_the_copies_and_the_chain_verifies(loaded):
    ann = loaded.connect("ann")
    copy = loaded.copy("ann")
    sync(copy, ann)
    decision = decisions.decide(ann, ["T001", "T002"], status="actionable", reason="points to Lisbon",
                           expected=_seen(copy, "T001", "T002"))
    assert decision.changed == 2 and decision.decided_by == "ann"
    moved = sync(copy, ann)
    assert moved.rows["tips"] == 2 and moved.rows["tip_triage_history"] == 2 and moved.rows["audit_log"] == 1
    assert {t for t, n in moved.rows.items() if n} == {"tips", "tip_triage_history", "audit_log"}  # only what changed
    assert {t: n for t, n in moved.removed.items() if n} == {"tip_fingerprints": 2}
    assert copy.rows("SELECT triage_status FROM tips WHERE tip_id IN ('T001', 'T002')") == [("actionable",)] * 2
    assert copy.rows("SELECT decided_by, source FROM tip_triage_history WHERE tip_id = 'T001'") == [("ann", "analyst")]
    verified = audit.verify(copy)
    assert verified.ok, verified.problem
    assert copy.scalar("SELECT count(*) FROM tip_fingerprints WHERE tip_id IN ('T001', 'T002')") == 0


def test_two_analysts_deciding_the_same_tip_one_wins_the_other_is_told_who_what_when(loaded):
    ann, bob = loaded.connect("ann"), loaded.connect("bob")
    ann_copy, bob_copy = loaded.copy("ann"), loaded.copy("bob")
    sync(ann_copy, ann)
    sync(bob_copy, bob)
    decisions.decide(ann, ["T004"], status="actionable", reason="the shop bag of a Lisbon chain",
                expected=_seen(ann_copy, "T004"))
    with pytest.raises(Conflict) as lost:
        decisions.decide(bob, ["T004", "T005"], status="off_topic", reason="spam", expected=_seen(bob_copy, "T004", "T005"))
    message = str(lost.value)
    assert "T004 was made actionable by ann on" in message and "the shop bag of a Lisbon chain" in message
    assert "nothing was written" in message and "\n" not in message
    assert bob.rows("SELECT triage_status FROM caselib.tips WHERE tip_id IN ('T004', 'T005') ORDER BY tip_id") == [
        ("actionable",), ("new",)]
    sync(bob_copy, bob)  # seeing the new state, bob may decide again
    decisions.decide(bob, ["T004"], status="off_topic", reason="on second look: spam", expected=_seen(bob_copy, "T004"))
    assert bob.scalar("SELECT triage_status FROM caselib.tips WHERE tip_id = 'T004'") == "off_topic"


def test_concurrent_decisions_lose_nothing_and_keep_one_chain(loaded):
    users = ["ann", "bob", "rita", "ada"]
    connections = {u: loaded.connect(u) for u in users}
    outcomes: dict[str, list] = {u: [] for u in users}
    start = threading.Barrier(len(users))

    def work(user):
        shared = connections[user]
        start.wait()
        for i in range(1, 31):
            tip_id = f"T{i:03d}"
            try:
                decisions.decide(shared, [tip_id], status="not_actionable" if user in ("ann", "rita") else "actionable",
                            reason=f"{user} read it", expected={tip_id: ("new", None)})
                outcomes[user].append(tip_id)
            except Conflict:
                pass

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = sorted(t for u in users for t in outcomes[u])
    assert won == [f"T{i:03d}" for i in range(1, 31)]  # every tip decided once: one winner each
    copy = loaded.copy("check")
    sync(copy, connections["ann"])
    history = copy.rows("SELECT tip_id, decided_by FROM tip_triage_history WHERE source = 'analyst' ORDER BY tip_id")
    assert history == sorted((t, u) for u in users for t in outcomes[u])
    verified = audit.verify(copy)
    assert verified.ok and verified.records == 30, verified.problem


def test_a_claimed_tip_is_not_decided_by_another_analyst(loaded):
    ann, bob = loaded.connect("ann"), loaded.connect("bob")
    taken, held = decisions.claim(ann, ["T007", "T008"])
    assert taken == ["T007", "T008"] and held == []
    taken, held = decisions.claim(bob, ["T008", "T009"])
    assert taken == ["T009"] and [h[:2] for h in held] == [("T008", "ann")]
    with pytest.raises(Conflict, match=r"in review by another analyst \(T008 by ann since"):
        decisions.decide(bob, ["T008"], status="off_topic", reason="spam")
    decisions.decide(ann, ["T008"], status="actionable", reason="mine")  # the claimant may; the claim is done with
    assert ann.scalar("SELECT count(*) FROM caselib.tip_claims WHERE tip_id = 'T008'") == 0
    assert decisions.release(ann) == 1  # T007
    decisions.decide(bob, ["T007"], status="off_topic", reason="spam")
    # a claim that lapsed holds nothing
    decisions.claim(ann, ["T010"], minutes=-1)
    decisions.decide(bob, ["T010"], status="off_topic", reason="spam")
    copy = loaded.copy("bob")
    sync(copy, bob)
    assert copy.rows("SELECT tip_id, claimed_by FROM tip_claims ORDER BY tip_id") == [("T009", "bob"), ("T010", "ann")]


def test_closing_reopening_and_keeping_open_go_through_the_server(loaded):
    rita, ann = loaded.connect("rita"), loaded.connect("ann")
    rita_copy, ann_copy = loaded.copy("rita"), loaded.copy("ann")
    decisions.keep_open(ann_copy, ann, "G01", reason="more tips expected")
    with pytest.raises(NotAllowed):
        decisions.close_object(ann_copy, ann, "G01", outcome="exhausted", reason="no more leads")
    record = decisions.close_object(rita_copy, rita, "G01", outcome="exhausted", reason="no more leads")
    assert record.actor == "rita" and '"flag"' in record.payload
    with pytest.raises(CaselibError, match="already closed"):
        decisions.close_object(rita_copy, rita, "G01", outcome="exhausted", reason="again")
    decisions.reopen_object(rita_copy, rita, "G01", reason="a new lead")
    sync(ann_copy, ann)
    actions = [a for (a,) in ann_copy.rows("SELECT action FROM audit_log ORDER BY seq")]
    assert actions == ["keep_open", "close", "reopen"]
    assert ann_copy.scalar("SELECT status FROM objects WHERE object_id = 'G01'") == "open"
    assert audit.verify(ann_copy).ok


# -- roles ------------------------------------------------------------------------------------


def _refused(user_url: str, statement: str, *params):
    with psycopg.connect(user_url, autocommit=False) as con:
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException)):
            con.execute("SELECT caselib.begin_write()")
            con.execute(statement, params or None)


def test_the_database_enforces_the_roles(loaded):
    vic, ann, rita = loaded.url("vic"), loaded.url("ann"), loaded.url("rita")
    # a viewer reads and writes nothing
    assert connect(vic).scalar("SELECT count(*) FROM caselib.tips") == 30
    with psycopg.connect(vic) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("SELECT caselib.begin_write()")
    with pytest.raises(NotAllowed):
        decisions.decide(loaded.connect("vic"), ["T001"], status="off_topic", reason="x")
    # an analyst triages, but does not edit tips, forward, close, assign, or rewrite the audit
    _refused(ann, "UPDATE caselib.tips SET tip_text = 'edited' WHERE tip_id = 'T001'")
    _refused(ann, "UPDATE caselib.tips SET triage_status = 'forwarded', forwarded_to = 'PRT' WHERE tip_id = 'T001'")
    with pytest.raises(NotAllowed):
        decisions.decide(loaded.connect("ann"), ["T001"], status="forwarded", forwarded_to="PRT", reason="to Portugal")
    _refused(ann, "UPDATE caselib.objects SET status = 'closed' WHERE object_id = 'G01'")
    with pytest.raises(NotAllowed):
        decisions.assign(loaded.connect("ann"), "object", ["G01"], "bob", reason="yours")
    _refused(ann, "DELETE FROM caselib.audit_log")
    _refused(ann, "DELETE FROM caselib.tips")
    _refused(ann, "INSERT INTO caselib.waves (wave_id, launched_on, batch_id) VALUES ('x', '2020-01-01', 1)")
    _refused(ann, "UPDATE caselib.clock SET rev = 0")
    _refused(ann, "INSERT INTO caselib.tombstones VALUES ('tips', 'T001', 1)")
    _refused(ann, "INSERT INTO caselib.tip_claims VALUES ('T001', 'bob', now(), now() + interval '1 hour')")
    # a reviewer forwards, closes and assigns
    decisions.decide(loaded.connect("rita"), ["T001"], status="forwarded", forwarded_to="PRT", reason="to Portugal")
    decisions.assign(loaded.connect("rita"), "object", ["G01"], "ann", reason="yours")
    with psycopg.connect(rita) as con:
        assert con.execute("SELECT assigned_to FROM caselib.object_assignments").fetchall() == [("ann",)]


def _write_record(shared, record):
    """Insert an audit record as it is, inside a write: what a client of its own could try."""
    with shared.con.transaction():
        shared.con.execute("SELECT caselib.begin_write()")
        shared.con.execute("INSERT INTO caselib.audit_log (seq, recorded_at, actor, action, object_id, batch_id, payload, "
                           "prev_hash, hash) VALUES (%s, %s, %s, %s, NULL, NULL, %s, %s, %s)",
                           (record.seq, record.recorded_at, record.actor, record.action, record.payload,
                            record.prev_hash, record.hash))


def test_the_server_keeps_the_audit_one_chain_whoever_writes(loaded):
    ann = loaded.connect("ann")
    decisions.decide(ann, ["T001"], status="off_topic", reason="spam")
    head = ann.rows("SELECT seq, hash FROM caselib.audit_log ORDER BY seq DESC LIMIT 1")[0]
    record = audit.new_record((head[0] - 1, "f" * 64), action="triage", payload={"forged": True}, actor="ann")
    with pytest.raises(psycopg.errors.SerializationFailure, match="audit chain moved"):
        _write_record(ann, record)
    record = audit.new_record(head, action="triage", payload={"as": "bob"}, actor="bob")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="recorded by who is connected"):
        _write_record(ann, record)
    with pytest.raises(psycopg.errors.RaiseException, match="must begin with caselib.begin_write"):
        with ann.con.transaction():
            ann.con.execute("INSERT INTO caselib.tip_claims VALUES ('T002', 'ann', now(), now())")


def test_a_copy_takes_no_change_but_from_the_server(loaded, tmp_path):
    from caselib.domain.triage import decide
    from caselib.errors import StoreError

    ann = loaded.connect("ann")
    copy = loaded.copy("ann")
    sync(copy, ann)
    with pytest.raises(StoreError, match="is a copy of a team's shared store"):
        decide(copy, ["T001"], status="off_topic", reason="locally")
    with pytest.raises(StoreError, match="is a copy of a team's shared store"):
        audit.close_object(copy, "G01", outcome="exhausted", reason="locally")
    from caselib.domain.enrich import refresh_all

    with pytest.raises(StoreError, match="refresh of clusters"):
        refresh_all(copy)
    assert copy.scalar("SELECT triage_status FROM tips WHERE tip_id = 'T001'") == "new"


def _clustered(team, tmp_path):
    """ada loads tips whose texts repeat (so that the refresh clusters them) and refreshes."""
    texts = ["the soap wrapper is sold in every Lidl in Portugal, I bought one last week"] * 3
    tips = [tip(f"C{i}", tip_text=text) for i, text in enumerate(texts, start=1)] + TIPS[:3]
    files = _campaign(tmp_path, tips)
    ada, copy = team.connect("ada"), team.copy("ada")
    for kind in ("waves", "objects", "tips"):
        load(copy, ada, kind, files[kind], refresh=False, progress=False)
    from caselib.domain.enrich import refresh_all

    with admin_write(copy, ada):  # the clusters only: languages and names are not the subject
        lines = refresh_all(copy, ("clusters",))
    cluster = ada.scalar("SELECT cluster_id FROM caselib.tip_cluster_members WHERE tip_id = 'C1'")
    assert cluster is not None, lines
    return cluster


def test_cluster_decisions_go_through_the_server_first_come_first_served(team, tmp_path):
    cluster = _clustered(team, tmp_path)
    ann, bob = team.connect("ann"), team.connect("bob")
    ann_copy, bob_copy = team.copy("ann"), team.copy("bob")
    sync(ann_copy, ann)
    sync(bob_copy, bob)
    decisions.decide_cluster(ann_copy, ann, cluster, "confirmed", reason="the same sentence three times")
    with pytest.raises(Conflict, match=f"cluster {cluster} was made confirmed by ann on .*the same sentence"):
        decisions.decide_cluster(bob_copy, bob, cluster, "rejected", reason="different people")
    decisions.remove_from_cluster(bob_copy, bob, "C3", reason="a different shop")
    sync(bob_copy, bob)
    assert bob_copy.rows("SELECT state, decided_by FROM tip_clusters WHERE cluster_id = $c", {"c": cluster}) == [
        ("confirmed", "ann")]
    assert [t for (t,) in bob_copy.rows("SELECT tip_id FROM tip_cluster_members WHERE cluster_id = $c ORDER BY tip_id",
                                        {"c": cluster})] == ["C1", "C2"]
    assert bob_copy.rows("SELECT action, decided_by FROM tip_cluster_decisions ORDER BY decided_at") == [
        ("confirmed", "ann"), ("removed", "bob")]
    assert audit.verify(bob_copy).ok
    with pytest.raises(NotAllowed):
        decisions.decide_cluster(team.copy("vic"), team.connect("vic"), cluster, "rejected", reason="x")


def test_forwarding_from_the_shared_store_is_a_reviewers(loaded, tmp_path):
    import zipfile

    from caselib.presentation.forwarding import write_shared_package as write_package

    rita, ann = loaded.connect("rita"), loaded.connect("ann")
    decisions.decide(ann, ["T001", "T002", "T003"], status="actionable", reason="points to France")
    ann_copy = loaded.copy("ann")
    sync(ann_copy, ann)
    with pytest.raises(NotAllowed):
        write_package(ann_copy, ann, "FRA", tmp_path / "ann.zip")
    assert not (tmp_path / "ann.zip").exists()
    rita_copy = loaded.copy("rita")
    package = write_package(rita_copy, rita, "FRA", tmp_path / "fra.zip")
    assert package.tips == 3 and package.path == tmp_path / "fra.zip"
    names = zipfile.ZipFile(tmp_path / "fra.zip").namelist()
    assert "manifest.json" in names and "tips.csv" in names
    assert rita.rows("SELECT DISTINCT triage_status, forwarded_to FROM caselib.tips WHERE tip_id IN ('T001','T002','T003')") == [
        ("forwarded", "FRA")]
    assert rita.scalar("SELECT action FROM caselib.audit_log ORDER BY seq DESC LIMIT 1") == "forward"
    again = write_package(rita_copy, rita, "FRA", tmp_path / "again.zip")  # nothing new to forward
    assert not (tmp_path / "again.zip").exists() and again.audit_seq is None
    assert audit.verify(rita_copy).ok


_LOADER = """
import sys
from caselib import Store
from caselib.store.shared import connect
from caselib.domain.team import load
store = Store(sys.argv[1])
load(store, connect(sys.argv[2]), "tips", sys.argv[3], refresh=False, progress=False)
"""


def _many_tips(path: Path, count: int) -> Path:
    rows = [tip(f"K{i:07d}", object_id=("G01", "G02", "G03")[i % 3], tip_text=f"seen in shop number {i}")
            for i in range(count)]
    return write_csv(path, rows)


@pytest.mark.parametrize("moment", ["the copy's load", "the server's insert"])
def test_a_shared_load_killed_leaves_neither_side_changed_and_loads_again(loaded, tmp_path, moment):
    import os
    import signal
    import subprocess
    import sys
    import time

    ada = loaded.connect("ada")
    copy_path = loaded.admin.path
    loaded.admin.close()
    loaded._open.remove(loaded.admin)
    before = ada.rev(), ada.scalar("SELECT count(*) FROM caselib.tips")
    big = _many_tips(tmp_path / "big.csv", 100_000)
    child = subprocess.Popen([sys.executable, "-c", _LOADER, str(copy_path), loaded.url("ada"), str(big)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = time.monotonic()
    watch = connect(loaded.server.url_for("postgres", loaded.server.password, loaded.database))
    reached = False
    try:
        while child.poll() is None and time.monotonic() - started < 120:
            if moment == "the copy's load":  # the server's write is open (the clock held) while the copy loads
                reached = bool(watch.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ada' AND state = 'idle in transaction' "
                    "AND query LIKE '%SELECT caselib.begin_write()%'"))  # (ADBC reads by COPY … TO STDOUT)
            else:
                reached = bool(watch.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'ada' AND state = 'active' "
                    "AND query LIKE 'INSERT INTO caselib.tips%'"))
            if reached:
                break
            time.sleep(0.02)
        assert reached and child.poll() is None, f"the load was not killed at {moment}: {child.stderr.read().decode()[-500:]}"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        # the server notices the dropped connection and rolls back; its lock goes with it
        deadline = time.monotonic() + 60
        while watch.scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = 'ada' AND pid <> pg_backend_pid() "
                           "AND application_name <> 'caselib' AND state <> 'idle'") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watch.close()
    assert (ada.rev(), ada.scalar("SELECT count(*) FROM caselib.tips")) == before
    assert ada.scalar("SELECT count(*) FROM caselib.load_batches") == 3
    with Store(copy_path) as copy:
        assert copy.scalar("SELECT count(*) FROM tips") == before[1] and copy_rev(copy) == before[0]
        result, _ = load(copy, ada, "tips", big, refresh=False, progress=False)  # and again, whole
        assert result.inserted == 100_000
        other = loaded.copy("other")
        sync(other, loaded.connect("vic"))
        assert_same_copies(copy, other)


def test_a_sync_during_a_write_neither_waits_nor_sees_half_of_it(loaded):
    ann, bob = loaded.connect("ann"), loaded.connect("bob")
    copy = loaded.copy("bob")
    sync(copy, bob)
    with ann.writing() as number:  # ann's write holds the clock, half done
        ann.con.execute("INSERT INTO caselib.tip_claims VALUES ('T001', 'ann', now(), now() + interval '1 hour')")
        result = sync(copy, bob)
        assert not result.changed and result.upto == number - 1
        ann.con.execute("INSERT INTO caselib.tip_claims VALUES ('T002', 'ann', now(), now() + interval '1 hour')")
    result = sync(copy, bob)
    assert result.upto == number and result.rows["tip_claims"] == 2


def test_a_triage_or_closure_change_commits_only_with_its_records(loaded):
    ann, rita = loaded.url("ann"), loaded.url("rita")
    with psycopg.connect(ann) as con, pytest.raises(psycopg.errors.InsufficientPrivilege, match="triage history"):
        con.execute("SELECT caselib.begin_write()")
        con.execute("UPDATE caselib.tips SET triage_status = 'off_topic' WHERE tip_id = 'T001'")
    with psycopg.connect(ann) as con, pytest.raises(psycopg.errors.InsufficientPrivilege, match="no audit record"):
        con.execute("SELECT caselib.begin_write()")
        con.execute("INSERT INTO caselib.tip_triage_history (tip_id, changed_at, old_triage_status, new_triage_status, "
                    "source, decided_by, reason, audit_seq) VALUES ('T001', now(), 'new', 'off_topic', 'analyst', 'ann', 'x', 99)")
        con.execute("UPDATE caselib.tips SET triage_status = 'off_topic' WHERE tip_id = 'T001'")
        con.commit()
    with psycopg.connect(rita) as con, pytest.raises(psycopg.errors.InsufficientPrivilege, match="audit record"):
        con.execute("SELECT caselib.begin_write()")
        con.execute("UPDATE caselib.objects SET status = 'closed', closed_on = current_date WHERE object_id = 'G01'")
        con.commit()
    shared = loaded.connect("ann")
    assert shared.scalar("SELECT triage_status FROM caselib.tips WHERE tip_id = 'T001'") == "new"
    assert shared.scalar("SELECT status FROM caselib.objects WHERE object_id = 'G01'") == "open"


def test_the_report_and_the_figures_read_a_copy_as_they_read_a_database_of_ones_own(loaded):
    import datetime as dt

    from caselib.domain.closure import closure_flags
    from caselib.presentation.report import build_report, report_figures

    decisions.decide(loaded.connect("ann"), ["T001", "T002"], status="actionable", reason="points to France")
    vic = loaded.connect("vic")
    viewer, admin = loaded.copy("vic"), loaded.admin
    sync(viewer, vic)
    sync(admin, loaded.connect("ada"))
    day = dt.date(2026, 12, 1)
    ours, theirs = build_report(viewer, as_of=day), build_report(admin, as_of=day)
    assert report_figures(ours.html) == report_figures(theirs.html) and ours.figures == theirs.figures > 0
    assert closure_flags(viewer, as_of=day).equals(closure_flags(admin, as_of=day))
    viewer.close()
    with Store(viewer.path, read_only=True) as read_only:  # what the dashboard opens
        assert read_only.scalar("SELECT count(*) FROM tips WHERE triage_status = 'actionable'") == 2


@pytest.mark.parametrize("target", ["lab", "dashboard"])
def test_make_lab_and_dashboard_sync_a_teams_copy_instead_of_building_the_demo(target):
    import subprocess

    root = Path(__file__).resolve().parents[1]
    team_run = subprocess.run(["make", "-n", target, "CASELIB_SHARED_URL=postgresql://ann@server/caselib"],
                              cwd=root, capture_output=True, text=True, check=True).stdout
    alone = subprocess.run(["make", "-n", target], cwd=root, capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "CASELIB_SHARED_URL"},
                           check=True).stdout
    assert "caselib sync" in team_run and "demo --if-missing" not in team_run
    assert "caselib demo --if-missing" in alone and "caselib sync" not in alone
