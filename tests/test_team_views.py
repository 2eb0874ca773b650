"""Team mode in the notebooks' views, against a real PostgreSQL server (tests/pg.py).

The triage view and the closure review are driven in the kernel (as tests/test_triage_view.py
does, without a browser) on real DuckDB copies of a shared store: each analyst has a session
on a copy of their own, and CASELIB_SHARED_URL logs them in. Each test has a database of its
own on one server, with logins of every role (ada admin, rita reviewer, ann and bob analysts).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pg
import pytest

from caselib import Store, load_file
from caselib.domain import audit
from caselib.domain import team as decisions
from caselib.domain.team import load
from caselib.store.session import Session
from caselib.store.shared import ENV, connect
from caselib.store.shared.schema import add_user, init
from caselib.store.shared.sync import copy_rev
from conftest import OBJECTS, WAVES, tip, write_csv

pytest.importorskip("ipywidgets")

from caselib.presentation import team as team_views  # noqa: E402
from caselib.presentation.widgets.closure_review import ClosureReview  # noqa: E402
from caselib.presentation.widgets.triage_view import RENEW_AFTER, TriageView  # noqa: E402

USERS = {"ada": "admin", "rita": "reviewer", "ann": "analyst", "bob": "analyst"}
ROOT = Path(__file__).resolve().parents[1]

# 20 tips of G01 and 10 of G02, one a day: the triage view lists them in this order.
TIPS = [tip(f"T{i:03d}", object_id="G01" if i % 3 else "G02", received_at=f"2017-06-{i:02d}T10:00:00Z",
            tip_text=f"a blue wrapper seen in Lisbon, tip number {i}") for i in range(1, 31)]
G01 = [t["tip_id"] for t in TIPS if t["object_id"] == "G01"]
G02 = [t["tip_id"] for t in TIPS if t["object_id"] == "G02"]


@pytest.fixture(scope="module")
def server():
    with pg.start() as running:
        yield running


class Team:
    """A shared store with every role's login, and the analysts' sessions on their copies."""

    def __init__(self, server, database: str, folder: Path, monkeypatch):
        self.server, self.database, self.folder, self.monkeypatch = server, database, folder, monkeypatch
        self._open = []

    def url(self, user: str) -> str:
        return self.server.url_for(user, f"pw-{user}", self.database)

    def connect(self, user: str):
        shared = connect(self.url(user))
        self._open.append(shared)
        return shared

    def session(self, user: str) -> Session:
        session = Session(self.folder / f"{user}.duckdb", idle=None)
        self._open.append(session)
        return session

    def login(self, user: str) -> None:
        """What an analyst's notebook has: CASELIB_SHARED_URL with their login."""
        self.monkeypatch.setenv(ENV, self.url(user))

    def triage(self, user: str, session: Session | None = None, *args, **kwargs) -> TriageView:
        self.login(user)
        view = TriageView(session or self.session(user), *args, **kwargs)
        self._open.append(view)
        return view

    def review(self, user: str, session: Session | None = None, **kwargs) -> ClosureReview:
        self.login(user)
        return ClosureReview(session or self.session(user), **kwargs)

    def server_rows(self, statement: str, *params):
        """Rows read on the server as its superuser (what is stored, whoever may read it)."""
        import psycopg

        url = self.server.url_for("postgres", self.server.password, self.database)
        with psycopg.connect(url, autocommit=True) as con:
            return con.execute(statement, params or None).fetchall()

    def close(self):
        for item in reversed(self._open):
            if isinstance(item, Session):
                shared = team_views._CONNECTIONS.pop(item, None)
                if shared is not None:
                    shared.close()
            item.close()


@pytest.fixture(scope="module")
def template(server, tmp_path_factory):
    """The store every test starts from, made once: every role's login, and the campaign
    loaded by ada through her copy. A test's store is made from it (CREATE DATABASE …
    TEMPLATE)."""
    folder = tmp_path_factory.mktemp("views-template")
    database = "vt_" + uuid.uuid4().hex[:10]
    with connect(server.fresh_database(database)) as superuser:
        init(superuser)
        for name, role in USERS.items():
            add_user(superuser, name, role, f"pw-{name}")
    files = {
        "waves": write_csv(folder / "waves.csv", WAVES),
        "objects": write_csv(folder / "objects.csv", OBJECTS),
        "tips": write_csv(folder / "tips.csv", TIPS),
    }
    with connect(server.url_for("ada", "pw-ada", database)) as ada, Store(folder / "ada.duckdb") as copy:
        for kind in ("waves", "objects", "tips"):
            load(copy, ada, kind, files[kind], refresh=False, progress=False)
    return database


@pytest.fixture
def team(server, template, tmp_path, monkeypatch):
    database = "v_" + uuid.uuid4().hex[:10]
    server.sql(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    t = Team(server, database, tmp_path, monkeypatch)
    yield t
    t.close()


def server_status(team: Team, tip_id: str) -> str:
    return team.server_rows("SELECT triage_status FROM caselib.tips WHERE tip_id = %s", tip_id)[0][0]


def copy_status(session: Session, tip_id: str) -> str:
    with session.reading() as store:
        return store.scalar("SELECT triage_status FROM tips WHERE tip_id = $t", {"t": tip_id})


def claims(team: Team) -> dict[str, str]:
    return dict(team.server_rows("SELECT tip_id, claimed_by FROM caselib.tip_claims"))


# -- syncing before a view opens --------------------------------------------------------------


def test_a_view_opening_on_a_copy_that_is_behind_syncs_it_first(team):
    # A new file becomes the copy as the first view opens.
    ann = team.session("ann")
    assert not ann.path.exists()
    first = team.triage("ann", ann, "G01")
    assert list(first.rows["tip_id"]) == G01
    assert "Team mode" in first.team_line.value and "decisions by ann" in first.team_line.value
    assert "synced writes 1–3" in first.team_line.value and "20 tips" not in first.team_line.value
    first.close()
    # Bob decides two tips on the server meanwhile: ann's copy is behind.
    bob = team.connect("bob")
    decisions.decide(bob, ["T001", "T002"], status="off_topic", reason="spam")
    behind = bob.rev()
    with ann.reading() as store:
        assert copy_rev(store) < behind
    view = team.triage("ann", ann, "G01")
    with ann.reading() as store:
        assert copy_rev(store) == behind  # (the claims of the page shown are the server's next write)
    assert "synced writes" in view.team_line.value and "2 tips" in view.team_line.value
    assert "\n" not in view.team_line.value
    assert list(view.rows["tip_id"]) == G01[2:]  # the tips bob decided are not offered
    view.close()
    # The closure review too.
    decisions.keep_open(_copy_for(team, "bob"), bob, "G02", reason="more tips expected")
    review = team.review("ann", ann, ready_only=False)
    assert "synced writes" in review.team_line.value
    with ann.reading() as store:
        assert copy_rev(store) == bob.rev()
        assert store.rows("SELECT actor, action FROM audit_log WHERE action = 'keep_open'") == [("bob", "keep_open")]
    # Up to date: nothing to sync, no note.
    again = team.triage("ann", ann, "G01")
    assert "synced" not in again.team_line.value


def _copy_for(team: Team, user: str) -> Store:
    store = Store(team.folder / f"{user}-own.duckdb")
    team._open.append(store)
    return store


# -- decisions --------------------------------------------------------------------------------


def test_a_triage_decision_in_the_view_lands_on_the_server_and_in_the_copy(team):
    ann = team.session("ann")
    view = team.triage("ann", ann, "G01")
    assert view.current()["tip_id"] == "T001"
    view.reason.value = "points to a Lisbon shop"
    view.key("a")
    assert server_status(team, "T001") == "actionable"
    history = team.server_rows(
        "SELECT decided_by, reason, old_triage_status FROM caselib.tip_triage_history WHERE tip_id = 'T001' AND source = 'analyst'")
    assert history == [("ann", "points to a Lisbon shop", "new")]
    assert copy_status(ann, "T001") == "actionable"  # synced: the copy has it at once
    with ann.reading() as store:
        assert copy_rev(store) == int(team.server_rows("SELECT rev FROM caselib.clock")[0][0])
        assert audit.verify(store).ok
        assert store.rows("SELECT actor, action FROM audit_log ORDER BY seq DESC LIMIT 1") == [("ann", "triage")]
    assert "decided by ann on the shared store" in view.message.value
    # The list moved on, as without a shared store.
    assert view.current()["tip_id"] == "T002" and "T001" not in set(view.rows["tip_id"])
    assert view.total_tips == len(G01) - 1
    assert len(view.timings) == 1


def test_two_analysts_on_one_object_the_second_is_told_who_decided_and_nothing_is_overwritten(team):
    ann_view = team.triage("ann", None, "G01", page_size=3)
    # Bob's view opens after ann's: the rows she has in review are left out.
    bob_view = team.triage("bob", None, "G01", page_size=3)
    assert list(bob_view.rows["tip_id"][:3]) == G01[3:6]
    assert "3 rows in review by others left out" in bob_view.caption.value
    # Shown on request, with who and since when.
    bob_view.show_held.value = True
    assert list(bob_view.rows["tip_id"][:3]) == G01[:3]
    assert "in review by ann since" in bob_view.list.html
    # Ann decides her first tip; bob's copy has not seen it, his row still shows it as new.
    ann_view.reason.value = "the wrapper's maker is Portuguese"
    ann_view.key("a")
    assert server_status(team, G01[0]) == "actionable"
    assert bob_view.current()["tip_id"] == G01[0]
    bob_view.reason.value = "spam"
    bob_view.key("o")
    message = bob_view.message.value
    assert "decided since you saw them" in message and "by ann" in message and "made actionable" in message
    assert "nothing was written" in message and "\n" not in message
    assert server_status(team, G01[0]) == "actionable"  # not overwritten
    by = team.server_rows("SELECT decided_by FROM caselib.tip_triage_history WHERE tip_id = %s AND source = 'analyst'", G01[0])
    assert by == [("ann",)]
    # Bob's copy was synced and his list read again: the tip ann decided is gone from it.
    assert copy_status(bob_view.session, G01[0]) == "actionable"
    assert G01[0] not in set(bob_view.rows["tip_id"])
    assert bob_view.current()["tip_id"] == G01[1]
    # A tip ann still has in review is refused to bob too, naming her.
    bob_view.key("o")
    assert "in review by another analyst" in bob_view.message.value and "by ann" in bob_view.message.value
    assert server_status(team, G01[1]) == "new"
    assert _verified(bob_view)


def _verified(view) -> bool:
    with view.session.reading() as store:
        return audit.verify(store).ok


def test_claims_of_the_page_shown_are_skipped_by_others_and_released(team):
    ann_view = team.triage("ann", None, "G01", page_size=5)
    assert claims(team) == dict.fromkeys(G01[:5], "ann")
    bob_view = team.triage("bob", None, "G01", page_size=5)
    assert list(bob_view.rows["tip_id"][:5]) == G01[5:10]
    assert {t: b for t, b in claims(team).items() if b == "bob"} == dict.fromkeys(G01[5:10], "bob")
    assert "in review by" not in bob_view.list.html  # skipped, not shown
    assert bob_view.total_rows == len(G01) - 5
    # A decision: the row leaves ann's page and the next tip comes in, claimed.
    ann_view.key("n")
    assert G01[0] not in claims(team)
    assert claims(team).get(G01[5]) == "bob"  # held by bob: left out of ann's page
    assert G01[5] not in set(ann_view.rows["tip_id"])
    assert claims(team).get(G01[10]) == "ann"
    # Claims grown old are renewed on the next decision (a claim not renewed lapses).
    expiry = dict(team.server_rows("SELECT tip_id, expires_at FROM caselib.tip_claims WHERE claimed_by = 'ann'"))
    for tip_id in ann_view.mine:
        ann_view.mine[tip_id] -= RENEW_AFTER + 1
    ann_view.key("n")
    renewed = dict(team.server_rows("SELECT tip_id, expires_at FROM caselib.tip_claims WHERE claimed_by = 'ann'"))
    assert G01[1] not in renewed  # decided: the claim is done with
    assert all(renewed[t] > expiry[t] for t in (G01[2], G01[3], G01[4]))
    # Another object: ann's claims on G01 are released; closing the view releases the rest.
    ann_view.objects.value = "G02"
    assert sorted(t for t, b in claims(team).items() if b == "ann") == G02[:5]
    ann_view.close()
    assert "ann" not in claims(team).values()
    bob_view.close()
    assert claims(team) == {}


# -- assigned to me ---------------------------------------------------------------------------


def test_assigned_to_me_in_the_triage_view(team):
    rita = team.connect("rita")
    decisions.assign(rita, "object", ["G02"], "ann", reason="ann reads Portuguese")
    decisions.assign(rita, "tip", ["T005"], "ann", reason="a follow-up")
    decisions.assign(rita, "tip", ["T007"], "bob", reason="bob's")
    view = team.triage("ann", None, "G01")
    assert len(view.rows) == len(G01)
    view.assigned.value = True
    # The objects offered: the one assigned to her, and the one holding a tip assigned to her.
    assert sorted(o for _, o in view.objects.options) == ["G01", "G02"]
    view.objects.value = "G01"
    assert list(view.rows["tip_id"]) == ["T005"]
    view.objects.value = "G02"
    assert list(view.rows["tip_id"]) == G02
    bob = team.triage("bob", None, "G01")
    bob.assigned.value = True
    assert [o for _, o in bob.objects.options] == ["G01"] and list(bob.rows["tip_id"]) == ["T007"]
    bob.assigned.value = False
    assert len(bob.rows) == len(G01)  # all of G01 again (ann's claims there went as she moved to G02)


def test_assigned_to_me_in_the_closure_review(team):
    rita = team.connect("rita")
    decisions.assign(rita, "object", ["G02"], "ann", reason="ann reads Portuguese")
    review = team.review("ann", ready_only=False)
    listed = [o for _, o in review.queue.options]
    assert {"G01", "G02"} <= set(listed)
    review.assigned.value = True
    assert [o for _, o in review.queue.options] == ["G02"]
    review.assigned.value = False
    assert [o for _, o in review.queue.options] == listed


def test_an_analysts_close_is_refused_in_one_line_a_reviewers_goes_through(team):
    review = team.review("ann", ready_only=False)
    review.queue.value = "G01"
    review.reason.value = "no more leads"
    review.decide("close")
    message = review.message.value
    assert "refused" in message and "ann" in message and "\n" not in message
    assert team.server_rows("SELECT status FROM caselib.objects WHERE object_id = 'G01'") == [("open",)]
    # Keeping open is an analyst's: on the server, then in the copy.
    review.reason.value = "more tips expected"
    review.decide("keep_open")
    assert "kept open" in review.message.value
    assert team.server_rows("SELECT actor FROM caselib.audit_log WHERE action = 'keep_open'") == [("ann",)]
    assert "kept open" in dict((o, label) for label, o in review.queue.options)["G01"]
    # A reviewer closes it.
    rita = team.review("rita", ready_only=False)
    rita.queue.value = "G01"
    rita.reason.value = "no more leads"
    rita.decide("close")
    assert "closed" in rita.message.value
    assert team.server_rows("SELECT status FROM caselib.objects WHERE object_id = 'G01'") == [("closed",)]
    with rita.session.reading() as store:
        assert store.scalar("SELECT status FROM objects WHERE object_id = 'G01'") == "closed"
        assert audit.verify(store).ok


def test_a_database_that_is_not_the_stores_copy_is_refused_in_one_line(team, tmp_path):
    path = tmp_path / "own.duckdb"
    with Store(path) as store:
        load_file(store, "waves", write_csv(tmp_path / "own-waves.csv", WAVES), progress=False)
    team.login("ann")
    session = Session(path, idle=None)
    team._open.append(session)
    with pytest.raises(team_views.TeamError) as refused:
        TriageView(session)
    assert "holds a campaign of its own" in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value._render_traceback_() == [str(refused.value)]  # a notebook shows the line only
    with pytest.raises(team_views.TeamError, match="campaign of its own"):
        ClosureReview(session)


# -- without a shared store -------------------------------------------------------------------


def test_without_a_shared_url_the_views_work_on_the_file_and_never_touch_psycopg(tmp_path):
    path = tmp_path / "alone.duckdb"
    with Store(path) as store:
        load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(tmp_path / "objects.csv", OBJECTS), progress=False)
        load_file(store, "tips", write_csv(tmp_path / "tips.csv", TIPS), progress=False)
    script = (
        "import sys\n"
        "from caselib.store.session import Session\n"
        "from caselib.presentation.widgets import TriageView, ClosureReview\n"
        f"session = Session({str(path)!r}, idle=None)\n"
        "view = TriageView(session, 'G01')\n"
        "assert view.team is None and view.team_line not in view.widget.children\n"
        "view.key('a')\n"
        "review = ClosureReview(session, ready_only=False)\n"
        "assert review.team is None\n"
        "print(view.message.value)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'adbc_driver_postgresql')))\n"
        "session.release()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "now actionable" in lines[0] and "shared store" not in lines[0]
    assert lines[-1] == "[]"
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT triage_status FROM tips WHERE tip_id = 'T001'") == "actionable"


def test_a_notebook_opens_a_new_copy_when_a_shared_store_is_set(team, tmp_path, monkeypatch):
    from caselib.presentation.widgets.common import NoDatabase, open_session

    target = tmp_path / "new-copy.duckdb"
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(NoDatabase):
        open_session(target)
    team.login("ann")
    session = open_session(target, idle=None)
    team._open.append(session)
    view = TriageView(session, "G01")
    team._open.append(view)
    assert target.exists() and list(view.rows["tip_id"]) == G01
