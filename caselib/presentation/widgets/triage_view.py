"""The triage view: the tips of an object (or a filter) still to triage, near-duplicates
folded into one row, decided by keyboard or buttons.

Each row is a tip, or a near-duplicate cluster (suggested or confirmed) shown by its first
tip with the number of its untriaged tips; a decision on a cluster's row gives all of them
the status in one step (one :func:`~caselib.domain.triage.decide`: one transaction, one
audit record). A decided row leaves the list and the next row becomes the current one.

Keys, while the list has the focus (:data:`KEYS`): ``a`` actionable, ``n`` not actionable,
``d`` duplicate, ``o`` off topic; ``j`` / ``k`` the next / previous row. A decision's reason
is the reason field's text, kept from one decision to the next, or, while the field is
empty, the status' own (:data:`DEFAULT_REASONS`, "triage: actionable").

The names found in a tip (its brand, shop and suggested place, and what
:mod:`caselib.domain.names` extracted from its text) are marked in its text. The text is
escaped first: markup in a tip is shown as the characters it is, never run.

Per decision the kernel runs the decision and redraws one page of rows from what it holds:
nothing is queried again (a row leaving the list is the only change a decision makes to
it; a load in another process shows after *Refresh*).

**Team mode** (a shared store configured, :mod:`caselib.presentation.team`): the copy is
synced before the view opens when it is behind the server. A decision goes to the server
(:func:`caselib.domain.team.decide`, by the logged-in server user, naming each tip's
status as the row showed it) and the copy is synced; another analyst's decision or claim
since is refused there, shown as the view's one-line message, and the list is read again.
The view claims the untriaged tips of the page shown ("in review by …" for the others),
renews the claims as decisions go on, and releases them when it changes object or is
closed; rows in review by others are left out unless *show tips in review by others* is
ticked. *Assigned to me* narrows the list and the objects offered to the work assigned to
the user (tips assigned to them, or tips of objects assigned to them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
import time
import weakref
from collections.abc import Iterable
from pathlib import Path

import anywidget
import ipywidgets as W
import pandas as pd
import traitlets

from caselib.domain.contract import status_label
from caselib.domain.filters import TipFilter
from caselib.errors import CaselibError
from caselib.presentation.widgets.common import STYLE, View, escape_cell
from caselib.store.session import Session

__all__ = ["DEFAULT_REASONS", "KEYS", "TriageList", "TriageView", "highlighted"]

_HERE = Path(__file__).parent

# The decisions a key makes, and the moves.
KEYS = {"a": "actionable", "n": "not_actionable", "d": "duplicate", "o": "off_topic"}
MOVES = {"j": 1, "k": -1}
DEFAULT_REASONS = {status: f"triage: {status_label(status)}" for status in KEYS.values()}

_CSS = """
.caselib-triage {outline: none; border: 1px solid #ccc; border-radius: 3px; max-height: 560px; overflow-y: auto;}
.caselib-triage:focus {border-color: #1f77b4; box-shadow: 0 0 0 2px rgba(31, 119, 180, 0.3);}
.caselib-triage tr.current td {background: #e8f1fa;}
.caselib-triage tr.current td:first-child {box-shadow: inset 3px 0 0 #1f77b4;}
.caselib-triage mark {background: #ffe58a; padding: 0 1px;}
.caselib-triage .empty {padding: 8px; color: #444;}
"""


def highlighted(text, names: Iterable[str]) -> str:
    """``text`` HTML-escaped, each occurrence of one of ``names`` (case ignored, as a whole
    word, the longest first) wrapped in ``<mark>``. Missing text is an empty string."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    text = str(text)
    terms = sorted({n.strip() for n in names if isinstance(n, str) and len(n.strip()) >= 2}, key=lambda t: (-len(t), t))
    if not terms:
        return html.escape(text)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


class TriageList(anywidget.AnyWidget):
    """The list of rows as the kernel built it (``html``, escaped), reading the keys
    :data:`KEYS` and :data:`MOVES` while it has the focus; see ``triage_view.js``.

    A key pressed calls the :meth:`on_key` callbacks with it; the list gaining the focus
    calls the :meth:`on_focus` ones. After each redraw is painted the page element's
    ``data-drawn`` counter goes up and a ``caselib-triage-drawn`` event is dispatched.
    """

    _esm = _HERE / "triage_view.js"
    _css = _CSS
    html = traitlets.Unicode("").tag(sync=True)
    accepted_keys = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(accepted_keys={**KEYS, **{k: "move" for k in MOVES}}, **kwargs)
        self._keys: list = []
        self._focus: list = []
        self.on_msg(self._message)

    def on_key(self, callback) -> None:
        self._keys.append(callback)

    def on_focus(self, callback) -> None:
        self._focus.append(callback)

    def _message(self, _widget, content, _buffers) -> None:
        # From the page: only the keys it was given are acted on.
        if not isinstance(content, dict):
            return
        if content.get("type") == "key" and content.get("key") in self.accepted_keys:
            for callback in self._keys:
                callback(content["key"])
        elif content.get("type") == "focus":
            for callback in self._focus:
                callback()


_COLUMNS = ("", "Tip", "Received (UTC)", "Suggests", "Place", "Tips", "Text")

# A claim of the page's tips is renewed on a decision once it is this old (a claim lapses
# after caselib.domain.team.CLAIM_MINUTES).
RENEW_AFTER = 5 * 60.0


def _release_claims(shared, mine: dict) -> None:
    """Give up the claims a view holds (best effort: a server gone lets them lapse)."""
    if mine:
        from caselib.domain import team as decisions

        with contextlib.suppress(Exception):
            decisions.release(shared, list(mine))
        mine.clear()


def _since(moment) -> str:
    if isinstance(moment, dt.datetime):
        return moment.strftime("%d %b %H:%M UTC")
    return str(moment)


class TriageView(View):
    """The tips of an object (or a filter) still to triage, a near-duplicate cluster in one
    row, with decision buttons, keys and a reason kept between decisions.

    Parameters
    ----------
    session
        The notebook's session; a decision takes its write connection.
    object_id
        The object whose tips are listed (default: the one with the most to triage, or
        every object the filter chooses when ``tips`` is given).
    tips
        A filter narrowing the tips (its ``objects`` replaced by ``object_id`` when given).
    by
        The analyst's name in the history and the audit (default: the login name); in team
        mode the decider is the logged-in user of the shared store.
    page_size
        Rows shown at once around the current one.
    limit
        Rows read at once; when fewer than a page are left the next ones are read.
    """

    def __init__(self, session: Session, object_id: str | None = None, *, tips: TipFilter | None = None,
                 by: str | None = None, page_size: int = 15, limit: int = 500) -> None:
        from caselib.presentation.team import team_mode

        self.session = session
        self.team = team_mode(session)  # None without a shared store; synced first when behind
        self.by = by
        self.page_size = page_size
        self.limit = limit
        self.tips = tips or TipFilter()
        self.rows = pd.DataFrame()
        self.cursor = 0
        self.total_rows = 0
        self.total_tips = 0
        self.names: dict[str, list[str]] = {}
        self.timings: list[float] = []  # seconds per decision, kernel side
        # Team mode: the claims of others in the copy (tip -> (by, since)), this view's own
        # (tip -> when claimed, monotonic), the rows left out as in review by others, the
        # server writes this view made since its last sync.
        self.held: dict[str, tuple] = {}
        self.mine: dict[str, float] = {}
        self.hidden_rows = 0
        self.hidden_tips = 0
        self._own_writes = 0
        self.team_line = W.HTML(self.team.line() if self.team else "")
        self.show_held = W.Checkbox(value=False, description="show tips in review by others", indent=False,
                                    layout=W.Layout(width="auto"))
        self.assigned = W.Checkbox(value=False, description="assigned to me", indent=False,
                                   layout=W.Layout(width="auto"))
        self.objects = W.Dropdown(description="Object", layout=W.Layout(width="420px"))
        self.refresh_button = W.Button(description="Refresh", layout=W.Layout(width="auto"),
                                       tooltip="read the tips again (after a load, or another analyst's decisions)")
        self.caption = W.HTML()
        self.list = TriageList(layout=W.Layout(width="100%"))
        self.buttons = {
            status: W.Button(description=f"{status_label(status).capitalize()} ({key})",
                             button_style="success" if status == "actionable" else "",
                             layout=W.Layout(width="auto"))
            for key, status in KEYS.items()
        }
        self.previous = W.Button(description="▲ previous (k)", layout=W.Layout(width="auto"))
        self.next = W.Button(description="▼ next (j)", layout=W.Layout(width="auto"))
        self.reason = W.Text(placeholder="Reason, kept for the next decisions (empty: “triage: <status>”)",
                             description="Reason", layout=W.Layout(width="100%"))
        self.message = W.HTML()
        for status, button in self.buttons.items():
            button.on_click(lambda _, s=status: self.decide(s))
        self.previous.on_click(lambda _: self.move(-1))
        self.next.on_click(lambda _: self.move(1))
        self.refresh_button.on_click(lambda _: self.refresh(objects=True, sync=True))
        self.list.on_key(self.key)
        self.list.on_focus(self._prepare_writing)
        self.reason.observe(lambda change: change["new"].strip() and self._prepare_writing(), names="value")
        help_line = W.HTML(
            '<div class="caselib-caption">Click the list, then: <b>a</b> actionable · <b>n</b> not actionable · '
            "<b>d</b> duplicate · <b>o</b> off topic · <b>j</b> / <b>k</b> next / previous. A cluster's row decides "
            "all its tips.</div>"
        )
        team_controls = [W.HBox([self.assigned, self.show_held], layout=W.Layout(flex_flow="row wrap")),
                         self.team_line] if self.team else []
        self.widget = W.VBox([
            W.HBox([self.objects, self.refresh_button], layout=W.Layout(flex_flow="row wrap")),
            *team_controls, self.caption, help_line, self.list,
            W.HBox([*self.buttons.values(), self.previous, self.next], layout=W.Layout(flex_flow="row wrap")),
            self.reason, self.message,
        ])
        self._choosing = False
        self._list_objects(object_id)
        self.objects.observe(lambda change: None if self._choosing else self.show(change["new"]), names="value")
        if self.team:
            self.show_held.observe(lambda _: self.refresh(), names="value")
            self.assigned.observe(lambda _: self._assigned_changed(), names="value")
            # Claims given up when the view is closed, or at the latest when the kernel ends.
            self._finalizer = weakref.finalize(self, _release_claims, self.team.shared, self.mine)
        self.refresh()

    # -- reading ---------------------------------------------------------------------------

    def _list_objects(self, object_id: str | None) -> None:
        from caselib.store.triage_view import objects_to_triage

        with self.session.reading() as store:
            found = objects_to_triage(store, self._narrowed(self.tips))
        options = [(f"{o} · {title} · {n:,} to triage" if title else f"{o} · {n:,} to triage", o) for o, title, n in found]
        if self.tips.active():
            options.insert(0, ("every object the filter chooses", None))
        if object_id is not None and object_id not in {o for _, o in options}:
            options.append((f"{object_id} · nothing to triage", object_id))
        self._choosing = True
        try:
            self.objects.options = options
            self.objects.value = object_id if object_id is not None else (options[0][1] if options else None)
        finally:
            self._choosing = False

    def chosen(self) -> TipFilter:
        """The filter of the tips listed: the view's filter, narrowed to the object chosen."""
        return self.tips.replace(objects=(self.objects.value,)) if self.objects.value else self.tips

    def _narrowed(self, tips: TipFilter):
        """``tips``, narrowed to the work assigned to the user while *assigned to me* is ticked."""
        if self.team and self.assigned.value:
            from caselib.store.triage_view import AssignedTo

            return AssignedTo(self.team.user, tips)
        return tips

    def _assigned_changed(self) -> None:
        self._release()
        self.cursor = 0
        self._list_objects(None if self.assigned.value else self.objects.value)
        self.refresh()

    def show(self, object_id: str | None) -> None:
        """List the tips of ``object_id`` (None: every object the filter chooses), from the first row."""
        self._release()  # the claims of the object left
        if object_id != self.objects.value:
            self._choosing = True
            try:
                self.objects.value = object_id
            finally:
                self._choosing = False
        self.cursor = 0
        self.refresh()

    def refresh(self, *, objects: bool = False, sync: bool = False) -> None:
        """Read the rows again (the first ``limit``), and the names found in their tips; with
        ``objects``, the objects to choose from and their counts too. In team mode, with
        ``sync``, the copy is synced first; the claims of others are read again, and the
        page shown is claimed."""
        from caselib.store.triage_view import claims_by_others, names_found, untriaged_rows

        if sync and self.team:
            self._sync()
        if objects:
            self._list_objects(self.objects.value)
        with self.session.reading() as store:
            rows = untriaged_rows(store, self._narrowed(self.chosen()), limit=self.limit)
            self.names = names_found(store, rows["tip_id"])
            if self.team:
                self.held = claims_by_others(store, self.team.user)
        self.total_rows = int(rows["rows_total"].iloc[0]) if len(rows) else 0
        self.total_tips = int(rows["tips_total"].iloc[0]) if len(rows) else 0
        self.hidden_rows = self.hidden_tips = 0
        self.rows = self._hide_held(rows.reset_index(drop=True))
        self.cursor = min(self.cursor, max(0, len(self.rows) - 1))
        self._claim_page()
        self.render()

    # -- team mode: claims ----------------------------------------------------------------

    def _held_by(self, row):
        """(by, since) of another analyst's claim on one of the row's tips, or None."""
        if not self.held:
            return None
        for tip in row["member_ids"]:
            if tip in self.held:
                return self.held[tip]
        return None

    def _hide_held(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` without those in review by others (unless they are to be shown), the
        totals counting them out."""
        if not (self.team and self.held and len(rows)) or self.show_held.value:
            return rows
        held = rows["member_ids"].map(lambda ids: any(t in self.held for t in ids))
        if not held.any():
            return rows
        count, tips = int(held.sum()), int(rows.loc[held, "members"].sum())
        self.hidden_rows += count
        self.hidden_tips += tips
        self.total_rows -= count
        self.total_tips -= tips
        return rows[~held].reset_index(drop=True)

    def _page(self) -> pd.DataFrame:
        start = self.cursor // self.page_size * self.page_size
        return self.rows.iloc[start:start + self.page_size]

    def _claim_page(self, *, renew: bool = False) -> None:
        """Claim the page's untriaged tips for the user (with ``renew``, renew the claims
        older than :data:`RENEW_AFTER` too); best effort. Tips someone else claimed since
        the last sync are marked (and left out) as in review by them."""
        if not self.team:
            return
        from caselib.domain import team as decisions

        for _ in range(3):  # tips found held by others leave the page: claim the ones coming in
            if not len(self.rows):
                return
            now = time.monotonic()
            tips = [t for ids in self._page()["member_ids"] for t in ids if t not in self.held]
            wanted = [t for t in tips if t not in self.mine or (renew and now - self.mine[t] > RENEW_AFTER)]
            if not wanted:
                return
            try:
                taken, held = decisions.claim(self.team.shared, wanted)
            except CaselibError:  # e.g. a viewer: a decision would say why
                return
            self._own_writes += 1
            self.mine.update(dict.fromkeys(taken, now))
            if not held:
                return
            self.held.update({tip: (by, at) for tip, by, at in held})
            if self.show_held.value:
                return
            key = self.rows.iloc[self.cursor]["row_key"]
            self.rows = self._hide_held(self.rows)
            at = self.rows.index[self.rows["row_key"] == key]
            self.cursor = int(at[0]) if len(at) else min(self.cursor, max(0, len(self.rows) - 1))

    def _release(self) -> None:
        """Give up this view's claims (best effort)."""
        if self.team and self.mine:
            _release_claims(self.team.shared, self.mine)
            self._own_writes += 1

    def _sync(self) -> bool:
        """Sync the copy; whether someone else wrote to the server since the last sync."""
        try:
            result = self.team.sync()
        except CaselibError as error:
            self.message.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            return False
        others = result.upto - result.since > self._own_writes
        self._own_writes = 0
        return others

    def close(self) -> None:
        """Close the view: its claims are given up and its widgets closed."""
        self._release()
        self.widget.close()

    # -- drawing ---------------------------------------------------------------------------

    def current(self):
        """The current row (a pandas Series, see :func:`caselib.store.triage_view.untriaged_rows`), or None."""
        return self.rows.iloc[self.cursor] if len(self.rows) else None

    def _row_html(self, index: int, row) -> str:
        names = [row["brand"], row["shop"], row["suggested_place"], *self.names.get(row["tip_id"], ())]
        members = int(row["members"])
        if isinstance(row["cluster_id"], str):
            tips = (f"{members:,} · cluster {escape_cell(row['cluster_id'])} ({escape_cell(row['cluster_state'])})"
                    if members > 1 else f"1 · in cluster {escape_cell(row['cluster_id'])}")
        else:
            tips = "1"
        if row["triage_status"] == "under_review":
            tips += " · under review"
        held = self._held_by(row)
        if held is not None:
            tips += f" · in review by {escape_cell(held[0])} since {escape_cell(_since(held[1]))}"
        current = index == self.cursor
        return (
            f'<tr class="{"current" if current else ""}" data-row-key="{escape_cell(row["row_key"])}"'
            f' aria-selected="{"true" if current else "false"}">'
            f'<td class="nowrap">{index + 1:,}</td>'
            f'<td class="nowrap">{escape_cell(row["tip_id"])}</td>'
            f'<td class="nowrap">{escape_cell(row["received_at"])}</td>'
            f'<td class="nowrap">{escape_cell(row["suggested_country"])}</td>'
            f"<td>{escape_cell(row['suggested_place'])}</td>"
            f"<td>{tips}</td>"
            f"<td>{highlighted(row['tip_text'], names)}</td></tr>"
        )

    def render(self) -> None:
        """Draw the page of rows holding the current one, and the caption."""
        where = f"Object {self.objects.value}" if self.objects.value else (self.tips.caption() or "Every tip")
        if not len(self.rows):
            hidden = f" ({self.hidden_rows:,} rows in review by others left out)" if self.hidden_rows else ""
            self.caption.value = f'<div class="caselib-caption">Nothing to triage for {html.escape(where)}{hidden}.</div>'
            self.list.html = f'{STYLE}<div class="empty">No tips to triage here.</div>'
            return
        start = self.cursor // self.page_size * self.page_size
        page = self.rows.iloc[start:start + self.page_size]
        hidden = (f" · {self.hidden_rows:,} row{'s' if self.hidden_rows != 1 else ''} in review by others left out"
                  if self.hidden_rows else "")
        head = "".join(f"<th>{html.escape(label)}</th>" for label in _COLUMNS)
        body = "".join(self._row_html(start + i, row) for i, (_, row) in enumerate(page.iterrows()))
        self.list.html = f'{STYLE}<table class="caselib-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        folded = self.total_tips - self.total_rows
        self.caption.value = (
            f'<div class="caselib-caption">{html.escape(where)}: {self.total_tips:,} '
            f'tip{"s" if self.total_tips != 1 else ""} to triage in {self.total_rows:,} '
            f'row{"s" if self.total_rows != 1 else ""}'
            + (f" ({folded:,} near-duplicates folded into their cluster's row)" if folded else "")
            + f" · row {self.cursor + 1:,}{hidden}</div>"
        )

    # -- acting ----------------------------------------------------------------------------

    def key(self, key: str) -> None:
        """What a key pressed in the list does (:data:`KEYS`, :data:`MOVES`); others do nothing."""
        if key in KEYS:
            self.decide(KEYS[key])
        elif key in MOVES:
            self.move(MOVES[key])

    def move(self, step: int) -> None:
        """Make the row ``step`` rows on the current one (clamped to the list)."""
        if len(self.rows):
            page = self.cursor // self.page_size
            self.cursor = min(max(0, self.cursor + step), len(self.rows) - 1)
            if self.cursor // self.page_size != page:
                self._claim_page()
            self.render()

    def _prepare_writing(self) -> None:
        from caselib.errors import StoreError

        with contextlib.suppress(StoreError):  # another process writing: the decision will say so
            self.session.prepare_writing()

    def decide(self, status: str) -> None:
        """Give the current row's tips (a cluster's: all its untriaged tips listed) ``status``
        for the reason in the field (else the status' own), then show the next row."""
        from caselib.domain.triage import decide

        row = self.current()
        if row is None:
            self.message.value = "Nothing left to triage here."
            return
        started = time.perf_counter()
        reason = self.reason.value.strip() or DEFAULT_REASONS.get(status, f"triage: {status_label(status)}")
        ids = [str(t) for t in row["member_ids"]]
        if self.team:
            self._decide_shared(row, ids, status, reason, started)
            return
        try:
            with self.session.writing() as store:
                decision = decide(store, ids, status=status, reason=reason, by=self.by)
        except CaselibError as error:
            self.message.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            return
        self._decided(row, ids, status, reason, decision)
        if len(self.rows) - self.cursor < self.page_size and self.total_rows > len(self.rows):
            self.refresh()  # the rows read are running out: read the next ones
        else:
            self.render()
        self.timings.append(time.perf_counter() - started)

    def _decided(self, row, ids: list[str], status: str, reason: str, decision, where: str = "") -> None:
        """The row decided leaves the list; the message says what the decision did."""
        self.rows = self.rows.drop(index=self.rows.index[self.cursor]).reset_index(drop=True)
        self.total_rows -= 1
        self.total_tips -= len(ids)
        self.cursor = min(self.cursor, max(0, len(self.rows) - 1))
        what = f"cluster {row['cluster_id']} ({len(ids)} tips)" if len(ids) > 1 else f"tip {row['tip_id']}"
        if decision.changed:
            done = (f"now {status_label(status)} (“{reason}”), decided by {decision.decided_by}{where}; "
                    f"audit record {decision.audit_seq}")
        else:
            done = f"already stood as {status_label(status)}: nothing written"
        self.message.value = html.escape(f"{what} {done}")

    def _decide_shared(self, row, ids: list[str], status: str, reason: str, started: float) -> None:
        """A decision in team mode: on the server, naming the tips' states as the row showed
        them, then the copy synced; refused (another analyst decided or claimed them first,
        or the role may not), the message says so and the list is read again."""
        from caselib.domain import team as decisions
        from caselib.store.shared import Conflict, NotAllowed

        expected = {
            str(tip): (str(seen), None if forwarded is None or pd.isna(forwarded) else str(forwarded))
            for tip, seen, forwarded in zip(row["member_ids"], row["member_statuses"], row["member_forwarded"], strict=True)
        }
        try:
            decision = decisions.decide(self.team.shared, ids, status=status, reason=reason, expected=expected)
        except (Conflict, NotAllowed) as error:
            self.message.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            self._sync()
            self.refresh()
            return
        except CaselibError as error:
            self.message.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
            return
        self._own_writes += 1
        for tip in ids:  # the server gave up the user's claims of the tips decided
            self.mine.pop(tip, None)
        self._decided(row, ids, status, reason, decision, " on the shared store")
        self._claim_page(renew=True)  # the row coming into the page; claims growing old
        others = self._sync()  # a failure is the message
        if others or (len(self.rows) - self.cursor < self.page_size and self.total_rows > len(self.rows)):
            self.refresh()  # others' decisions or claims came with the sync, or the rows read run out
        else:
            self.render()
        self.timings.append(time.perf_counter() - started)
