"""Languages detected in tips the intake system gave none: right on texts of known language,
incremental, kept apart from ``tips.language``, and filtered on (given, detected, either)."""

from __future__ import annotations

import datetime as dt

import pytest

from caselib import load_file
from caselib.domain.explore import tip_page
from caselib.domain.filters import TipFilter
from caselib.domain.languages import (
    LANGUAGES,
    QUICK_FROM,
    READ_AT_MOST,
    THRESHOLD,
    detect,
    language_name,
    refresh_languages,
)
from caselib.errors import CaselibError
from caselib.store import languages as state
from conftest import tip, write_csv

# (ISO 639-1, text): tip-like sentences whose language is known (written for this test).
SENTENCES = [
    ("en", "I am quite sure I saw this blue towel in a hotel near the beach."),
    ("en", "My grandmother had exactly the same soap wrapper in her bathroom."),
    ("de", "Ich bin mir ziemlich sicher, dass ich dieses Handtuch in einem Hotel gesehen habe."),
    ("de", "Meine Großmutter hatte genau die gleiche Seifenverpackung im Badezimmer."),
    ("fr", "Je suis presque sûr d'avoir vu cette serviette dans un hôtel au bord de la mer."),
    ("fr", "Ma grand-mère avait exactement le même emballage de savon dans sa salle de bains."),
    ("es", "Estoy casi seguro de haber visto esta toalla en un hotel cerca de la playa."),
    ("es", "Mi abuela tenía exactamente el mismo envoltorio de jabón en su baño."),
    ("it", "Sono quasi sicuro di aver visto questo asciugamano in un albergo vicino al mare."),
    ("it", "Mia nonna aveva esattamente la stessa confezione di sapone in bagno."),
    ("pt", "Tenho quase a certeza de que vi esta toalha num hotel perto da praia."),
    ("pt", "A minha avó tinha exatamente a mesma embalagem de sabonete na casa de banho."),
    ("nl", "Ik weet bijna zeker dat ik deze handdoek in een hotel aan zee heb gezien."),
    ("nl", "Mijn oma had precies dezelfde zeepverpakking in haar badkamer."),
    ("pl", "Jestem prawie pewien, że widziałem ten ręcznik w hotelu nad morzem."),
    ("pl", "Moja babcia miała dokładnie takie samo opakowanie mydła w łazience."),
    ("sv", "Jag är nästan säker på att jag såg den här handduken på ett hotell vid havet."),
    ("sv", "Min mormor hade exakt samma tvålförpackning i sitt badrum."),
    ("da", "Jeg er næsten sikker på, at jeg så dette håndklæde på et hotel ved stranden."),
    ("da", "Min bedstemor havde præcis den samme sæbeindpakning på sit badeværelse."),
    ("no", "Jeg er nesten sikker på at jeg så dette håndkleet på et hotell ved sjøen."),
    ("no", "Bestemoren min hadde akkurat den samme såpeinnpakningen på badet."),
    ("fi", "Olen melko varma, että näin tämän pyyhkeen hotellissa meren rannalla."),
    ("fi", "Isoäidilläni oli täsmälleen sama saippuapakkaus kylpyhuoneessa."),
    ("cs", "Jsem si docela jistý, že jsem tento ručník viděl v hotelu u moře."),
    ("cs", "Moje babička měla úplně stejný obal od mýdla v koupelně."),
    ("sk", "Som si takmer istý, že som tento uterák videl v hoteli pri mori."),
    ("hu", "Szinte biztos vagyok benne, hogy ezt a törölközőt egy tengerparti szállodában láttam."),
    ("hu", "A nagymamámnak pontosan ugyanilyen szappancsomagolása volt a fürdőszobában."),
    ("ro", "Sunt aproape sigur că am văzut acest prosop într-un hotel de lângă mare."),
    ("ro", "Bunica mea avea exact același ambalaj de săpun în baie."),
    ("el", "Είμαι σχεδόν σίγουρος ότι είδα αυτή την πετσέτα σε ένα ξενοδοχείο δίπλα στη θάλασσα."),
    ("bg", "Почти съм сигурен, че видях тази кърпа в един хотел до морето."),
    ("ru", "Я почти уверен, что видел это полотенце в гостинице у моря."),
    ("ru", "У моей бабушки была точно такая же обёртка от мыла в ванной."),
    ("uk", "Я майже впевнений, що бачив цей рушник у готелі біля моря."),
    ("uk", "У моєї бабусі була точно така сама обгортка від мила у ванній."),
    ("lt", "Esu beveik tikras, kad mačiau šį rankšluostį viešbutyje prie jūros."),
    ("lv", "Esmu gandrīz pārliecināts, ka redzēju šo dvieli viesnīcā pie jūras."),
    ("et", "Olen peaaegu kindel, et nägin seda rätikut mereäärses hotellis."),
    ("sl", "Skoraj prepričan sem, da sem to brisačo videl v hotelu ob morju."),
    ("tr", "Bu havluyu deniz kenarındaki bir otelde gördüğümden neredeyse eminim."),
    ("tr", "Büyükannemin banyosunda tam olarak aynı sabun ambalajı vardı."),
    ("ar", "أنا متأكد تقريبا أنني رأيت هذه المنشفة في فندق بالقرب من البحر."),
    ("fa", "تقریباً مطمئنم که این حوله را در هتلی نزدیک دریا دیدم."),
    ("zh", "我几乎可以肯定在海边的一家酒店里见过这条毛巾。"),
    ("ja", "海の近くのホテルでこのタオルを見たことがあると思います。"),
    ("ko", "바닷가 근처 호텔에서 이 수건을 본 것 같아요."),
    ("hi", "मुझे लगभग यकीन है कि मैंने यह तौलिया समुद्र के पास एक होटल में देखा था।"),
    ("id", "Saya hampir yakin pernah melihat handuk ini di sebuah hotel dekat pantai."),
    ("vi", "Tôi gần như chắc chắn đã thấy chiếc khăn này ở một khách sạn gần biển."),
]
# Short tips: a word or two; the detector may be unsure.
SHORT = [
    ("en", "Good luck."), ("de", "Viel Glück!"), ("fr", "Bonne chance."), ("es", "Buena suerte."),
    ("it", "Buona fortuna!"), ("nl", "Veel succes."), ("pl", "Powodzenia!"), ("en", "Seen it in Spain."),
    ("de", "Gesehen in Spanien."), ("fr", "Vu en Espagne."), ("es", "Lo vi en España."),
]


def test_sentences_of_a_known_language_are_detected_as_it():
    found = detect([text for _, text in SENTENCES])
    wrong = [(lang, text, got) for (lang, text), got in zip(SENTENCES, found, strict=True) if got[0] != lang]
    assert wrong == []
    assert all(THRESHOLD <= confidence <= 1 for _, confidence in found)
    assert {lang for lang, _ in SENTENCES} <= set(LANGUAGES)


def test_short_texts_are_mostly_right_and_never_confidently_wrong_in_another_script():
    found = detect([text for _, text in SHORT])
    right = sum(got == lang for (lang, _), (got, _) in zip(SHORT, found, strict=True))
    assert right >= len(SHORT) - 2, list(zip(SHORT, found, strict=True))


@pytest.mark.parametrize("text", ["12345", "???", "4.50 €", "Lidl"])
def test_a_text_without_a_language_is_undetermined_with_its_confidence(text):
    ((language, confidence),) = detect([text])
    assert language is None
    assert 0 <= confidence < THRESHOLD


def test_a_text_the_quick_detector_is_sure_of_keeps_its_answer():
    text = " ".join(t for lang, t in SENTENCES if lang == "pl") * 2
    assert len(text) >= QUICK_FROM
    assert detect([text]) == [("pl", 1.0)]


def test_a_text_the_quick_detector_is_wrongly_sure_of_is_read_again():
    """lingua's low-accuracy mode reads this English tip of the sample campaign as Danish,
    with a confidence of 0.998: under QUICK_CONFIDENCE, so the accurate detector decides."""
    text = "Seen twice:\nonce at a market, once online. It reminds me of shops in Poland."
    assert detect([text])[0][0] == "en"


def test_a_very_long_text_is_read_from_its_start():
    """A pasted document: its first READ_AT_MOST characters decide (the rest, here a Polish
    sentence 4,000 times, is not read)."""
    german = next(t for lang, t in SENTENCES if lang == "de")
    polish = next(t for lang, t in SENTENCES if lang == "pl")
    text = (german + " ") * (READ_AT_MOST // len(german) + 1) + (polish + " ") * 4000
    assert detect([text])[0][0] == "de"


def test_language_names():
    assert language_name("de") == "German" and language_name("no") == "Norwegian"
    assert language_name("mt") == "Maltese"  # given by the intake system, not a detector language
    assert language_name("qq") == "qq"


# -- in the store ---------------------------------------------------------------------------

GERMAN = "Ich bin mir ziemlich sicher, dass ich dieses Handtuch in einem Hotel gesehen habe."
FRENCH = "Je suis presque sûr d'avoir vu cette serviette dans un hôtel au bord de la mer."
SPANISH = "Estoy casi seguro de haber visto esta toalla en un hotel cerca de la playa."


def _load(store, tmp_path, rows, name="tips.csv"):
    columns = list(tip("X")) + ["language", "tip_text"]
    load_file(store, "tips", write_csv(tmp_path / name, rows, columns=columns), progress=False)


@pytest.fixture
def language_store(campaign_store, tmp_path):
    _load(campaign_store, tmp_path, [
        tip("T1", tip_text=GERMAN),                   # no language: detected
        tip("T2", tip_text=FRENCH, language="fr"),    # given: never detected
        tip("T3", tip_text=GERMAN, language="en"),    # given (wrongly): the intake system's value stands
        tip("T4", tip_text=""),                       # no text: nothing to detect
        tip("T5", tip_text="12345"),                  # no letters: undetermined
        tip("T6", tip_text=GERMAN),                   # the same text again: detected once
        tip("T7", tip_text="   "),                    # blank: nothing to detect
    ])
    return campaign_store


def _chosen(store, tips: TipFilter) -> list[str]:
    frame, total = tip_page(store, tips, page_size=100)
    assert total == len(frame)
    return sorted(frame["tip_id"])


def test_a_refresh_detects_only_tips_without_a_language_and_keeps_them_apart(language_store):
    given_before = language_store.rows("SELECT tip_id, language FROM tips ORDER BY tip_id")
    now = dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC)
    done = refresh_languages(language_store, now=now)
    assert (done.tips, done.texts, done.determined, done.undetermined) == (3, 2, 2, 1)
    rows = state.detections(language_store)
    assert [(tip_id, given, detected) for tip_id, given, detected, _, _ in rows] == [
        ("T1", None, "de"), ("T5", None, None), ("T6", None, "de"),
    ]
    assert all(detector.startswith("lingua-language-detector ") for *_, detector in rows)
    assert language_store.rows("SELECT DISTINCT detected_at FROM tip_languages") == [(now.replace(tzinfo=None),)]
    # tips.language holds what the intake system gave, and only that
    assert language_store.rows("SELECT tip_id, language FROM tips ORDER BY tip_id") == given_before
    assert "1 undetermined" in done.summary()


def test_a_second_refresh_does_nothing_and_a_new_load_is_detected_alone(language_store, tmp_path):
    refresh_languages(language_store)
    before = state.detections(language_store)
    again = refresh_languages(language_store)
    assert (again.tips, again.texts) == (0, 0)
    assert again.summary() == "no tip awaits language detection"
    assert state.detections(language_store) == before
    _load(language_store, tmp_path, [tip("T8", tip_text=SPANISH), tip("T9", tip_text=SPANISH, language="es")], "more.csv")
    assert state.pending_count(language_store) == 1
    third = refresh_languages(language_store)
    assert (third.tips, third.texts, third.determined) == (1, 1, 1)
    assert [r[:3] for r in state.detections(language_store) if r[0] == "T8"] == [("T8", None, "es")]
    assert len(state.detections(language_store)) == len(before) + 1


def test_the_explorer_filters_on_the_given_the_detected_or_either_language(language_store):
    refresh_languages(language_store)
    assert _chosen(language_store, TipFilter(languages=("de",))) == ["T1", "T6"]  # T3 was given en
    assert _chosen(language_store, TipFilter(detected_languages=("de",))) == ["T1", "T6"]
    assert _chosen(language_store, TipFilter(given_languages=("de",))) == []
    assert _chosen(language_store, TipFilter(languages=("en",))) == ["T3"]
    assert _chosen(language_store, TipFilter(given_languages=("en", "fr"))) == ["T2", "T3"]
    assert _chosen(language_store, TipFilter(languages=("fr", "de"))) == ["T1", "T2", "T6"]
    assert _chosen(language_store, TipFilter(detected_languages=("fr",))) == []
    assert _chosen(language_store, TipFilter(languages=("de",), triage=("new",))) == ["T1", "T6"]
    present = state.languages_present(language_store)
    assert ("detected", "de", 2) in present and ("given", "fr", 1) in present


def test_language_filters_read_codes_and_say_which_language_in_their_caption():
    f = TipFilter(languages="DE", given_languages=["fr", "it"], detected_languages=("pl",))
    assert (f.languages, f.given_languages, f.detected_languages) == (("de",), ("fr", "it"), ("pl",))
    assert f.caption() == "in German · in French or Italian, as given · in Polish, as detected"
    many = TipFilter(languages=("de", "fr", "it", "nl", "pl", "cs"))
    assert many.caption() == "in German, French, Italian, Dutch or 2 more"
    with pytest.raises(CaselibError, match="ISO 639-1 language codes such as de or fr, not 'German'"):
        TipFilter(detected_languages=("German",))


def test_the_filter_panel_offers_the_languages_and_where_they_come_from(language_store):
    pytest.importorskip("ipywidgets")
    from caselib.presentation.widgets import FilterPanel
    from caselib.store.session import Session

    refresh_languages(language_store)
    path = language_store.path
    language_store.close()
    with Session(path) as session:
        panel = FilterPanel(session)
        assert {"de", "en", "fr"} <= {code for _, code in panel.languages.options}
        assert ("de · German", "de") in panel.languages.options
        seen = []
        panel.on_change(seen.append)
        assert panel.set(detected_languages=("de",)) == TipFilter(detected_languages=("de",))
        assert panel.language_source.value == "detected_languages" and "as detected" in panel.caption.value
        panel.language_source.value = "given_languages"  # the same languages, as given
        assert seen[-1] == TipFilter(given_languages=("de",))
        panel.language_source.value = "languages"
        assert seen[-1] == TipFilter(languages=("de",))
        panel.clear.click()
        assert panel.value == TipFilter()
        opened = FilterPanel(session, TipFilter(given_languages=("fr",), wave="2017-06"))
        assert opened.value == TipFilter(given_languages=("fr",), wave="2017-06")
        assert opened.languages.value == ("fr",) and opened.language_source.value == "given_languages"


def test_the_tip_table_shows_the_language_given_else_the_one_detected(language_store):
    pytest.importorskip("ipywidgets")
    from caselib.presentation.widgets import TipTable
    from caselib.store.session import Session

    refresh_languages(language_store)
    path = language_store.path
    language_store.close()
    with Session(path) as session:
        table = TipTable(session, page_size=50)
        table.show(TipFilter(languages=("de", "en", "fr")))
        detected = table.rows.set_index("tip_id")["detected_language"]
        assert detected.dropna().to_dict() == {"T1": "de", "T6": "de"} and len(detected) == 4
        assert "<th>Language</th>" in table.html.value
        assert table.html.value.count("de (detected)") == 2 and '<td class="nowrap">en</td>' in table.html.value


def test_the_sample_campaigns_tips_without_a_language_are_detected_as_english(tmp_path):
    """The generator writes every tip text in English and leaves the language out of some
    tips (no reporter country): those, and only those, are examined."""
    from caselib import Store
    from caselib.domain.demo import build_demo

    path = tmp_path / "demo.duckdb"
    build_demo(path, tips=5000, progress=False, enrich=False)  # the demo would detect them itself
    with Store(path) as store:
        awaiting = store.scalar("SELECT count(*) FROM tips WHERE language IS NULL AND trim(tip_text) <> ''")
        assert awaiting > 20
        done = refresh_languages(store)
        assert done.tips == awaiting
        found = dict(store.rows("SELECT detected_language, count(*) FROM tip_languages GROUP BY ALL"))
        english = found.pop("en", 0)
        found.pop(None, None)  # the special texts (a script, a formula), if drawn without a language
        assert english >= 0.98 * done.determined and sum(found.values()) <= 0.02 * done.determined, found
        assert store.scalar("SELECT count(*) FROM tip_languages JOIN tips USING (tip_id) WHERE tips.language IS NOT NULL") == 0
