"""What a sample campaign is about: its countries, its objects and their scenarios, tips per object.

The country table (``caselib/data/populations.csv``) is read here because the plan draws
origins and reporters from it; the tips are drawn from it too (`caselib.domain.sample.drawing`).
`_plan_objects` gives each object a scenario (see `caselib.domain.sample`), its countries and its
row of the objects file; `_tip_counts` and `_tip_plan` decide how many tips each object
gets and how many of them are countable, name the lead country or wait for triage.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.resources
import math
from dataclasses import dataclass

import numpy as np

from caselib.domain.contract import CATEGORIES
from caselib.domain.sample.configuration import SampleConfigError, _largest_remainder

# --------------------------------------------------------------------------- scenarios


SCENARIOS = (
    "converging",
    "split",
    "everywhere",
    "quiet",
    "untriaged",
    "identified",
    "closed",
    "withdrawn",
)
_S = {name: i for i, name in enumerate(SCENARIOS)}

# Placed first, in this order, so every campaign shows each case; the rarest eligibility
# (everywhere, quiet) goes first so the common scenarios cannot use up its objects.
_REQUIRED = (
    ("everywhere", 2),
    ("quiet", 2),
    ("untriaged", 2),
    ("split", 2),
    ("converging", 3),
    ("identified", 2),
    ("closed", 1),
    ("withdrawn", 1),
)
_FILL_WEIGHT = np.array([0.28, 0.14, 0.05, 0.12, 0.10, 0.14, 0.05, 0.03])
# Fewest tips an object of each scenario can have and still show its scenario.
_MIN_TIPS = np.array([7, 9, 24, 0, 3, 2, 1, 0])
# How many tips an object draws relative to its wave's other objects.
_POPULARITY = np.array([1.0, 1.0, 1.6, 0.04, 1.0, 1.0, 1.0, 0.3])
_OUTCOME = {
    "converging": "origin_established",
    "split": "not_ready",
    "everywhere": "widely_distributed",
    "quiet": "exhausted",
    "untriaged": "not_ready",
    "identified": "origin_established",
    "closed": "closed",
    "withdrawn": "closed",
}
_TRACEABLE = frozenset({"converging", "identified", "closed"})
_EVERYWHERE_COUNTRIES = 8


# --------------------------------------------------------------------------- countries


# Country spellings, all recognised by the contract: alpha-3, alpha-2, name, lower-case
# alpha-3, alpha-3 in spaces, lower-case name, numeric with zero padding.
_SPELLINGS = 7
_REGION_WEIGHT = {"EU": 1.0, "Europe": 0.6, "World": 0.02}

# Mess written into reporter_country, with the alpha-3 caselib.domain.countries makes of it; spelled
# after every country's own spellings, so that the mess can point at them.
ODD_COUNTRY_VALUES = (
    ("  germany ", "DEU"),
    ("U.K.", "GBR"),
    ("Deutschland", None),
    ("Atlantis", None),
)


@dataclass(frozen=True)
class _Countries:
    alpha3: tuple[str, ...]
    spellings: tuple[str, ...]  # _SPELLINGS per country, then the odd values
    names: tuple[str, ...]
    capitals: tuple[str, ...]
    language: np.ndarray  # index into languages
    languages: tuple[str, ...]
    latitude: np.ndarray
    longitude: np.ndarray
    p: np.ndarray  # probability of being a reporter (or suggested) country


def _load_countries() -> _Countries:
    text = (
        importlib.resources.files("caselib")
        .joinpath("data/populations.csv")
        .read_text(encoding="utf-8")
    )
    rows = list(
        csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    )
    languages = tuple(sorted({r["language"] for r in rows} | {"en"}))
    spellings = []
    for r in rows:
        spellings += [
            r["alpha3"],
            r["alpha2"],
            r["name"],
            r["alpha3"].lower(),
            f" {r['alpha3']} ",
            r["name"].lower(),
            r["numeric"].zfill(3),
        ]
    spellings += [value for value, _ in ODD_COUNTRY_VALUES]
    weight = np.array([float(r["population_millions"]) * _REGION_WEIGHT[r["region"]] for r in rows])
    return _Countries(
        alpha3=tuple(r["alpha3"] for r in rows),
        spellings=tuple(spellings),
        names=tuple(r["name"] for r in rows),
        capitals=tuple(r["capital"] for r in rows),
        language=np.array([languages.index(r["language"]) for r in rows], dtype=np.int16),
        languages=languages,
        latitude=np.array([float(r["latitude"]) for r in rows]),
        longitude=np.array([float(r["longitude"]) for r in rows]),
        p=weight / weight.sum(),
    )


# --------------------------------------------------------------------------- objects


_CATEGORY_ITEMS = {
    "clothing": ("child's T-shirt", "knitted cardigan", "rain jacket", "hooded sweater"),
    "toiletries": ("soap wrapper", "shampoo bottle", "toothpaste tube", "shower gel bottle"),
    "packaging": ("biscuit wrapper", "cereal box", "plastic bag", "juice carton"),
    "furniture": ("bedside table", "folding chair", "wardrobe handle", "lamp shade"),
    "bedding": ("duvet cover", "pillow case", "hotel towel", "fleece blanket"),
    "toy": ("plush bear", "toy car", "plastic doll", "board game box"),
    "signage": ("shop sign", "street sign", "door plate", "wall poster"),
    "printed matter": ("sticker", "bus ticket", "calendar page", "magazine page"),
    "other": ("key ring", "ashtray", "coffee mug", "curtain"),
}
_CATEGORIES = tuple(_CATEGORY_ITEMS)
assert set(_CATEGORIES) <= set(CATEGORIES)
_COLOURS = (
    "blue",
    "red",
    "green",
    "yellow",
    "white",
    "black",
    "orange",
    "pink",
    "grey",
    "brown",
    "purple",
    "beige",
)
_DETAILS = (
    "with gold logo",
    "with white stripes",
    "with a cartoon print",
    "with a floral pattern",
    "with a round label",
    "with a checked pattern",
    "with embossed letters",
    "with a star motif",
)


@dataclass
class _Objects:
    ids: list[str]
    wave: np.ndarray
    scenario: np.ndarray
    origin: np.ndarray  # country index; for split the first of the two
    second: np.ndarray  # split: the other country
    third: np.ndarray  # split: where the remaining actionable tips point
    spread: np.ndarray  # everywhere: (n_objects, 8) countries
    reporters: np.ndarray  # converging: (n_objects, 3) distinct reporter countries
    rows: list[dict]  # the objects file, one dict per object


def _plan_objects(rng, waves, per_wave, end, countries) -> _Objects:
    n_objects = sum(per_wave)
    nc = len(countries.alpha3)
    wave = np.repeat(np.arange(len(waves)), per_wave)
    launch = [w["launched_on"] for w in waves]
    per_object_weight = np.array(
        [w["tip_weight"] / n for w, n in zip(waves, per_wave, strict=True)]
    )
    busiest = int(np.argmax(per_object_weight))
    latest = len(waves) - 1

    eligible = np.ones((n_objects, len(SCENARIOS)), dtype=bool)
    eligible[:, _S["everywhere"]] = wave == busiest
    old_enough = np.array([(end - d).days >= 545 for d in launch])
    eligible[:, _S["quiet"]] = old_enough[wave]

    scenario = np.full(n_objects, -1, dtype=np.int8)
    for name, need in _REQUIRED:
        candidates = np.flatnonzero((scenario < 0) & eligible[:, _S[name]])
        if name == "untriaged":
            in_latest = candidates[wave[candidates] == latest]
            if len(in_latest) >= need:
                candidates = in_latest
        chosen = rng.choice(candidates, size=min(need, len(candidates)), replace=False)
        scenario[chosen] = _S[name]
    for i in np.flatnonzero(scenario < 0):
        weight = _FILL_WEIGHT * eligible[i]
        if wave[i] == latest:
            weight[_S["untriaged"]] *= 6
        scenario[i] = rng.choice(len(SCENARIOS), p=weight / weight.sum())

    origin = rng.choice(nc, size=n_objects, p=countries.p)
    second = np.empty(n_objects, dtype=np.int64)
    third = np.empty(n_objects, dtype=np.int64)
    spread = np.empty((n_objects, _EVERYWHERE_COUNTRIES), dtype=np.int64)
    reporters = np.empty((n_objects, 3), dtype=np.int64)
    for i in range(n_objects):
        others = rng.choice(nc, size=2, replace=False, p=_without(countries.p, [origin[i]]))
        second[i], third[i] = others
        spread[i] = rng.choice(nc, size=_EVERYWHERE_COUNTRIES, replace=False, p=countries.p)
        reporters[i] = rng.choice(nc, size=3, replace=False, p=countries.p)

    # Padded to one width so that ids sort in publication order everywhere.
    width = max(2, len(str(n_objects)))
    ids = [f"G{i + 1:0{width}d}" for i in range(n_objects)]
    seen: set[str] = set()
    rows = []
    for i in range(n_objects):
        category = _CATEGORIES[rng.integers(len(_CATEGORIES))]
        items = _CATEGORY_ITEMS[category]
        for _ in range(100):
            title = (
                f"{_COLOURS[rng.integers(len(_COLOURS))]} {items[rng.integers(len(items))]} "
                f"{_DETAILS[rng.integers(len(_DETAILS))]}"
            )
            if title not in seen:
                break
        else:
            title = f"{title} ({ids[i]})"
        seen.add(title)
        w = waves[wave[i]]
        published = w["launched_on"]
        name = SCENARIOS[scenario[i]]
        days_left = (end - published).days
        row = {
            "object_id": ids[i],
            "title": title,
            "category": category,
            "first_published": published.isoformat(),
            "wave_id": w["wave_id"],
            "status": "open",
            "origin_country": None,
            "identified_on": None,
            "closed_on": None,
            "description": (
                f"A {title}, published in the {w['name']} wave. "
                "Any information on where it was made or sold is welcome."
            ),
        }
        if name in ("identified", "closed"):
            identified = published + dt.timedelta(
                days=int(rng.integers(14, max(15, days_left - 60)))
            )
            row.update(
                status=name,
                origin_country=countries.alpha3[origin[i]],
                identified_on=identified.isoformat(),
            )
            if name == "closed":
                closed = min(end, identified + dt.timedelta(days=int(rng.integers(7, 120))))
                row["closed_on"] = closed.isoformat()
        elif name == "withdrawn":
            row.update(
                status="withdrawn",
                closed_on=(published + dt.timedelta(days=int(rng.integers(3, 60)))).isoformat(),
            )
        rows.append(row)
    return _Objects(ids, wave, scenario, origin, second, third, spread, reporters, rows)


def _without(p: np.ndarray, excluded) -> np.ndarray:
    q = p.copy()
    q[list(excluded)] = 0
    return q / q.sum()


# --------------------------------------------------------------------------- tips per object


def _tip_counts(rng, tips, waves, objs: _Objects) -> np.ndarray:
    weights = np.array([w["tip_weight"] for w in waves])
    per_wave = _largest_remainder(tips, weights)
    minimum = _MIN_TIPS[objs.scenario]
    counts = np.zeros(len(objs.ids), dtype=np.int64)
    for w, wave in enumerate(waves):
        members = np.flatnonzero(objs.wave == w)
        need = int(minimum[members].sum())
        if need > per_wave[w]:
            share = weights / weights.sum()
            enough = max(
                math.ceil(int(minimum[objs.wave == v].sum()) / share[v]) + 1
                for v in range(len(waves))
            )
            raise SampleConfigError(
                f"tips={tips} is too few for this campaign: wave {wave['wave_id']} "
                f"gets {per_wave[w]} tips "
                f"but its objects' scenarios need at least {need}; pass tips={enough} or more."
            )
        popularity = (
            rng.lognormal(0.0, 0.5, size=len(members)) * _POPULARITY[objs.scenario[members]]
        )
        counts[members] = minimum[members] + rng.multinomial(
            per_wave[w] - need, popularity / popularity.sum()
        )
    return counts


def _tip_plan(rng, counts, objs: _Objects):
    """Per object: countable tips, how many name the lead country (for split: each of the
    two), how many name the second country (split only), and tips left untriaged."""
    n_objects = len(counts)
    k = np.zeros(n_objects, dtype=np.int64)
    lead = np.zeros(n_objects, dtype=np.int64)
    second = np.zeros(n_objects, dtype=np.int64)
    untriaged = np.zeros(n_objects, dtype=np.int64)
    latest = objs.wave.max()
    for i in range(n_objects):
        n = int(counts[i])
        name = SCENARIOS[objs.scenario[i]]
        if name == "converging":
            k[i] = max(6, round(rng.uniform(0.08, 0.14) * n))
            lead[i] = min(k[i], max(4, math.ceil(rng.uniform(0.65, 0.85) * k[i])))
        elif name == "split":
            k[i] = max(8, round(rng.uniform(0.08, 0.14) * n))
            lead[i] = second[i] = round(0.45 * k[i])
        elif name == "everywhere":
            k[i] = max(20, round(rng.uniform(0.10, 0.16) * n))
        elif name in ("identified", "closed"):
            k[i] = round(rng.uniform(0.05, 0.10) * n)
            lead[i] = round(0.6 * k[i])
        elif name == "withdrawn":
            k[i] = round(0.03 * n)
        elif name == "untriaged":
            backlog = rng.uniform(0.15, 0.40) if objs.wave[i] == latest else rng.uniform(0.01, 0.03)
            untriaged[i] = max(1, round(backlog * n))
            k[i] = min(round(rng.uniform(0.02, 0.06) * n), n - untriaged[i])
    return k, lead, second, untriaged


