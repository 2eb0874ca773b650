"""What the tip explorer lists: pages of tips under the common filters."""

from __future__ import annotations

from caselib.store import Store, TipSource

__all__ = ["tip_page"]


def tip_page(store: Store, tips: TipSource | None = None, *, page: int = 0, page_size: int = 20):
    """One page of the chosen tips, newest first, and the number of tips chosen.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The page's tips (tip fields, no contact data: none is stored) and the total count.
        A page past the end is empty.
    """
    page = max(0, int(page))
    frame = store.query_df("explore/tip_page", {"limit": int(page_size), "offset": page * int(page_size)}, tips=tips)
    total = int(store.query_df("explore/tip_count", tips=tips)["total"].iloc[0])
    return frame, total
