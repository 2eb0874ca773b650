"""What the workbench works out of tips after they are loaded: near-duplicate clusters
(:mod:`caselib.domain.clusters`), detected languages (:mod:`caselib.domain.languages`) and
the names tips give (:mod:`caselib.domain.names`).

Each is incremental (only tips not seen before are read) and its own transaction, after the
load's: a load never waits for them and never fails because of them, and one interrupted is
taken up at the next refresh. ``caselib load`` and ``caselib demo`` refresh them after
loading tips; the views that show them refresh them first when the database is writable.
"""

from __future__ import annotations

from caselib.store import Store

__all__ = ["STEPS", "refresh_all"]

STEPS = ("clusters", "languages", "names")


def _clusters(store: Store) -> str:
    from caselib.domain.clusters import refresh_clusters

    done = refresh_clusters(store)
    if not done.compared:
        return "near-duplicates: no new tip to compare"
    return (
        f"near-duplicates: {done.compared:,} new tips compared, {done.exact_pairs + done.fuzzy_pairs:,} pairs found "
        f"({done.exact_pairs:,} the same text), {done.new_clusters:,} new suggested clusters, "
        f"{done.joined:,} tips joined one; {done.seconds:.1f} s"
    )


def _languages(store: Store) -> str:
    from caselib.domain.languages import refresh_languages

    return "languages: " + refresh_languages(store).summary()


def _names(store: Store) -> str:
    from caselib.domain.names import refresh_names

    return "names in tips: " + refresh_names(store).summary()


_RUN = {"clusters": _clusters, "languages": _languages, "names": _names}


def refresh_all(store: Store, steps=STEPS) -> list[str]:
    """Run each refresh in ``steps`` in turn; one summary line each. (A team's copy is
    refreshed by the administrator's loads, on the server.)"""
    store.refuse_on_copy("a refresh of clusters, languages and names")
    return [_RUN[step](store) for step in steps]
