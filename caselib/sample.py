"""Seeded synthetic Trace-an-Object campaign: contract files plus their ground truth.

`generate_campaign` writes a waves file, an objects file, a tips export and a later
re-delivery of some of those tips, exactly as described in the intake contract, together
with ``truth.json``, which records what the files were built to contain: each object's
scenario and true origin, the outcome the default closure rules should give at the campaign
end, and how many rows of each kind of mess were written. Tests, ``caselib demo``, the
notebooks' fallback data and the benchmarks all build their data here.

Everything is drawn from one ``numpy.random.default_rng(seed)``, vectorised over tips, and
nothing depends on the clock or on dict/set order, so the same arguments give byte-identical
files. Besides the standard library this module uses numpy, pyarrow and `caselib.errors`.

Scenarios, one per object; every scenario appears when the waves allow it (``everywhere``
only in the wave with the most tips per object, ``quiet`` only in waves launched at least
545 days before the end). The outcome is what the default closure rules give at the end:

- ``converging``: >= 6 actionable/forwarded tips, 65-85 % naming ``true_origin``, the first
  three from three reporter countries; outcome ``origin_established``.
- ``split``: actionable tips about 45/45 between two countries, one tip in the last 61 days
  (so rule 6 does not apply); ``not_ready``.
- ``everywhere``: >= 20 actionable tips spread evenly over 8 countries;
  ``widely_distributed``.
- ``quiet``: few tips, none actionable, none later than 150 days after launch; ``exhausted``.
- ``untriaged``: some tips still ``new``/``under_review``, dated near the end as an intake
  backlog is; ``not_ready``.
- ``identified``: status ``identified`` with ``origin_country``; ``origin_established``.
- ``closed`` (origin known) and ``withdrawn``: ``closed``.

Only ``untriaged`` objects have ``new``/``under_review`` tips. The re-delivery changes only
triage details that keep these outcomes (``actionable`` to ``forwarded``, ``new`` to
``under_review``, swaps among ``not_actionable``/``duplicate``/``off_topic``, another
``forwarded_to``), so they hold before and after it is loaded.

``truth.json`` holds: ``seed``, ``tips`` (valid tips), ``n_tips`` (rows in the tips file),
``arguments``, ``as_of`` (campaign end), ``waves`` (with objects and tips per wave),
``objects`` (per id: ``scenario``, ``true_origin`` alpha-3 or null, ``traceable``,
``expected_outcome``, ``tips``, ``countable_tips``, ``untriaged_tips``, ``split_between``),
``tips_file`` (rows = valid tips + exact duplicates + rejected), ``messy`` (rows per kind of
mess), ``messy_detail``, ``redelivery`` (triage_update / unchanged / conflict rows),
``special_tips`` (the ids of the script and formula texts) and ``contact_rows``.
``traceable`` is true when the records lead to ``true_origin``: converging, identified and
closed objects.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.resources
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from caselib.contract import CATEGORIES, TRIAGE_STATUSES
from caselib.errors import CaselibError

__all__ = [
    "SCENARIOS",
    "SampleCampaign",
    "SampleConfigError",
    "generate_campaign",
    "load_wave_config",
]

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

STATUSES = TRIAGE_STATUSES  # the indexes below follow its order
_NEW, _REVIEW, _ACTIONABLE, _NOT_ACTIONABLE, _DUPLICATE, _OFF_TOPIC, _FORWARDED = range(7)

_CHANNELS = ("web", "email", "social", "phone", "other")
_CHANNEL_P = (0.78, 0.11, 0.06, 0.03, 0.02)
# (suffix, offset in seconds): the local wall-clock time is written with its offset.
_ZONES = (("Z", 0), ("+02:00", 7200), ("+01:00", 3600), ("-05:00", -18000), ("", 0))
_ZONE_P = (0.80, 0.08, 0.04, 0.03, 0.05)
# Country spellings, all recognised by the contract: alpha-3, alpha-2, name, lower-case
# alpha-3, alpha-3 in spaces, lower-case name, numeric with zero padding.
_SPELLINGS = 7
_SPELLING_P = (0.70, 0.10, 0.08, 0.04, 0.03, 0.03, 0.02)
_REGION_WEIGHT = {"EU": 1.0, "Europe": 0.6, "World": 0.02}

# Mess written into reporter_country, with the alpha-3 caselib.countries makes of it.
ODD_COUNTRY_VALUES = (
    ("  germany ", "DEU"),
    ("U.K.", "GBR"),
    ("Deutschland", None),
    ("Atlantis", None),
)
UNKNOWN_OBJECT_IDS = ("Z404", "X17", "G-00", "OBJ-1")
_MISSING_KINDS = ("tip_id", "object_id", "received_at_empty", "received_at_unparseable")
_UNPARSEABLE_TIME = "yesterday"
_FUTURE_YEAR = 2099
SCRIPT_TEXT = "<script>alert(1)</script>"
FORMULA_TEXT = '=HYPERLINK("http://example.org/","more details")'

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
_OPENERS = (
    "I have seen this before.",
    "I think I recognise it.",
    "My family had the same one.",
    "We bought one like this years ago.",
    "Not sure, but it looks familiar.",
    "I remember this from a holiday.",
    'The label said "made in EU", I think.',
    "Seen twice:\nonce at a market, once online.",
    "Possibly the same brand; the colours differ slightly.",
    "This looks like a cheap everyday item.",
)
_MIDDLES = (
    "It reminds me of shops in {}.",
    "I am fairly sure it comes from {}.",
    "Common in {}; not expensive.",
    'Ask in "{}" supermarkets, they had them.',
)
_CLOSERS = (
    "",
    "Good luck.",
    "Hope this helps, regards.",
    "It cost about 2,50 EUR; nothing special.",
    "That is all I know.",
    'My neighbour calls it "the old one".',
    "Sorry, no more details.",
)
_PLACES = (
    "{capital}",
    "market in {capital}",
    "near {capital}",
    "a shop in {capital}, city centre",
    "somewhere in {name}",
)
_BRANDS = (
    "Lumera",
    "Nordvik",
    "Casa Bella",
    "Sunny Day",
    "Kleo",
    "Velora",
    "Brightwell",
    "Tundra",
    "Mira & Co",
    "Pavo",
    "Blue Lake, Ltd.",
    "Orsa",
)
_SHOPS = (
    "CityMart",
    "Hypermarché Soleil",
    "BudgetHome",
    "Kiosk 24",
    "Bazaar Nord",
    "FamilyShop",
    "Mercado Central",
    "Dom & Dom",
    "Corner Store",
    "Hotel gift shop",
    "Discount, Outlet & More",
)
_PERIODS = (
    "2013-2015",
    "around 2010",
    "1990s",
    "2008",
    "early 2000s",
    "2014-2016",
    "summer 2012",
    "2016",
)

_WAVE_KEYS = frozenset(
    {
        "wave_id",
        "name",
        "launched_on",
        "notes",
        "objects",
        "tip_weight",
        "burst",
        "burst_days",
        "decay",
        "decay_days",
    }
)
_WAVE_DEFAULTS = {
    "objects": 20,
    "burst": 0.30,
    "burst_days": 1.0,
    "decay": 0.55,
    "decay_days": 10.0,
}
_CHUNK_ROWS = 1_000_000
_DAY = 86_400


class SampleConfigError(CaselibError, ValueError):
    """The arguments or wave configuration of `generate_campaign` cannot make a campaign."""


@dataclass(frozen=True)
class SampleCampaign:
    """Paths of the files `generate_campaign` wrote, and the number of rows in the tips file.

    ``n_tips`` counts every data row of ``tips_path``: the valid tips plus the messy rows
    (exact duplicates and rows the loader must reject). ``truth_path`` names the JSON ground
    truth.
    """

    waves_path: Path
    objects_path: Path
    tips_path: Path
    redelivery_path: Path
    truth_path: Path
    n_tips: int


# --------------------------------------------------------------------------- configuration


def load_wave_config(path: str | Path) -> list[dict]:
    """Read a wave configuration TOML with an array of ``[[waves]]`` tables.

    Parameters
    ----------
    path
        A TOML file shaped like ``caselib/data/demo_campaign.toml``.

    Returns
    -------
    list of dict
        One dict per wave, sorted by launch date, with ``wave_id``, ``name``,
        ``launched_on`` (a `datetime.date`), ``notes`` and the generator's settings
        ``objects``, ``tip_weight``, ``burst``, ``burst_days``, ``decay``, ``decay_days``
        (defaults filled in).

    Raises
    ------
    SampleConfigError
        If the file is not valid TOML or a wave lacks a required key or has a bad value.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SampleConfigError(
            f"Wave configuration {path} is not valid TOML ({exc}); fix the file and retry."
        ) from exc
    return _waves_from_config(data, str(path))


def _default_waves() -> list[dict]:
    text = (
        importlib.resources.files("caselib")
        .joinpath("data/demo_campaign.toml")
        .read_text(encoding="utf-8")
    )
    return _waves_from_config(tomllib.loads(text), "caselib/data/demo_campaign.toml")


def _waves_from_config(data: Mapping, source: str) -> list[dict]:
    waves = data.get("waves")
    if not isinstance(waves, list):
        raise SampleConfigError(
            f"{source} has no [[waves]] tables; "
            "add one per wave with wave_id, name and launched_on."
        )
    return _normalise_waves(waves, source)


def _normalise_waves(waves: Sequence[Mapping], source: str) -> list[dict]:
    if not waves:
        raise SampleConfigError(
            f"{source} names no waves; give at least one wave with wave_id, name and launched_on."
        )
    out = []
    for number, wave in enumerate(waves, start=1):
        if not isinstance(wave, Mapping):
            raise SampleConfigError(
                f"Wave {number} in {source} is not a table of keys; "
                "write it as wave_id, name, launched_on."
            )
        unknown = sorted(set(wave) - _WAVE_KEYS)
        if unknown:
            raise SampleConfigError(
                f"Wave {number} in {source} has unknown keys {', '.join(unknown)}; "
                f"allowed are {', '.join(sorted(_WAVE_KEYS))}."
            )
        for key in ("wave_id", "launched_on"):
            if wave.get(key) in (None, ""):
                raise SampleConfigError(
                    f"Wave {number} in {source} has no {key}; "
                    "every wave needs wave_id and launched_on."
                )
        wave_id = str(wave["wave_id"]).strip()
        launched = wave["launched_on"]
        if isinstance(launched, dt.datetime):
            launched = launched.date()
        elif isinstance(launched, str):
            try:
                launched = dt.date.fromisoformat(launched.strip())
            except ValueError:
                raise SampleConfigError(
                    f"Wave {wave_id} in {source} has launched_on {launched!r}; "
                    "write the date as YYYY-MM-DD."
                ) from None
        elif not isinstance(launched, dt.date):
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has launched_on {launched!r}; "
                "write the date as YYYY-MM-DD."
            )
        settings = {key: wave.get(key, default) for key, default in _WAVE_DEFAULTS.items()}
        objects = settings["objects"]
        if not isinstance(objects, int) or isinstance(objects, bool) or objects < 1:
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has objects={objects!r}; "
                "give a whole number of at least 1."
            )
        try:
            floats = {
                key: float(settings[key]) for key in ("burst", "burst_days", "decay", "decay_days")
            }
            tip_weight = float(wave.get("tip_weight", objects))
        except (TypeError, ValueError):
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has a non-numeric tip_weight, burst or decay setting."
            ) from None
        if not (
            tip_weight > 0
            and floats["burst_days"] > 0
            and floats["decay_days"] > 0
            and floats["burst"] >= 0
            and floats["decay"] >= 0
            and floats["burst"] + floats["decay"] <= 1
        ):
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has out-of-range settings; "
                "tip_weight and the *_days must be "
                "positive, burst and decay between 0 and 1 with burst + decay <= 1."
            )
        out.append(
            {
                "wave_id": wave_id,
                "name": str(wave.get("name") or wave_id),
                "launched_on": launched,
                "notes": str(wave.get("notes") or ""),
                "objects": objects,
                "tip_weight": tip_weight,
                **floats,
            }
        )
    ids = [w["wave_id"] for w in out]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SampleConfigError(
            f"{source} names wave {', '.join(duplicated)} more than once; wave ids must be unique."
        )
    return sorted(out, key=lambda w: (w["launched_on"], w["wave_id"]))


def _campaign_end(latest_launch: dt.date) -> dt.date:
    """Last day of the sixth month after the latest launch (2023-12-01 gives 2024-06-30)."""
    months = latest_launch.year * 12 + latest_launch.month - 1 + 7
    return dt.date(months // 12, months % 12 + 1, 1) - dt.timedelta(days=1)


def _objects_per_wave(waves: list[dict], objects: int | Sequence[int] | None) -> list[int]:
    configured = [w["objects"] for w in waves]
    if objects is None:
        return configured
    if isinstance(objects, int) and not isinstance(objects, bool):
        if objects < len(waves):
            raise SampleConfigError(
                f"objects={objects} is fewer than the {len(waves)} waves; "
                "every wave needs an object."
            )
        extra = _largest_remainder(objects - len(waves), np.array(configured, dtype=float))
        return [1 + int(e) for e in extra]
    counts = list(objects)
    if len(counts) != len(waves) or any(not isinstance(c, int) or c < 1 for c in counts):
        raise SampleConfigError(
            "objects must be a total or one whole number >= 1 per wave "
            f"({len(waves)} waves); got {objects!r}."
        )
    return counts


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (ties to the earlier one)."""
    exact = total * weights / weights.sum()
    floor = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[: total - int(floor.sum())]] += 1
    return floor


# --------------------------------------------------------------------------- countries


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


# --------------------------------------------------------------------------- tips


def _epoch(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * _DAY


def _make_tips(rng, tips, waves, end, objs: _Objects, countries: _Countries) -> tuple[dict, dict]:
    """Draw every valid tip; returns the column codes (grouped by object) and extra arrays."""
    nc = len(countries.alpha3)
    counts = _tip_counts(rng, tips, waves, objs)
    k_obj, lead_obj, second_obj, u_obj = _tip_plan(rng, counts, objs)
    n = tips
    obj = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(n, dtype=np.int64) - starts[obj]
    sc = objs.scenario[obj]
    k = k_obj[obj]
    countable = pos < k
    untri = ~countable & (pos < k + u_obj[obj])

    # Received time: launch spike + slower decline + thin tail up to the end, per wave.
    w = objs.wave[obj]
    span = np.array([(end - x["launched_on"]).days + 1 for x in waves], dtype=np.float64)[w]
    burst = np.array([x["burst"] for x in waves])[w]
    decay = np.array([x["decay"] for x in waves])[w]
    u = rng.random(n)
    offset = np.where(
        u < burst,
        rng.exponential(1.0, n) * np.array([x["burst_days"] for x in waves])[w],
        np.where(
            u < burst + decay,
            rng.exponential(1.0, n) * np.array([x["decay_days"] for x in waves])[w],
            rng.random(n) * span,
        ),
    )
    del u, burst, decay
    late = offset >= span
    offset[late] = rng.random(int(late.sum())) * span[late]
    quiet = sc == _S["quiet"]
    offset[quiet] = np.minimum(rng.exponential(15.0, int(quiet.sum())), 150.0)
    # A split object must show recent activity, or rule 6 would call it exhausted.
    recent = (sc == _S["split"]) & (pos == counts[obj] - 1)
    offset[recent] = span[recent] - 1 - rng.random(int(recent.sum())) * 60
    # An intake backlog is recent tips.
    offset[untri] = np.maximum(span[untri] - 1 - rng.exponential(20.0, int(untri.sum())), 0.0)
    day = np.floor(offset).astype(np.int64)
    del offset, span, late
    seconds = (rng.normal(13.5, 4.0, n) % 24.0) * 3600.0
    first_day = day == 0
    seconds[first_day] = 7 * 3600 + seconds[first_day] * (17 / 24)  # the launch is mid-morning
    launch_epoch = np.array([_epoch(x["launched_on"]) for x in waves], dtype=np.int64)
    t = launch_epoch[w] + day * _DAY + seconds.astype(np.int64)
    del day, seconds, first_day, w

    r = rng.random(n)
    status = np.where(r < 0.6, _NOT_ACTIONABLE, np.where(r < 0.82, _OFF_TOPIC, _DUPLICATE)).astype(
        np.int8
    )
    status[countable] = np.where(r[countable] < 0.6, _ACTIONABLE, _FORWARDED)
    status[untri] = np.where(r[untri] < 0.65, _NEW, _REVIEW)
    del r

    # Suggested country.
    random_country = rng.choice(nc, size=n, p=countries.p)
    lean = np.where(
        np.isin(objs.scenario, [_S["everywhere"], _S["quiet"], _S["untriaged"], _S["withdrawn"]]),
        -1,
        objs.origin,
    )[obj]
    present = rng.random(n) < 0.55
    toward_lean = (rng.random(n) < 0.4) & (lean >= 0)
    sug = np.where(toward_lean, lean, random_country)
    sug[~present] = -1
    del present, toward_lean
    sug[countable] = random_country[countable]
    lead = lead_obj[obj]
    origin = objs.origin[obj]
    m = countable & np.isin(sc, [_S["converging"], _S["identified"], _S["closed"]]) & (pos < lead)
    sug[m] = origin[m]
    split = countable & (sc == _S["split"])
    first = split & (pos < lead)
    sug[first] = origin[first]
    other = split & (pos >= lead) & (pos < lead + second_obj[obj])
    sug[other] = objs.second[obj[other]]
    rest = split & (pos >= lead + second_obj[obj])
    stray = rest & ((sug == origin) | (sug == objs.second[obj]))
    sug[stray] = objs.third[obj[stray]]
    everywhere = countable & (sc == _S["everywhere"])
    sug[everywhere] = objs.spread[obj[everywhere], pos[everywhere] % _EVERYWHERE_COUNTRIES]
    del lead, origin, m, split, first, other, rest, stray, everywhere, random_country, lean

    # Reporter country; a converging object's first three tips come from three countries.
    rep = rng.choice(nc, size=n, p=countries.p)
    rep[rng.random(n) >= 0.93] = -1
    forced = (sc == _S["converging"]) & (pos < 3)
    rep[forced] = objs.reporters[obj[forced], pos[forced]]
    del forced
    language = np.where(rep >= 0, countries.language[np.maximum(rep, 0)], -1).astype(np.int16)
    english = countries.languages.index("en")
    language[rng.random(n) >= 0.85] = english
    language[(rep < 0) & (rng.random(n) < 0.4)] = -1

    fwd = np.where(status == _FORWARDED, sug, -1)

    def spelled(country):
        code = country * _SPELLINGS + rng.choice(_SPELLINGS, size=n, p=_SPELLING_P)
        return np.where(country >= 0, code, -1).astype(np.int16)

    has_place = (sug >= 0) & (rng.random(n) < 0.4)
    place = np.where(has_place, rng.integers(0, len(_PLACES), n) * nc + sug, -1).astype(np.int32)
    has_coords = (sug >= 0) & (rng.random(n) < 0.35)
    safe = np.maximum(sug, 0)
    lat = np.where(
        has_coords,
        np.clip(countries.latitude[safe] + rng.normal(0, 1.0, n), -85, 85).round(4),
        np.nan,
    )
    lon = np.where(
        has_coords,
        np.clip(countries.longitude[safe] + rng.normal(0, 1.5, n), -179.9, 179.9).round(4),
        np.nan,
    )
    del safe, has_place

    opener = np.where(rng.random(n) < 0.9, rng.integers(0, len(_OPENERS), n), -1)
    middle = np.where(
        (sug >= 0) & (rng.random(n) < 0.5), rng.integers(0, len(_MIDDLES), n) * nc + sug, -1
    )
    closer = rng.integers(0, len(_CLOSERS), n)
    text = (((opener + 1) * (len(_MIDDLES) * nc + 1) + middle + 1) * len(_CLOSERS) + closer).astype(
        np.int32
    )
    del opener, middle, closer

    core = {
        "tip_num": np.zeros(n, dtype=np.int64),
        "obj": obj,
        "t": t,
        "ts_kind": np.zeros(n, dtype=np.int8),
        "zone": rng.choice(len(_ZONES), size=n, p=_ZONE_P).astype(np.int8),
        "channel": rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_P).astype(np.int8),
        "language": language,
        "rep": spelled(rep),
        "sug": spelled(sug),
        "place": place,
        "lat": lat,
        "lon": lon,
        "brand": np.where(rng.random(n) < 0.25, rng.integers(0, len(_BRANDS), n), -1).astype(
            np.int8
        ),
        "shop": np.where(rng.random(n) < 0.20, rng.integers(0, len(_SHOPS), n), -1).astype(np.int8),
        "period": np.where(rng.random(n) < 0.15, rng.integers(0, len(_PERIODS), n), -1).astype(
            np.int8
        ),
        "text": text,
        "status": status,
        "fwd": spelled(fwd),
        "email": rng.random(n) < 0.07,
        "phone": rng.random(n) < 0.03,
        "contact": rng.integers(1, 10**8, n),
    }
    # Tip ids follow the received time, as an intake system numbers them.
    core["tip_num"][np.argsort(t, kind="stable")] = np.arange(1, n + 1)
    info = {
        "countable": countable,
        "untriaged": untri,
        "has_coords": has_coords,
        "counts": counts,
        "k": k_obj,
        "u": u_obj,
    }
    return core, info


def _take(core: dict, idx: np.ndarray) -> dict:
    return {key: values[idx] for key, values in core.items()}


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


# --------------------------------------------------------------------------- rendering


_TEXT_SCRIPT = -2
_TEXT_FORMULA = -3


@dataclass(frozen=True)
class _Lookups:
    objects: pa.Array
    countries: pa.Array
    places: pa.Array
    texts: pa.Array
    languages: pa.Array
    tip_id_width: int


def _lookups(objs: _Objects, countries: _Countries, max_tip_num: int) -> _Lookups:
    nc = len(countries.alpha3)
    middles = [""] + [m.format(countries.names[c]) for m in _MIDDLES for c in range(nc)]
    texts = [
        " ".join(piece for piece in (opener, middle, closer) if piece)
        for opener in ("", *_OPENERS)
        for middle in middles
        for closer in _CLOSERS
    ]
    texts[0] = None  # no opener, middle or closer: no text
    texts += [SCRIPT_TEXT, FORMULA_TEXT]
    places = [
        p.format(capital=countries.capitals[c], name=countries.names[c])
        for p in _PLACES
        for c in range(nc)
    ]
    return _Lookups(
        objects=pa.array(objs.ids + list(UNKNOWN_OBJECT_IDS), pa.string()),
        countries=pa.array(countries.spellings, pa.string()),
        places=pa.array(places, pa.string()),
        texts=pa.array(texts, pa.string()),
        languages=pa.array(countries.languages, pa.string()),
        tip_id_width=max(7, len(str(max_tip_num))),
    )


def _pick(values: pa.Array, codes: np.ndarray) -> pa.Array:
    return values.take(pa.array(codes, mask=codes < 0))


def _render(rows: dict, lk: _Lookups) -> pa.Table:
    """Turn the column codes of some rows into the contract's text columns."""
    tip_num = rows["tip_num"]
    tip_id = pa.array(tip_num, mask=tip_num < 0).cast(pa.string())
    tip_id = pc.utf8_replace_slice(pc.utf8_lpad(tip_id, lk.tip_id_width, "0"), 0, 0, "T")

    zone = rows["zone"].astype(np.int64)
    offsets = np.array([o for _, o in _ZONES], dtype=np.int64)
    local = (rows["t"] + offsets[zone]).astype("datetime64[s]")
    received = pc.replace_substring(pa.array(local).cast(pa.string()), " ", "T", max_replacements=1)
    received = pc.binary_join_element_wise(
        received, pa.array([s for s, _ in _ZONES]).take(zone), ""
    )
    kind = rows["ts_kind"]
    if kind.any():
        received = pc.if_else(pa.array(kind == 1), pa.scalar(_UNPARSEABLE_TIME), received)
        received = pc.if_else(pa.array(kind == 2), pa.scalar(None, pa.string()), received)

    text = rows["text"].copy()
    text[text == _TEXT_SCRIPT] = len(lk.texts) - 2
    text[text == _TEXT_FORMULA] = len(lk.texts) - 1
    contact = pa.array(rows["contact"]).cast(pa.string())
    email = pc.binary_join_element_wise("tipster", contact, "@example.org", "")
    phone = pc.binary_join_element_wise("+00 ", pc.utf8_lpad(contact, 8, "0"), "")
    null = pa.scalar(None, pa.string())
    return pa.table(
        {
            "tip_id": tip_id,
            "object_id": _pick(lk.objects, rows["obj"]),
            "received_at": received,
            "channel": pa.array(_CHANNELS).take(rows["channel"]),
            "language": _pick(lk.languages, rows["language"]),
            "reporter_country": _pick(lk.countries, rows["rep"]),
            "suggested_country": _pick(lk.countries, rows["sug"]),
            "suggested_place": _pick(lk.places, rows["place"]),
            "latitude": pa.array(rows["lat"], from_pandas=True),
            "longitude": pa.array(rows["lon"], from_pandas=True),
            "brand": _pick(pa.array(_BRANDS), rows["brand"]),
            "shop": _pick(pa.array(_SHOPS), rows["shop"]),
            "period": _pick(pa.array(_PERIODS), rows["period"]),
            "tip_text": lk.texts.take(text),
            "triage_status": pa.array(STATUSES).take(rows["status"]),
            "forwarded_to": _pick(lk.countries, rows["fwd"]),
            "reporter_email": pc.if_else(pa.array(rows["email"]), email, null),
            "reporter_phone": pc.if_else(pa.array(rows["phone"]), phone, null),
        }
    )


def _write_tips(path: Path, fmt: str, core: dict, order: np.ndarray, lk: _Lookups) -> None:
    writer = None
    try:
        for start in range(0, len(order), _CHUNK_ROWS):
            table = _render(_take(core, order[start : start + _CHUNK_ROWS]), lk)
            if writer is None:
                writer = (
                    pacsv.CSVWriter(path, table.schema)
                    if fmt == "csv"
                    else pq.ParquetWriter(path, table.schema)
                )
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _write_csv(path: Path, columns: dict[str, list]) -> None:
    pacsv.write_csv(pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}), path)


# --------------------------------------------------------------------------- entry point


def generate_campaign(
    out_dir: str | Path,
    *,
    tips: int = 28_000,
    seed: int = 2017,
    waves: Sequence[Mapping] | None = None,
    objects: int | Sequence[int] | None = None,
    fmt: str = "csv",
    messy: bool = True,
) -> SampleCampaign:
    """Write a synthetic campaign as contract files plus ``truth.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing). Existing files of the same names are
        replaced: ``waves.csv``, ``objects.csv``, ``tips.<fmt>``, ``tips_redelivery.<fmt>``,
        ``truth.json``.
    tips
        Number of valid tips. The default 28,000 follows the public record of the 2017
        campaign; other values scale every wave proportionally. Messy rows come on top.
    seed
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    waves
        Wave dicts (``wave_id``, ``name``, ``launched_on`` and optional generator settings,
        see ``caselib/data/demo_campaign.toml``); default: that file's six waves. The
        campaign ends on the last day of the sixth month after the latest launch.
    objects
        Total number of objects, spread over the waves in proportion to their configured
        ``objects``; or one count per wave; default: as configured (140 for the demo).
    fmt
        ``"csv"`` or ``"parquet"`` for the two tips files; waves and objects are always CSV.
    messy
        Whether to add the rows and values the loader must quarantine, count or reject.

    Returns
    -------
    SampleCampaign
        The written paths and the number of data rows in the tips file.

    Raises
    ------
    SampleConfigError
        For an unknown ``fmt``, a bad wave configuration, a campaign that would end after
        today, or too few tips for the objects' scenarios (the message names enough).

    Examples
    --------
    >>> import json, shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> campaign = generate_campaign(folder, tips=20_000)
    >>> truth = json.loads(campaign.truth_path.read_text())
    >>> truth["tips"], truth["as_of"]
    (20000, '2024-06-30')
    >>> shutil.rmtree(folder)
    """
    if fmt not in ("csv", "parquet"):
        raise SampleConfigError(f"fmt={fmt!r} is not a tips file format; use 'csv' or 'parquet'.")
    if not isinstance(tips, int) or isinstance(tips, bool) or tips < 1:
        raise SampleConfigError(f"tips={tips!r} is not a positive whole number of tips.")
    wave_list = (
        _default_waves() if waves is None else _normalise_waves(list(waves), "the waves argument")
    )
    per_wave = _objects_per_wave(wave_list, objects)
    end = _campaign_end(wave_list[-1]["launched_on"])
    if end >= dt.date.today():
        raise SampleConfigError(
            f"The campaign would run until {end}, which is not yet past; launch the latest wave "
            "at least seven months before today."
        )

    rng = np.random.default_rng(seed)
    countries = _load_countries()
    nc = len(countries.alpha3)
    objs = _plan_objects(rng, wave_list, per_wave, end, countries)
    core, info = _make_tips(rng, tips, wave_list, end, objs, countries)
    extra, mess_counts, mess_detail, used, specials = _mess(
        rng, core, info, len(objs.ids), nc, messy
    )
    redelivery, redelivery_counts = _redelivery(rng, core, used, len(objs.ids), nc, end, messy)
    special_ids = [int(core["tip_num"][i]) for i in specials]
    redelivered = redelivery["tip_num"]

    # Messy rows go to random places in the otherwise chronological export.
    n_extra = len(extra["t"])
    position = np.concatenate([core["tip_num"] - 1.0, rng.random(n_extra) * tips])
    order = np.argsort(position, kind="stable")
    del position
    for key in core:
        core[key] = np.concatenate([core[key], extra[key]])
    del extra
    max_num = int(core["tip_num"].max())
    lk = _lookups(objs, countries, max_num)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "waves": out / "waves.csv",
        "objects": out / "objects.csv",
        "tips": out / f"tips.{fmt}",
        "redelivery": out / f"tips_redelivery.{fmt}",
        "truth": out / "truth.json",
    }
    _write_csv(
        paths["waves"],
        {
            "wave_id": [w["wave_id"] for w in wave_list],
            "name": [w["name"] for w in wave_list],
            "launched_on": [w["launched_on"].isoformat() for w in wave_list],
            "notes": [w["notes"] or None for w in wave_list],
        },
    )
    _write_csv(paths["objects"], {key: [row[key] for row in objs.rows] for key in objs.rows[0]})
    _write_tips(paths["tips"], fmt, core, order, lk)
    _write_tips(paths["redelivery"], fmt, redelivery, np.arange(len(redelivered)), lk)

    def tip_id(num: int) -> str:
        return "T" + str(num).zfill(lk.tip_id_width)

    counts = info["counts"]
    truth_objects = {}
    for i, object_id in enumerate(objs.ids):
        name = SCENARIOS[objs.scenario[i]]
        origin = (
            countries.alpha3[objs.origin[i]]
            if name in ("converging", "split", "identified", "closed")
            else None
        )
        entry = {
            "scenario": name,
            "wave_id": wave_list[objs.wave[i]]["wave_id"],
            "true_origin": origin,
            "traceable": name in _TRACEABLE,
            "expected_outcome": _OUTCOME[name],
            "tips": int(counts[i]),
            "countable_tips": int(info["k"][i]),
            "untriaged_tips": int(info["u"][i]),
        }
        if name == "split":
            entry["split_between"] = [
                countries.alpha3[objs.origin[i]],
                countries.alpha3[objs.second[i]],
            ]
        truth_objects[object_id] = entry
    n_rows = len(order)
    rejected = (
        mess_counts["unknown_object"] + mess_counts["missing_required"] + mess_counts["future"]
    )
    wave_tips = np.bincount(objs.wave, weights=counts, minlength=len(wave_list))
    truth = {
        "seed": seed,
        "tips": tips,
        "n_tips": n_rows,
        "arguments": {
            "tips": tips,
            "seed": seed,
            "objects": sum(per_wave),
            "fmt": fmt,
            "messy": messy,
        },
        "as_of": end.isoformat(),
        "files": {key: path.name for key, path in paths.items() if key != "truth"},
        "waves": [
            {
                "wave_id": w["wave_id"],
                "name": w["name"],
                "launched_on": w["launched_on"].isoformat(),
                "objects": per_wave[j],
                "tips": int(wave_tips[j]),
            }
            for j, w in enumerate(wave_list)
        ],
        "objects": truth_objects,
        "tips_file": {
            "rows": n_rows,
            "valid_tips": tips,
            "exact_duplicate": mess_counts["exact_duplicate"],
            "rejected": rejected,
        },
        "messy": mess_counts,
        "messy_detail": {
            **mess_detail,
            "odd_country_alpha3": {value: alpha3 for value, alpha3 in ODD_COUNTRY_VALUES},
            "odd_country_column": "reporter_country",
            "future_year": _FUTURE_YEAR,
            "unparseable_received_at": _UNPARSEABLE_TIME,
        },
        "redelivery": redelivery_counts,
        "special_tips": {"script": tip_id(special_ids[0]), "formula": tip_id(special_ids[1])},
        "contact_rows": {
            "reporter_email": int(core["email"].sum()),
            "reporter_phone": int(core["phone"].sum()),
        },
    }
    paths["truth"].write_text(
        json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return SampleCampaign(
        waves_path=paths["waves"],
        objects_path=paths["objects"],
        tips_path=paths["tips"],
        redelivery_path=paths["redelivery"],
        truth_path=paths["truth"],
        n_tips=n_rows,
    )
