"""The intake contract (v1) as data: record kinds, their columns, types and rules.

The loader generates its SQL from these definitions, so a rule lives in one place. See
``README.md`` ("Data contract") for the same rules in prose.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CHANNELS",
    "CONTACT_COLUMNS",
    "Column",
    "KINDS",
    "Kind",
    "OBJECT_STATUSES",
    "TRIAGE_STATUSES",
    "TRIAGE_STATUS_LABELS",
    "kind",
    "status_label",
]

CHANNELS = ("web", "email", "phone", "social", "other")
TRIAGE_STATUSES = (
    "new",
    "under_review",
    "actionable",
    "not_actionable",
    "duplicate",
    "off_topic",
    "forwarded",
)
OBJECT_STATUSES = ("open", "identified", "closed", "withdrawn")
# Each triage status in words, for captions, tables and reports (the codes stay in data and files).
TRIAGE_STATUS_LABELS = {
    "new": "new (untriaged)",
    "under_review": "under review",
    "actionable": "actionable",
    "not_actionable": "not actionable",
    "duplicate": "duplicate",
    "off_topic": "off topic",
    "forwarded": "forwarded",
}


def status_label(status) -> str:
    """A triage or object status in words (:data:`TRIAGE_STATUS_LABELS`); any other value as
    text with its underscores as spaces, a missing one as an empty string."""
    if not isinstance(status, str):  # None, NaN, NA: no status
        return ""
    return TRIAGE_STATUS_LABELS.get(status, str(status).replace("_", " "))

CATEGORIES = (
    "clothing",
    "toiletries",
    "packaging",
    "furniture",
    "bedding",
    "toy",
    "signage",
    "printed matter",
    "other",
)

# Never stored as given: dropped, or replaced by a keyed pseudonym. Order matters: the
# pseudonym is taken from the first of these a tip has.
CONTACT_COLUMNS = ("reporter_email", "reporter_phone", "reporter_name", "reporter_ip", "contact")


@dataclass(frozen=True)
class Column:
    """One contract column.

    ``type`` is one of ``text``, ``date``, ``timestamp``, ``country``, ``enum``,
    ``language``, ``coordinate``. ``updatable`` columns may change when a record is
    delivered again; a change to any other column is a conflict.
    """

    name: str
    type: str = "text"
    required: bool = False
    values: tuple[str, ...] = ()
    default: str | None = None
    updatable: bool = False
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class Kind:
    """A record kind: its table, key, columns, and the table its references must name."""

    name: str
    key: str
    columns: tuple[Column, ...]
    reference: tuple[str, str] | None = None  # (column, referenced kind)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


WAVES = Kind(
    "waves",
    key="wave_id",
    columns=(
        Column("wave_id", required=True),
        Column("name", updatable=True),
        Column("launched_on", "date", required=True),
        Column("notes", updatable=True),
    ),
)

OBJECTS = Kind(
    "objects",
    key="object_id",
    reference=("wave_id", "waves"),
    columns=(
        Column("object_id", required=True),
        Column("title", required=True),
        Column("category"),
        Column("first_published", "date", required=True),
        Column("wave_id"),
        # The object register re-exports objects as investigations progress.
        Column("status", "enum", values=OBJECT_STATUSES, default="open", updatable=True),
        Column("origin_country", "country", updatable=True),
        Column("identified_on", "date", updatable=True),
        Column("closed_on", "date", updatable=True),
        Column("description", updatable=True),
    ),
)

TIPS = Kind(
    "tips",
    key="tip_id",
    reference=("object_id", "objects"),
    columns=(
        Column("tip_id", required=True),
        Column("object_id", required=True),
        Column("received_at", "timestamp", required=True),
        Column("channel", "enum", values=CHANNELS),
        Column("language", "language"),
        Column("reporter_country", "country"),
        Column("suggested_country", "country"),
        Column("suggested_place"),
        Column("latitude", "coordinate", lower=-90.0, upper=90.0),
        Column("longitude", "coordinate", lower=-180.0, upper=180.0),
        Column("brand"),
        Column("shop"),
        Column("period"),
        Column("tip_text"),
        # The intake system re-exports tips as they are triaged: only these may change.
        Column("triage_status", "enum", values=TRIAGE_STATUSES, default="new", updatable=True),
        Column("forwarded_to", "country", updatable=True),
    ),
)

KINDS: dict[str, Kind] = {k.name: k for k in (WAVES, OBJECTS, TIPS)}


def kind(name: str) -> Kind:
    """The record kind called ``name`` (waves, objects or tips)."""
    from caselib.errors import CaselibError

    try:
        return KINDS[name]
    except KeyError:
        raise CaselibError(
            f"unknown record kind {name!r}; use one of {', '.join(KINDS)}"
        ) from None
