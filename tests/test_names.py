"""What tips name: brand and shop spellings grouped, places resolved to their country offline,
common words not taken for places, refreshed incrementally, and never a change to a tip's
``suggested_country`` or to the closure figures."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import pytest

from caselib import Store, load_file
from caselib.domain import names
from caselib.domain.closure import flag_figures
from caselib.domain.names import extract, fingerprint, object_name_signals, refresh_names
from caselib.domain.sample import generate_campaign
from caselib.store import names as state
from conftest import tip, write_csv


def _places(**fields) -> list[tuple[str, str, bool]]:
    return [(f.text, f.country, f.ambiguous) for f in extract(**fields) if f.kind == "place"]


# -- grouping ------------------------------------------------------------------------------


def test_spellings_of_one_brand_share_a_fingerprint_and_another_brand_does_not():
    assert fingerprint("Lidl") == fingerprint("LIDL GmbH") == fingerprint("lidl.") == fingerprint(" Lidl ") == "lidl"
    assert fingerprint("Aldi") == "aldi" != fingerprint("Lidl")
    assert fingerprint("Blue Lake, Ltd.") == fingerprint("BLUE LAKE") == fingerprint("Lake Blue") == "blue lake"
    assert fingerprint("Hypermarché Soleil") == fingerprint("HYPERMARCHE SOLEIL")
    assert fingerprint("Kiosk-24") == fingerprint("Kiosk 24")
    assert fingerprint("S.A.") == "sa"  # a legal form alone is kept: nothing else is left
    assert fingerprint("Dom & Dom") == "dom"  # OpenRefine's: each word once
    for nothing in (None, "", "  ", "n/a", "Unknown", "?"):
        assert fingerprint(nothing) is None


# -- places --------------------------------------------------------------------------------


def test_places_named_in_a_text_resolve_to_their_country():
    assert _places(tip_text="We bought it in Porto.") == [("Porto", "PRT", False)]
    assert _places(tip_text="I saw one near Lyon, years ago") == [("Lyon", "FRA", False)]
    assert _places(tip_text="Sold in Lisboa and in München") == [("Lisboa", "PRT", False), ("München", "DEU", False)]
    assert _places(tip_text="Made in Portugal") == [("Portugal", "PRT", False)]
    assert _places(tip_text="A market in Frankfurt am Main.") == [("Frankfurt am Main", "DEU", False)]
    assert _places(tip_text="My aunt lives in The Hague") == [("The Hague", "NLD", False)]


def test_a_name_several_cities_bear_goes_to_the_most_populous_and_is_marked_ambiguous():
    # Valencia, Venezuela is larger than Valencia, Spain; San Jose, California than San José, Costa Rica
    assert _places(tip_text="seen in Valencia") == [("Valencia", "VEN", True)]
    assert _places(tip_text="San Jose market") == [("San Jose", "USA", True)]
    # Paris, Texas is too small beside Paris to make it ambiguous
    assert _places(tip_text="seen in Paris") == [("Paris", "FRA", False)]


@pytest.mark.parametrize("text", [
    "nice soap", "Nice soap, I remember it", "NICE SOAP", "Most of them were blue", "the wrapper was split in two",
    "Split in two pieces", "Of course it was cheap", "Police should ask the shops", "Reading the label helped",
    "a mobile shop sold them", "It was a Nice colour", "Turkey sandwich wrapper", "made of china",
    "I have seen this before.", "Hope this helps, regards.", "Good luck.", "It cost about 2,50 EUR; nothing special.",
])
def test_common_words_are_not_taken_for_places(text):
    assert _places(tip_text=text) == []


def test_a_common_word_is_a_place_after_a_word_of_place_or_in_the_place_field():
    assert _places(tip_text="Nice soap, we bought it in Nice") == [("Nice", "FRA", False)]
    assert _places(tip_text="on holiday near Split") == [("Split", "HRV", False)]
    assert _places(tip_text='Ask in "Turkey" supermarkets') == [("Turkey", "TUR", False)]
    assert _places(suggested_place="Nice") == [("Nice", "FRA", False)]
    assert _places(suggested_place="somewhere nice") == []  # a common word needs its capital
    assert _places(suggested_place="lisbon") == [("lisbon", "PRT", False)]  # a field in lower case
    assert _places(suggested_place="a shop in Lisbon, city centre") == [("Lisbon", "PRT", False)]
    assert _places(tip_text="lisbon") == []  # in a text, a name needs its capitals


# -- through the store ---------------------------------------------------------------------


def _load_tips(store: Store, folder, name: str, rows: list[dict]) -> None:
    columns = ["tip_id", "object_id", "received_at", "reporter_country", "suggested_country",
               "triage_status", "brand", "shop", "suggested_place", "tip_text"]
    load_file(store, "tips", write_csv(folder / name, rows, columns=columns), progress=False)


ROWS = [
    tip("T1", brand="Lidl", suggested_place="market in Porto", tip_text="Nice soap."),
    tip("T2", brand="LIDL GmbH", tip_text="We bought it in Porto, I think"),
    tip("T3", brand="lidl.", shop="Corner Store", tip_text="Seen in Lisboa years ago"),
    tip("T4", brand="Lidl", shop="Corner Store", tip_text="near Lyon"),
    tip("T5", brand="Aldi", tip_text="I got it at Lidl, in the Corner Store on the left"),
    tip("T6", tip_text="from a corner store, nice soap"),
    tip("T7", object_id="G02", brand="Aldi", suggested_place="Porto"),
]


def test_a_city_that_the_fields_give_as_a_shop_is_the_shop_in_a_text(campaign_store, tmp_path):
    # Apeldoorn is a city of the Netherlands; here the fields give it as a shop
    rows = [tip("S1", shop="Apeldoorn"), tip("S2", shop="Apeldoorn"),
            tip("S3", tip_text="bought at Apeldoorn in Lyon"), tip("S4", tip_text="Sold at Carrefour in Lyon")]
    _load_tips(campaign_store, tmp_path, "shops.csv", rows)
    refresh_names(campaign_store)
    found = {(tip_id, kind, text) for tip_id, _, kind, source, _, text, *_ in state.names_of(campaign_store) if source == "text"}
    assert found == {("S3", "shop", "Apeldoorn"), ("S3", "place", "Lyon"), ("S4", "place", "Lyon")}


def test_names_are_stored_per_tip_and_summed_up_per_object(campaign_store, tmp_path):
    _load_tips(campaign_store, tmp_path, "tips.csv", ROWS)
    done = refresh_names(campaign_store)
    assert done.tips == 7
    found = {(tip_id, kind, source, key): (text, country) for tip_id, _, kind, source, key, text, _, country, _
             in state.names_of(campaign_store)}
    assert found[("T1", "brand", "field", "lidl")] == ("Lidl", None)
    assert found[("T2", "brand", "field", "lidl")] == ("LIDL GmbH", None)
    assert found[("T1", "place", "field", "geonames:2735943")] == ("Porto", "PRT")
    assert found[("T3", "place", "text", "geonames:2267057")] == ("Lisboa", "PRT")
    # the fields give Lidl and Corner Store in two tips or more: the text names them, with capitals only
    assert found[("T5", "brand", "text", "lidl")] == ("Lidl", None)
    assert found[("T5", "shop", "text", "corner store")] == ("Corner Store", None)
    assert not [k for k in found if k[0] in ("T1", "T6") and k[1] in ("shop", "place") and k[2] == "text"]

    signals = object_name_signals(campaign_store).set_index("object_id")
    g01 = signals.loc["G01"]
    assert (g01.place_country, g01.place_tips, g01.placed_tips, g01.place_share) == ("PRT", 3, 4, 0.75)
    assert g01.countries == [("PRT", 3), ("FRA", 1)]
    # one group per brand, shown by its most frequent spelling; a tip counts once per group
    assert g01.brands == [("Lidl", 5), ("Aldi", 1)]
    assert g01.shops == [("Corner Store", 3)]
    assert g01.signal.startswith("places named in tips point to PRT (3 of 4 tips naming a place)")
    assert signals.loc["G02"].place_country == "PRT" and signals.loc["G02"].brands == [("Aldi", 1)]
    assert pd.isna(signals.loc["G03"].place_country) and signals.loc["G03"].signal == "no tip names a known place"
    only = object_name_signals(campaign_store, "G02")
    assert only.object_id.tolist() == ["G02"]


def test_the_signal_never_changes_a_tips_suggested_country(campaign_store, tmp_path):
    _load_tips(campaign_store, tmp_path, "tips.csv", ROWS)
    before = campaign_store.rows("SELECT * FROM tips ORDER BY tip_id")
    refresh_names(campaign_store)
    assert campaign_store.rows("SELECT * FROM tips ORDER BY tip_id") == before
    # the tips suggest France; the places they name point to Portugal, shown beside it
    assert {row[0] for row in campaign_store.rows("SELECT DISTINCT suggested_country FROM tips")} == {"FRA"}
    assert object_name_signals(campaign_store, "G01").place_country.tolist() == ["PRT"]


def test_a_refresh_examines_only_new_and_changed_tips(campaign_store, tmp_path):
    _load_tips(campaign_store, tmp_path, "a.csv", ROWS[:4])
    first = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    assert refresh_names(campaign_store, now=first).tips == 4
    assert refresh_names(campaign_store).tips == 0
    kept = state.names_of(campaign_store)

    _load_tips(campaign_store, tmp_path, "b.csv", ROWS[4:])
    waiting = object_name_signals(campaign_store).set_index("object_id")
    assert waiting.loc["G01", "unread_tips"] == 2 and waiting.loc["G01", "signal"].endswith("2 of its tips not read yet")
    assert waiting.loc["G02", "signal"] == "the names in its tips are not extracted yet"
    again = refresh_names(campaign_store)
    assert again.tips == 3
    assert [row for row in state.names_of(campaign_store) if row[0] in ("T1", "T2", "T3", "T4")] == kept

    # T4's text changes (the loader keeps a tip's text; this stands for any other writer):
    # T4 alone is read again, its old names replaced
    campaign_store.execute("UPDATE tips SET tip_text = 'bought in Split' WHERE tip_id = 'T4'")
    assert refresh_names(campaign_store).tips == 1
    t4 = {(kind, text) for _, _, kind, _, _, text, *_ in state.names_of(campaign_store, ["T4"])}
    assert t4 == {("brand", "Lidl"), ("shop", "Corner Store"), ("place", "Split")}
    assert refresh_names(campaign_store).tips == 0
    assert refresh_names(campaign_store, rebuild=True).tips == 7


def test_tips_examined_under_other_rules_are_read_again(campaign_store, tmp_path, monkeypatch):
    _load_tips(campaign_store, tmp_path, "tips.csv", ROWS)
    refresh_names(campaign_store)
    monkeypatch.setattr(names, "extractor_version", lambda: "names 2; other rules")
    assert refresh_names(campaign_store).tips == 7
    assert refresh_names(campaign_store).tips == 0


# -- a generated campaign ------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_db(tmp_path_factory):
    """A generated campaign's database (its names not extracted) and the campaign."""
    folder = tmp_path_factory.mktemp("names")
    campaign = generate_campaign(folder / "files", tips=3500, seed=5, messy=False)
    with Store(folder / "case.duckdb") as store:
        for kind, path in (("waves", campaign.waves_path), ("objects", campaign.objects_path), ("tips", campaign.tips_path)):
            load_file(store, kind, path, progress=False)
    return folder / "case.duckdb", campaign


@pytest.fixture
def generated(generated_db, tmp_path):
    import shutil

    path, campaign = generated_db
    shutil.copy(path, tmp_path / "case.duckdb")
    with Store(tmp_path / "case.duckdb") as store:
        yield store, campaign


def test_a_refresh_leaves_the_closure_figures_as_they_were(generated):
    store, campaign = generated
    before = flag_figures(store, as_of=campaign.until)
    tips = store.rows("SELECT tip_id, suggested_country, suggested_place, brand, shop, tip_text FROM tips ORDER BY tip_id")
    assert refresh_names(store).tips == len(tips)
    pd.testing.assert_frame_equal(flag_figures(store, as_of=campaign.until), before)
    assert store.rows("SELECT tip_id, suggested_country, suggested_place, brand, shop, tip_text FROM tips ORDER BY tip_id") == tips


def test_places_in_a_generated_campaign_are_the_countries_its_tips_suggest(generated):
    """The generator writes a tip's place and the country its text names from the tip's
    suggested country: every place found must lie there, and nearly every one is found."""
    store, _ = generated
    refresh_names(store)
    suggested = dict(store.rows("SELECT tip_id, suggested_country FROM tips"))
    placed = {tip_id for (tip_id,) in store.rows("SELECT tip_id FROM tips WHERE suggested_place IS NOT NULL")}
    found: dict[tuple[str, str], set[str]] = {}
    for tip_id, _, kind, source, _, _, _, country, _ in state.names_of(store):
        if kind == "place":
            found.setdefault((tip_id, source), set()).add(country)
    assert found, "no place was found"
    right = sum(countries == {suggested[tip_id]} for (tip_id, _), countries in found.items())
    assert right / len(found) >= 0.99
    fields = {tip_id for (tip_id, source) in found if source == "field"}
    assert len(fields & placed) / len(placed) >= 0.99
    # each of the twelve brands the generator writes is one group
    brands = store.rows("SELECT DISTINCT name_key FROM tip_names WHERE kind = 'brand' AND source = 'field'")
    assert len(brands) == 12
    signals = object_name_signals(store)
    assert signals.place_country.notna().sum() >= 0.8 * len(signals)
    assert (signals.unread_tips == 0).all()


def test_the_closure_review_shows_what_tips_name_beside_the_consensus(generated):
    pytest.importorskip("ipywidgets")
    from caselib.presentation.widgets import ClosureReview
    from caselib.store.session import Session

    store, campaign = generated
    path = store.path
    store.close()
    with Session(path) as session:
        review = ClosureReview(session, as_of=campaign.until, ready_only=False)
        assert "not extracted yet" in review.names.value
    with Store(path) as again:
        refresh_names(again)
        expected = object_name_signals(again).set_index("object_id")["signal"]
    with Session(path) as session:
        review = ClosureReview(session, as_of=campaign.until, ready_only=False)
        object_id = review.queue.value
        assert "Named in tips" in review.names.value
        assert html.escape(expected[object_id]) in review.names.value
