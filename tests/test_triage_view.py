"""The triage view: the tips still to triage, near-duplicates folded into one row, decisions
by button and by key through caselib.domain.triage.decide, tip text escaped."""

from __future__ import annotations

import shutil

import pytest

from caselib import Store, load_file
from caselib.domain.audit import verify
from caselib.domain.clusters import refresh_clusters
from caselib.domain.filters import TipFilter
from caselib.domain.names import refresh_names
from caselib.store.session import Session
from caselib.store.triage import triage_history
from conftest import OBJECTS, WAVES, tip, write_csv

pytest.importorskip("ipywidgets")

from caselib.presentation.widgets.triage_view import DEFAULT_REASONS, TriageView, highlighted  # noqa: E402

HOSTILE = "Bought at Lidl <img src=x onerror=alert(1)> near Porto"
COPY = "Seen this red bag in a market stall near the station"


def _tips() -> list[dict]:
    def at(day: int) -> str:
        return f"2019-03-{day:02d}T10:00:00Z"

    return [
        tip("T1", received_at=at(5), tip_text=COPY),
        tip("T2", received_at=at(6), tip_text=COPY.upper() + "!"),
        tip("T3", received_at=at(7), tip_text=COPY + "."),
        tip("T7", received_at=at(8), tip_text=COPY, triage_status="actionable"),  # in the cluster, decided
        tip("T4", received_at=at(3), tip_text=HOSTILE, brand="LIDL"),
        tip("T5", received_at=at(2), tip_text="Already judged, should not be listed", triage_status="off_topic"),
        tip("T6", received_at=at(1), tip_text="The first tip received, alone", triage_status="under_review"),
        tip("T8", object_id="G02", received_at=at(1), tip_text="A tip about another object entirely"),
    ]


COLUMNS = ["tip_id", "object_id", "received_at", "reporter_country", "suggested_country", "triage_status",
           "suggested_place", "brand", "tip_text"]


@pytest.fixture(scope="module")
def triage_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triage")
    path = folder / "case.duckdb"
    with Store(path) as store:
        load_file(store, "waves", write_csv(folder / "waves.csv", WAVES), progress=False)
        load_file(store, "objects", write_csv(folder / "objects.csv", OBJECTS), progress=False)
        load_file(store, "tips", write_csv(folder / "tips.csv", _tips(), columns=COLUMNS), progress=False)
        refresh_clusters(store)
        refresh_names(store)
    return path


@pytest.fixture
def session(triage_db, tmp_path):
    path = tmp_path / "case.duckdb"
    shutil.copy(triage_db, path)
    with Session(path) as session:
        yield session


def statuses(session) -> dict[str, str]:
    with Store(session.path, read_only=True) as store:
        return dict(store.rows("SELECT tip_id, triage_status FROM tips"))


def audit_records(session) -> list[tuple]:
    with Store(session.path, read_only=True) as store:
        return store.rows("SELECT seq, action FROM audit_log ORDER BY seq")


def test_lists_the_untriaged_tips_of_an_object_oldest_first_a_cluster_in_one_row(session):
    view = TriageView(session, "G01")
    assert view.objects.value == "G01"
    # T6 (under review) is untriaged too; T5 and T7 were triaged; T8 is another object's.
    assert list(view.rows["tip_id"]) == ["T6", "T4", "T1"]
    cluster = view.rows.iloc[2]
    assert cluster["cluster_id"] == "C-T1" and cluster["members"] == 3
    assert list(cluster["member_ids"]) == ["T1", "T2", "T3"]
    assert (view.total_rows, view.total_tips) == (3, 5)
    assert "Object G01: 5 tips to triage in 3 rows (2 near-duplicates folded into their cluster's row)" in view.caption.value
    assert "3 · cluster C-T1 (suggested)" in view.list.html
    assert "under review" in view.list.html
    # The first row is the current one.
    assert view.list.html.count('class="current"') == 1 and 'class="current" data-row-key="T6"' in view.list.html


def test_without_an_object_the_one_with_most_to_triage_is_shown_and_every_object_is_offered(session):
    view = TriageView(session)
    assert view.objects.value == "G01"
    assert [o for _, o in view.objects.options] == ["G01", "G02"]
    view.objects.value = "G02"
    assert list(view.rows["tip_id"]) == ["T8"]
    # A filter lists every object it chooses, and is narrowed by the object picked.
    chosen = TriageView(session, tips=TipFilter(received_to="2019-03-03"))
    assert chosen.objects.value is None
    assert sorted(chosen.rows["tip_id"]) == ["T4", "T6", "T8"]


def test_a_decision_by_button_goes_through_decide_and_the_row_leaves_the_list(session):
    view = TriageView(session, "G01", by="A. Analyst")
    before = audit_records(session)
    view.buttons["not_actionable"].click()
    assert statuses(session)["T6"] == "not_actionable"
    with Store(session.path, read_only=True) as store:
        history = triage_history(store, tip_ids=["T6"], source="analyst")
        assert verify(store).ok
    assert len(history) == 1
    assert history[0]["reason"] == DEFAULT_REASONS["not_actionable"] == "triage: not actionable"
    assert history[0]["decided_by"] == "A. Analyst" and history[0]["old_triage_status"] == "under_review"
    after = audit_records(session)
    assert len(after) == len(before) + 1 and after[-1][1] == "triage"
    assert history[0]["audit_seq"] == after[-1][0]
    # The row left; the next one is current; the counts follow.
    assert list(view.rows["tip_id"]) == ["T4", "T1"]
    assert 'class="current" data-row-key="T4"' in view.list.html
    assert (view.total_rows, view.total_tips) == (2, 4)
    assert "tip T6 now not actionable" in view.message.value and "A. Analyst" in view.message.value
    assert len(view.timings) == 1


def test_a_cluster_rows_decision_gives_all_its_untriaged_tips_the_status_in_one_step(session):
    view = TriageView(session, "G01")
    view.move(2)
    before = audit_records(session)
    view.buttons["duplicate"].click()
    now = statuses(session)
    assert [now[t] for t in ("T1", "T2", "T3")] == ["duplicate"] * 3
    assert now["T7"] == "actionable"  # the cluster's tip an analyst had decided is left alone
    after = audit_records(session)
    assert len(after) == len(before) + 1
    with Store(session.path, read_only=True) as store:
        history = triage_history(store, tip_ids=["T1", "T2", "T3"], source="analyst")
    assert {h["audit_seq"] for h in history} == {after[-1][0]} and len(history) == 3
    assert "C-T1" not in set(view.rows["row_key"])
    assert "cluster C-T1 (3 tips) now duplicate" in view.message.value


def test_the_reason_typed_is_kept_for_the_next_decisions(session):
    view = TriageView(session, "G01")
    view.reason.value = "names a shop we know"
    view.decide("actionable")
    view.decide("off_topic")
    assert view.reason.value == "names a shop we know"
    with Store(session.path, read_only=True) as store:
        reasons = {h["tip_id"]: h["reason"] for h in triage_history(store, source="analyst")}
    assert reasons == {"T6": "names a shop we know", "T4": "names a shop we know"}


def test_a_refused_decision_is_one_line_and_the_row_stays(session):
    view = TriageView(session, "G01")
    view.reason.value = "\u200b"  # not visible text: decide() refuses it
    view.decide("actionable")
    assert "a reason is required" in view.message.value and 'color:#b00' in view.message.value
    assert "\n" not in view.message.value
    assert statuses(session)["T6"] == "under_review" and view.rows["tip_id"].iloc[0] == "T6"


def test_keys_from_the_page_decide_and_move(session):
    view = TriageView(session, "G01")
    page = view.list
    page._message(page, {"type": "key", "key": "j"}, [])  # what triage_view.js sends
    assert view.cursor == 1 and 'class="current" data-row-key="T4"' in page.html
    page._message(page, {"type": "key", "key": "k"}, [])
    page._message(page, {"type": "key", "key": "k"}, [])  # at the top it stays
    assert view.cursor == 0
    for ignored in ({"type": "key", "key": "x"}, {"type": "key"}, {"type": "click"}, "a", None):
        page._message(page, ignored, [])
    assert statuses(session)["T6"] == "under_review"
    page._message(page, {"type": "focus"}, [])  # the write connection is taken ahead of the key
    assert session.holding and not session._reader.read_only
    page._message(page, {"type": "key", "key": "o"}, [])
    assert statuses(session)["T6"] == "off_topic"
    page._message(page, {"type": "key", "key": "j"}, [])
    page._message(page, {"type": "key", "key": "a"}, [])
    assert statuses(session)["T1"] == statuses(session)["T2"] == "actionable"
    assert list(view.rows["tip_id"]) == ["T4"]
    assert set(page.accepted_keys) == {"a", "n", "d", "o", "j", "k"}


def test_tip_text_is_escaped_and_the_names_found_are_marked(session):
    """"Lidl" is the tip's brand field (as LIDL); "Porto" is a place caselib.domain.names
    extracted from the text."""
    from caselib.store.triage_view import names_found

    with Store(session.path, read_only=True) as store:
        assert "Porto" in names_found(store, ["T4"])["T4"]
    view = TriageView(session, "G01")
    shown = view.list.html
    assert "<img" not in shown and "onerror=alert(1)&gt;" in shown
    assert "Bought at <mark>Lidl</mark> &lt;img src=x onerror=alert(1)&gt; near <mark>Porto</mark>" in shown


def test_highlighting_escapes_first_and_marks_whole_words_only():
    assert highlighted("<b>Lidl</b> & Lidls", ["lidl"]) == "&lt;b&gt;<mark>Lidl</mark>&lt;/b&gt; &amp; Lidls"
    assert highlighted("Bra from Brazil", ["Bra", "Brazil"]) == "<mark>Bra</mark> from <mark>Brazil</mark>"
    assert highlighted("a <i>x</i> b", ["<i>x</i>"]) == "a <mark>&lt;i&gt;x&lt;/i&gt;</mark> b"
    assert highlighted("Rio de Janeiro", ["Rio", "Rio de Janeiro"]) == "<mark>Rio de Janeiro</mark>"
    assert highlighted(None, ["x"]) == "" and highlighted("plain", [None, "", " "]) == "plain"
    assert highlighted("<script>", []) == "&lt;script&gt;"


def test_choosing_another_object_starts_at_its_first_row_and_refresh_recounts(session):
    view = TriageView(session, "G01")
    view.move(1)
    view.objects.value = "G02"
    assert view.cursor == 0 and list(view.rows["tip_id"]) == ["T8"]
    view.decide("actionable")
    assert "Nothing to triage for Object G02" in view.caption.value
    view.refresh_button.click()
    labels = dict((o, label) for label, o in view.objects.options)
    assert labels["G02"] == "G02 · nothing to triage" and labels["G01"].endswith("· 5 to triage")
    assert view.objects.value == "G02"
    view.show("G01")
    assert view.cursor == 0 and view.rows["tip_id"].iloc[0] == "T6"
