"""Country normalisation against the real pycountry data."""

import subprocess
import sys
from pathlib import Path

import pycountry
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from caselib.domain.countries import (
    _resolve_aliases,
    alias_table,
    country_key,
    country_name,
    language_codes,
    normalise_country,
)

COUNTRIES = sorted(pycountry.countries, key=lambda c: c.alpha_3)

# Tab, newline, carriage return, no-break space, narrow no-break space, ideographic space.
WHITESPACE = st.text(alphabet="\t\n\r \u00a0\u202f\u3000", max_size=4)


def random_case(draw, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.lower() if flip else ch.upper() for ch, flip in zip(text, flips))


@st.composite
def spelled_codes(draw):
    """A (raw value, expected alpha-3) pair for some code of some country."""
    country = draw(st.sampled_from(COUNTRIES))
    code = draw(
        st.sampled_from(
            [country.alpha_2, country.alpha_3, country.numeric, str(int(country.numeric))]
        )
    )
    return draw(WHITESPACE) + random_case(draw, code) + draw(WHITESPACE), country.alpha_3


@given(spelled_codes())
def test_every_code_round_trips_in_any_case_and_padding(case):
    raw, alpha3 = case
    assert normalise_country(raw) == alpha3


def test_every_country_is_recognised_by_all_its_codes_and_names():
    for country in COUNTRIES:
        spellings = [country.alpha_2, country.alpha_3, country.numeric, country.name]
        spellings += [getattr(country, f, None) for f in ("official_name", "common_name")]
        for spelling in filter(None, spellings):
            assert normalise_country(spelling) == country.alpha_3, spelling


@pytest.mark.parametrize(
    ("raw", "alpha3"),
    [
        ("276", "DEU"),
        ("040", "AUT"),
        ("40", "AUT"),
        (" 40 ", "AUT"),
        ("4", "AFG"),
        ("004", "AFG"),
        (40, "AUT"),
        ("DE", "DEU"),
        ("deu", "DEU"),
        ("Germany", "DEU"),
        ("  germany\t", "DEU"),
        ("United Kingdom", "GBR"),
        ("UK", "GBR"),
        ("u.k.", "GBR"),
        ("Great Britain", "GBR"),
        ("England", "GBR"),
        ("Northern\u00a0Ireland", "GBR"),
        ("USA", "USA"),
        ("U.S.", "USA"),
        ("United States of America", "USA"),
        ("America", "USA"),
        ("Côte d'Ivoire", "CIV"),
        ("Cote d\u2019Ivoire", "CIV"),
        ("COTE D\u02bcIVOIRE", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Russia", "RUS"),
        ("Czech Republic", "CZE"),
        ("Holland", "NLD"),
        ("The Netherlands", "NLD"),
        ("Netherlands", "NLD"),
        ("South Korea", "KOR"),
        ("Korea", "KOR"),
        ("North Korea", "PRK"),
        ("Iran", "IRN"),
        ("Syria", "SYR"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("Laos", "LAO"),
        ("Bolivia", "BOL"),
        ("Venezuela", "VEN"),
        ("Tanzania", "TZA"),
        ("Moldova", "MDA"),
        ("Macedonia", "MKD"),
        ("North Macedonia", "MKD"),
        ("Cape Verde", "CPV"),
        ("Swaziland", "SWZ"),
        ("Burma", "MMR"),
        ("Vatican", "VAT"),
        ("Vatican City", "VAT"),
        ("Holy See", "VAT"),
        ("Palestine", "PSE"),
        ("State of Palestine", "PSE"),
        ("Taiwan", "TWN"),
        ("Brunei", "BRN"),
        ("East Timor", "TLS"),
        ("DR Congo", "COD"),
        ("DRC", "COD"),
        ("Congo-Kinshasa", "COD"),
        ("Congo-Brazzaville", "COG"),
        ("Republic of the Congo", "COG"),
        ("UAE", "ARE"),
        ("Bosnia", "BIH"),
        ("Micronesia", "FSM"),
        ("St. Lucia", "LCA"),
        ("St Lucia", "LCA"),
        ("Saint Lucia", "LCA"),
        ("St. Kitts & Nevis", "KNA"),
        ("St Vincent and the Grenadines", "VCT"),
        ("The Gambia", "GMB"),
        ("The Bahamas", "BHS"),
        ("Slovak Republic", "SVK"),
        ("Kosovo", "XKX"),
        ("xk", "XKX"),
        ("XKX", "XKX"),
    ],
)
def test_known_spellings(raw, alpha3):
    assert normalise_country(raw) == alpha3


@pytest.mark.parametrize(
    "raw", ["Atlantis", "Deutschland", "Allemagne", "", "   ", "\t\n\u00a0", None, "U.S.S.R.", "0"]
)
def test_unknown_or_missing_values_give_none(raw):
    assert normalise_country(raw) is None


def test_alias_keys_are_unique_and_in_key_form():
    table = alias_table()
    keys = [key for key, _ in table]
    assert len(keys) == len(set(keys))
    assert all(country_key(key) == key for key in keys)
    assert keys == sorted(keys)


def test_alias_table_names_only_real_countries_and_covers_every_one():
    targets = {alpha3 for _, alpha3 in alias_table()}
    assert targets == {c.alpha_3 for c in COUNTRIES} | {"XKX"}


def test_alias_table_is_a_copy():
    alias_table().clear()
    assert normalise_country("DE") == "DEU"
    assert len(alias_table()) > 1000


def test_an_ambiguous_key_is_refused_unless_curated():
    generated = [("CONGO", "COG"), ("CONGO", "COD"), ("ZAIRE", "COD")]
    with pytest.raises(RuntimeError, match="'CONGO' -> COD, COG"):
        _resolve_aliases(generated, {})
    assert _resolve_aliases(generated, {"Congo": "COD"}) == {"CONGO": "COD", "ZAIRE": "COD"}


def test_curated_aliases_may_not_contradict_each_other():
    with pytest.raises(RuntimeError, match="'KOREA'"):
        _resolve_aliases([], {"Korea": "KOR", " korea ": "PRK"})


@given(st.text())
@example("\u00a8")  # decomposes to a space and a combining diaeresis
@example("x\u00b4")
@example("\u0149")  # decomposes to U+02BC, a typographic apostrophe
@example("\u0390")  # upper-cases to a letter followed by combining marks
def test_country_key_is_idempotent(text):
    key = country_key(text)
    assert key is None or country_key(key) == key


@given(st.text(alphabet="\t\n\r \u00a0\u2000\u2028\u3000\x1c", max_size=10))
def test_whitespace_only_values_have_no_key(text):
    assert country_key(text) is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (" 40 ", "40"),
        ("040", "040"),
        ("  Côte\u00a0\u00a0d\u2018Ivoire \n", "COTE D'IVOIRE"),
        ("São\tTomé   and Príncipe", "SAO TOME AND PRINCIPE"),
        ("Åland", "ALAND"),
        ("u.s.a.", "U.S.A."),
    ],
)
def test_country_key_examples(raw, key):
    assert country_key(raw) == key


@pytest.mark.parametrize(
    ("alpha3", "name"),
    [
        ("DEU", "Germany"),
        ("GBR", "United Kingdom"),
        ("TWN", "Taiwan"),
        ("KOR", "South Korea"),
        ("vnm", "Vietnam"),
        ("XKX", "Kosovo"),
        ("XXX", None),
        (None, None),
    ],
)
def test_country_name(alpha3, name):
    assert country_name(alpha3) == name


def test_every_recognised_country_has_a_name():
    assert all(country_name(alpha3) for _, alpha3 in alias_table())


def test_language_codes_are_iso_639_1():
    codes = language_codes()
    assert {"de", "en", "fr", "nl", "uk"} <= codes
    assert "deu" not in codes and "xx" not in codes
    assert all(len(code) == 2 and code.islower() for code in codes)
    assert len(codes) == len([lang for lang in pycountry.languages if hasattr(lang, "alpha_2")])


def test_module_loads_no_heavy_library():
    # Loaded from its file, so the package's own imports do not count against it.
    source = Path(__file__).parents[1] / "caselib" / "domain" / "countries.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('countries', {str(source)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.alias_table()\n"
        "print(sorted(m for m in ('duckdb', 'pandas', 'plotly', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
