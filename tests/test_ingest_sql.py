"""The SQL a load runs and the SQL a tip filter builds, compared with files a reviewer reads.

As ibis does (``snapshot.assert_match(sql, "out.sql")``), the generated SQL is stored under
``tests/snapshots/<test>/<name>.sql`` and a test fails, showing the diff, when what is built
differs. After a deliberate change, rewrite the files and review their diff::

    CASELIB_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_ingest_sql.py

The statements come from the pure builders of :mod:`caselib.domain.ingest.statements`; a second
test runs the same loads for real and checks that they ran exactly these statements, in
this order, so the snapshots are what a load does.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import caselib.domain.ingest
from caselib import load_file
from caselib.domain import contract
from caselib.domain.contract import CONTACT_COLUMNS
from caselib.domain.filters import TipFilter
from caselib.domain.ingest import statements as sql
from caselib.domain.ingest.mapping import Mapping, read_mapping
from caselib.domain.ingest.plan import plan_columns
from caselib.domain.ingest.statements import Statement
from conftest import write_csv

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_VARIABLE = "CASELIB_UPDATE_SNAPSHOTS"


# -- the snapshot fixture -------------------------------------------------------------------


class Snapshot:
    """Compares text with the files in ``folder``; with ``update``, rewrites them instead."""

    def __init__(self, folder: Path, *, update: bool) -> None:
        self.folder = folder
        self.update = update

    def assert_match(self, text: str, name: str) -> None:
        path = self.folder / name
        text = text if text.endswith("\n") else text + "\n"
        stored = path.read_text(encoding="utf-8") if path.exists() else None
        if self.update:
            if stored != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8", newline="\n")
            return
        root = SNAPSHOTS.parent.parent
        where = path.relative_to(root) if path.is_relative_to(root) else path
        how = f"set {UPDATE_VARIABLE}=1 to write it, then review the diff"
        if stored is None:
            pytest.fail(f"there is no snapshot {where}; {how}", pytrace=False)
        if stored != text:
            diff = "".join(
                difflib.unified_diff(
                    stored.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{where} (stored)",
                    tofile=f"{where} (generated)",
                )
            )
            pytest.fail(f"the generated SQL differs from {where}; {how}\n{diff}", pytrace=False)


@pytest.fixture
def snapshot(request) -> Snapshot:
    folder = SNAPSHOTS / request.node.originalname
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None:
        folder = folder / callspec.id
    return Snapshot(folder, update=os.environ.get(UPDATE_VARIABLE) == "1")


def test_a_snapshot_passes_when_the_text_is_the_same_and_fails_with_a_diff_when_not(tmp_path):
    Snapshot(tmp_path, update=True).assert_match("SELECT 1\nFROM t", "out.sql")
    assert (tmp_path / "out.sql").read_text() == "SELECT 1\nFROM t\n"
    Snapshot(tmp_path, update=False).assert_match("SELECT 1\nFROM t", "out.sql")
    with pytest.raises(pytest.fail.Exception) as failed:
        Snapshot(tmp_path, update=False).assert_match("SELECT 2\nFROM t", "out.sql")
    assert "-SELECT 1\n+SELECT 2\n" in str(failed.value) and UPDATE_VARIABLE in str(failed.value)
    with pytest.raises(pytest.fail.Exception, match="there is no snapshot"):
        Snapshot(tmp_path, update=False).assert_match("SELECT 1", "missing.sql")


# -- the loads ------------------------------------------------------------------------------

NOW = dt.datetime(2024, 1, 1)

MAPPING = """\
contact = ["Absender", "Telefon"]

[columns]
"Hinweis-ID" = "tip_id"
"Objekt" = "object_id"
"Eingang" = "received_at"
"Kanal" = "channel"
"Land" = "reporter_country"
"Vorschlag" = "suggested_country"
"Status" = "triage_status"
"Weitergeleitet" = "forwarded_to"

[values.channel]
Webformular = "web"

[values.triage_status]
neu = "new"

[values.country]
Deutschland = "DEU"
"""


@dataclass(frozen=True)
class Scenario:
    """A load: its kind, the file's one row (the keys are its headers, in order), options.

    Every country column holds a spelling no rule knows, so that the load runs each query
    of the summary, as the snapshot lists them.
    """

    title: str
    kind: str
    row: dict[str, str]
    mapping: str | None = None  # TOML text of a mapping file
    pseudonymize: bool = False
    skipped_row: dict[str, str] | None = None  # a row under the header the mapping skips
    headers: list[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", list(self.row))


TIPS = Scenario(
    "a tips load of a contract CSV with every column",
    "tips",
    {
        "tip_id": "T1",
        "object_id": "G01",
        "received_at": "2017-06-01T10:00:00Z",
        "channel": "web",
        "language": "de",
        "reporter_country": "Atlantis",
        "suggested_country": "Lemuria",
        "suggested_place": "Lyon",
        "latitude": "45.76",
        "longitude": "4.83",
        "brand": "B",
        "shop": "S",
        "period": "2010",
        "tip_text": "seen in a hotel",
        "triage_status": "forwarded",
        "forwarded_to": "Hyperborea",
    },
)
TIPS_MAPPED = Scenario(
    "a tips load of a foreign export through a mapping file: renamed columns, mapped values, "
    "contact columns (dropped), a column not in the contract",
    "tips",
    {
        "Hinweis-ID": "M1",
        "Objekt": "G01",
        "Eingang": "2017-06-01 10:00",
        "Kanal": "Webformular",
        "Land": "Atlantis",
        "Vorschlag": "Lemuria",
        "Status": "neu",
        "Weitergeleitet": "Hyperborea",
        "Absender": "anna@example.org",
        "Telefon": "+49 30 1234567",
        "Bemerkung": "nicht im Vertrag",
    },
    mapping=MAPPING,
)
TIPS_PSEUDONYMIZED = Scenario(
    "a tips load with --pseudonymize: the contact columns become a keyed pseudonym",
    "tips",
    {
        "tip_id": "P1",
        "object_id": "G01",
        "received_at": "2017-06-01T10:00:00Z",
        "reporter_phone": "+33 1 23 45 67 89",
        "reporter_email": "tipster@example.org",
        "reporter_country": "Atlantis",
        "suggested_country": "Lemuria",
        "forwarded_to": "Hyperborea",
    },
    pseudonymize=True,
)
EXPORT_MAPPING = """\
skip_rows = 1
contact = ["Contact"]

[columns]
"Post ID" = "tip_id"
"Created" = "received_at"

[first_of]
tip_text = ["Description", "Unstructured Description"]

[constants]
object_id = "G01"

[formats]
received_at = "%d/%m/%Y %H:%M"
"""
TIPS_EXPORT = Scenario(
    "a tips load of a platform's export through a mapping file: a row under the header "
    "skipped, a column from the first non-empty of two, a constant object, a date format",
    "tips",
    {
        "Post ID": "U1",
        "Created": "01/06/2017 10:00",
        "Contact": "+1 555 0100",
        "Description": "",
        "Unstructured Description": "seen in a shop",
        "reporter_country": "Atlantis",
        "suggested_country": "Lemuria",
        "forwarded_to": "Hyperborea",
    },
    mapping=EXPORT_MAPPING,
    skipped_row={
        "Post ID": "#meta +id",
        "Created": "#date +reported",
        "Contact": "#contact",
        "Description": "#description",
        "Unstructured Description": "#description",
        "reporter_country": "#country +from",
        "suggested_country": "#country +origin",
        "forwarded_to": "#country +to",
    },
)
OBJECTS = Scenario(
    "an objects load of a contract CSV with every column",
    "objects",
    {
        "object_id": "G09",
        "title": "a tin of shoe polish",
        "category": "packaging",
        "first_published": "2017-06-01",
        "wave_id": "2017-06",
        "status": "identified",
        "origin_country": "Atlantis",
        "identified_on": "2018-01-02",
        "closed_on": "",
        "description": "round, with a red lid",
    },
)
WAVES = Scenario(
    "a waves load of a contract CSV with every column",
    "waves",
    {"wave_id": "2021-03", "name": "March 2021", "launched_on": "2021-03-01", "notes": "relaunch"},
)
SCENARIOS = {
    "tips": TIPS,
    "tips_mapped": TIPS_MAPPED,
    "tips_pseudonymized": TIPS_PSEUDONYMIZED,
    "tips_export": TIPS_EXPORT,
    "objects": OBJECTS,
    "waves": WAVES,
}


def _mapping(scenario: Scenario, folder: Path) -> Mapping:
    if scenario.mapping is None:
        return Mapping()
    path = folder / "mapping.toml"
    path.write_text(scenario.mapping, encoding="utf-8")
    return read_mapping(path)


def statements_of_a_load(scenario: Scenario, mapping: Mapping) -> list[tuple[str, Statement]]:
    """What :func:`caselib.load_file` runs for ``scenario``, step by step, besides reading.

    Batch, file digest and counts are placeholders: the snapshots hold the SQL and the
    names of its parameters, not their values.
    """
    spec = contract.kind(scenario.kind)
    plan = plan_columns(scenario.headers, spec, mapping, "file.csv")
    batch, sha256 = 7, "0" * 64
    steps: list[tuple[str, Statement | None]] = []
    if spec.name == "tips":
        steps.append(("tips need objects", sql.objects_stored()))
    steps.append(("an earlier load of the same file whose outcome holds", sql.previous_outcome(
        spec, sha256=sha256, mapping_sha256=mapping.sha256, pseudonymized=scenario.pseudonymize, now=NOW,
    )))
    steps.append(("the memory limit", sql.memory_limit("1GB")))
    steps.append(("the macro each file value goes through", sql.text_macro()))
    steps.append(("the macro a timestamp's offset goes through", sql.offset_macro()))
    # (here caselib.domain.ingest.readers reads the file into _raw and _reader_rejects; a
    # CSV file's contact columns stay out of _raw, pseudonymised in the reader's projection)
    steps.append(("the batch number", sql.batch_number()))
    steps.append(("the first row's rowid, for record numbers", sql.raw_first()))
    if mapping.skip_rows:
        steps.append(("skip_rows: no unreadable line among them", sql.reader_rejects_within(mapping.skip_rows + 1)))
        steps.append(("skip_rows: how many there are", sql.raw_rows_before(mapping.skip_rows)))
        steps.append(("skip_rows: not data", sql.skip_rows(mapping.skip_rows)))
    for statement in sql.same_table(spec):
        steps.append(("_same: rows found unchanged by their fingerprint", statement))
    fingerprint = None
    if spec.name in sql.FINGERPRINTED:
        fingerprint = sql.fingerprint_columns(spec, plan)
        steps.append(("what a fingerprint hashes beside the row", sql.fingerprint_rules("")))
        if sql.can_match(spec, plan, mapping):
            # (an empty database: no stored fingerprint, so no row is looked up by one)
            steps.append(("whether any stored record has a fingerprint", sql.fingerprinted(spec)))
    steps.append(("_value_map", sql.value_map()))
    if mapping.value_rows(spec):
        steps.append(("_value_map: the mapping's values", sql.value_map_fill()))
    if mapping.constants:
        steps.append(("_constants: the mapping's constants", sql.constants()))
    steps.append(("_stage", sql.stage(
        spec, plan, mapping, line_numbers=False, pseudonymize=scenario.pseudonymize, contact_in_raw=False,
        fingerprint=fingerprint,
    )))
    steps.append(("_country_map", sql.country_map()))
    values = sql.country_values(spec)
    if values is not None:
        steps.append(("the country spellings, to normalise in Python", values))
        steps.append(("_country_map: the normalised spellings", sql.country_map_fill()))
    steps.append(("_norm", sql.normalise(spec, now=NOW, formats=mapping.formats)))
    steps.append(("_dups", sql.duplicates(spec)))
    steps.append(("_cmp", sql.compare(spec)))
    steps.append(("the counts", sql.counts()))
    steps.append((
        "rejected rows",
        sql.rejects(spec, scenario.headers, plan, batch=batch, sha256=sha256),
    ))
    steps.append(("rejected lines of the reader", sql.reader_rejects(spec, plan, batch=batch, sha256=sha256)))
    steps.append(("inserts", sql.inserts(spec, batch=batch)))
    if sql.updates(spec, batch=batch) is not None:
        steps.append(("history of updates", sql.history(spec, batch=batch, now=NOW)))
        steps.append(("updates", sql.updates(spec, batch=batch)))
    for statement in sql.fingerprints(spec):
        steps.append(("the fingerprints of the rows written", statement))
    if sql.disagreements(spec, batch=batch, now=NOW) is not None:
        steps.append(("re-deliveries disagreeing with an analyst", sql.disagreements(spec, batch=batch, now=NOW)))
    for column in sql.country_columns(spec):
        steps.append((f"unrecognised {column.name}: examples", sql.unrecognised_examples(column)))
        steps.append((f"unrecognised {column.name}: how many", sql.unrecognised_count(column)))
    steps.append(("coordinates dropped", sql.coordinates_dropped(spec)))
    steps.append(("the previous load of the same file", sql.previous_batch(spec, sha256)))
    steps.append(("the earliest row rejected as after the time of loading", sql.future_from(spec)))
    steps.append(("records read", sql.raw_records()))
    counts = dict.fromkeys(("read", "inserted", "updated", "unchanged", "rejected"), 0)
    steps.append((
        "the load_batches row",
        sql.record_batch(
            batch=batch, kind=spec.name, file="file.csv", sha256=sha256, fmt="csv", mapping_name=mapping.name,
            mapping_sha256=mapping.sha256, pseudonymized=scenario.pseudonymize, origin="load", **counts,
            details="{}", started=NOW, finished=NOW, user="analyst",
        ),
    ))
    steps += [("temporary tables", s) for s in sql.drop_temporary()]
    steps += [("after the transaction: the view and its macro", s) for s in sql.drop_stage()]
    steps.append(("after the transaction: the memory limit", sql.reset_memory_limit()))
    return [(name, statement) for name, statement in steps if statement is not None]


def _parameters(params: dict) -> str:
    """``$a, $h2, $h10``: the names in order, numbers by value."""
    key = [(re.sub(r"\d+$", "", name), int(re.sub(r"^\D*", "", name) or -1)) for name in params]
    return ", ".join(f"${base}{'' if n < 0 else n}" for base, n in sorted(key))


def as_sql_file(title: str, statements: list[tuple[str, Statement]]) -> str:
    """Statements as one SQL script, under comments naming each step and its parameters."""
    parts = [f"-- The SQL of {title}.\n-- Generated by tests/test_ingest_sql.py; do not edit by hand."]
    previous = None
    for name, statement in statements:
        if name == previous:  # consecutive statements of one step share its comment
            parts[-1] += f"\n{statement.sql};"
            continue
        comment = f"-- {name}" + (f" (parameters: {_parameters(statement.params)})" if statement.params else "")
        parts.append(f"{comment}\n{statement.sql};")
        previous = name
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_sql_of_a_load(scenario, snapshot, tmp_path):
    statements = statements_of_a_load(scenario, _mapping(scenario, tmp_path))
    snapshot.assert_match(as_sql_file(scenario.title, statements), "load.sql")


def test_no_value_or_header_of_a_file_or_mapping_is_written_into_the_sql(tmp_path):
    ours = [
        word
        for kind in contract.KINDS.values()
        for column in kind.columns
        for word in (kind.name, column.name, *column.values)
    ] + list(CONTACT_COLUMNS)
    for scenario in SCENARIOS.values():
        mapping = _mapping(scenario, tmp_path)
        text = "\n".join(s.sql for _, s in statements_of_a_load(scenario, mapping))
        theirs = [*scenario.row.values(), *scenario.headers]
        theirs += [v for table in mapping.values.values() for pair in table.items() for v in pair]
        theirs += [*mapping.constants.values(), *mapping.formats.values()]
        theirs += [*(scenario.skipped_row or {}).values()]
        for value in theirs:
            if not value or value in ours:
                continue
            assert f"'{value}'" not in text and f'"{value}"' not in text, (scenario.title, value)
            if len(value) >= 4 and not any(value.lower() in name for name in ours):
                assert value.lower() not in text.lower(), (scenario.title, value)


def _record_sql_outside_reading(store, monkeypatch) -> list[str]:
    """The SQL text of each statement ``store`` runs from now on, except the reader's."""
    ran: list[str] = []
    reading = [False]
    for method in ("execute", "rows", "scalar"):
        original = getattr(store, method)

        def spy(text, *args, _original=original, **kwargs):
            if not reading[0]:
                ran.append(text)
            return _original(text, *args, **kwargs)

        monkeypatch.setattr(store, method, spy)
    read = caselib.domain.ingest.read_into_store

    def reader(*args, **kwargs):
        reading[0] = True
        try:
            return read(*args, **kwargs)
        finally:
            reading[0] = False

    monkeypatch.setattr(caselib.domain.ingest, "read_into_store", reader)
    return ran


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_a_load_runs_the_statements_of_its_snapshot_in_order(scenario, campaign_store, tmp_path, monkeypatch):
    mapping = _mapping(scenario, tmp_path)
    rows = [scenario.skipped_row, scenario.row] if scenario.skipped_row else [scenario.row]
    path = write_csv(tmp_path / "file.csv", rows)
    ran = _record_sql_outside_reading(campaign_store, monkeypatch)
    result = load_file(
        campaign_store, scenario.kind, path, mapping=mapping, pseudonymize=scenario.pseudonymize, now=NOW, progress=False
    )
    monkeypatch.undo()
    assert (result.rows_read, result.inserted) == (1, 1), result.summary()
    expected = statements_of_a_load(scenario, mapping)
    assert {n for n, _ in expected if n.startswith("unrecognised") and n.endswith("how many")} == {
        f"unrecognised {c}: how many" for c in result.unrecognised_countries
    }
    assert ran == [s.sql for _, s in expected]


# -- the tip filter -------------------------------------------------------------------------

EVERY_FIELD = TipFilter(
    wave="2021-03",
    received_from=dt.date(2021, 3, 1),
    received_to=dt.date(2021, 3, 31),
    objects=("G01", "G02"),
    categories=("toy", "packaging"),
    triage=("actionable", "new"),
    reporter_countries=("DEU",),
    suggested_countries=("FRA", "ITA"),
    languages=("de", "nl"),
    given_languages=("fr",),
    detected_languages=("pl", "cs"),
)


def _break_top_level(text: str) -> str:
    """``text`` with a line break before each WHERE and AND outside parentheses and quotes.

    Only spaces become line breaks, so the result is the filter's SQL, laid out to read.
    """
    out, depth, quote, i = [], 0, None, 0
    while i < len(text):
        char = text[i]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            for word, replacement in ((" WHERE ", "\nWHERE "), (" AND ", "\n  AND ")):
                if text.startswith(word, i):
                    out.append(replacement)
                    i += len(word)
                    break
            else:
                out.append(char)
                i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def test_the_sql_of_a_tip_filter_with_every_field_set(snapshot):
    select, params = EVERY_FIELD.sql()
    laid_out = _break_top_level(select)
    assert laid_out.replace("\n", " ").replace("   AND ", " AND ") == select
    assert sorted(params) == sorted(f"tips_{name}" for name in EVERY_FIELD.active())
    text = (
        "-- The SELECT of the tips a TipFilter with every field set chooses (TipFilter.sql()).\n"
        "-- Generated by tests/test_ingest_sql.py; do not edit by hand.\n"
        f"-- parameters: {_parameters(params)}\n"
        f"{laid_out};\n"
    )
    snapshot.assert_match(text, "filter.sql")


def test_every_statement_of_a_load_runs_under_its_name(campaign_store, tmp_path, caplog):
    """A failing or slow statement of a load is named after the builder that made it (and
    logged so with CASELIB_LOG=debug)."""
    import logging

    from caselib import load_file
    from conftest import tip, write_csv

    with caplog.at_level(logging.DEBUG, logger="caselib.store"):
        load_file(campaign_store, "tips", write_csv(tmp_path / "t.csv", [tip("T1"), tip("T2")]), progress=False)
    names = {record.getMessage().rsplit(" ", 2)[0] for record in caplog.records if record.name == "caselib.store"}
    for step in ("ingest/normalise", "ingest/compare", "ingest/inserts", "ingest/record_batch", "ingest/drop_stage"):
        assert step in names, sorted(names)
    assert not [n for n in names if n.startswith("sql: ")], "a load's statement ran without a name"
