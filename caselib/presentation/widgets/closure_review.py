"""The closure review: the queue of objects flagged ready, their evidence, and the decisions.

In team mode (a shared store configured, :mod:`caselib.presentation.team`) the copy is synced
before the view opens when it is behind; close, reopen and keep open go to the server
(:mod:`caselib.domain.team`, by the logged-in user, whose role the server checks: an
analyst's close is refused, in one line) and the copy is synced after each; *assigned to me*
lists only the objects assigned to the user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html

import ipywidgets as W
import pandas as pd

from caselib.domain.closure import outcome_label
from caselib.domain.contract import status_label
from caselib.domain.filters import TipFilter
from caselib.domain.rules import as_of_day
from caselib.presentation.widgets.common import View, figure_widget
from caselib.presentation.widgets.tip_table import TipTable
from caselib.store.session import Session

__all__ = ["ClosureReview"]


def _same_cell(a, b) -> bool:
    """Equality of two table cells, missing values (None, NaN, NA) all alike."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return bool(a == b)


class ClosureReview(View):
    """The queue of objects flagged ready, with their evidence and the decision buttons.

    Close, keep open and reopen each need a reason; each writes one record to the audit
    chain, and the queue is recomputed at once. In team mode the decisions are the shared
    store's user's (``by`` is not used).
    """

    def __init__(self, session: Session, *, as_of: dt.date | None = None, by: str | None = None,
                 ready_only: bool = True) -> None:
        from caselib.presentation.team import team_mode

        self.session = session
        self.team = team_mode(session)  # None without a shared store; synced first when behind
        self.mine: set[str] = set()  # team mode: the objects assigned to the user
        self.assigned = W.Checkbox(value=False, description="assigned to me", indent=False,
                                   layout=W.Layout(width="auto"))
        self.team_line = W.HTML(self.team.line() if self.team else "")
        self.as_of = as_of
        self.by = by
        self.ready_only = W.Checkbox(value=ready_only, description="only objects ready for closure", indent=False,
                                     layout=W.Layout(width="auto"))
        self.queue = W.Select(options=[], rows=12, layout=W.Layout(width="300px"))
        from caselib.presentation.figures.live import LiveConsensus
        from caselib.presentation.widgets.map_widget import MapWidget

        self.consensus = figure_widget()
        self._consensus = LiveConsensus(self.consensus)
        self.map = MapWidget(label="countable tips", layout=W.Layout(width="100%"))
        # What the tips name (caselib.domain.names): a weaker signal, shown beside the consensus.
        self.names = W.HTML()
        self.reasons = W.HTML()
        self.tips = TipTable(session, page_size=10)
        from caselib.domain.audit import CLOSE_OUTCOMES

        self.outcome = W.Dropdown(options=[(outcome_label(o), o) for o in CLOSE_OUTCOMES], description="Outcome")
        self.reviewed = W.HTML()
        self._decisions = pd.DataFrame()
        self.reason = W.Textarea(placeholder="Reason for the decision (required, kept in the audit)",
                                 layout=W.Layout(width="100%", height="60px", margin="2px 0"))
        self.close_button = W.Button(description="Close object", button_style="danger")
        self.keep_button = W.Button(description="Keep open")
        self.reopen_button = W.Button(description="Reopen")
        self.message = W.HTML()
        self.flags = pd.DataFrame()
        # Typing the (required) reason is the first step of every decision: the session
        # takes the write connection then, not when the button is pressed.
        self.reason.observe(self._reason_typed, names="value")
        self.close_button.on_click(lambda _: self.decide("close"))
        self.keep_button.on_click(lambda _: self.decide("keep_open"))
        self.reopen_button.on_click(lambda _: self.decide("reopen"))
        self._listing = False
        self.queue.observe(lambda change: None if self._listing else self.show(change["new"]), names="value")
        self.ready_only.observe(lambda _: self._list_queue(), names="value")
        self.assigned.observe(lambda _: self._list_queue(), names="value")
        team_controls = [self.assigned, self.team_line] if self.team else []
        # The evidence beside the queue when there is room for its table (560 px), else under
        # it; the chart above the map, each the evidence's width.
        self.widget = W.HBox(
            [
                W.VBox([self.ready_only, *team_controls, self.queue]),
                W.VBox([self.reasons, self.consensus, self.names, self.map, self.tips.widget,
                        self.reviewed,
                        W.HBox([self.outcome, self.close_button, self.keep_button, self.reopen_button],
                               layout=W.Layout(flex_flow="row wrap")),
                        self.reason, self.message], layout=W.Layout(flex="1 1 560px", min_width="0")),
            ],
            layout=W.Layout(flex_flow="row wrap"),
        )
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Recompute every flag and every object's evidence, then list the queue."""
        from caselib.domain.closure import evaluate_flags, flag_figures
        from caselib.domain.geography import origin_consensus
        from caselib.domain.names import object_name_signals

        self._as_of = as_of_day(self.as_of)
        with self.session.reading() as store:
            self._figures = flag_figures(store, as_of=self._as_of)
            # Every object's evidence at once (one scan), so that selecting one queries only its tips.
            self.consensus_frame = origin_consensus(store, as_of=self._as_of)
            self.name_signals = object_name_signals(store).set_index("object_id")["signal"]
        self.flags = evaluate_flags(self._figures, as_of=self._as_of)
        self._read_decisions()
        self._list_queue(select, force=True)

    def _read_decisions(self) -> None:
        from caselib.domain.audit import last_decisions

        with self.session.reading() as store:
            self._decisions = last_decisions(store)
            if self.team:
                from caselib.store.triage_view import assigned_objects

                self.mine = assigned_objects(store, self.team.user)

    def _last_decision(self, object_id: str):
        """The object's latest decision in the audit (a row of ``last_decisions``), or None."""
        if object_id in self._decisions.index:
            return self._decisions.loc[object_id]
        return None

    def _queue_label(self, object_id: str, outcome: str) -> str:
        label = f"{object_id} · {outcome_label(outcome)}"
        last = self._last_decision(object_id)
        if last is not None and last["action"] == "keep_open":
            label += f" · kept open {last['recorded_at']:%d %b %Y}"
        return label

    def _recompute(self, object_id: str) -> None:
        """After a decision on ``object_id``: its flag from its new status and the tip figures
        the view already has (a decision changes no tip; a load shows on the next refresh)."""
        from caselib.domain.closure import evaluate_flags, with_object_state

        with self.session.reading() as store:
            self._figures = with_object_state(store, self._figures, object_id, as_of=self._as_of)
        new = evaluate_flags(self._figures[self._figures["object_id"] == object_id], as_of=self._as_of).iloc[0]
        at = self.flags.index[self.flags["object_id"] == object_id][0]
        for column in self.flags.columns:  # in place: only status, outcome, reasons… differ
            if not _same_cell(self.flags.at[at, column], new[column]):
                self.flags.at[at, column] = new[column]

    def _list_queue(self, select: str | None = None, *, force: bool = False) -> None:
        self._flag_rows = self.flags.set_index("object_id")
        # Objects not yet published on the as-of day have nothing to review as of that day.
        listed = self.flags[self.flags["outcome"] != "not_published"]
        shown = listed[listed["ready"]] if self.ready_only.value else listed
        if self.team and self.assigned.value:
            shown = shown[shown["object_id"].isin(self.mine)]
        options = [(self._queue_label(r.object_id, r.outcome), r.object_id) for r in shown.itertuples()]
        before = self.queue.value
        current = select or before
        ids = [o for _, o in options]
        # Quiet while listing: new options first move the selection to the first object,
        # and each move would show that object's evidence. Shown once, below.
        self._listing = True
        try:
            self.queue.options = options
            self.queue.value = current if current in ids else (ids[0] if ids else None)
        finally:
            self._listing = False
        if force or self.queue.value != before or self.queue.value is None:
            self.show(self.queue.value)

    def show(self, object_id: str | None) -> None:
        if object_id is None:
            self.reasons.value = "<i>No object in the queue.</i>"
            return
        flag = self._show_reasons(object_id)
        consensus = self.consensus_frame[self.consensus_frame["object_id"] == object_id]
        if flag["outcome"] in ("origin_established", "widely_distributed", "exhausted"):
            self.outcome.value = flag["outcome"]
        self._consensus.show(consensus, object_id)
        signal = self.name_signals.get(object_id, "the names in its tips are not extracted yet")
        self.names.value = f"<p><b>Named in tips</b> (weaker than the suggested countries): {html.escape(signal)}</p>"
        self.map.update(consensus[["country", "tips"]], label="countable tips", title="Suggested origin")
        self.tips.show(TipFilter(objects=(object_id,)))

    def _show_reasons(self, object_id: str):
        from caselib.domain.audit import decision_text

        flag = self._flag_rows.loc[object_id]
        self.reasons.value = (
            f"<h3>{html.escape(object_id)} · {html.escape(str(flag['title']))}</h3>"
            f"<p><b>{html.escape(outcome_label(flag['outcome']))}</b> "
            f"({'ready' if flag['ready'] else 'not ready'}; status {html.escape(status_label(flag['status']))}): "
            f"{html.escape(str(flag['reasons']))}</p>"
        )
        last = self._last_decision(object_id)
        if last is None:
            self.reviewed.value = "<p><i>Not reviewed yet.</i></p>"
            closed = flag["status"] in ("closed", "withdrawn")
        else:
            text = decision_text(last["action"], last["recorded_at"], last["actor"], last["outcome"])
            reason = f": “{html.escape(str(last['reason']))}”" if isinstance(last["reason"], str) else ""
            self.reviewed.value = f"<p>Last reviewed: <b>{html.escape(text)}</b>{reason}</p>"
            closed = last["action"] == "close"  # a decision takes effect today, whatever the as-of day
        # Only the decisions that apply: an open object can be closed (with an outcome) or
        # kept open; a closed one only reopened.
        for control in (self.outcome, self.close_button, self.keep_button):
            control.layout.display = "none" if closed else None
        self.reopen_button.layout.display = None if closed else "none"
        return flag

    def _reason_typed(self, change) -> None:
        from caselib.errors import StoreError

        if change["new"].strip():
            with contextlib.suppress(StoreError):  # another process writing: the decision will say so
                self.session.prepare_writing()

    def decide(self, action: str) -> None:
        """Record a decision on the selected object (``close``, ``keep_open`` or ``reopen``)."""
        from caselib.domain import audit
        from caselib.errors import CaselibError

        object_id = self.queue.value
        if object_id is None:
            self.message.value = "Select an object first."
            return
        try:
            if self.team:
                self._decide_shared(object_id, action)
            else:
                with self.session.writing() as store:
                    if action == "close":
                        audit.close_object(store, object_id, outcome=self.outcome.value, reason=self.reason.value,
                                           by=self.by)
                    elif action == "reopen":
                        audit.reopen_object(store, object_id, reason=self.reason.value, by=self.by)
                    else:
                        audit.keep_open(store, object_id, reason=self.reason.value, by=self.by)
        except CaselibError as error:
            self.message.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            return
        done = {"close": "closed", "reopen": "reopened", "keep_open": "kept open"}[action]
        self.message.value = f"{html.escape(object_id)} {done}; the decision is in the audit."
        if self._as_of < as_of_day(None):
            self.message.value += (
                f" It takes effect today: as of {self._as_of.day} {self._as_of:%B %Y} it stands as it was."
            )
        self.reason.value = ""
        self._read_decisions()
        self._recompute(object_id)
        self._list_queue()
        if self.queue.value == object_id:  # still selected: its status and reasons changed, not its evidence
            self._show_reasons(object_id)

    def _decide_shared(self, object_id: str, action: str) -> None:
        """The decision on the shared store by its user, then the copy synced."""
        from caselib.domain import team as decisions

        with self.session.writing() as store:
            if action == "close":
                decisions.close_object(store, self.team.shared, object_id, outcome=self.outcome.value,
                                       reason=self.reason.value)
            elif action == "reopen":
                decisions.reopen_object(store, self.team.shared, object_id, reason=self.reason.value)
            else:
                decisions.keep_open(store, self.team.shared, object_id, reason=self.reason.value)
        self.team.sync()
