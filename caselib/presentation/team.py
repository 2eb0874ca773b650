"""Team mode in the notebooks' views: the shared store the session's copy follows.

Team mode is on when a shared store is configured (``CASELIB_SHARED_URL``,
:func:`caselib.store.shared.shared_url`). A view then opens through :func:`team_mode`: the
session's DuckDB file is (or becomes, when it is new or empty) that store's copy, and is
synced first when it is behind the server, with a one-line note of what came. Decisions go to
the server (:mod:`caselib.domain.team`), by the logged-in server user, and the copy is
synced after each.

Without a shared URL :func:`team_mode` returns None at once: nothing is imported from
:mod:`caselib.store.shared` beyond reading the setting, no connection is attempted.
"""

from __future__ import annotations

import contextlib
import html
import weakref
from dataclasses import dataclass, field

from caselib.errors import CaselibError
from caselib.store.session import Session

__all__ = ["TeamError", "TeamMode", "team_mode"]

# One server connection per session (the views of a notebook share it).
_CONNECTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class TeamError(CaselibError):
    """The shared store cannot be reached or the copy cannot follow it: one line in a notebook."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


@dataclass
class TeamMode:
    """A view's link to the shared store: the connection, the user, what was synced on opening."""

    session: Session
    shared: object  # caselib.store.shared.Shared
    note: str = ""  # what was synced when the view opened ("" when the copy was up to date)
    synced: list = field(default_factory=list)  # the SyncResults of this view's syncs

    @property
    def user(self) -> str:
        return self.shared.user

    def sync(self):
        """Bring the copy up to the server (incremental; the session's write connection)."""
        from caselib.store.shared.sync import sync

        with self.session.writing() as store:
            result = sync(store, self.shared)
        self.synced.append(result)
        return result

    def line(self) -> str:
        """The view's one-line HTML note: the shared store, the user, what was synced on opening."""
        from caselib.store.shared import describe

        text = f"Team mode: shared store {describe(self.shared.url)}, decisions by {self.user}"
        if self.note:
            text += f" · {self.note}"
        return f'<div class="caselib-caption">{html.escape(text)}</div>'


def _connection(session: Session, url: str):
    from caselib.store.shared import connect

    shared = _CONNECTIONS.get(session)
    if shared is not None and shared.url == url and not shared.con.closed and not shared.con.broken:
        return shared
    if shared is not None:
        with contextlib.suppress(Exception):  # a connection already broken
            shared.close()
    shared = connect(url, application="caselib views")
    _CONNECTIONS[session] = shared
    return shared


def team_mode(session: Session) -> TeamMode | None:
    """Team mode for a view on ``session`` (None without a shared URL), the copy synced
    first when it is behind the server (``copy_rev < rev``).

    Raises :class:`TeamError` (one line) when the server cannot be reached, or the database
    is not a copy of that store (a campaign of its own, a copy of another store)."""
    from caselib.store.shared import shared_url

    try:
        url = shared_url(None)
    except CaselibError as error:
        raise TeamError(str(error)) from None
    if url is None:
        return None
    from caselib.store.shared.sync import copy_rev

    try:
        shared = _connection(session, url)
        team = TeamMode(session, shared)
        if session.path.exists():
            with session.reading() as store:
                behind = copy_rev(store) < shared.rev()
        else:
            behind = True  # a new file: it becomes the copy
        if behind:
            team.note = team.sync().summary()
    except TeamError:
        raise
    except CaselibError as error:
        raise TeamError(str(error)) from None
    return team
