"""Team mode through the `caselib` command, run as real processes against a real PostgreSQL
server (Debian's, started by the tests: tests/pg.py), one server for the module.

The module's team is set up as a team would: `caselib shared init` as the superuser, a
`caselib shared user add` per person with a password file (ada admin, rita reviewer, ann and
bob analysts, vic viewer), then ada loads the campaign with `--shared`. Each analyst works on
a DuckDB copy of their own; results are checked on the server and in the copies. Every run's
output is checked for every password (none may appear).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pg
import psycopg
import pytest

from browser import ensure_chromium
from caselib import Store
from caselib.store.shared.schema import SHARED_SCHEMA_VERSION, migrations
from conftest import OBJECTS, WAVES, tip, write_csv
from test_cli import assert_one_line_error

CASELIB = [sys.executable, "-m", "caselib"]
USERS = {"ada": "admin", "rita": "reviewer", "ann": "analyst", "bob": "analyst", "vic": "viewer"}
PASSWORDS = {name: f"Pw-{name}-{uuid.uuid4().hex[:10]}" for name in USERS}
TIPS = [tip(f"T{i:03d}", object_id="G01" if i % 3 else "G02", tip_text=f"a blue wrapper seen in Lisbon number {i}")
        for i in range(1, 31)]

_SECRETS = list(PASSWORDS.values())  # and the superuser's, once the server runs


def caselib(*args: str, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    """Run the real command (without the runner's CASELIB_SHARED_URL unless ``env`` sets it);
    no password may appear in what it prints."""
    environment = {k: v for k, v in os.environ.items() if k != "CASELIB_SHARED_URL"}
    environment.update(env or {})
    result = subprocess.run([*CASELIB, *args], capture_output=True, text=True, env=environment, timeout=300, **options)
    printed = result.stdout + result.stderr
    leaked = [secret for secret in _SECRETS if secret in printed]
    assert leaked == [], f"a password was printed: {printed}"
    assert "Traceback" not in printed, printed
    return result


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def server():
    with pg.start() as running:
        _SECRETS.append(running.password)
        yield running


class Team:
    """One shared store (a database of the server) and each person's copy."""

    def __init__(self, server, database: str, folder: Path):
        self.server, self.database, self.folder = server, database, folder

    def url(self, user: str) -> str:
        return self.server.url_for(user, PASSWORDS[user], self.database)

    @property
    def superuser_url(self) -> str:
        return self.server.url_for("postgres", self.server.password, self.database)

    def copy(self, user: str) -> Path:
        return self.folder / f"{user}.duckdb"

    def run(self, user: str, *args: str, db: Path | None = None, **options) -> subprocess.CompletedProcess:
        """`caselib --db <user's copy> --shared <user's URL> ARGS`."""
        return caselib("--db", str(db or self.copy(user)), "--shared", self.url(user), *args, **options)

    def sql(self, statement: str, *params) -> list[tuple]:
        with psycopg.connect(self.superuser_url, autocommit=True) as con:
            return con.execute(statement, params or None).fetchall()


def _new_database(server) -> str:
    database = "t_" + uuid.uuid4().hex[:10]
    server.fresh_database(database)
    return database


@pytest.fixture(scope="module")
def team(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("team")
    t = Team(server, _new_database(server), folder)
    ok(caselib("--shared", t.superuser_url, "shared", "init"))
    for name, role in USERS.items():
        secret = folder / f"{name}.pw"
        secret.write_text(PASSWORDS[name] + "\n")
        added = ok(caselib("--shared", t.superuser_url, "shared", "user", "add", name, "--role", role,
                           "--password-file", str(secret)))
        assert f"{name} may log in" in added.stdout and f"as {role}" in added.stdout
    files = {
        "waves": write_csv(folder / "waves.csv", WAVES),
        "objects": write_csv(folder / "objects.csv", OBJECTS),
        "tips": write_csv(folder / "tips.csv", TIPS),
    }
    t.loads = [ok(t.run("ada", "load", kind, "--no-refresh", str(files[kind]))) for kind in ("waves", "objects", "tips")]
    return t


def _server_tip(team: Team, tip_id: str) -> tuple:
    return team.sql("SELECT triage_status, forwarded_to FROM caselib.tips WHERE tip_id = %s", tip_id)[0]


def _analyst_changes(team: Team, tip_id: str) -> list[tuple]:
    return team.sql("SELECT decided_by, new_triage_status FROM caselib.tip_triage_history "
                    "WHERE tip_id = %s AND source = 'analyst' ORDER BY changed_at", tip_id)


def _copy_rows(path: Path, statement: str, params=None) -> list[tuple]:
    with Store(path, read_only=True) as store:
        return store.rows(statement, params)


# -- setting the store up -------------------------------------------------------------------


def test_init_applies_the_migrations_once_and_says_so_the_second_time(server):
    url = server.url_for("postgres", server.password, _new_database(server))
    first = ok(caselib("--shared", url, "shared", "init"))
    names = ", ".join(f"{version:03d}_{name}" for version, name, _ in migrations())
    assert names.startswith("001_initial, 002_roles")
    assert f"applied {names} (schema version {SHARED_SCHEMA_VERSION})" in first.stdout
    assert "Store id " in first.stdout
    again = ok(caselib("--shared", url, "shared", "init"))
    assert f"already up to date (schema version {SHARED_SCHEMA_VERSION})" in again.stdout
    assert "applied" not in again.stdout
    # the store id stays the store's
    assert first.stdout.splitlines()[-1] == again.stdout.splitlines()[-1]
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*) FROM caselib.schema_version").fetchone()[0] == SHARED_SCHEMA_VERSION


def test_users_added_with_a_password_file_log_in_with_their_role(team, tmp_path):
    listed = ok(team.run("ada", "shared", "users")).stdout.splitlines()
    roles = dict(line.split() for line in listed[:-1])
    assert {name: roles.get(name) for name in USERS} == USERS
    assert "postgres" not in roles  # the superuser has no caselib role
    assert listed[-1] == f"{len(roles)} users"
    # a real login with the file's password, and the role the database gives it
    with psycopg.connect(team.url("ann"), autocommit=True) as con:
        assert con.execute("SELECT pg_has_role('caselib_analyst', 'MEMBER'), "
                           "pg_has_role('caselib_reviewer', 'MEMBER')").fetchone() == (True, False)
    # an administrator adds people too; an analyst may not
    erin = tmp_path / "erin.pw"
    erin.write_text("Pw-erin-0a1b2c3d\n")
    _SECRETS.append("Pw-erin-0a1b2c3d")
    ok(team.run("ada", "shared", "user", "add", "erin", "--role", "analyst", "--password-file", str(erin)))
    with psycopg.connect(team.server.url_for("erin", "Pw-erin-0a1b2c3d", team.database), autocommit=True) as con:
        assert con.execute("SELECT pg_has_role('caselib_analyst', 'MEMBER')").fetchone() == (True,)
    refused = team.run("ann", "shared", "user", "add", "fred", "--role", "admin", "--password-file", str(erin))
    assert_one_line_error(refused, contains="ann may not add users", code=9)
    assert not team.sql("SELECT 1 FROM pg_roles WHERE rolname = 'fred'")
    wrong = caselib("--shared", team.server.url_for("ann", "not-her-password", team.database), "shared", "status")
    assert_one_line_error(wrong, contains="cannot connect to the shared store at postgresql://ann@127.0.0.1")
    assert "not-her-password" not in wrong.stderr


def test_a_password_typed_twice_is_never_echoed_nor_taken_from_the_command_line(team, tmp_path):
    typed = f"Typed-{uuid.uuid4().hex[:10]}"
    _SECRETS.append(typed)
    added = caselib("--shared", team.superuser_url, "shared", "user", "add", "carl", "--role", "viewer",
                    input=f"{typed}\n{typed}\n", start_new_session=True)  # no terminal: the prompt reads stdin
    ok(added)
    with psycopg.connect(team.server.url_for("carl", typed, team.database), autocommit=True) as con:
        assert con.execute("SELECT pg_has_role('caselib_viewer', 'MEMBER')").fetchone() == (True,)
    mismatch = caselib("--shared", team.superuser_url, "shared", "user", "add", "dora", "--role", "viewer",
                       input="one-password\nanother-one\n" * 3, start_new_session=True)
    assert mismatch.returncode != 0
    assert not team.sql("SELECT 1 FROM pg_roles WHERE rolname = 'dora'")
    assert caselib("--shared", team.superuser_url, "shared", "user", "add", "dora", "--role", "viewer",
                   "--password", "x").returncode == 2  # no such option


def test_status_names_the_store_the_user_and_how_far_the_copy_is_behind(team, tmp_path):
    copy = tmp_path / "fresh.duckdb"
    before = ok(team.run("ann", "shared", "status", db=copy)).stdout
    last = team.sql("SELECT rev FROM caselib.clock")[0][0]
    store_id = team.sql("SELECT value FROM caselib.store_info WHERE key = 'store_id'")[0][0]
    assert f"Shared store: postgresql://ann@127.0.0.1:{team.server.port}/{team.database}" in before
    assert f"store id        {store_id}" in before
    assert f"schema version  {SHARED_SCHEMA_VERSION}" in before
    assert f"last write      {last:,}" in before
    assert "you             ann (viewer, analyst)" in before
    assert "not made yet; caselib sync makes it" in before
    assert not copy.exists()  # status reads; it makes no copy
    ok(team.run("ann", "sync", db=copy))
    assert "synced to write" in ok(team.run("ann", "shared", "status", db=copy)).stdout
    assert "up to date" in ok(team.run("ann", "shared", "status", db=copy)).stdout
    ok(team.run("rita", "claim", "T030"))  # a write on the server
    behind = ok(team.run("ann", "shared", "status", db=copy)).stdout
    assert "1 write behind; caselib sync" in behind
    ok(team.run("rita", "release", "T030"))


# -- loads and copies -----------------------------------------------------------------------


def test_an_administrators_load_reaches_an_analysts_copy_by_sync(team, tmp_path):
    waves, objects, tips = (r.stdout for r in team.loads)
    assert "read 2 = inserted 2" in waves and "read 3 = inserted 3" in objects
    assert "read 30 = inserted 30 + updated 0 + unchanged 0 + rejected 0" in tips
    assert team.sql("SELECT count(*), min(loaded_by), max(loaded_by) FROM caselib.load_batches")[0] == (3, "ada", "ada")
    assert team.sql("SELECT count(*) FROM caselib.tips")[0][0] == 30
    copy = tmp_path / "bob-first.duckdb"
    synced = ok(team.run("bob", "sync", db=copy)).stdout
    assert synced.startswith(f"Copy {copy.name}: synced writes 1–")
    assert "30 tips" in synced and "3 objects" in synced and "2 waves" in synced
    assert _copy_rows(copy, "SELECT count(*), count(DISTINCT object_id) FROM tips") == [(30, 2)]
    again = ok(team.run("bob", "sync", db=copy)).stdout
    assert "the copy is up to date" in again
    # the copy is the workbench's database: every reading command works on it
    status = ok(caselib("--db", str(copy), "status")).stdout
    assert "tips" in status and "30" in status


def test_a_load_by_an_analyst_is_refused_and_writes_nothing(team, tmp_path):
    tips = write_csv(tmp_path / "more.csv", [tip("T900")])
    refused = team.run("ann", "load", "tips", "--no-refresh", str(tips), db=tmp_path / "ann-load.duckdb")
    assert_one_line_error(refused, contains="ann may not load files in the shared store", code=9)
    assert team.sql("SELECT count(*) FROM caselib.tips WHERE tip_id = 'T900'")[0][0] == 0


# -- decisions ------------------------------------------------------------------------------


def test_two_analysts_triaging_one_tip_one_wins_the_other_is_told_who(team, tmp_path):
    ann, bob = tmp_path / "ann.duckdb", tmp_path / "bob.duckdb"
    ok(team.run("ann", "sync", db=ann))
    ok(team.run("bob", "sync", db=bob))  # both copies show T001 new
    first = ok(team.run("ann", "triage", "T001", "--status", "actionable", "--reason", "names a shop in Porto", db=ann))
    assert "1 tip now actionable; decided by ann" in first.stdout
    assert _copy_rows(ann, "SELECT triage_status FROM tips WHERE tip_id = 'T001'") == [("actionable",)]
    second = team.run("bob", "triage", "T001", "--status", "off_topic", "--reason", "spam", db=bob)
    assert_one_line_error(second, contains="T001 was made actionable by ann on ", code=8)
    assert "names a shop in Porto" in second.stderr and "nothing was written" in second.stderr
    assert _server_tip(team, "T001") == ("actionable", None)
    assert _analyst_changes(team, "T001") == [("ann", "actionable")]
    # bob's copy shows ann's decision now: a second look is his to make
    assert _copy_rows(bob, "SELECT triage_status FROM tips WHERE tip_id = 'T001'") == [("actionable",)]
    ok(team.run("bob", "triage", "T001", "--status", "off_topic", "--reason", "on second look: spam", db=bob))
    assert _analyst_changes(team, "T001") == [("ann", "actionable"), ("bob", "off_topic")]
    assert "Audit chain intact" in ok(caselib("--db", str(bob), "audit", "verify")).stdout


def test_claimed_tips_are_held_until_released(team, tmp_path):
    ann, bob = tmp_path / "ann.duckdb", tmp_path / "bob.duckdb"
    claimed = ok(team.run("ann", "claim", "T010", "T011", "--minutes", "15", db=ann)).stdout
    assert claimed.splitlines() == ["Claimed 2 tips for 15 minutes: T010, T011"]
    held = ok(team.run("bob", "claim", "T011", "T012", db=bob)).stdout.splitlines()
    assert held[0] == "Claimed 1 tip for 30 minutes: T012"
    assert held[1].startswith("T011: in review by ann since ") and held[1].endswith(" UTC")
    refused = team.run("bob", "triage", "T010", "--status", "duplicate", "--reason", "seen it", db=bob)
    assert_one_line_error(refused, contains="in review by another analyst (T010 by ann since", code=8)
    assert _server_tip(team, "T010") == ("new", None) and _analyst_changes(team, "T010") == []
    # the copy knows who holds what (what the triage view shows as "in review by …")
    assert _copy_rows(bob, "SELECT tip_id, claimed_by FROM tip_claims ORDER BY tip_id") == [
        ("T010", "ann"), ("T011", "ann"), ("T012", "bob")]
    assert ok(team.run("ann", "release", "T010", db=ann)).stdout.strip() == "Released 1 claim."
    ok(team.run("bob", "triage", "T010", "--status", "duplicate", "--reason", "seen it", db=bob))
    assert _analyst_changes(team, "T010") == [("bob", "duplicate")]
    assert ok(team.run("ann", "release", db=ann)).stdout.strip() == "Released 1 claim."  # T011
    assert ok(team.run("ann", "release", db=ann)).stdout.strip() == "No claims of yours to release."
    all_held = ok(team.run("ann", "claim", "T012", db=ann)).stdout.splitlines()
    assert all_held[-1] == "No tips claimed: each is in review by another analyst."
    ok(team.run("bob", "release", db=bob))
    assert team.sql("SELECT count(*) FROM caselib.tip_claims")[0][0] == 0


def test_a_reviewer_assigns_work_and_an_analyst_may_not(team, tmp_path):
    ann = tmp_path / "ann.duckdb"
    done = ok(team.run("rita", "assign", "--object", "G01", "--to", "ann", "--reason", "she reads Portuguese")).stdout
    assert done.startswith("Assigned 1 object (G01) to ann; audit record ") and done.strip().endswith("by rita")
    ok(team.run("rita", "assign", "--tip", "T020", "--tip", "T021", "--to", "bob", "--reason", "his wave"))
    assert team.sql("SELECT object_id, assigned_to, assigned_by FROM caselib.object_assignments") == [("G01", "ann", "rita")]
    assert team.sql("SELECT tip_id, assigned_to FROM caselib.tip_assignments ORDER BY tip_id") == [
        ("T020", "bob"), ("T021", "bob")]
    ok(team.run("ann", "sync", db=ann))
    assert _copy_rows(ann, "SELECT object_id, assigned_to FROM object_assignments") == [("G01", "ann")]
    refused = team.run("ann", "assign", "--object", "G02", "--to", "ann", "--reason", "mine")
    assert_one_line_error(refused, contains="ann (analyst) may not assign work: that takes the reviewer role", code=9)
    not_analyst = team.run("rita", "assign", "--object", "G02", "--to", "vic", "--reason", "x")
    assert_one_line_error(not_analyst, contains="'vic' is not an analyst of this shared store")
    both = team.run("rita", "assign", "--object", "G02", "--to", "ann", "--unassign", "--reason", "x")
    assert_one_line_error(both, contains="give --to USER or --unassign")
    gone = ok(team.run("rita", "assign", "--unassign", "--object", "G01", "--reason", "back to the pool")).stdout
    assert gone.startswith("Unassigned 1 object (G01); audit record ")
    assert team.sql("SELECT count(*) FROM caselib.object_assignments")[0][0] == 0
    ok(team.run("ann", "sync", db=ann))
    assert _copy_rows(ann, "SELECT count(*) FROM object_assignments") == [(0,)]


def test_a_viewer_may_not_triage_and_nothing_is_written(team, tmp_path):
    before = team.sql("SELECT rev FROM caselib.clock")[0][0]
    refused = team.run("vic", "triage", "T025", "--status", "actionable", "--reason", "looks good",
                       db=tmp_path / "vic.duckdb")
    assert_one_line_error(refused, contains="vic (viewer) may not triage tips: that takes the analyst role", code=9)
    assert _server_tip(team, "T025") == ("new", None) and _analyst_changes(team, "T025") == []
    assert team.sql("SELECT rev FROM caselib.clock")[0][0] == before
    claim = team.run("vic", "claim", "T025", db=tmp_path / "vic.duckdb")
    assert_one_line_error(claim, contains="vic (viewer) may not claim tips", code=9)
    # what a viewer may do: read the store into a copy
    ok(team.run("vic", "sync", db=tmp_path / "vic.duckdb"))
    assert _copy_rows(tmp_path / "vic.duckdb", "SELECT triage_status FROM tips WHERE tip_id = 'T025'") == [("new",)]


def test_in_team_mode_the_decider_is_the_logged_in_user(team, tmp_path):
    refused = team.run("ann", "triage", "T026", "--status", "actionable", "--reason", "x", "--by", "rita",
                       db=tmp_path / "ann.duckdb")
    assert_one_line_error(refused, contains="in team mode the decider is the logged-in user (ann); drop --by")
    assert _analyst_changes(team, "T026") == []
    close = team.run("rita", "close", "G03", "--outcome", "exhausted", "--reason", "x", "--by", "ada")
    assert_one_line_error(close, contains="decider is the logged-in user (rita)")


def test_closure_decisions_on_the_shared_store_follow_the_roles(team, tmp_path):
    rita, ann = tmp_path / "rita.duckdb", tmp_path / "ann.duckdb"
    refused = team.run("ann", "close", "G03", "--outcome", "exhausted", "--reason", "no tips", db=ann)
    assert_one_line_error(refused, contains="ann (analyst) may not close objects: that takes the reviewer role", code=9)
    kept = ok(team.run("ann", "keep-open", "G03", "--reason", "a wave is coming", db=ann)).stdout
    assert kept.startswith("Kept G03 open; audit record ") and "by ann" in kept
    closed = ok(team.run("rita", "close", "G03", "--outcome", "exhausted", "--reason", "no tips in years", db=rita)).stdout
    assert closed.startswith("Closed G03 (exhausted); audit record ") and "by rita" in closed
    assert team.sql("SELECT status FROM caselib.objects WHERE object_id = 'G03'") == [("closed",)]
    assert _copy_rows(rita, "SELECT status FROM objects WHERE object_id = 'G03'") == [("closed",)]
    again = team.run("rita", "close", "G03", "--outcome", "exhausted", "--reason", "twice", db=rita)
    assert again.returncode == 1 and len(again.stderr.strip().splitlines()) == 1
    ok(team.run("rita", "reopen", "G03", "--reason", "a new tip names it", db=rita))
    assert team.sql("SELECT status FROM caselib.objects WHERE object_id = 'G03'") == [("open",)]
    actions = team.sql("SELECT actor, action FROM caselib.audit_log WHERE object_id = 'G03' ORDER BY seq")
    assert actions == [("ann", "keep_open"), ("rita", "close"), ("rita", "reopen")]
    assert "Audit chain intact" in ok(caselib("--db", str(rita), "audit", "verify")).stdout


def test_clusters_worked_out_by_the_administrator_are_decided_first_come_first_served(team, tmp_path):
    ann, bob, vic = tmp_path / "ann.duckdb", tmp_path / "bob.duckdb", tmp_path / "vic.duckdb"
    refreshed = ok(team.run("ada", "refresh", "--only", "clusters")).stdout
    assert "clusters" in refreshed
    assert team.sql("SELECT count(*) FROM caselib.tip_clusters")[0][0] > 0
    ok(team.run("ann", "sync", db=ann))
    ok(team.run("bob", "sync", db=bob))
    rows = json.loads(ok(caselib("--db", str(ann), "clusters", "--format", "json")).stdout)
    cluster_id = rows[0]["cluster_id"]
    members = sorted(r["tip_id"] for r in rows if r["cluster_id"] == cluster_id)
    done = ok(team.run("ann", "cluster", cluster_id, "--confirm", "--reason", "the same text", db=ann)).stdout
    assert done.startswith(f"Cluster {cluster_id} confirmed; audit record ") and "by ann" in done
    assert team.sql("SELECT state, decided_by FROM caselib.tip_clusters WHERE cluster_id = %s", cluster_id) == [
        ("confirmed", "ann")]
    late = team.run("bob", "cluster", cluster_id, "--reject", "--reason", "not the same", db=bob)
    assert_one_line_error(late, contains=f"cluster {cluster_id} was made confirmed by ann on ", code=8)
    assert "nothing was written" in late.stderr
    assert team.sql("SELECT state, decided_by FROM caselib.tip_clusters WHERE cluster_id = %s", cluster_id) == [
        ("confirmed", "ann")]
    refused = team.run("vic", "cluster", cluster_id, "--remove", members[-1], "--reason", "x", db=vic)
    assert_one_line_error(refused, contains="vic (viewer) may not decide on clusters: that takes the analyst role", code=9)
    taken = ok(team.run("bob", "cluster", cluster_id, "--remove", members[-1], "--reason", "another shop", db=bob)).stdout
    assert taken.startswith(f"Took {members[-1]} out of {cluster_id}; audit record ")
    assert team.sql("SELECT count(*) FROM caselib.tip_cluster_members WHERE tip_id = %s", members[-1])[0][0] == 0
    assert _copy_rows(bob, "SELECT count(*) FROM tip_cluster_members WHERE tip_id = $t", {"t": members[-1]}) == [(0,)]


def test_a_reviewer_forwards_from_the_shared_store_and_an_analyst_may_not(team, tmp_path):
    ensure_chromium()
    ann, rita = tmp_path / "ann.duckdb", tmp_path / "rita.duckdb"
    ok(team.run("ann", "triage", "T007", "T008", "--status", "actionable", "--reason", "names a shop in Lyon", db=ann))
    by_hand = team.run("ann", "triage", "T007", "--status", "forwarded", "--forwarded-to", "FRA", "--reason", "sent",
                       db=ann)
    assert_one_line_error(by_hand, contains="ann (analyst) may not mark tips forwarded: that takes the reviewer role", code=9)
    theirs = tmp_path / "ann.zip"
    refused = team.run("ann", "forward", "--country", "FRA", "--object", "G01", "-o", str(theirs), db=ann)
    assert_one_line_error(refused, contains="ann (analyst) may not forward tips: that takes the reviewer role", code=9)
    assert not theirs.exists()
    assert _server_tip(team, "T007") == ("actionable", None)
    package = tmp_path / "france.zip"
    done = ok(team.run("rita", "forward", "--country", "FRA", "--object", "G01", "-o", str(package), db=rita)).stdout
    assert "Forwarding package for France (FRA) written to" in done and "2 tips of 1 object, now forwarded" in done
    assert package.exists()
    assert [_server_tip(team, t) for t in ("T007", "T008")] == [("forwarded", "FRA")] * 2
    assert _analyst_changes(team, "T008")[-1] == ("rita", "forwarded")
    assert _copy_rows(rita, "SELECT triage_status FROM tips WHERE tip_id = 'T007'") == [("forwarded",)]
    assert "Audit chain intact" in ok(caselib("--db", str(rita), "audit", "verify")).stdout


# -- where the URL comes from, and commands that need one -------------------------------------


def test_the_environment_gives_the_url_when_no_option_does(team, tmp_path):
    env = {"CASELIB_SHARED_URL": team.url("bob")}
    copy = tmp_path / "env.duckdb"
    status = ok(caselib("--db", str(copy), "shared", "status", env=env)).stdout
    assert "you             bob (viewer, analyst)" in status
    assert "30 tips" in ok(caselib("--db", str(copy), "sync", env=env)).stdout
    claimed = ok(caselib("--db", str(copy), "claim", "T027", env=env)).stdout
    assert "Claimed 1 tip" in claimed
    assert team.sql("SELECT claimed_by FROM caselib.tip_claims WHERE tip_id = 'T027'") == [("bob",)]
    ok(caselib("--db", str(copy), "release", env=env))
    # the option wins over the environment
    assert "you             ann" in ok(caselib("--db", str(copy), "--shared", team.url("ann"), "shared", "status",
                                               env=env)).stdout
    bad = caselib("--db", str(copy), "sync", env={"CASELIB_SHARED_URL": "mysql://ann:hunter2-secret@host/db"})
    assert_one_line_error(bad, contains="must start with postgresql://")
    assert "hunter2-secret" not in bad.stderr


def test_a_pgpass_file_keeps_the_password_out_of_the_url(team, tmp_path):
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{team.server.port}:{team.database}:ann:{PASSWORDS['ann']}\n")
    passfile.chmod(0o600)
    url = f"postgresql://ann@127.0.0.1:{team.server.port}/{team.database}"
    env = {"CASELIB_SHARED_URL": url, "PGPASSFILE": str(passfile)}
    copy = tmp_path / "pgpass.duckdb"
    assert "30 tips" in ok(caselib("--db", str(copy), "sync", env=env)).stdout  # psycopg and the Arrow driver both
    assert "you             ann" in ok(caselib("--db", str(copy), "shared", "status", env=env)).stdout


@pytest.mark.parametrize("args", [
    ["claim", "T001"], ["release"], ["assign", "--object", "G01", "--to", "ann", "--reason", "x"], ["sync"],
    ["shared", "status"], ["shared", "users"], ["shared", "init"],
])
def test_team_commands_without_a_shared_store_say_so_in_one_line(args, db_path):
    result = caselib("--db", str(db_path), *args)
    assert_one_line_error(result, contains="needs a team's shared store: give --shared URL or set CASELIB_SHARED_URL")
    assert not db_path.exists()


def test_make_labs_demo_if_missing_makes_the_copy_in_team_mode(team, tmp_path):
    copy = tmp_path / "lab.duckdb"
    made = ok(team.run("ann", "demo", "--if-missing", db=copy)).stdout
    assert "30 tips" in made
    assert _copy_rows(copy, "SELECT count(*) FROM tips") == [(30,)]
    assert "up to date" in ok(team.run("ann", "demo", "--if-missing", db=copy)).stdout
    refused = team.run("ann", "demo", db=tmp_path / "other.duckdb")
    assert_one_line_error(refused, contains="in team mode the campaign comes from the shared store")
    assert not (tmp_path / "other.duckdb").exists()


def test_a_local_database_is_not_mixed_with_the_teams(team, tmp_path):
    local = tmp_path / "mine.duckdb"
    ok(caselib("--db", str(local), "load", "waves", str(write_csv(tmp_path / "w.csv", WAVES))))
    refused = team.run("ann", "sync", db=local)
    assert_one_line_error(refused, contains="holds a campaign of its own")
    refused = team.run("ann", "triage", "T028", "--status", "actionable", "--reason", "x", db=local)
    assert_one_line_error(refused, contains="holds a campaign of its own")
    assert _analyst_changes(team, "T028") == []


def test_keep_open_works_on_a_local_database_too(tmp_path):
    local = tmp_path / "local.duckdb"
    for kind, rows in (("waves", WAVES), ("objects", OBJECTS)):
        ok(caselib("--db", str(local), "load", kind, str(write_csv(tmp_path / f"{kind}.csv", rows))))
    kept = ok(caselib("--db", str(local), "keep-open", "G01", "--reason", "a wave is coming", "--by", "lena")).stdout
    assert kept.startswith("Kept G01 open; audit record 1 by lena")
    assert _copy_rows(local, "SELECT actor, action, object_id FROM audit_log") == [("lena", "keep_open", "G01")]
    assert _copy_rows(local, "SELECT status FROM objects WHERE object_id = 'G01'") == [("open",)]
    assert_one_line_error(caselib("--db", str(local), "keep-open", "G99", "--reason", "x"), contains="G99")
