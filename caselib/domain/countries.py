"""Country values: from the spellings found in intake files to ISO 3166-1 alpha-3.

The intake contract accepts a country as an ISO 3166-1 alpha-2 (``DE``), alpha-3 (``DEU``)
or numeric (``276``) code, or an English short or common name (``Germany``, ``UK``), in any
letter case and with surrounding white space. A raw value is reduced to a lookup key with
`country_key`, and the key is looked up in `alias_table`. The loader applies the same two
steps in SQL, so both are specified exactly here.

Native-language names (``Deutschland``) are deliberately not recognised: they belong in an
analyst's mapping file, where a person has decided what they mean.

This module depends on the standard library and pycountry only.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

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

# English names tipsters and intake staff actually write that ISO's names do not cover.
# Variants derived by rule (leading "The", "St."/"St" for "Saint", "&" for "and", dots
# dropped, accents dropped) need no entry here. An entry here also decides any key that the
# generated names would give to two countries.
_ENGLISH_ALIASES: dict[str, str] = {
    # The constituent countries are how many people name the United Kingdom.
    "UK": "GBR",
    "U.K.": "GBR",
    "Great Britain": "GBR",
    "Great Britain and Northern Ireland": "GBR",
    "Britain": "GBR",
    "England": "GBR",
    "Scotland": "GBR",
    "Wales": "GBR",
    "Northern Ireland": "GBR",
    "U.S.": "USA",
    "U.S.A.": "USA",
    "America": "USA",
    "United States of America": "USA",
    "Russia": "RUS",
    "Czech Republic": "CZE",
    "Czechia": "CZE",
    "Holland": "NLD",
    "The Netherlands": "NLD",
    "South Korea": "KOR",
    "Republic of Korea": "KOR",
    # Unqualified, "Korea" means South Korea in English usage; North Korea is always named so.
    "Korea": "KOR",
    "North Korea": "PRK",
    "DPRK": "PRK",
    "Iran": "IRN",
    "Syria": "SYR",
    "Vietnam": "VNM",
    "Laos": "LAO",
    "Bolivia": "BOL",
    "Venezuela": "VEN",
    "Tanzania": "TZA",
    "Moldova": "MDA",
    # As a country, "Macedonia" can only be the state renamed North Macedonia in 2019.
    "Macedonia": "MKD",
    "North Macedonia": "MKD",
    "Former Yugoslav Republic of Macedonia": "MKD",
    "FYROM": "MKD",
    "Turkey": "TUR",
    "Turkiye": "TUR",
    "Ivory Coast": "CIV",
    "Cape Verde": "CPV",
    "Swaziland": "SWZ",
    "Burma": "MMR",
    "Vatican": "VAT",
    "Vatican City": "VAT",
    "Vatican City State": "VAT",
    "Holy See": "VAT",
    "Palestine": "PSE",
    "State of Palestine": "PSE",
    "Taiwan": "TWN",
    "Brunei": "BRN",
    "East Timor": "TLS",
    "Timor Leste": "TLS",
    "DR Congo": "COD",
    "D.R. Congo": "COD",
    "DRC": "COD",
    "Congo-Kinshasa": "COD",
    "Congo (Kinshasa)": "COD",
    "Democratic Republic of the Congo": "COD",
    "Democratic Republic of Congo": "COD",
    "Congo-Brazzaville": "COG",
    "Congo (Brazzaville)": "COG",
    "Republic of the Congo": "COG",
    "Republic of Congo": "COG",
    "UAE": "ARE",
    "U.A.E.": "ARE",
    "Bosnia": "BIH",
    "Bosnia-Herzegovina": "BIH",
    "Micronesia": "FSM",
    "Saint Lucia": "LCA",
    "Saint Kitts": "KNA",
    "Saint Vincent": "VCT",
    "Saint Martin": "MAF",
    "Saint Helena": "SHN",
    "Sint Maarten": "SXM",
    "The Gambia": "GMB",
    "The Bahamas": "BHS",
    "Slovak Republic": "SVK",
    "Macau": "MAC",
    "PRC": "CHN",
    "Republic of Ireland": "IRL",
    "Guinea Bissau": "GNB",
    "Falkland Islands": "FLK",
    "Cocos Islands": "CCK",
    "Bonaire": "BES",
    "U.S. Virgin Islands": "VIR",
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
    unmarked = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", text)
        if not unicodedata.category(ch).startswith("M")
    )
    key = " ".join(unmarked.translate(_APOSTROPHES).split()).upper()
    return key or None


def _name_variants(key: str) -> set[str]:
    """Return ``key`` and the spellings people use for the same name.

    Each rule is applied to the output of the previous ones, so "Saint Kitts and Nevis"
    also yields "THE ST KITTS & NEVIS". Generating a harmless extra key ("THE GERMANY") is
    cheaper than deciding name by name which variants are idiomatic.
    """
    variants = {key}
    variants |= {v.removeprefix("THE ") for v in variants}
    variants |= {f"THE {v}" for v in variants}
    variants |= {
        (" " + v).replace(" SAINT ", f" {short} ")[1:] for v in variants for short in ("ST.", "ST")
    }
    variants |= {v.replace(" AND ", " & ") for v in variants}
    variants |= {" ".join(v.replace(".", "").split()) for v in variants}
    return variants


def _numeric_variants(numeric: str) -> Iterator[str]:
    """Yield the numeric code with every amount of zero padding, e.g. "40", "040"."""
    bare = str(int(numeric))
    for width in range(len(bare), 4):
        yield bare.zfill(width)


def _generated_aliases() -> Iterator[tuple[str, str]]:
    """Yield (key, alpha-3) for every code and English name pycountry and Kosovo give."""
    for country in pycountry.countries:
        alpha3 = country.alpha_3
        yield country.alpha_2, alpha3
        yield alpha3, alpha3
        for numeric in _numeric_variants(country.numeric):
            yield numeric, alpha3
        for field in ("name", "official_name", "common_name"):
            name = getattr(country, field, None)
            if name:
                for variant in _name_variants(country_key(name)):
                    yield variant, alpha3
    for key in _KOSOVO_KEYS:
        for variant in _name_variants(key):
            yield variant, _KOSOVO
    for alias, alpha3 in _ENGLISH_ALIASES.items():
        for variant in _name_variants(country_key(alias)):
            yield variant, alpha3


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


@functools.cache
def _aliases() -> dict[str, str]:
    table = _resolve_aliases(_generated_aliases(), _ENGLISH_ALIASES)
    unknown = sorted(set(table.values()) - _display_names().keys())
    if unknown:
        raise RuntimeError(f"Country aliases name unknown alpha-3 codes: {', '.join(unknown)}.")
    return table


def alias_table() -> list[tuple[str, str]]:
    """Return every recognised country key with the alpha-3 code it stands for.

    The table covers, for every ISO 3166-1 country in pycountry, its alpha-2 and alpha-3
    codes, its numeric code with and without leading zeros (``"040"``, ``"40"``), its
    ``name``, ``official_name`` and ``common_name``; Kosovo (``XK``, ``XKX``); and a curated
    list of common English names (``UK``, ``Holland``, ``Ivory Coast``). Names also appear
    with and without a leading "The", with "St."/"St" for "Saint", "&" for "and", and
    without dots (``U.S.A.`` and ``USA``).

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
