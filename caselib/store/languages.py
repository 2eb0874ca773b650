"""The detected languages of tips: every read and write of ``tip_languages``, in one place.

A tip the intake system gave no ``language`` gets one row here once its text was examined:
the language detected (ISO 639-1, or NULL when it stayed undetermined), the confidence and
the detector that said so. ``tips.language`` is never written: what the intake system gave
and what was detected stay apart. The domain (:mod:`caselib.domain.languages`) decides what
to write; this module is the only code that knows the table, so a shared server database
can hold the same state later.
"""

from __future__ import annotations

import datetime as dt

from caselib.store import Store

__all__ = [
    "DETECTION_COLUMNS",
    "PENDING",
    "detections",
    "languages_present",
    "pending_count",
    "pending_texts",
    "record_detections",
]

# The tips awaiting detection: no language given, a text that is not blank, no row yet.
PENDING = (
    "t.language IS NULL AND trim(t.tip_text) <> ''"
    " AND NOT EXISTS (SELECT 1 FROM tip_languages d WHERE d.tip_id = t.tip_id)"
)
# What the domain hands to record_detections, per distinct text (an Arrow table).
DETECTION_COLUMNS = ("tip_text", "detected_language", "confidence")
_DETECTED = "_languages_detected"


def pending_count(store: Store) -> int:
    """How many tips await detection."""
    return int(store.scalar(f"SELECT count(*) FROM tips t WHERE {PENDING}", name="languages/pending_count"))


def pending_texts(store: Store) -> list[tuple[str, int]]:
    """(text, tips) for each distinct text of the tips awaiting detection, in text order: a
    text pasted into several tips is detected once."""
    return store.rows(
        f"SELECT t.tip_text, count(*) FROM tips t WHERE {PENDING} GROUP BY t.tip_text ORDER BY t.tip_text",
        name="languages/pending_texts",
    )


def record_detections(store: Store, detected, *, detector: str, detected_at: dt.datetime) -> int:
    """Write one row for every tip awaiting detection whose text is in ``detected`` (an Arrow
    table of :data:`DETECTION_COLUMNS`); returns how many rows were written.

    One statement: it writes all of them or none, and a tip that has a row (or got a
    language) meanwhile is left alone.
    """
    store.register(_DETECTED, detected)
    try:
        written = store.scalar(
            "INSERT INTO tip_languages (tip_id, detected_language, confidence, detector, detected_at)\n"
            "SELECT t.tip_id, d.detected_language, d.confidence, $detector, $at\n"
            f"FROM tips t JOIN {_DETECTED} d ON d.tip_text = t.tip_text\n"
            f"WHERE {PENDING}",
            {"detector": detector, "at": detected_at},
            name="languages/record",
        )
    finally:
        store.unregister(_DETECTED)
    return int(written or 0)


def detections(store: Store) -> list[tuple]:
    """(tip_id, given language, detected language, confidence, detector) of every tip with a
    detection row, in tip id order."""
    return store.rows(
        "SELECT t.tip_id, t.language, d.detected_language, d.confidence, d.detector\n"
        "FROM tip_languages d JOIN tips t USING (tip_id) ORDER BY t.tip_id",
        name="languages/detections",
    )


def languages_present(store: Store) -> list[tuple[str, str, int]]:
    """(source, language, tips) for every language the tips were given ('given') or detected
    in ('detected'), most tips first."""
    return store.rows(
        "SELECT 'given' AS source, language, count(*) AS n FROM tips WHERE language IS NOT NULL GROUP BY language\n"
        "UNION ALL\n"
        "SELECT 'detected', detected_language, count(*) FROM tip_languages\n"
        "WHERE detected_language IS NOT NULL GROUP BY detected_language\n"
        "ORDER BY n DESC, language, source",
        name="languages/present",
    )
