"""The language of each tip the intake system gave none, detected offline in its text.

:func:`refresh_languages` examines the tips that have no ``language``, a text that is not
blank and no detection yet (a second refresh examines nothing), and stores for each the
language detected (ISO 639-1, lower case) with the detector's confidence, apart from
``tips.language``: the intake system's value is never overwritten, and a tip it gave a
language is never examined. The explorer filters on either (:mod:`caselib.domain.filters`).

The detector is lingua (``lingua-language-detector``, which ships its models), restricted to
:data:`LANGUAGES`: the European languages a Europol campaign hears, and the major languages of
the rest of the world. Fewer candidates make short texts less ambiguous and detection faster.
It is built once per process. Measured on three sets of texts: 51 tip-like sentences in 33
languages, each also cut to its first 1, 2, 3, 4, 6 and 8 words (350 texts,
``tests/test_languages.py``), the sample campaign's English tip texts (1,616) and the
benchmark's (10,000 in 14 languages, ``benchmarks/bench_languages.py``):

* lingua's high-accuracy mode is right for 63 % of texts of at most 10 characters, 99 % up to
  20 and all above; its low-accuracy mode (trigrams only, 3 to 9 times faster) for 43 %, 80 %
  and 91 % up to 40 characters, and it took English tips of 76 characters for Danish with a
  confidence of 0.998. So every text is first read by the low-accuracy detector, whose answer
  stands only for a text of at least :data:`QUICK_FROM` characters it is sure of (confidence
  at least :data:`QUICK_CONFIDENCE`); the high-accuracy detector reads the others (8 % of the
  sample's texts, 22 % of the benchmark's, 78 % of the short ones). On all three sets this is
  exactly as right as the high-accuracy detector alone, and 3 to 6 times faster.
* Short texts ("Lidl", "Danke!") get low confidences. Below :data:`THRESHOLD` the language is
  stored as undetermined (NULL), with the best candidate's confidence: texts of at most 10
  characters keep about half of their detections, right for 5 in 6, and texts of 11–20
  characters 95 %, right for 99 in 100. The threshold is low because the high-accuracy
  mode spreads its confidence over every candidate: right answers for whole sentences were
  seen from 0.18.

Norwegian is reported as ``no``, as the intake system writes it (lingua's Bokmål; Nynorsk is
left out, so that Norwegian has one code). Malay is left out: with it, an Indonesian
sentence was detected as Malay.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from caselib.store import Store
from caselib.store import languages as state

__all__ = [
    "LANGUAGES",
    "QUICK_CONFIDENCE",
    "QUICK_FROM",
    "READ_AT_MOST",
    "THRESHOLD",
    "LanguageRefresh",
    "detect",
    "detector_version",
    "language_name",
    "refresh_languages",
]

# ISO 639-1 -> English name: the languages the detector chooses among.
LANGUAGES: dict[str, str] = {
    # the European Union's official languages (lingua has no Maltese)
    "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French",
    "ga": "Irish", "hr": "Croatian", "hu": "Hungarian", "it": "Italian", "lt": "Lithuanian",
    "lv": "Latvian", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish",
    # the rest of Europe and its neighbours
    "ca": "Catalan", "eu": "Basque", "cy": "Welsh", "is": "Icelandic", "no": "Norwegian",
    "sq": "Albanian", "sr": "Serbian", "bs": "Bosnian", "mk": "Macedonian", "uk": "Ukrainian",
    "ru": "Russian", "be": "Belarusian", "tr": "Turkish", "hy": "Armenian", "ka": "Georgian",
    "az": "Azerbaijani",
    # the major languages of the rest of the world
    "ar": "Arabic", "fa": "Persian", "he": "Hebrew", "hi": "Hindi", "ur": "Urdu",
    "bn": "Bengali", "pa": "Punjabi", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
    "vi": "Vietnamese", "th": "Thai", "id": "Indonesian", "tl": "Tagalog", "sw": "Swahili",
}
# lingua's code where it is not ours.
_LINGUA_CODE = {"no": "nb"}
_OUR_CODE = {v: k for k, v in _LINGUA_CODE.items()}

# Below this confidence (0..1) a detection is stored as undetermined (NULL language).
THRESHOLD = 0.25
# The low-accuracy (quick) detector's answer stands for a text of at least QUICK_FROM
# characters given at least QUICK_CONFIDENCE; the high-accuracy detector reads the others.
QUICK_FROM = 40
QUICK_CONFIDENCE = 0.999
# The detector reads at most this many characters of a text: a tip's language shows long
# before, and a pasted document (or a hostile file) does not hold up the refresh.
READ_AT_MOST = 1_000
# Distinct texts detected, then written, at a time: a long refresh keeps what it did.
_BATCH = 20_000


def language_name(code: str) -> str:
    """``German`` for ``de``: the English name of an ISO 639-1 code (the code if unknown)."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    import pycountry

    found = pycountry.languages.get(alpha_2=code)
    return found.name if found is not None else code


@cache
def detector_version() -> str:
    """What the ``detector`` column says of the detections made by this process."""
    from importlib.metadata import version

    return (
        f"lingua-language-detector {version('lingua-language-detector')}; {len(LANGUAGES)} languages; "
        f"low accuracy from {QUICK_FROM} characters at {QUICK_CONFIDENCE}, else high; undetermined under {THRESHOLD}"
    )


@cache
def _detector(low_accuracy: bool):
    """lingua's detector over :data:`LANGUAGES`, built once per process and mode (its models
    load as texts need them, and stay)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, _LINGUA_CODE.get(code, code).upper())) for code in LANGUAGES
    ]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def _best(values) -> tuple[str | None, float]:
    """Our code of lingua's best candidate (None when there is none) and its confidence."""
    if not values:  # no letters: nothing to detect
        return None, 0.0
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    return _OUR_CODE.get(code, code), min(1.0, max(0.0, float(top.value)))


def detect(texts: Sequence[str]) -> list[tuple[str | None, float]]:
    """The language of each text (ISO 639-1, lower case, or None when undetermined) and the
    detector's confidence in its best candidate (0..1), in the order of ``texts``.

    Examples
    --------
    >>> found = detect(["Ich habe dieses Handtuch in einem Hotel in Spanien gesehen.", "Lidl", "12345"])
    >>> [(language, round(confidence, 1)) for language, confidence in found]
    [('de', 1.0), (None, 0.2), (None, 0.0)]
    """
    texts = [text[:READ_AT_MOST] for text in texts]
    results: list[tuple[str | None, float]] = [(None, 0.0)] * len(texts)
    quick = [i for i, text in enumerate(texts) if len(text) >= QUICK_FROM]
    if quick:
        values = _detector(True).compute_language_confidence_values_in_parallel([texts[i] for i in quick])
        for i, found in zip(quick, values, strict=True):
            results[i] = _best(found)
    unsure = [i for i, text in enumerate(texts) if len(text) < QUICK_FROM or results[i][1] < QUICK_CONFIDENCE]
    if unsure:
        values = _detector(False).compute_language_confidence_values_in_parallel([texts[i] for i in unsure])
        for i, found in zip(unsure, values, strict=True):
            results[i] = _best(found)
    return [(language if confidence >= THRESHOLD else None, confidence) for language, confidence in results]
@dataclass(frozen=True)
class LanguageRefresh:
    """What one refresh did: ``tips`` examined (``determined`` of them got a language, the
    others stayed undetermined), in ``texts`` distinct texts, in ``seconds``."""

    tips: int
    texts: int
    determined: int
    seconds: float

    @property
    def undetermined(self) -> int:
        return self.tips - self.determined

    def summary(self) -> str:
        """``1,204 tips examined (988 texts): 1,150 languages detected, 54 undetermined; 0.8 s``"""
        if not self.tips:
            return "no tip awaits language detection"
        return (
            f"{self.tips:,} tips examined ({self.texts:,} texts): {self.determined:,} languages detected, "
            f"{self.undetermined:,} undetermined; {self.seconds:.1f} s"
        )


def refresh_languages(store: Store, *, now: dt.datetime | None = None) -> LanguageRefresh:
    """Detect the language of every tip awaiting it (no ``language`` given, a text, no
    detection yet) and store it apart from ``tips.language``.

    Each distinct text is detected once; every batch of texts is written in one statement,
    so an interrupted refresh keeps the batches it finished and the next one goes on.

    Returns
    -------
    LanguageRefresh
        How many tips and texts were examined, how many got a language, and the time taken.
    """
    import pyarrow as pa

    started = time.perf_counter()
    detected_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    pending = state.pending_texts(store)
    tips = determined = 0
    for start in range(0, len(pending), _BATCH):
        batch = pending[start:start + _BATCH]
        found = detect([text for text, _ in batch])
        table = pa.table(
            {
                "tip_text": pa.array([text for text, _ in batch], pa.string()),
                "detected_language": pa.array([language for language, _ in found], pa.string()),
                "confidence": pa.array([confidence for _, confidence in found], pa.float64()),
            }
        )
        tips += state.record_detections(store, table, detector=detector_version(), detected_at=detected_at)
        determined += sum(n for (_, n), (language, _) in zip(batch, found, strict=True) if language is not None)
    return LanguageRefresh(tips=tips, texts=len(pending), determined=determined, seconds=time.perf_counter() - started)
