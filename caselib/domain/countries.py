"""Country values: from the spellings found in intake files to ISO 3166-1 alpha-3.

The intake contract accepts a country as an ISO 3166-1 alpha-2 (``DE``), alpha-3 (``DEU``)
or numeric (``276``) code, or an English short or common name (``Germany``, ``UK``), in any
letter case and with surrounding white space. A raw value is reduced to a lookup key with
`country_key`, and the key is looked up in `alias_table`. The loader applies the same two
steps in SQL, so both are specified exactly here.

The names come from maintained data, not from a list kept here: pycountry's ``name``,
``official_name`` and ``common_name`` (ISO 3166-1), and the English names in the alias table
of the countrynames package (which gathers CLDR's, UN M49's and others'), each in the
variants `_name_variants` derives by rule ("Korea, Republic of", "Republic of Korea",
"Bahamas, The", "Netherlands (the)", "Bolivia (Plurinational State of)", "Congo - Kinshasa",
"St. Vincent & Grenadines"). countrynames' entries are taken only where nothing can go
wrong (see `_is_english_alias`): no region, former state, part of a country or name of two
countries is matched. `_ENGLISH_ALIASES` holds the few names the data cannot confirm, with
the reason for each.

Native-language names (``Deutschland``) are deliberately not recognised: they belong in an
analyst's mapping file, where a person has decided what they mean. (A countrynames entry
made of English words that share one with the country's name is taken whatever its language,
e.g. "Guinea Equatorial"; it can only name that country.)

This module depends on the standard library, pycountry and the data module of countrynames
(read without importing the package, whose fuzzy matching loads ICU).
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pycountry

__all__ = [
    "alias_table",
    "country_key",
    "country_name",
    "language_codes",
    "normalise_country",
]

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

# Kosovo has no ISO 3166-1 entry, so pycountry lacks it; XK/XKX are the user-assigned codes
# the EU, the IMF and most police systems use for it.
_KOSOVO = "XKX"
_KOSOVO_KEYS = ("XK", "XKX", "KOSOVO", "REPUBLIC OF KOSOVO")

# The English names that the data (pycountry's names, countrynames' table, and the variants
# `_name_variants` makes of both) cannot confirm, each group with the reason. Everything
# else is found in the data: add a name here only where the data is wrong, ambiguous or
# silent, and say which. An entry also decides a key the data would give to two countries.
_ENGLISH_ALIASES: dict[str, str] = {
    # Initials and abbreviations: no word of them is a word of the country's name.
    "UK": "GBR",
    "U.K.": "GBR",
    "U.S.": "USA",
    "U.S.A.": "USA",
    "DPRK": "PRK",
    "FYROM": "MKD",
    "DR Congo": "COD",
    "D.R. Congo": "COD",
    "DRC": "COD",
    "UAE": "ARE",
    "U.A.E.": "ARE",
    "PRC": "CHN",
    # The constituent countries and old names of the United Kingdom, which is how many
    # people name it; ISO's names share no word with them but "Great Britain".
    "Great Britain": "GBR",
    "Great Britain and Northern Ireland": "GBR",
    "Britain": "GBR",
    "England": "GBR",
    "Scotland": "GBR",
    "Wales": "GBR",
    "Northern Ireland": "GBR",
    # Names in English use that share no word with ISO's (exonyms, former names, the other
    # spelling): countrynames lists most of them, but nothing in the data ties them to
    # the country, so the word check of `_is_english_alias` refuses them.
    "America": "USA",
    "Russia": "RUS",
    "Holland": "NLD",
    "Turkey": "TUR",
    "Ivory Coast": "CIV",
    "Cape Verde": "CPV",
    "Swaziland": "SWZ",
    "Burma": "MMR",
    "Macau": "MAC",
    "Holy See": "VAT",
    # The IOC's name; in no list used here.
    "Chinese Taipei": "TWN",
    # CLDR's name, the Dutch government's too; shares no word with ISO's "Bonaire, Sint
    # Eustatius and Saba".
    "Caribbean Netherlands": "BES",
    # CLDR's Canadian English name (en_CA) is the French one; "et" is no English word.
    "Saint-Pierre-et-Miquelon": "SPM",
    # Short forms that are a part of the ISO name. A part is refused from the data because
    # it can name a place elsewhere ("Salvador" in Brazil, "Timor" in Indonesia, "Saint
    # Martin" is the whole island); these are decided.
    # Unqualified, "Korea" means South Korea in English usage; North Korea is always named so.
    "Korea": "KOR",
    # As a country, "Macedonia" can only be the state renamed North Macedonia in 2019.
    "Macedonia": "MKD",
    "Former Yugoslav Republic of Macedonia": "MKD",
    "Micronesia": "FSM",
    "Bosnia": "BIH",
    "Brunei": "BRN",
    "Vatican": "VAT",
    "Vatican City": "VAT",
    "Vatican City State": "VAT",
    "Emirates": "ARE",
    "Saint Kitts": "KNA",
    "Saint Vincent": "VCT",
    "Saint Martin": "MAF",
    "Saint Helena": "SHN",
    "Sint Maarten": "SXM",
    "Falkland Islands": "FLK",
    "Cocos Islands": "CCK",
    "Bonaire": "BES",
    "Republic of Ireland": "IRL",
    # "Republic" tells the two Congos apart only against "Democratic Republic", a word the
    # check of `_is_english_alias` treats as generic; countrynames has "CONGO REP.".
    "Republic of Congo": "COG",
    "Congo Republic": "COG",
    "Democratic Republic of Congo": "COD",
}

# countrynames names that pass `_is_english_alias` but do not name one country, each with
# the reason (keys in `country_key` form).
_REFUSED: dict[str, str] = {
    "CONGOLESE (CONGO)": "filed under CD, but '(Congo)' is as likely the Republic of the Congo",
    "SAN MARTIN": "Spanish, and the name of provinces and towns in Argentina and Peru",
}


def country_key(value: object) -> str | None:
    """Reduce a raw country value to the key it is looked up by in `alias_table`.

    The rule, in this order (the loader reproduces it in SQL, so it must not drift):

    1. ``None`` gives ``None``; any other non-string value is converted with ``str()``.
    2. Decompose to Unicode NFKD and drop every combining mark, i.e. every character whose
       general category is ``Mn``, ``Mc`` or ``Me`` (this removes accents: ``Côte`` becomes
       ``Cote``).
    3. Replace the typographic apostrophes U+2019, U+2018 and U+02BC with ``'``.
    4. Collapse every run of white space (the characters for which ``str.isspace()`` is
       true, which includes tab, newline, U+00A0 no-break space and U+3000) to one space,
       and strip it from both ends.
    5. Upper-case with ``str.upper()``.

    An empty result gives ``None``. Decomposition comes first because it can itself produce
    spaces and apostrophes (``"¨"`` decomposes to a space and a combining diaeresis,
    ``"ŉ"`` to ``"ʼn"``); in this order applying the rule twice changes nothing.

    Leading zeros of numeric codes are kept (``" 040 "`` gives ``"040"``): the alias table
    holds every padding of every numeric code instead.

    Parameters
    ----------
    value
        A raw cell value, usually a string.

    Returns
    -------
    str or None
        The key, or ``None`` if the value is missing, empty or only white space.

    Examples
    --------
    >>> country_key("  côte d’ivoire\\n")
    "COTE D'IVOIRE"
    >>> country_key(" 40 ")
    '40'
    >>> country_key(" \\t ") is None
    True
    """
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    # ASCII text has no decomposition and no combining marks: step 2 leaves it as it is.
    unmarked = text if text.isascii() else "".join(
        ch
        for ch in unicodedata.normalize("NFKD", text)
        if not unicodedata.category(ch).startswith("M")
    )
    key = " ".join(unmarked.translate(_APOSTROPHES).split()).upper()
    return key or None


# A name with a qualifier, in the three arrangements the standard lists use: ISO's and
# pycountry's inverted "Korea, Republic of", UN M49's bracketed "Iran (Islamic Republic of)"
# and CLDR's dashed "Congo - Kinshasa"; the prefixed "Republic of Korea" is matched below.
_QUALIFIED = re.compile(r"^(?P<name>[^,()]+?)(?:, | \((?P<bracketed>[^,()]+)\)$| - )(?P<qualifier>[^,()]*)$")
# "Q OF NAME", "Q OF THE NAME": the qualifier is everything up to the last "OF" ("ISLE OF MAN").
_PREFIXED = re.compile(r"^(?P<qualifier>.+ OF(?: THE)?) (?P<name>[^,()]+)$")
# Abbreviations of the words that qualify names ("CONGO REP.", "CONGO, DEM. REP. OF").
_ABBREVIATIONS = {"REP.": "REPUBLIC", "DEM.": "DEMOCRATIC"}


def _split_qualifier(key: str) -> tuple[str, str] | None:
    """Return ``(name, qualifier)`` of a qualified name, ``None`` for a plain one."""
    match = _QUALIFIED.match(key)
    if match:
        qualifier = match["bracketed"] if match["bracketed"] is not None else match["qualifier"]
        return (match["name"], qualifier) if qualifier else None
    match = _PREFIXED.match(key)
    if match:
        return match["name"], match["qualifier"]
    if key.startswith("THE "):
        return key.removeprefix("THE "), "THE"
    return None


def _arrangements(key: str) -> set[str]:
    """Return ``key`` with its qualifier in every arrangement: "NAME, Q", "NAME (Q)", "Q NAME",
    "NAME Q"."""
    split = _split_qualifier(key)
    if split is None:
        return {key}
    name, qualifier = split
    return {key, f"{name}, {qualifier}", f"{name} ({qualifier})", f"{qualifier} {name}", f"{name} {qualifier}"}


@functools.cache
def _name_variants(key: str) -> frozenset[str]:
    """Return ``key`` and the spellings people use for the same name.

    Each rule is applied to the output of the previous ones, so "Saint Kitts and Nevis"
    also yields "THE ST KITTS & NEVIS", and "Korea, Republic of" yields "Republic of Korea"
    and "Korea (the Republic of)". The rules, in order:

    1. hyphens with or without spaces around them, or a space instead ("Guinea Bissau");
    2. "REP." and "DEM." written out;
    3. the qualifier of a name in each arrangement (see `_arrangements`);
    4. with and without a leading "The" (so also "Gambia, The" and "Netherlands (the)"),
       and the arrangements of the result;
    5. "St." or "St" for "Saint" and "Sint", and "Saint" for "St." and "St";
    6. "&" for "and" and "and" for "&";
    7. without dots.

    Generating a harmless extra key ("THE GERMANY") is cheaper than deciding name by name
    which variants are idiomatic. No rule drops a word that tells countries apart: a
    qualifier is moved, never removed.
    """
    variants = {key}
    variants |= {re.sub(r" ?- ?", sep, v) for v in variants for sep in ("-", " ") if "-" in v}
    variants |= {
        " ".join(_ABBREVIATIONS.get(word, word) for word in v.split(" ")) for v in variants
    }
    variants = {a for v in variants for a in _arrangements(v)}
    variants |= {v.removeprefix("THE ") for v in variants}
    variants |= {f"THE {v}" for v in variants if not v.startswith("THE ")}
    variants = {a for v in variants for a in _arrangements(v)}
    variants |= {re.sub(r"(?<![A-Z'])ST\.? (?=[A-Z])", "SAINT ", v) for v in variants}
    variants |= {
        re.sub(r"(?<![A-Z'])(?:SAINT|SINT) (?=[A-Z])", short, v)
        for v in variants
        for short in ("ST. ", "ST ")
    }
    variants |= {v.replace(" AND ", " & ") for v in variants}
    variants |= {v.replace(" & ", " AND ") for v in variants}
    variants |= {" ".join(v.replace(".", "").split()) for v in variants}
    return frozenset(variants)


def _numeric_variants(numeric: str) -> Iterator[str]:
    """Yield the numeric code with every amount of zero padding, e.g. "40", "040"."""
    bare = str(int(numeric))
    for width in range(len(bare), 4):
        yield bare.zfill(width)


def _standard_names() -> Iterator[tuple[str, str]]:
    """Yield (name, alpha-3) for the English names pycountry gives each country, and Kosovo's."""
    for country in pycountry.countries:
        for field in ("name", "official_name", "common_name"):
            name = getattr(country, field, None)
            if name:
                yield name, country.alpha_3
    for key in _KOSOVO_KEYS:
        yield key, _KOSOVO


def _generated_aliases() -> Iterator[tuple[str, str]]:
    """Yield (key, alpha-3) for every code and English name pycountry and Kosovo give."""
    for country in pycountry.countries:
        alpha3 = country.alpha_3
        yield country.alpha_2, alpha3
        yield alpha3, alpha3
        for numeric in _numeric_variants(country.numeric):
            yield numeric, alpha3
    for name, alpha3 in _standard_names():
        for variant in _name_variants(country_key(name)):
            yield variant, alpha3
    for alias, alpha3 in _ENGLISH_ALIASES.items():
        for variant in _name_variants(country_key(alias)):
            yield variant, alpha3


@functools.cache
def _countrynames_data() -> dict[str, list[str]]:
    """Return countrynames' table: its code (ISO alpha-2, or its own) to the names it lists.

    Read from the package's generated data module on its own: the package's ``__init__``
    loads ICU and rapidfuzz for fuzzy matching, which is not wanted here.
    """
    spec = importlib.util.find_spec("countrynames")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The countrynames package is not installed; run `make setup`.")
    path = Path(next(iter(spec.submodule_search_locations))) / "data.py"
    module_spec = importlib.util.spec_from_file_location("_countrynames_data", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.DATA


# Words that do not tell one country from another (or that the rules above rewrite), left
# out when names are compared.
_GENERIC_WORDS = frozenset(
    [
        "THE", "OF", "AND", "SAINT", "ST", "SINT", "ISLAND", "ISLANDS", "REPUBLIC", "REP",
        "DEMOCRATIC", "DEM", "PEOPLE", "S", "STATE", "FEDERAL", "FEDERATED", "FEDERATION",
        "KINGDOM", "COMMONWEALTH", "CITY", "REGION",
    ]
)
# Words that tell countries apart only next to another ("South Sudan", "United Kingdom"):
# sharing one of them with a country's name is not enough.
_QUALIFYING_WORDS = frozenset(["SOUTH", "NORTH", "EAST", "WEST", "NEW", "GREAT", "UNITED", "CENTRAL", "STATES"])
# A word of at least this many letters that starts like a word of a country's name counts
# as shared ("Palestinian Territories"), in a name of two words or more.
_STEM = 6
# English words of the names CLDR uses that no ISO 3166 name has, so that countrynames'
# entries with them pass the word check of `_is_english_alias` (which still wants a word
# shared with ISO's name).
_ENGLISH_WORDS = {
    "SAR": "Special Administrative Region: 'Hong Kong SAR China', 'Macao SAR China'",
    "PALESTINIAN": "'Palestinian Territories'",
    "LANDS": "'French Southern and Antarctic Lands'",
}


def _content_words(key: str) -> frozenset[str]:
    """The words of a key that tell countries apart (accents are already gone)."""
    return frozenset(re.findall(r"[A-Z0-9]+", key)) - _GENERIC_WORDS


def _shares_a_word(words: frozenset[str], anchor: frozenset[str]) -> bool:
    """True if a distinctive word of ``words`` is one of ``anchor``'s, or, when ``words``
    has two or more, starts like one."""
    distinctive = words - _QUALIFYING_WORDS
    if distinctive & anchor:
        return True
    stems = {w[:_STEM] for w in anchor - _QUALIFYING_WORDS if len(w) >= _STEM}
    return len(words) > 1 and any(len(w) >= _STEM and w[:_STEM] in stems for w in distinctive)


def _is_english_alias(
    key: str,
    anchors: list[frozenset[str]],
    having: Mapping[str, set[tuple[str, frozenset[str]]]],
    target: str,
    vocabulary: frozenset[str],
) -> bool:
    """Decide whether a countrynames name (as a key) is taken for a country with these names.

    countrynames lists names in every language, cities ("Dubai"), demonyms ("German") and
    parts of a country ("Tobago", "Papua"), all under the country's code. A name is taken
    only if every word of it is a word of the English names in ``vocabulary`` (which keeps
    out "Deutschland", "Albanien" and "Trinidad und Tobago"), it shares a distinctive word
    with one of the country's own names in ``anchors`` (which keeps out "Berlin" and
    "Swiss"), and it is not a part of one of those names ("Salvador" of "El Salvador",
    "Timor" of "Timor-Leste", "Virgin Islands" of "British Virgin Islands") unless it is all
    of another. Nor is a name all of whose words are in a name of another country
    (``having`` maps each word to the countries' names that have it): "Dominican", filed
    under Dominica, is in "Dominican Republic".
    """
    if not key.isascii() or not set(re.findall(r"[A-Z0-9]+", key)) <= vocabulary:
        return False
    words = _content_words(key)
    if not words or not _shares_a_word(words, frozenset().union(*anchors)):
        return False
    first = min(words)
    if any(code != target and words <= other for code, other in having.get(first, ())):
        return False
    return words in anchors or not any(words < anchor for anchor in anchors)


def _english_vocabulary() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Return the words of every English country name pycountry has, current or former
    (ISO 3166-1 and 3166-3), and per alpha-3 code the words of its subdivisions' names
    (ISO 3166-2: "Kinshasa" for "Congo - Kinshasa")."""
    names = [name for name, _ in _standard_names()] + [c.name for c in pycountry.historic_countries]
    words = frozenset(
        word for name in names for v in _name_variants(country_key(name)) for word in re.findall(r"[A-Z0-9]+", v)
    )
    alpha3 = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    local: defaultdict[str, set[str]] = defaultdict(set)
    for subdivision in pycountry.subdivisions:
        code = alpha3.get(subdivision.country_code)
        if code:
            local[code] |= set(re.findall(r"[A-Z0-9]+", country_key(subdivision.name)))
    words |= {abbreviation.rstrip(".") for abbreviation in _ABBREVIATIONS}
    words |= _ENGLISH_WORDS.keys()
    return words, {code: frozenset(w) for code, w in local.items()}


def _countrynames_aliases() -> list[tuple[str, str]]:
    """Return the (key, alpha-3) pairs countrynames adds.

    Refused are the keys of every name countrynames files under a code that is not a
    current ISO 3166-1 country: its ``FAIL`` list ("Virgin Islands", "N/A", "Africa"),
    ``UN``, ``EU``, ``ZZ`` ("Worldwide"), former states ("Yugoslavia", "USSR") and regions
    ("Crimea", "Somaliland"). A countrynames name any of whose variants is refused is not
    taken.
    """
    alpha3 = {c.alpha_2: c.alpha_3 for c in pycountry.countries} | {"XK": _KOSOVO}
    anchors: defaultdict[str, list[frozenset[str]]] = defaultdict(list)
    for name, code in [*_standard_names(), *_ENGLISH_ALIASES.items()]:
        for variant in _name_variants(country_key(name)):
            anchors[code].append(_content_words(variant))
    english, local = _english_vocabulary()
    # Each word to the names (as content words) of the countries that have it in one.
    having: defaultdict[str, set[tuple[str, frozenset[str]]]] = defaultdict(set)
    for code, contents in anchors.items():
        for content in contents:
            for word in content:
                having[word].add((code, content))
    refused: set[str] = set()
    taken: list[tuple[str, frozenset[str]]] = []
    for code, names in _countrynames_data().items():
        target = alpha3.get(code)
        vocabulary = english | local.get(target, frozenset())
        for name in names:
            key = country_key(name)
            if key is None:
                continue
            if target is None:
                refused |= _name_variants(key)
            elif key not in _REFUSED and _is_english_alias(key, anchors[target], having, target, vocabulary):
                taken.append((target, _name_variants(key)))
    return [
        (variant, target)
        for target, variants in taken
        if refused.isdisjoint(variants)
        for variant in variants
    ]


def _resolve_aliases(
    generated: Iterable[tuple[str, str]], curated: Mapping[str, str]
) -> dict[str, str]:
    """Merge generated (key, alpha-3) pairs, letting ``curated`` decide ambiguous keys.

    Returns
    -------
    dict
        Key to alpha-3, sorted by key.

    Raises
    ------
    RuntimeError
        If a key would map to two countries and ``curated`` does not name it, or if two
        curated entries give one key to different countries. Either is a defect in this
        module's data, found when the table is first built.
    """
    decided: dict[str, str] = {}
    for alias, alpha3 in curated.items():
        key = country_key(alias)
        if key in decided and decided[key] != alpha3:
            raise RuntimeError(
                f"Curated country aliases give {key!r} to both {decided[key]} and {alpha3}."
            )
        decided[key] = alpha3
    candidates: defaultdict[str, set[str]] = defaultdict(set)
    for key, alpha3 in generated:
        candidates[key].add(alpha3)
    table: dict[str, str] = {}
    conflicts: list[str] = []
    for key in sorted(candidates.keys() | decided.keys()):
        if key in decided:
            table[key] = decided[key]
        elif len(candidates[key]) == 1:
            (table[key],) = candidates[key]
        else:
            conflicts.append(f"{key!r} -> {', '.join(sorted(candidates[key]))}")
    if conflicts:
        raise RuntimeError(
            "Country alias keys map to more than one country; add each to the curated "
            "aliases in caselib/countries.py: " + "; ".join(conflicts)
        )
    return table


@functools.cache
def _display_names() -> dict[str, str]:
    names = {c.alpha_3: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names[_KOSOVO] = "Kosovo"
    return names


def _merge_secondary(table: dict[str, str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Add the keys of ``pairs`` that ``table`` lacks and that name one country only.

    ``table`` (ISO's names, pycountry's and the curated ones) decides every key it has; a
    key the secondary source gives to two countries is left out rather than guessed.
    """
    candidates: defaultdict[str, set[str]] = defaultdict(set)
    for key, alpha3 in pairs:
        if key not in table:
            candidates[key].add(alpha3)
    added = {key: next(iter(codes)) for key, codes in candidates.items() if len(codes) == 1}
    return dict(sorted((table | added).items()))


@functools.cache
def _aliases() -> dict[str, str]:
    primary = _resolve_aliases(_generated_aliases(), _ENGLISH_ALIASES)
    table = _merge_secondary(primary, _countrynames_aliases())
    unknown = sorted(set(table.values()) - _display_names().keys())
    if unknown:
        raise RuntimeError(f"Country aliases name unknown alpha-3 codes: {', '.join(unknown)}.")
    return table


def alias_table() -> list[tuple[str, str]]:
    """Return every recognised country key with the alpha-3 code it stands for.

    The table covers, for every ISO 3166-1 country in pycountry, its alpha-2 and alpha-3
    codes, its numeric code with and without leading zeros (``"040"``, ``"40"``), its
    ``name``, ``official_name`` and ``common_name``; Kosovo (``XK``, ``XKX``); the English
    names countrynames lists that `_is_english_alias` accepts (``Hong Kong SAR China``,
    ``Pitcairn Islands``); and a short curated list of names the data cannot confirm
    (``UK``, ``Holland``, ``Ivory Coast``). Every name also appears in the variants of
    `_name_variants`: its qualifier inverted, bracketed or in front ("Korea, Republic of",
    "Korea (the Republic of)", "Republic of Korea"), with and without a leading "The",
    hyphens with or without spaces, "St."/"St" for "Saint", "&" for "and", and without dots
    (``U.S.A.`` and ``USA``).

    Note that ``NA`` is Namibia's alpha-2 code: a file that writes ``NA`` for "no value"
    must say so through a mapping file.

    Returns
    -------
    list of (str, str)
        ``(key, alpha3)`` pairs sorted by key. Every key is unique and already in
        `country_key` form, so a raw value is recognised when ``country_key(value)`` is
        one of the keys. The list is a fresh copy; the table itself is built once.
    """
    return list(_aliases().items())


def normalise_country(value: object) -> str | None:
    """Return the ISO 3166-1 alpha-3 code a raw country value stands for.

    Parameters
    ----------
    value
        A raw cell value: a code, an English name, or anything else.

    Returns
    -------
    str or None
        The alpha-3 code (``"XKX"`` for Kosovo), or ``None`` if the value is missing or
        not recognised.

    Examples
    --------
    >>> normalise_country(" u.k. ")
    'GBR'
    >>> normalise_country("276")
    'DEU'
    >>> normalise_country("Deutschland") is None
    True
    """
    key = country_key(value)
    return None if key is None else _aliases().get(key)


def country_name(alpha3: str | None) -> str | None:
    """Return the English display name of a country given by its alpha-3 code.

    Parameters
    ----------
    alpha3
        An ISO 3166-1 alpha-3 code, or ``"XKX"`` for Kosovo; letter case is ignored.

    Returns
    -------
    str or None
        pycountry's ``common_name`` where it has one, else its ``name`` (``"Taiwan"``,
        ``"United Kingdom"``); ``"Kosovo"`` for ``XKX``; ``None`` for an unknown code.

    Examples
    --------
    >>> country_name("VNM")
    'Vietnam'
    """
    if not isinstance(alpha3, str):
        return None
    return _display_names().get(alpha3.strip().upper())


@functools.cache
def language_codes() -> frozenset[str]:
    """Return the ISO 639-1 language codes, the values the ``language`` column may take.

    Returns
    -------
    frozenset of str
        The two-letter codes, in lower case (``"de"``, ``"en"``), of every language that
        pycountry lists with an ``alpha_2`` code.
    """
    return frozenset(
        lang.alpha_2 for lang in pycountry.languages if getattr(lang, "alpha_2", None)
    )
