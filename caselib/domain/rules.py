"""The campaign's rules that are not SQL, each defined once: the default as-of day and
small-count suppression, and a count put into words with its noun (:func:`plural`).

The rules over the data (a tip received by the as-of day, untriaged and countable tips, a
wave's window, an object's state as of a day, the leading suggested country) are DuckDB
macros in ``caselib/sql/rules/campaign.sql``, which every query calls by name.

Suppression: in outputs for management, a tip count from 1 to ``k - 1`` is hidden (a small
count can point at a person), and so is every figure derived from it (a share, a rate).
In a breakdown whose total is known, one hidden cell could be worked out from the total and
the others, so :func:`suppress_breakdown` hides further cells until none can be.

Examples
--------
>>> count_text(3, 5), count_text(0, 5), count_text(1234, 5)
('fewer than 5', '0', '1,234')
>>> hidden, total_hidden = suppress_breakdown({"DEU": 40, "FRA": 3, "ITA": 12, "POL": 9}, 5)
>>> sorted(hidden), total_hidden
(['FRA', 'POL'], False)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Mapping

__all__ = [
    "DEFAULT_K",
    "as_of_day",
    "count_text",
    "hide_small",
    "is_small",
    "plural",
    "suppress_breakdown",
    "today_utc",
]

DEFAULT_K = 5

_IRREGULAR = {"person": "people", "child": "children", "analysis": "analyses"}


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun`` in words, the noun's last word in the plural unless ``count`` is 1.

    Returns the count with thousands separators: ``plural(1, "reporter country")`` is
    ``"1 reporter country"``, ``plural(1234, "tip")`` is ``"1,234 tips"``. ``plural_form``
    gives the plural of the whole noun where the rule (``-y`` → ``-ies``, ``-s``/``-x``/
    ``-ch``/``-sh`` → ``-es``, else ``-s``) is wrong.

    Examples
    --------
    >>> plural(1, "reporter country"), plural(3, "reporter country"), plural(0, "box")
    ('1 reporter country', '3 reporter countries', '0 boxes')
    """
    count = int(count)
    if count == 1:
        return f"1 {noun}"
    if plural_form is None:
        head, _, last = noun.rpartition(" ")
        if last in _IRREGULAR:
            last = _IRREGULAR[last]
        elif re.search(r"[^aeiou]y$", last):
            last = last[:-1] + "ies"
        elif re.search(r"(s|x|z|ch|sh)$", last):
            last += "es"
        else:
            last += "s"
        plural_form = f"{head} {last}" if head else last
    return f"{count:,} {plural_form}"


def today_utc() -> dt.date:
    """Today's date in UTC: the as-of day when none is given."""
    return dt.datetime.now(dt.UTC).date()


def as_of_day(as_of: dt.date | dt.datetime | str | None = None) -> dt.date:
    """The day figures are as of: ``as_of`` as a date (``YYYY-MM-DD`` text too), else today, UTC.

    A datetime stands for its UTC day (a naive one is taken as UTC).
    """
    if as_of is None or as_of == "":
        return today_utc()
    if isinstance(as_of, dt.datetime):
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(dt.UTC)
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if hasattr(as_of, "to_pydatetime"):  # pandas Timestamp
        return as_of_day(as_of.to_pydatetime())
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        from caselib.errors import CaselibError

        raise CaselibError(f"the as-of day {as_of!r} is not a date; write it as YYYY-MM-DD") from None


def _suppressing(k: int | None) -> bool:
    return k is not None and k >= 2


def is_small(count: int | None, k: int | None) -> bool:
    """Whether ``count`` is hidden on its own: from 1 to ``k - 1`` (a zero is no one)."""
    return _suppressing(k) and count is not None and 0 < count < k


def hide_small(count: int | None, k: int | None) -> int | None:
    """``count``, or None when it lies between 1 and ``k - 1`` (management outputs)."""
    return None if is_small(count, k) else count


def count_text(count: int | None, k: int | None) -> str:
    """``1,234``; ``fewer than 5`` for a count hidden (None, or a small one) when ``k`` hides."""
    if count is None or is_small(count, k):
        return f"fewer than {k}" if _suppressing(k) else "–"
    return f"{int(count):,}"


def _pinned(hidden: list[int], k: int) -> bool:
    """Whether knowing the sum of ``hidden`` (and that small ones lie in 1..k-1, the others at
    or above k) pins any of them to one value."""
    small = sum(1 for n in hidden if n < k)
    large = len(hidden) - small
    total = sum(hidden)
    if len(hidden) < 2:
        return True
    if large:
        return total <= small + large * k  # every cell at its least possible value
    return not small < total < small * (k - 1)  # all at 1, or all at k - 1


def suppress_breakdown(counts: Mapping[Hashable, int | None], k: int | None) -> tuple[set, bool]:
    """The cells of a breakdown to hide, and whether its total must be hidden too.

    ``counts`` maps each cell of a breakdown (countries, and the tips without a country) to
    its count; their sum is the total, which is taken as known. Cells from 1 to ``k - 1``
    are hidden; when the hidden ones could be worked out from the total (one hidden cell,
    or several whose sum allows only one value for some), the next smallest cells are
    hidden too, until none can. When even hiding every cell leaves one recoverable, the total
    is hidden as well. ``k`` of None or below 2 hides nothing.
    """
    if not _suppressing(k):
        return set(), False
    values = {key: int(n or 0) for key, n in counts.items()}
    total = sum(values.values())
    hidden = {key for key, n in values.items() if 0 < n < k}
    if not hidden:
        return hidden, False
    if total < k:
        return {key for key, n in values.items() if n > 0}, True
    others = sorted((n, str(key), key) for key, n in values.items() if n > 0 and key not in hidden)
    while _pinned([values[key] for key in hidden], k) and others:
        hidden.add(others.pop(0)[2])
    return hidden, _pinned([values[key] for key in hidden], k)
