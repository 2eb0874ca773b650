"""A forwarding package from a team's shared store (a reviewer's): the package is the
workbench's own (:func:`caselib.presentation.forwarding.write_package`), its tips read from the
reviewer's copy, caught up inside the server's write (so no other write can change which
tips are forwardable meanwhile), and marked forwarded on the server, where the ZIP is put in
place before the write commits: a failure leaves neither the file nor the decision.
"""

from __future__ import annotations

from pathlib import Path

from caselib.shared import Shared
from caselib.store import Store

__all__ = ["write_package"]


def write_package(store: Store, shared: Shared, country: str, output: str | Path, *, object_id: str | None = None,
                  codes=None):
    """:func:`caselib.presentation.forwarding.write_package` on the shared store; returns its Package."""
    from caselib.presentation.forwarding import write_package as package
    from caselib.shared import decisions
    from caselib.shared.sync import sync

    def decide(_store, ids, *, status, forwarded_to, by, reason, _action, _details, _before_commit):
        return decisions.decide(shared, ids, status=status, forwarded_to=forwarded_to, reason=reason,
                                _action=_action, _details=_details, _before_commit=_before_commit)

    with shared.writing():
        sync(store, shared)
        done = package(store, country, output, object_id=object_id, codes=codes, by=shared.user, _decide=decide)
    sync(store, shared)
    return done
