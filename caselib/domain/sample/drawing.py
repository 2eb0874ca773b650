"""The tips themselves: every valid tip drawn at once, vectorised, as columns of codes.

`_make_tips` draws received times, triage statuses, countries, places, coordinates and
texts for all tips of the plan (`caselib.domain.sample.planning`) and keeps them as integer codes
into the tables below; `caselib.domain.sample.rendering` turns the codes into the contract's text.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from caselib.domain.contract import TRIAGE_STATUSES
from caselib.domain.sample.planning import (
    _EVERYWHERE_COUNTRIES,
    _S,
    _SPELLINGS,
    _Countries,
    _Objects,
    _tip_counts,
    _tip_plan,
)

STATUSES = TRIAGE_STATUSES  # the indexes below follow its order
_NEW, _REVIEW, _ACTIONABLE, _NOT_ACTIONABLE, _DUPLICATE, _OFF_TOPIC, _FORWARDED = range(7)

_CHANNELS = ("web", "email", "social", "phone", "other")
_CHANNEL_P = (0.78, 0.11, 0.06, 0.03, 0.02)
# (suffix, offset in seconds): the local wall-clock time is written with its offset.
_ZONES = (("Z", 0), ("+02:00", 7200), ("+01:00", 3600), ("-05:00", -18000), ("", 0))
_ZONE_P = (0.80, 0.08, 0.04, 0.03, 0.05)
# How often each of the _SPELLINGS country spellings is written, in their order.
_SPELLING_P = (0.70, 0.10, 0.08, 0.04, 0.03, 0.03, 0.02)

# A tip's text: an opener, a middle naming a country and a closer, each of them optional.
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

_DAY = 86_400  # seconds


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
    """The rows ``idx`` of every column."""
    return {key: values[idx] for key, values in core.items()}


