"""The deliberately messy rows of a sample campaign, and the later re-delivery of some tips.

`_mess` marks the script and formula texts, writes odd country values and invalid
coordinates into some valid tips and builds the rows the loader must count or reject
(exact duplicates, unknown objects, missing required values, tips from the future);
`_place_messy_rows` scatters those rows through the export. `_redelivery` builds the later
export: triage updates, unchanged rows and (when messy) conflicts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from caselib.domain.sample.drawing import (
    _ACTIONABLE,
    _DAY,
    _DUPLICATE,
    _FORWARDED,
    _NEW,
    _NOT_ACTIONABLE,
    _OFF_TOPIC,
    _REVIEW,
    _epoch,
    _take,
)
from caselib.domain.sample.planning import _SPELLINGS, ODD_COUNTRY_VALUES

UNKNOWN_OBJECT_IDS = ("Z404", "X17", "G-00", "OBJ-1")
_MISSING_KINDS = ("tip_id", "object_id", "received_at_empty", "received_at_unparseable")
_UNPARSEABLE_TIME = "yesterday"
_FUTURE_YEAR = 2099
SCRIPT_TEXT = "<script>alert(1)</script>"
FORMULA_TEXT = '=HYPERLINK("http://example.org/","more details")'

# Text codes of the two special texts, beside the drawn texts' codes (which are >= 0).
_TEXT_SCRIPT = -2
_TEXT_FORMULA = -3


def _mess(rng, core, info, n_objects, nc, messy: bool):
    """Choose and build the messy rows; returns (extra rows, counts, used mask, specials)."""
    n = len(core["t"])
    used = np.zeros(n, dtype=bool)

    def pick(mask, size):
        candidates = np.flatnonzero(mask & ~used)
        chosen = np.sort(rng.choice(candidates, size=min(size, len(candidates)), replace=False))
        used[chosen] = True
        return chosen

    plain = np.isin(core["status"], [_NOT_ACTIONABLE, _OFF_TOPIC])
    specials = pick(plain, 2)
    core["text"][specials[0]] = _TEXT_SCRIPT
    core["text"][specials[1]] = _TEXT_FORMULA
    counts = dict.fromkeys(
        (
            "unknown_object",
            "missing_required",
            "future",
            "exact_duplicate",
            "odd_country",
            "invalid_coordinates",
        ),
        0,
    )
    detail = {
        "missing_required": dict.fromkeys(_MISSING_KINDS, 0),
        "odd_country": {},
        "unknown_object": {},
    }
    if not messy:
        return _take(core, np.array([], dtype=np.int64)), counts, detail, used, specials

    size = {
        "unknown_object": max(5, round(0.006 * n)),
        "missing_required": max(5, round(0.004 * n)),
        "future": 2,
        "exact_duplicate": max(5, round(0.005 * n)),
        "odd_country": max(4, round(0.002 * n)),
        "invalid_coordinates": max(4, round(0.0003 * n)),
    }
    odd = pick(~info["countable"] & (core["rep"] >= 0), size["odd_country"])
    which = np.arange(len(odd)) % len(ODD_COUNTRY_VALUES)
    core["rep"][odd] = nc * _SPELLINGS + which
    counts["odd_country"] = len(odd)
    detail["odd_country"] = {
        value: int((which == j).sum()) for j, (value, _) in enumerate(ODD_COUNTRY_VALUES)
    }

    bad = pick(info["has_coords"], size["invalid_coordinates"])
    kind = np.arange(len(bad)) % 4
    lat, lon = core["lat"], core["lon"]
    lat[bad[kind == 0]] = np.round(np.abs(lat[bad[kind == 0]]) + 91.0, 4)  # latitude out of range
    lon[bad[kind == 1]] = np.round(np.abs(lon[bad[kind == 1]]) + 181.0, 4)  # longitude out of range
    lon[bad[kind == 2]] = np.nan  # latitude only
    lat[bad[kind == 3]] = np.nan  # longitude only
    counts["invalid_coordinates"] = len(bad)

    duplicates = pick(np.ones(n, dtype=bool), size["exact_duplicate"])
    counts["exact_duplicate"] = len(duplicates)

    source_pool = np.flatnonzero(~used)
    parts = [_take(core, duplicates)]
    next_num = n + 1

    unknown = _take(core, rng.choice(source_pool, size["unknown_object"]))
    which = np.arange(size["unknown_object"]) % len(UNKNOWN_OBJECT_IDS)
    unknown["obj"] = (n_objects + which).astype(np.int32)
    unknown["tip_num"] = np.arange(next_num, next_num + len(which))
    next_num += len(which)
    parts.append(unknown)
    counts["unknown_object"] = len(which)
    detail["unknown_object"] = {
        v: int((which == j).sum()) for j, v in enumerate(UNKNOWN_OBJECT_IDS)
    }

    missing = _take(core, rng.choice(source_pool, size["missing_required"]))
    which = np.arange(size["missing_required"]) % len(_MISSING_KINDS)
    missing["tip_num"] = np.where(which == 0, -1, np.arange(next_num, next_num + len(which)))
    next_num += len(which)
    missing["obj"][which == 1] = -1
    missing["ts_kind"][which == 2] = 2
    missing["ts_kind"][which == 3] = 1
    parts.append(missing)
    counts["missing_required"] = len(which)
    detail["missing_required"] = {v: int((which == j).sum()) for j, v in enumerate(_MISSING_KINDS)}

    future = _take(core, rng.choice(source_pool, size["future"]))
    start = _epoch(dt.date(_FUTURE_YEAR, 1, 15))
    future["t"] = (
        start + np.arange(size["future"]) * 40 * _DAY + rng.integers(0, _DAY, size["future"])
    )
    future["zone"][:] = 0
    future["tip_num"] = np.arange(next_num, next_num + size["future"])
    parts.append(future)
    counts["future"] = size["future"]

    extra = {key: np.concatenate([p[key] for p in parts]) for key in core}
    return extra, counts, detail, used, specials


def _redelivery(rng, core, used, n_objects, nc, end, messy: bool):
    """Build the later export: triage updates, unchanged rows and (when messy) conflicts."""
    n = len(core["t"])
    taken = used.copy()

    def pick(mask, size):
        candidates = np.flatnonzero(mask & ~taken)
        chosen = np.sort(rng.choice(candidates, size=min(size, len(candidates)), replace=False))
        taken[chosen] = True
        return chosen

    # under_review is left alone: triaging it could empty an untriaged object's backlog.
    updatable = core["status"] != _REVIEW
    update = pick(updatable, max(10, round(0.015 * n)))
    same = pick(np.ones(n, dtype=bool), max(5, round(0.003 * n)))
    conflict = pick(np.ones(n, dtype=bool), max(3, round(0.0005 * n)) if messy else 0)

    rows = _take(core, np.concatenate([update, same, conflict]))
    nu = len(update)
    status = rows["status"][:nu].copy()
    fwd = rows["fwd"][:nu].copy()
    sug_country = rows["sug"][:nu] // _SPELLINGS
    new_status = status.copy()
    new_status[status == _ACTIONABLE] = _FORWARDED
    new_status[status == _NEW] = _REVIEW
    new_status[status == _NOT_ACTIONABLE] = _DUPLICATE
    new_status[status == _DUPLICATE] = _NOT_ACTIONABLE
    new_status[status == _OFF_TOPIC] = _NOT_ACTIONABLE
    to_forward = status == _ACTIONABLE
    fwd[to_forward] = sug_country[to_forward] * _SPELLINGS
    reforward = status == _FORWARDED
    moved = (fwd[reforward] // _SPELLINGS + 1 + rng.integers(0, nc - 1, int(reforward.sum()))) % nc
    fwd[reforward] = moved * _SPELLINGS
    rows["status"][:nu] = new_status
    rows["fwd"][:nu] = fwd

    nconf = len(conflict)
    which = np.arange(nconf) % 2
    at = nu + len(same) + np.flatnonzero(which == 0)
    shift = rng.integers(3600, 3 * _DAY, len(at))
    end_epoch = _epoch(end) + _DAY - 1
    moved_t = rows["t"][at] + shift
    rows["t"][at] = np.where(moved_t > end_epoch, rows["t"][at] - shift, moved_t)
    at = nu + len(same) + np.flatnonzero(which == 1)
    rows["obj"][at] = (rows["obj"][at] + 1 + rng.integers(0, n_objects - 1, len(at))) % n_objects

    order = np.argsort(rows["tip_num"], kind="stable")
    counts = {
        "rows": nu + len(same) + nconf,
        "triage_update": nu,
        "unchanged": len(same),
        "conflict": nconf,
        "conflict_detail": {
            "received_at": int((which == 0).sum()),
            "object_id": int((which == 1).sum()),
        },
    }
    return _take(rows, order), counts




def _place_messy_rows(rng, core: dict, extra: dict) -> np.ndarray:
    """Append the messy rows to ``core`` (in place) and return the order of the tips file.

    Messy rows go to random places in the otherwise chronological export. The draw comes
    after `_redelivery`'s, so that the seeded stream keeps its order.
    """
    tips = len(core["t"])
    n_extra = len(extra["t"])
    position = np.concatenate([core["tip_num"] - 1.0, rng.random(n_extra) * tips])
    order = np.argsort(position, kind="stable")
    del position
    for key in core:
        core[key] = np.concatenate([core[key], extra[key]])
    return order
