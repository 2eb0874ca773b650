"""Widget callbacks driven directly: filters change the figures' data and the table; the
decision buttons write exactly one audit record each; tip text is only shown escaped."""

from __future__ import annotations

import datetime as dt

import pytest

from caselib import Store, load_file
from caselib.domain.demo import build_demo
from caselib.domain.filters import TipFilter
from caselib.store.session import Session
from conftest import write_csv

pytest.importorskip("ipywidgets")

from caselib.presentation.widgets import ClosureReview, FilterPanel, ResponseExplorer, TipExplorer, TipTable  # noqa: E402

AS_OF = dt.date(2024, 6, 30)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("widgets")
    path = folder / "demo.duckdb"
    build_demo(path, tips=5000, progress=False)
    with Store(path) as store:
        rows = [{"tip_id": "XSS1", "object_id": "G001", "received_at": "2024-06-01T08:00:00Z",
                 "reporter_country": "NL", "suggested_country": "BE", "triage_status": "new", "tip_text": HOSTILE}]
        load_file(store, "tips", write_csv(folder / "hostile.csv", rows), progress=False)
    return path


@pytest.fixture
def session(demo_db, tmp_path):
    # Each test gets its own copy: decisions write to it.
    import shutil

    path = tmp_path / "case.duckdb"
    shutil.copy(demo_db, path)
    with Session(path) as session:
        yield session


def shown_countries(widget):
    """Countries a view's map draws in a colour class (not the grey of 'no data')."""
    from caselib.presentation.figures.maps import NO_DATA

    return {code for code, (fill, hatched) in widget.country_fills().items() if fill != NO_DATA or hatched}


def test_filter_panel_yields_the_filter_its_caption_and_one_callback_per_change(session):
    panel = FilterPanel(session)
    seen = []
    panel.on_change(seen.append)
    value = panel.set(wave="2021-03", triage=("actionable", "forwarded"))
    assert seen == [value]
    assert value == TipFilter(wave="2021-03", triage=("actionable", "forwarded"))
    assert "Wave March 2021 · actionable or forwarded" in panel.caption.value
    panel.triage.value = ("actionable",)  # a widget changed by hand
    assert len(seen) == 2 and seen[-1].triage == ("actionable",)
    # the statuses are offered in words (the filter keeps the codes)
    labels = [label for label, _ in panel.triage.options]
    assert "not actionable" in labels and not any("_" in label for label in labels), labels


def test_a_panel_opened_with_a_filter_shows_it(session):
    """`FilterPanel(session, value)` (and so `TipExplorer(session, value=…)`) failed with
    AttributeError: the widgets' own change events asked for the filter before there was one."""
    wanted = TipFilter(wave="2021-03", reporter_countries=("DEU",))
    panel = FilterPanel(session, wanted)
    assert panel.value == wanted
    assert panel.wave.value == "2021-03" and panel.reporter_countries.value == ("DEU",)


def test_an_impossible_date_range_is_said_and_the_last_filter_kept(session):
    panel = FilterPanel(session)
    good = panel.set(received_from=dt.date(2021, 3, 1))
    panel.received_to.value = dt.date(2020, 1, 1)
    assert "after" in panel.error.value
    assert panel.value == good


def test_explorer_views_follow_the_filters(session):
    explorer = TipExplorer(session)
    all_total = explorer.frames["reporters"].attrs["total"]
    assert explorer.frames["over_time"]["tips"].sum() == all_total
    before = shown_countries(explorer.reporter_map)
    assert "DEU" in before

    # The table is folded until opened; then it follows the filters too.
    assert explorer.table.rows.empty
    explorer.table_panel.selected_index = 0
    assert len(explorer.table.rows) == 20
    explorer.panel.set(triage=("actionable",))
    actionable = explorer.frames["reporters"]
    with Store(session.path, read_only=True) as store:
        expected = store.scalar("SELECT count(*) FROM tips WHERE triage_status = 'actionable'")
    assert actionable.attrs["total"] == expected < all_total
    assert explorer.frames["over_time"]["tips"].sum() == expected
    assert list(explorer.timeline.data[0].y) == explorer.frames["over_time"]["tips"].tolist()
    assert f"of {expected:,}" in explorer.table.label.value
    assert set(explorer.table.rows["triage_status"]) == {"actionable"}
    assert "actionable" in explorer.panel.caption.value


def test_clicking_a_country_on_the_map_filters_every_view(session):
    explorer = TipExplorer(session)
    explorer.table_panel.selected_index = 0
    explorer.reporter_map._handle_custom_msg({"type": "click", "iso3": "FRA"}, [])  # what the page sends
    assert explorer.panel.value.reporter_countries == ("FRA",)
    frame = explorer.frames["reporters"]
    assert frame["country"].tolist() == ["FRA"]
    assert shown_countries(explorer.reporter_map) == {"FRA"}
    assert set(explorer.table.rows["reporter_country"]) == {"FRA"}
    # The suggested-country map now shows where tips sent from France point.
    with Store(session.path, read_only=True) as store:
        n = store.scalar("SELECT count(*) FROM tips WHERE reporter_country = 'FRA' AND suggested_country IS NOT NULL")
    assert explorer.frames["suggested"]["tips"].sum() == n


def test_tip_text_is_shown_escaped_never_as_html(session):
    table = TipTable(session)
    table.show(TipFilter(objects=("G001",), received_from=dt.date(2024, 6, 1), received_to=dt.date(2024, 6, 1)))
    assert "XSS1" in table.html.value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table.html.value
    assert "<script>alert" not in table.html.value and "<img" not in table.html.value


def test_table_pages_through_the_chosen_tips(session):
    table = TipTable(session, page_size=7)
    table.show(TipFilter(objects=("G001",)))
    first = table.rows["tip_id"].tolist()
    oldest_on_first = table.rows["received_at"].min()
    assert len(first) == 7 and table.previous.disabled
    assert table.rows["received_at"].is_monotonic_decreasing  # newest first
    table.next.click()
    assert table.page == 1 and not set(first) & set(table.rows["tip_id"])
    assert table.rows["received_at"].max() <= oldest_on_first
    assert table.label.value.startswith("tips 8–14 of ")


def audit_count(path) -> int:
    with Store(path, read_only=True) as store:
        return store.scalar("SELECT count(*) FROM audit_log")


def assert_flags_current(review, session):
    import pandas as pd

    from caselib.domain.closure import closure_flags

    with session.reading() as store:
        pd.testing.assert_frame_equal(review.flags, closure_flags(store, as_of=review._as_of))


def test_decisions_write_exactly_one_audit_record_and_update_the_queue(session):
    review = ClosureReview(session, by="analyst-1")  # as of today, when the decisions take effect
    first = review.queue.value
    assert first is not None and review.flags.set_index("object_id").loc[first, "ready"]
    before = audit_count(session.path)

    review.reason.value = ""
    review.close_button.click()  # no reason: refused, nothing written
    assert "reason is required" in review.message.value
    assert audit_count(session.path) == before

    review.reason.value = "consensus confirmed with the national desk"
    shown = []
    review_show = review.show
    review.show = lambda object_id: (shown.append(object_id), review_show(object_id))
    review.close_button.click()
    assert audit_count(session.path) == before + 1
    assert first not in [o for _, o in review.queue.options]
    # Only the decided object's flag was recomputed; the queue is what a full recompute gives,
    # and the next object's evidence was shown once.
    assert_flags_current(review, session)
    assert shown == [review.queue.value]
    assert set(review.tips.rows["object_id"]) == {review.queue.value}
    with Store(session.path, read_only=True) as store:
        assert store.scalar("SELECT status FROM objects WHERE object_id = $o", {"o": first}) in ("closed", "withdrawn")
        actor, action = store.rows("SELECT actor, action FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
    assert (actor, action) == ("analyst-1", "close")

    second = review.queue.value
    drawn = len(shown)
    review.reason.value = "waiting for a reply from the Dutch police"
    review.keep_button.click()
    assert audit_count(session.path) == before + 2
    assert second in [o for _, o in review.queue.options]  # kept open: still flagged ready
    assert review.queue.value == second and len(shown) == drawn  # still selected, evidence not redrawn
    assert_flags_current(review, session)

    review.ready_only.value = False
    review.queue.value = first
    review.reason.value = "new tips arrived"
    review.reopen_button.click()
    assert audit_count(session.path) == before + 3
    assert_flags_current(review, session)
    assert "status open" in review.reasons.value
    with Store(session.path, read_only=True) as store:
        assert store.scalar("SELECT status FROM objects WHERE object_id = $o", {"o": first}) == "open"
        from caselib.domain.audit import verify

        assert verify(store).ok


def test_a_decision_leaves_an_earlier_day_as_it_was(session):
    """Contract v1.1: a decision takes effect when it is recorded; as of an earlier day the
    object stands as it was before it."""
    review = ClosureReview(session, as_of=AS_OF, by="analyst-1")
    first = review.queue.value
    assert first is not None and review.flags.set_index("object_id").loc[first, "ready"]
    review.reason.value = "consensus confirmed with the national desk"
    review.close_button.click()
    assert "closed; the decision is in the audit" in review.message.value
    assert "as of 30 June 2024 it stands as it was" in review.message.value, review.message.value
    assert first in [o for _, o in review.queue.options]
    assert_flags_current(review, session)
    today = ClosureReview(session)
    assert today.flags.set_index("object_id").loc[first, "outcome"] == "closed"


def test_review_shows_the_evidence_of_the_selected_object(session):
    review = ClosureReview(session, as_of=AS_OF)
    object_id = review.queue.value
    assert object_id in review.reasons.value
    bars = review.consensus.data[0]
    assert bars.type == "bar"
    assert set(review.tips.rows["object_id"]) == {object_id}


def test_review_releases_the_database_for_other_writers(session):
    ClosureReview(session, as_of=AS_OF)
    session.release()
    # A writer in this process (as a load in another process would) can now open the file.
    with Store(session.path, wait=0) as store:
        assert store.scalar("SELECT count(*) FROM objects") > 0


def test_response_explorer_follows_the_wave_picker(session):
    explorer = ResponseExplorer(session)
    waves = list(explorer.waves.value)
    assert set(explorer.frames["response"]["wave_id"]) == set(waves)
    explorer.waves.value = (waves[0],)
    assert set(explorer.frames["response"]["wave_id"]) == {waves[0]}
    assert set(explorer.frames["half_life"]["wave_id"]) == {waves[0]}
    # Only the picked wave's curves are visible; every wave's are there to show again.
    shown = {t.legendgroup for t in explorer.curves.data if t.legendgroup and t.visible is not False}
    assert shown == {waves[0]}
    explorer.waves.value = tuple(waves)
    shown = {t.legendgroup for t in explorer.curves.data if t.legendgroup and t.visible is not False}
    assert shown == set(waves)
    explorer.log_scale.value = True
    assert explorer.curves.layout.yaxis.type == "log" or any(
        getattr(explorer.curves.layout, name).type == "log" for name in ("yaxis", "yaxis2") if getattr(explorer.curves.layout, name, None)
    )


def test_the_response_explorers_half_life_table_reads_as_the_reports(session):
    """Headings in words and 'complete' as yes / not yet, from the one definition the report uses."""
    import re

    from caselib.presentation.summaries import half_life_columns

    explorer = ResponseExplorer(session)
    headings = re.findall(r"<th>(.*?)</th>", explorer.table.value)
    assert headings == [heading for _, heading in half_life_columns(explorer.days)]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", explorer.table.value)
    assert "yes" in cells and not {"True", "False"} & set(cells)
    assert not any("_" in heading for heading in headings)


def test_displaying_a_view_hands_the_browser_the_figures_as_they_are_now(session):
    """FigureWidget changes made before display reach a browser only through its initial
    state; displaying the view copies the current figures into it."""
    explorer = TipExplorer(session)
    explorer.panel.set(triage=("actionable",))
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    for figure in explorer.figure_widgets():
        assert len(figure._widget_data) == len(figure.data)
        for state, trace in zip(figure._widget_data, figure.data):
            assert state.get("name") == trace.name and state.get("fillcolor") == getattr(trace, "fillcolor", None)


# -- readable everywhere: words, not codes ---------------------------------------------------


def _no_code(text: str) -> None:
    """No outcome or status code (a word with an underscore) in what a person reads."""
    import re

    from caselib.domain.closure import OUTCOMES
    from caselib.domain.contract import TRIAGE_STATUSES

    codes = [c for c in (*OUTCOMES, *TRIAGE_STATUSES, "keep_open") if "_" in c]
    found = [c for c in codes if re.search(rf"\b{c}\b", text)]
    assert not found, (found, text[:300])


def test_keep_open_says_when_and_by_whom_and_only_applicable_decisions_show(session):
    review = ClosureReview(session, by="analyst-1")
    first = review.queue.value
    assert "Not reviewed yet" in review.reviewed.value
    assert review.reopen_button.layout.display == "none" and review.outcome.layout.display != "none"
    review.reason.value = "waiting for a reply from the Dutch police"
    review.keep_button.click()
    assert review.queue.value == first
    today = dt.datetime.now(dt.UTC)
    assert f"kept open on {today.day} {today:%B %Y}" in review.reviewed.value, review.reviewed.value
    assert "by analyst-1" in review.reviewed.value and "Dutch police" in review.reviewed.value
    label = dict((o, lab) for lab, o in review.queue.options)[first]
    assert "kept open" in label, label
    # A reopened view reads the review from the audit.
    again = ClosureReview(session, by="analyst-2")
    again.queue.value = first
    assert "kept open on" in again.reviewed.value and "by analyst-1" in again.reviewed.value

    review.reason.value = "consensus confirmed"
    review.close_button.click()
    review.ready_only.value = False
    review.queue.value = first
    assert "closed as " in review.reviewed.value and "by analyst-1" in review.reviewed.value
    # Closed: only Reopen applies; the outcome menu is not beside it.
    assert review.outcome.layout.display == "none" and review.close_button.layout.display == "none"
    assert review.keep_button.layout.display == "none" and review.reopen_button.layout.display != "none"


def test_closure_review_names_outcomes_and_statuses_in_words(session):
    from caselib.domain.closure import outcome_label

    review = ClosureReview(session, as_of=AS_OF)
    review.ready_only.value = False
    assert all("_" not in label for label, _ in review.outcome.options)
    assert ("origin established", "origin_established") in review.outcome.options
    _no_code(" ".join(label for label, _ in review.queue.options))
    for object_id in review.queue.options[:40]:
        review.queue.value = object_id[1]
        _no_code(review.reasons.value)
        _no_code(review.tips.html.value)
        flag = review.flags.set_index("object_id").loc[object_id[1]]
        assert html_escape(outcome_label(flag["outcome"])) in review.reasons.value


def html_escape(text):
    import html

    return html.escape(text)


def test_tip_table_keeps_ids_times_and_statuses_on_one_line_and_in_words(session):
    table = TipTable(session, page_size=50)
    table.show(TipFilter(triage=("not_actionable", "under_review")))
    assert len(table.rows)
    html = table.html.value
    _no_code(html)
    assert ">not actionable<" in html or ">under review<" in html
    assert ".caselib-table td.nowrap {white-space: nowrap" in html
    tip_id = table.rows["tip_id"].iloc[0]
    assert f'<td class="nowrap">{tip_id}</td>' in html
    assert '<td class="nowrap">not actionable</td>' in html or '<td class="nowrap">under review</td>' in html


def test_explorer_summary_and_caption_read_as_words(session):
    caption = TipFilter(reporter_countries=("DEU",), suggested_countries=("TUR",), triage=("new",)).caption()
    assert caption == "new (untriaged) · sent from Germany · suggesting Türkiye", caption
    explorer = TipExplorer(session)
    explorer.pick("reporter_countries", ["DEU"])
    assert "1 reporter country ·" in explorer.summary.value, explorer.summary.value
    assert "sent from Germany" in explorer.panel.caption.value


def test_the_first_figure_does_not_compile_jsonschemas_iri_grammar_yet_iris_still_check():
    """plotly's FigureWidget imports jsonschema (through nbformat), whose IRI checker's grammar
    took 1.1 s to compile at import: deferred to its first use, which still answers right."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from caselib.presentation.widgets.common import figure_widget\n"
        "figure_widget()\n"
        "print('jsonschema' in sys.modules, 'rfc3987_syntax.syntax_helpers' in sys.modules)\n"
        "import jsonschema\n"
        "check = jsonschema.FormatChecker()\n"
        "print(check.conforms('http://example.com/ä?q=1', 'iri'), check.conforms('no iri here', 'iri'),\n"
        "      check.conforms('a b', 'iri-reference'))\n"
        "import rfc3987_syntax\n"
        "print(rfc3987_syntax.is_valid_syntax('iri', 'urn:x'), 'rfc3987_syntax.syntax_helpers' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:3] == ["True False", "True False False", "True True"], result.stdout


def test_a_page_that_loads_a_figure_again_gets_it_as_it_is_now(session):
    """A reloaded page asks the kernel for each widget's state: the timeline's must be the
    current selection's, not the one it had when the view was displayed."""
    explorer = TipExplorer(session)
    explorer._repr_mimebundle_()  # displayed
    explorer.panel.set(reporter_countries=("FRA",))
    with Store(session.path, read_only=True) as store:
        french = store.scalar("SELECT count(*) FROM tips WHERE reporter_country = 'FRA'")
    for state in (explorer.timeline.get_state(), explorer.timeline.get_state("_widget_data")):
        bars = next(t for t in state["_widget_data"] if t.get("name") == "tips")
        assert sum(bars["y"]) == french
    assert explorer.timeline.get_state()["_widget_layout"]["title"]["text"] == explorer.timeline.layout.title.text
    # The maps' state is their picture: France alone.
    shading = explorer.reporter_map.get_state("shading")["shading"]
    coloured = [code for code, fill in zip(explorer.reporter_map.codes, shading["fills"]) if fill != "#d9d9d9"]
    assert coloured == ["FRA"]
