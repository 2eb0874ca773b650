"""Closure flags: which objects are ready to close, and why (contract v1.1, closure rules).

The figures come from one SQL query (``sql/closure/figures.sql``), which sees each object as
it stood at the end of the as-of day (``objects_as_of`` in ``sql/rules/campaign.sql``); the
rules are applied here, per object, in the contract's order, and each flag carries reasons
an analyst can check against the figures beside them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from caselib.domain.rules import as_of_day, plural
from caselib.errors import CaselibError
from caselib.store import Store

__all__ = ["ClosureRules", "FLAG_COLUMNS", "OUTCOME_LABELS", "closure_flags", "evaluate_flags", "flag_figures", "outcome_label", "read_rules", "with_object_state"]

OUTCOMES = ("not_published", "closed", "not_ready", "origin_established", "widely_distributed", "exhausted")
READY_OUTCOMES = ("origin_established", "widely_distributed", "exhausted")
# Each outcome in words, for management outputs and widgets (the codes stay in data and files).
OUTCOME_LABELS = {
    "not_published": "not published yet",
    "closed": "closed or withdrawn",
    "not_ready": "not ready for closure",
    "origin_established": "origin established",
    "widely_distributed": "sold too widely to trace",
    "exhausted": "leads exhausted",
}


def outcome_label(outcome: str) -> str:
    """The outcome ``outcome`` in words (:data:`OUTCOME_LABELS`); an unknown code as it is."""
    return OUTCOME_LABELS.get(outcome, outcome)


# The columns of a flag table, in order: the five the contract names, then the figures.
FLAG_COLUMNS = [
    "object_id",
    "ready",
    "outcome",
    "origin_country",
    "reasons",
    "countable_tips",  # |C|
    "leading_country",  # c*
    "leading_share",  # s
    "leading_reporter_countries",  # r*
    "suggested_countries",  # k
    "duplicate_tips",  # countable tips received in confirmed duplicate groups
    "duplicate_groups",  # those groups: each counts once in |C|
    "last_tip_on",  # last
    "untriaged_tips",  # |U|
    "days_since_last_tip",
    "days_since_published",
    "status",
    "title",
]


@dataclass(frozen=True)
class ClosureRules:
    """Thresholds of the closure rules; the defaults are the contract's."""

    min_countable: int = 5  # rule 4: |C| >= this
    min_share: float = 0.6  # rule 4: s >= this
    min_reporter_countries: int = 3  # rule 4: r* >= this
    wide_min_countable: int = 20  # rule 5: |C| >= this
    wide_min_countries: int = 5  # rule 5: k >= this
    wide_max_share: float = 0.3  # rule 5: s < this
    quiet_days: int = 180  # rule 6: D - last >= this (or no tips)
    min_age_days: int = 365  # rule 6: D - first_published >= this

    def with_overrides(self, **overrides) -> ClosureRules:
        """A copy with the given thresholds changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def describe(self) -> list[str]:
        """The rules in words, with these thresholds (for methods sections and help)."""
        return [
            "0. Objects first published after the as-of day are not published yet: not ready, and counted "
            "in no figure.",
            "1. Objects with status closed or withdrawn on the day are closed, not ready.",
            "2. An object with tips still new or under review is not ready.",
            "3. Status identified with an origin country: origin established, ready.",
            f"4. At least {self.min_countable} countable tips (actionable or forwarded, with a "
            f"recognised suggested country), the leading country suggested by at least "
            f"{self.min_share:.0%} of them, from at least {self.min_reporter_countries} reporter "
            "countries: origin established, ready.",
            f"5. At least {self.wide_min_countable} countable tips over at least "
            f"{self.wide_min_countries} countries, the leading one below {self.wide_max_share:.0%}: "
            "widely distributed, ready.",
            f"6. No tip for {self.quiet_days} days (or none at all) and published at least "
            f"{self.min_age_days} days ago: exhausted, ready.",
            "7. Otherwise not ready, with the reason that blocks it.",
        ]


def read_rules(path: str | Path) -> ClosureRules:
    """Thresholds from a TOML file with a ``[closure]`` table (missing keys keep defaults)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CaselibError(f"cannot read the rules file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CaselibError(f"the rules file {path.name} is not valid TOML: it is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise CaselibError(f"the rules file {path.name} is not valid TOML: {error}") from None
    table = data.get("closure", data)
    if not isinstance(table, dict):
        raise CaselibError(f"in {path.name}, [closure] must be a table of thresholds, e.g. min_countable = 5")
    known = {f.name: f.type for f in dataclasses.fields(ClosureRules)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise CaselibError(
            f"the rules file {path.name} has unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(known)}"
        )
    values = {}
    for key, value in table.items():
        wanted = float if known[key] in ("float", float) else int
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
            raise CaselibError(f"in {path.name}, {key} must be a non-negative number")
        # Truncating 4.5 tips to 4 or reading a share of 60 as 6000 % would silently
        # change what the rule means.
        if wanted is int and value != int(value):
            raise CaselibError(f"in {path.name}, {key} must be a whole number, not {value}")
        if wanted is float and value > 1:
            raise CaselibError(f"in {path.name}, {key} is a share and must be between 0 and 1 (0.6 for 60%), not {value}")
        values[key] = wanted(value)
    return ClosureRules(**values)


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _country(code: str | None, *, with_code: bool = True) -> str:
    """A country in a reason: its name (caselib's one spelling), with the code unless in a list."""
    from caselib.domain.countries import country_name

    name = country_name(code) if code else None
    if not name:
        return str(code)
    return f"{name} ({code})" if with_code else name


def _evaluate(row: dict, rules: ClosureRules, as_of: dt.date) -> tuple[bool, str, str | None, list[str]]:
    """(ready, outcome, origin_country, reasons) for one object's figures; when confirmed
    duplicate groups were counted once, the reasons say so."""
    ready, outcome, origin, reasons = _judge(row, rules, as_of)
    groups = row.get("duplicate_groups") or 0
    if groups and outcome not in ("not_published", "closed"):
        copies = row.get("duplicate_tips") or 0
        received = row["countable_tips"] - groups + copies
        reasons = [*reasons, (
            f"{plural(row['countable_tips'], 'countable tip')} counting people, not copies: of the {received} "
            f"received, {copies} are in {plural(groups, 'duplicate group')}, each group counted once"
        )]
    return ready, outcome, origin, reasons


def _judge(row: dict, rules: ClosureRules, as_of: dt.date) -> tuple[bool, str, str | None, list[str]]:
    """(ready, outcome, origin_country, reasons) for one object's figures."""
    countable = row["countable_tips"]
    leader, share = row["leading_country"], row["leading_share"]
    reporters, countries = row["leading_reporter_countries"], row["suggested_countries"]
    last, age = row["days_since_last_tip"], row["days_since_published"]

    if row["status"] == "not_published":
        return False, "not_published", None, [
            f"not yet published on {as_of.isoformat()} (first published {_as_date(row['first_published']).isoformat()})"
        ]
    if row["status"] in ("closed", "withdrawn"):
        return False, "closed", row["established_origin"], [f"status is {row['status']}"]
    if row["untriaged_tips"] > 0:
        n = row["untriaged_tips"]
        return False, "not_ready", None, [f"{plural(n, 'tip')} still to triage"]
    if row["status"] == "identified" and row["established_origin"]:
        return True, "origin_established", row["established_origin"], [
            f"identified by investigators: origin {_country(row['established_origin'])}"
        ]
    if countable >= rules.min_countable and share >= rules.min_share and reporters >= rules.min_reporter_countries:
        return True, "origin_established", leader, [
            f"{row['leading_tips']} of {countable} countable tips ({_percent(share)}) suggest "
            f"{_country(leader)}, sent from {plural(reporters, 'reporter country')}"
        ]
    if countable >= rules.wide_min_countable and countries >= rules.wide_min_countries and share < rules.wide_max_share:
        return True, "widely_distributed", None, [
            f"{plural(countable, 'countable tip')} spread over {plural(countries, 'country')}; the leading one, "
            f"{_country(leader)}, has only {_percent(share)}"
        ]
    quiet = last is None or last >= rules.quiet_days
    if quiet and age >= rules.min_age_days:
        activity = "no tips at all" if last is None else f"no tip for {last} days"
        return True, "exhausted", None, [f"{activity}; published {age} days ago"]

    reasons = []
    if countable < rules.min_countable:
        reasons.append(f"too few countable tips: {countable} of {rules.min_countable} needed")
    elif share < rules.min_share:
        shares = ", ".join(f"{_country(c['country'], with_code=False)} {_percent(c['n'] / countable)}"
                           for c in row["top_countries"])
        reasons.append(f"split consensus: {shares} ({_percent(rules.min_share)} needed)")
    elif reporters < rules.min_reporter_countries:
        reasons.append(
            f"too few independent reporter countries: {reporters} suggest {_country(leader)}, "
            f"{rules.min_reporter_countries} needed"
        )
    if not quiet:
        reasons.append(f"recent activity: last tip {last} days ago ({rules.quiet_days} days of quiet needed)")
    elif age < rules.min_age_days:
        reasons.append(f"published only {age} days ago ({rules.min_age_days} needed before it counts as exhausted)")
    return False, "not_ready", None, reasons


def closure_flags(
    store: Store,
    *,
    as_of: dt.date | None = None,
    rules: ClosureRules | None = None,
    ready_only: bool = False,
    objects=None,
):
    """One closure flag per object, evaluated as of ``as_of`` (default: today, UTC).

    ``objects`` (object ids) limits the flags to those objects; default all.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FLAG_COLUMNS`: ``ready`` (bool), ``outcome`` (one of ``closed``,
        ``not_ready``, ``origin_established``, ``widely_distributed``, ``exhausted``),
        ``origin_country`` (alpha-3 or missing), ``reasons`` (text), and the figures:
        ``countable_tips`` |C|, ``leading_country`` c*, ``leading_share`` s (0–1),
        ``leading_reporter_countries`` r*, ``suggested_countries`` k, ``last_tip_on``,
        ``untriaged_tips`` |U|, and the whole days since the last tip and since publication.
    """
    as_of = as_of_day(as_of)
    figures = flag_figures(store, as_of=as_of, objects=objects)
    return evaluate_flags(figures, as_of=as_of, rules=rules, ready_only=ready_only)


def flag_figures(store: Store, *, as_of: dt.date | None = None, objects=None):
    """The figures the rules read, one row per object (``sql/closure/figures.sql``).

    :func:`closure_flags` is :func:`evaluate_flags` of these. A view that keeps them can
    re-evaluate an object after a decision with :func:`with_object_state`, without
    reading the tips again.
    """
    as_of = as_of_day(as_of)
    if isinstance(objects, str):
        objects = [objects]
    return store.query_df("closure/figures", {"as_of": as_of, "objects": None if objects is None else list(objects)})


def with_object_state(store: Store, figures, object_id: str, *, as_of: dt.date | None = None):
    """``figures`` with ``object_id``'s own columns read again as of ``as_of``: what a decision
    changes (a decision recorded after that day leaves them as they were).

    A decision changes an object's status and established origin, never its tips; the
    tip figures are kept as they are.
    """
    state = store.query_df("closure/object_state", {"object_id": object_id, "as_of": as_of_day(as_of)})
    if state.empty:
        raise CaselibError(f"there is no object {object_id!r}; see the objects with `caselib flags`")
    out = figures.copy()
    at = out.index[out["object_id"] == object_id][0]
    for column in state.columns:
        out.at[at, column] = state.at[0, column]
    return out


def evaluate_flags(figures, *, as_of: dt.date, rules: ClosureRules | None = None, ready_only: bool = False):
    """The closure rules applied to :func:`flag_figures`: the frame of :func:`closure_flags`."""
    import pandas as pd

    rules = rules or ClosureRules()
    records = []
    for row in figures.to_dict(orient="records"):
        row = {k: (None if _missing(v) else v) for k, v in row.items()}
        for key in ("untriaged_tips", "countable_tips", "leading_tips", "leading_reporter_countries", "suggested_countries",
                    "duplicate_tips", "duplicate_groups"):
            row[key] = int(row[key] or 0)
        row["top_countries"] = [] if row["top_countries"] is None else list(row["top_countries"])
        last_tip = _as_date(row["last_tip_on"])
        row["days_since_last_tip"] = None if last_tip is None else (as_of - last_tip).days
        row["days_since_published"] = (as_of - _as_date(row["first_published"])).days
        if row["leading_share"] is not None:
            row["leading_share"] = float(row["leading_share"])
        ready, outcome, origin, reasons = _evaluate(row, rules, as_of)
        records.append(
            {
                **{k: row.get(k) for k in FLAG_COLUMNS},
                "ready": ready,
                "outcome": outcome,
                "origin_country": origin,
                "reasons": "; ".join(reasons),
                "last_tip_on": last_tip,
            }
        )
    flags = pd.DataFrame.from_records(records, columns=FLAG_COLUMNS)
    flags = flags.astype({"ready": bool, "days_since_published": "Int64", "days_since_last_tip": "Int64"})
    if ready_only:
        flags = flags[flags["ready"]].reset_index(drop=True)
    return flags


def _missing(value) -> bool:
    if value is None or isinstance(value, list | tuple | str | bool | int):
        return value is None
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return value.to_pydatetime().date()  # pandas Timestamp
