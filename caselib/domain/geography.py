"""Tip geography: where tips come from, where tipsters say objects come from, and how sure.

Counts are computed in DuckDB (``sql/geography/*.sql``) over the tips a
:class:`~caselib.domain.filters.TipFilter` chooses; results are small pandas frames, one row per
country, per suggestion or per map cell, whatever the number of tips. Outputs for
management pass ``k``: counts from 1 to ``k - 1`` are hidden, because a small count can
point at a person.

Examples
--------
>>> from caselib import open_store
>>> from caselib.domain.filters import TipFilter
>>> store = open_store(read_only=True)                                  # doctest: +SKIP
>>> tips_by_country(store, TipFilter(wave="2021-03"), by="suggested", k=5)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources

from caselib.domain.rules import DEFAULT_K, as_of_day, is_small, suppress_breakdown
from caselib.errors import CaselibError
from caselib.store import Store, TipSource

__all__ = [
    "DEFAULT_K",
    "country_populations",
    "origin_consensus",
    "suppress_small_counts",
    "tip_hexbins",
    "tip_points",
    "tips_by_country",
    "tips_by_country_both",
]

_BY = ("reporter", "suggested")
UNRECOGNISED, NONE = "(unrecognised)", "(none)"


@functools.cache
def _populations():
    import pandas as pd

    with resources.files("caselib").joinpath("data/country_population.csv").open(encoding="utf-8") as handle:
        return pd.read_csv(handle, comment="#", keep_default_na=False, dtype={"population": "int64"})


def country_populations():
    """Population per alpha-3 country (``country``, ``name``, ``population``, ``source``).

    Natural Earth's 1:110m admin-0 estimates (public domain), with rounded figures for
    countries too small for that scale; see ``caselib/data/country_population.csv``.
    """
    frame = _populations().rename(columns={"alpha3": "country"}).copy()
    frame["name"] = [_country_name(c, n) for c, n in zip(frame["country"], frame["name"], strict=True)]
    return frame


def suppress_small_counts(frame, k: int | None, columns=("tips",), *, flag: str = "suppressed", hidden=None):
    """Hide counts from 1 to ``k - 1`` in ``columns`` (and rates derived from them).

    Returns a copy with those cells missing and a boolean column ``flag`` marking the rows
    whose count was hidden. ``k`` of None or below 2 hides nothing (analysts' views).
    Derived columns listed in ``frame.attrs["derived"]`` (e.g. ``share``, ``per_million``) are
    hidden with their count. ``hidden`` (a boolean per row) hides those rows instead of the
    small ones: a breakdown's rows chosen by :func:`caselib.domain.rules.suppress_breakdown`.
    """
    import pandas as pd

    out = frame.copy()
    columns = [c for c in columns if c in out.columns]
    out[flag] = False
    if k is None or k < 2 or out.empty:
        return out
    if hidden is None:
        hidden = [any(is_small(None if n is None or n != n else int(n), k) for n in row)
                  for row in zip(*(out[column].tolist() for column in columns))]
    out[flag] = pd.array(list(hidden), dtype="bool")
    for column in columns + [c for c in out.attrs.get("derived", []) if c in out.columns]:
        out[column] = out[column].astype("Float64" if out[column].dtype.kind == "f" else "Int64")
        out.loc[out[flag], column] = None
    return out


def tips_by_country(store: Store, tips: TipSource | None = None, *, by: str = "reporter", k: int | None = None):
    """Tips per country, absolute and per million inhabitants.

    Parameters
    ----------
    tips
        Which tips (a :class:`~caselib.domain.filters.TipFilter`); all tips when None.
    by
        ``"reporter"``: the country a tip was sent from; ``"suggested"``: the country the
        tipster says the object comes from.
    k
        Hide counts below ``k`` (management outputs); None shows every count.

    Returns
    -------
    pandas.DataFrame
        One row per recognised alpha-3 ``country``: ``name``, ``tips``, ``share`` (of all the
        chosen tips), ``population``, ``per_million``, ``suppressed`` (its figures hidden:
        a count below ``k``, or one hidden with such a count so that it cannot be worked out
        from the total, then ``hidden_with_small``; :func:`caselib.domain.rules.suppress_breakdown`);
        sorted by tips. The
        tips whose country was not recognised or missing are in ``frame.attrs``
        (``unrecognised``, ``no_country``, ``total``), suppressed like the rest.
    """
    if by not in _BY:
        raise CaselibError(f"by must be one of {', '.join(_BY)}, not {by!r}")
    return _per_country(store.query_rows("geography/tips_by_country", {"by": by}, tips=tips), by, k)


def tips_by_country_both(store: Store, tips: TipSource | None = None, *, k: int | None = None):
    """:func:`tips_by_country` by reporter and by suggested country, from one scan of the tips.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(by_reporter, by_suggested)``, each as :func:`tips_by_country` returns it.
    """
    rows = store.query_rows("geography/tips_by_country_both", tips=tips)
    return tuple(_per_country([r[1:] for r in rows if r[0] == by], by, k) for by in _BY)


def _per_country(rows, by: str, k: int | None):
    """``(country or None, tips, tips with a raw value)`` per country → the frame of :func:`tips_by_country`.

    A missing country with a raw value was not recognised; without one, there was none.
    Built in plain Python: it runs at every interaction of the explorer, on a few hundred
    rows at most, where pandas' per-operation cost dominated.
    """
    import pandas as pd

    names, people = _population_maps()
    extra = {UNRECOGNISED: 0, NONE: 0}
    known = []
    for country, n, with_raw in rows:
        if country is None:
            extra[UNRECOGNISED] += int(with_raw)
            extra[NONE] += int(n) - int(with_raw)
        else:
            known.append((country, int(n)))
    total = sum(n for _, n in known) + extra[UNRECOGNISED] + extra[NONE]
    known.sort(key=lambda row: (-row[1], row[0]))
    codes = [c for c, _ in known]
    counts = [n for _, n in known]
    population = [people.get(c) for c in codes]
    frame = pd.DataFrame({
        "country": pd.array(codes, dtype="str"),
        # One spelling per country everywhere: pycountry's (countries.country_name), the
        # population table's Natural Earth name only for a code pycountry lacks.
        "name": pd.array([_country_name(c, names.get(c)) for c in codes], dtype="str"),
        "tips": pd.array(counts, dtype="int64"),
        "share": pd.array([n / total if total else 0.0 for n in counts], dtype="float64"),
        "population": pd.array(population, dtype="Int64"),
        "per_million": pd.array([n / (p / 1e6) if p else None for n, p in zip(counts, population)], dtype="Float64"),
    })
    frame.attrs["derived"] = ["share", "per_million"]
    # One breakdown: the countries and the tips without one add up to the total.
    hidden, total_hidden = suppress_breakdown({**dict(known), **extra}, k)
    if hidden and known:
        frame["hidden_with_small"] = pd.array([c in hidden and not is_small(n, k) for c, n in known], dtype="bool")
        frame = suppress_small_counts(frame, k, hidden=[c in hidden for c in codes])
        frame = frame.sort_values(["tips", "country"], ascending=[False, True], na_position="last").reset_index(drop=True)
    else:
        frame["suppressed"] = False
        frame["hidden_with_small"] = False
    frame.attrs.update(
        by=by,
        k=k,
        total=None if total_hidden else total,
        unrecognised=None if UNRECOGNISED in hidden else extra[UNRECOGNISED],
        no_country=None if NONE in hidden else extra[NONE],
    )
    return frame


@functools.cache
def _population_maps() -> tuple[dict[str, str], dict[str, int]]:
    """alpha-3 -> name, and alpha-3 -> population."""
    table = _populations()
    return dict(zip(table["alpha3"], table["name"])), dict(zip(table["alpha3"], table["population"].astype(int)))


def _country_name(code: str, fallback: str | None = None) -> str:
    from caselib.domain.countries import country_name

    try:
        return country_name(code) or fallback or code
    except (KeyError, LookupError):
        return code


def origin_consensus(
    store: Store,
    objects=None,
    *,
    as_of: dt.date | None = None,
    z: float = 1.96,
):
    """Per object, the share of countable tips suggesting each country, with a Wilson interval.

    Countable tips are those of the closure rules: actionable or forwarded, with a
    recognised suggested country, received on or before ``as_of`` (default today, UTC).

    Returns
    -------
    pandas.DataFrame
        ``object_id``, ``rank`` (1 = leading country; ties go to the alphabetically first
        alpha-3, as in the closure rules), ``country``, ``tips``, ``countable_tips``,
        ``reporter_countries``, ``share``, ``share_low``, ``share_high``.
    """
    if isinstance(objects, str):
        objects = [objects]
    if z <= 0:
        raise CaselibError("z must be positive (1.96 gives a 95% interval)")
    as_of = as_of_day(as_of)
    frame = store.query_df(
        "geography/consensus",
        {"as_of": as_of, "objects": None if objects is None else list(objects), "z": z},
    )
    return frame.astype({"rank": "int64", "tips": "int64", "countable_tips": "int64", "reporter_countries": "int64"})


def tip_hexbins(store: Store, tips: TipSource | None = None, *, size: float = 2.0, k: int | None = None):
    """Tips with coordinates counted per hexagon of ``size`` degrees.

    Returns one row per occupied hexagon (``q``, ``r``, centre ``latitude``/``longitude``,
    ``tips``); with ``k``, hexagons holding fewer than ``k`` tips are left out, so a map for
    management cannot point at a single tipster's place.
    """
    if not 0.05 <= size <= 30:
        raise CaselibError(f"hexagon size must be between 0.05 and 30 degrees, not {size}")
    frame = store.query_df("geography/hexbins", {"size": float(size)}, tips=tips)
    return _drop_small(frame, k)


def tip_points(store: Store, tips: TipSource | None = None, *, digits: int = 2, k: int | None = None):
    """Tips with coordinates counted per point rounded to ``digits`` decimals (2: about 1 km)."""
    if not 0 <= digits <= 4:
        raise CaselibError(f"digits must be between 0 and 4, not {digits}")
    frame = store.query_df("geography/points", {"digits": int(digits)}, tips=tips)
    return _drop_small(frame, k)


def _drop_small(frame, k: int | None):
    frame = frame.astype({"tips": "int64"})
    frame = frame[frame["tips"].map(lambda n: not is_small(int(n), k)).astype(bool)]
    return frame.reset_index(drop=True)
