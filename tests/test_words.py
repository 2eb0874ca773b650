"""Readable everywhere: counts with their noun, statuses and outcomes in words, and one
spelling per country in every caption, table, map and report (issue 12, item 5)."""

from __future__ import annotations

import pytest

from caselib.domain.closure import OUTCOME_LABELS, outcome_label
from caselib.domain.contract import TRIAGE_STATUS_LABELS, TRIAGE_STATUSES, status_label
from caselib.domain.countries import country_name
from caselib.domain.filters import TipFilter
from caselib.domain.rules import plural


@pytest.mark.parametrize(("count", "noun", "expected"), [
    (1, "reporter country", "1 reporter country"),
    (0, "reporter country", "0 reporter countries"),
    (3, "suggested country", "3 suggested countries"),
    (1, "tip", "1 tip"),
    (1234, "tip", "1,234 tips"),
    (2, "box", "2 boxes"),
    (2, "day", "2 days"),
    (2, "person", "2 people"),
])
def test_plural_puts_the_noun_right(count, noun, expected):
    assert plural(count, noun) == expected


def test_every_status_and_outcome_has_words_without_underscores():
    assert set(TRIAGE_STATUS_LABELS) == set(TRIAGE_STATUSES)
    for label in (*TRIAGE_STATUS_LABELS.values(), *OUTCOME_LABELS.values()):
        assert "_" not in label
    assert status_label("not_actionable") == "not actionable"
    assert status_label("new") != "new"  # a caption reading just "new" says nothing
    assert status_label(None) == "" and status_label(float("nan")) == ""
    assert outcome_label("not_ready") == "not ready for closure"


def test_captions_name_countries_and_statuses_in_words():
    caption = TipFilter(triage=("new", "not_actionable"), reporter_countries=("DEU",),
                        suggested_countries=("TUR", "GBR")).caption()
    assert caption == ("new (untriaged) or not actionable · sent from Germany · "
                       "suggesting Türkiye, United Kingdom")
    assert "DEU" not in caption and "_" not in caption


def test_one_spelling_per_country_in_the_population_table_tables_and_maps(campaign_store, tmp_path):
    """The population table carries Natural Earth's names ("Turkey"); every output takes
    countries.country_name's instead ("Türkiye"), so a country reads the same everywhere."""
    from caselib import load_file
    from caselib.domain.geography import country_populations, tips_by_country
    from conftest import tip, write_csv

    rows = [tip(f"T{i}", suggested_country=c) for i, c in enumerate(["TR", "Turkey", "GB", "DE", "KR"])]
    load_file(campaign_store, "tips", write_csv(tmp_path / "tips.csv", rows), progress=False)

    populations = country_populations()
    for code, name in zip(populations["country"], populations["name"], strict=True):
        assert name == (country_name(code) or name), code
    assert populations.set_index("country").loc["TUR", "name"] == country_name("TUR")
    frame = tips_by_country(campaign_store, by="suggested")
    assert frame.set_index("country").loc["TUR", "name"] == "Türkiye" == country_name("TUR")
    for code, name in zip(frame["country"], frame["name"], strict=True):
        assert name == (country_name(code) or code)


def test_map_outlines_use_the_same_spelling():
    pytest.importorskip("geopandas")
    from caselib.presentation.boundaries import countries

    outlines = countries()
    for code, name in zip(outlines["iso3"], outlines["name"], strict=True):
        if country_name(code):
            assert name == country_name(code), code


def test_summaries_are_words_and_tables(campaign_store):
    from caselib.domain.closure import closure_flags
    from caselib.domain.status import database_status
    from caselib.presentation.summaries import database_sentence, flags_table, loads_table

    info = database_status(campaign_store)
    sentence = str(database_sentence(info))
    assert "{" not in sentence and "_" not in sentence
    assert f"{plural(info['objects'], 'object')}" in sentence
    table = flags_table(closure_flags(campaign_store))
    html = table._repr_html_()
    for code in ("not_ready", "origin_established", "widely_distributed", "not_published"):
        assert code not in html
    assert "NaN" not in html and "nan" not in repr(table).split()
    assert "<td class=\"nowrap\">" in loads_table(info)._repr_html_()


def test_a_countries_table_names_countries_and_gives_no_figure_for_a_hidden_count():
    import pandas as pd

    from caselib.presentation.summaries import countries_table

    frame = pd.DataFrame({
        "country": ["DEU", "TUR", "MNG"], "tips": [35, 21, 0], "share": [0.6, 0.36, None],
        "per_million": [0.42, 0.25, None], "suppressed": [False, False, True], "hidden_with_small": [False, False, False],
    })
    table = countries_table(frame, top=3, what="tips suggesting it")
    assert table.headings == ("Country", "Tips suggesting it", "Share", "Per million")
    assert table.rows == (("Germany", "35", "60.0%", "0.42"), ("Türkiye", "21", "36.0%", "0.25"),
                          ("Mongolia", "hidden", "", ""))
    assert table.caption == "The first 3 of 3 countries, by tips suggesting it"
