"""Readers: turn a contract file of any supported format into the temporary table ``_raw``.

``_raw`` has one text column per file column, named ``c0``, ``c1``, … (the file's own
headers are kept in Python, so no header text ever becomes SQL), in file order, so a row's
record number is its ``rowid + 1``. Records the reader cannot split into fields go to
``_reader_rejects`` with a reason. Except for Excel and for a CSV file that mixes line
endings (which DuckDB's reader refuses; it is read as Python's ``csv`` module reads it and
streamed to DuckDB as Arrow batches), reading happens inside DuckDB.

The CSV, Parquet and Excel readers plan the columns from the headers before reading and leave the
contact columns out of ``_raw``: DuckDB reads them only to pseudonymise them in the same
projection (``_raw._pseudonym``), so no temporary table, and no spill file, holds them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from caselib.domain.ingest.plan import Plan
from caselib.domain.ingest.statements import literal, pseudonym_of
from caselib.errors import CaselibError, FileLoadError, QueryError
from caselib.store import Store, quote_ident, sql_text

__all__ = ["RawFile", "detect_format", "read_into_store", "FORMATS"]

FORMATS = ("csv", "xlsx", "jsonl", "json", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class RawFile:
    """What a reader found: the format, the file's headers (in ``c0…`` order), line numbers."""

    format: str
    headers: tuple[str, ...]
    has_line_numbers: bool = False
    # Set by a reader that planned the columns itself: then ``_raw`` lacks the contact
    # columns (and has ``_pseudonym`` when pseudonymising).
    plan: Plan | None = None
    # Each record is one line, from the first (JSON Lines read whole): a record's line is its
    # record number, and ``_raw`` has no ``_line``.
    lines_are_records: bool = False


def detect_format(path: Path) -> str:
    """The file's format, from its first bytes where they tell, else from its extension."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise FileLoadError(f"{path.name} is empty")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if by_extension in ("json", "jsonl"):
        # Exporters name JSON Lines files .json often enough that the content decides.
        return "json" if text.startswith(b"[") else "jsonl"
    if by_extension:
        return by_extension
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    raise FileLoadError(
        f"cannot tell the format of {path.name}; name it .csv, .xlsx, .jsonl, .json or .parquet"
    )


def prepare(store: Store, path: Path, fmt: str, facts: FileFacts | None = None) -> dict:
    """What a reader should know before the load's transaction starts, found by statements
    that may fail without harm outside it (inside, a failed statement would abort the load).

    For JSON Lines: whether DuckDB's JSON reader reads every line as a JSON value and none is
    blank (``json_lines_whole``): then records are read by it, in parallel, and numbered by
    position; otherwise line by line, which quarantines what it cannot read."""
    facts = facts or file_facts(path)
    if fmt != "jsonl":
        return {"facts": facts}
    lines = facts.line_feeds + (1 if not facts.ends_with_lf else 0)
    try:
        records = store.scalar(
            "SELECT count(*) FROM read_json($path, format = 'newline_delimited', records = false, "
            "columns = {'json': 'JSON'})",
            {"path": str(path)},
            name="ingest/read_json_check",
        )
    except QueryError:
        return {"facts": facts, "json_lines_whole": False}
    return {"facts": facts, "json_lines_whole": records == lines}


def read_into_store(
    store: Store,
    path: Path,
    fmt: str,
    *,
    plan_for: Callable[[list[str]], Plan] | None = None,
    pseudonymize: bool = False,
    hints: dict | None = None,
) -> RawFile:
    """Create ``_raw`` and ``_reader_rejects`` in ``store`` from the file at ``path``.

    ``plan_for(headers)`` plans the columns; a reader that can leaves the contact columns
    out of ``_raw``, and with ``pseudonymize`` adds ``_pseudonym`` (the loader has
    registered the pseudonym function and created the text macro).
    """
    store.run("ingest/reader_rejects")
    reader = {
        "csv": _read_csv,
        "xlsx": _read_xlsx,
        "jsonl": _read_json,
        "json": _read_json,
        "parquet": _read_parquet,
    }[fmt]
    return reader(store, path, fmt, plan_for, pseudonymize, hints or {})


# -- CSV ------------------------------------------------------------------------------------


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """The delimiter (``,`` or ``;``) and the header fields of a CSV file."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    # Only the header must decode here; DuckDB quarantines a data line with bad bytes.
    ends = [at for at in (head.find(b"\n"), head.find(b"\r")) if at >= 0]  # CR alone ends a line too
    header = head[: min(ends)] if ends else head
    try:
        text = header.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileLoadError(
            f"the header of {path.name} is not UTF-8 text (byte {error.start}); export the file as UTF-8"
        ) from None
    best: tuple[int, str, list[str]] | None = None
    for delimiter in (",", ";"):
        try:
            fields = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        except csv.Error:
            continue
        if best is None or len(fields) > best[0]:
            best = (len(fields), delimiter, fields)
    if best is None or best[0] == 0:
        raise FileLoadError(f"{path.name} has no header row")
    return best[1], best[2]


def _projection(count: int, plan: Plan | None, pseudonymize: bool) -> tuple[str, Plan | None]:
    """``_raw``'s columns from a file's ``r.c0…``: all, or without the contact columns and
    with their pseudonym."""
    if plan is None:
        return ", ".join(f"r.c{i}" for i in range(count)), None
    keep = [f"r.c{i}" for i in range(count) if i not in set(plan.contact)]
    if pseudonymize and plan.contact:
        keep.append(f"{pseudonym_of(plan)} AS _pseudonym")
    return ", ".join(keep) or "NULL::VARCHAR AS _none", plan


def _read_csv(store: Store, path: Path, fmt: str, plan_for=None, pseudonymize: bool = False, hints=None) -> RawFile:
    delimiter, headers = _csv_header(path)
    if _mixed_line_endings(path, (hints or {}).get("facts")):
        return _read_csv_mixed(store, path, delimiter, headers, plan_for, pseudonymize)
    columns = {f"c{i}": "VARCHAR" for i in range(len(headers))}
    projection, plan = _projection(len(headers), plan_for(headers) if plan_for else None, pseudonymize)
    text = sql_text("ingest/read_csv")
    if text.count("SELECT *") != 1:
        raise RuntimeError("ingest/read_csv must select * once (the projection goes there)")
    try:
        store.execute(
            text.replace("SELECT *", f"SELECT {projection}"),
            {"path": str(path), "delim": delimiter, "columns": columns},
            name="ingest/read_csv",
        )
    except Exception as error:  # the reader's own message names the problem
        raise FileLoadError(f"{path.name} cannot be read as CSV: {_first_line(error)}") from None
    store.run("ingest/csv_rejects")
    store.execute("DROP TABLE IF EXISTS _csv_rejects; DROP TABLE IF EXISTS _csv_scans", name="ingest/read_csv")
    return RawFile("csv", tuple(headers), plan=plan)


_BLOCK = 1 << 22


def _blocks(path: Path) -> Iterator[bytes]:
    """The file in blocks, none ending between the CR and the LF of a CRLF."""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            if block.endswith(b"\r"):
                block += handle.read(1)
            yield block


@dataclass(frozen=True)
class FileFacts:
    """What one read of a file's bytes tells: its SHA-256 (which identifies the file in the
    load batches and the quarantine), its LFs (lines, for JSON Lines), and the kinds of line
    break in it anywhere (CRLF, LF alone, CR alone), for the CSV reader."""

    sha256: str
    line_feeds: int
    ends_with_lf: bool
    line_breaks: tuple[str, ...]


def file_facts(path: Path, *, count_lines: bool = True) -> FileFacts:
    """The :class:`FileFacts` of ``path``, in one pass over its bytes (C-speed ``bytes``
    methods and hashlib: a file without CR costs a search for an LF beside the digest, and a
    count of them with ``count_lines``; without, ``line_feeds`` is 0)."""
    import hashlib

    digest = hashlib.sha256()
    crlf = lone_lf = lone_cr = False
    feeds, last = 0, b""
    for block in _blocks(path):
        digest.update(block)
        last = block
        if b"\r" not in block:
            if count_lines:
                feeds += block.count(b"\n")
            lone_lf = lone_lf or b"\n" in block
            continue
        lf = block.count(b"\n")
        feeds += lf
        cr = block.count(b"\r")
        pairs = block.count(b"\r\n")
        crlf = crlf or pairs > 0
        lone_cr = lone_cr or cr > pairs
        lone_lf = lone_lf or lf > pairs
    kinds = tuple(kind for kind, seen in (("\r\n", crlf), ("\n", lone_lf), ("\r", lone_cr)) if seen)
    return FileFacts(digest.hexdigest(), feeds, last.endswith(b"\n"), kinds)


def _mixed_line_endings(path: Path, facts: FileFacts | None = None) -> bool:
    """Whether a CSV file ends its lines in more than one way (CRLF, LF alone, CR alone)
    outside quoted fields, as Python's csv module reads line ends. DuckDB's reader refuses
    such a file as a whole.

    First the kinds of line break anywhere in the file are found (:func:`file_facts`, which
    the loader has already read). Only a file with more than one kind, such as Excel's
    (records end with CRLF, a line break inside a cell is LF alone), is scanned again for a
    break of each kind outside quotes, each scan stopping at the first."""
    kinds = (facts or file_facts(path)).line_breaks
    if len(kinds) < 2:
        return False
    return sum(_outside_quotes(path, kind) for kind in kinds) > 1


def _outside_quotes(path: Path, kind: str) -> bool:
    """Whether a line break of ``kind`` (CRLF, LF alone or CR alone) occurs outside a quoted
    field: after an even number of quotes (a doubled quote inside a field counts twice).
    A lone LF or CR is sought in the block without its CRLFs, which holds the same quotes."""
    quotes = 0
    target = kind.encode()
    for block in _blocks(path):
        if kind != "\r\n":
            block = block.replace(b"\r\n", b"")
        last = 0
        at = block.find(target)
        while at >= 0:
            quotes += block.count(b'"', last, at)
            if quotes % 2 == 0:
                return True
            last = at
            at = block.find(target, at + 1)
        quotes += block.count(b'"', last)
    return False


_CSV_BATCH_ROWS = 65_536


def _read_csv_mixed(store: Store, path: Path, delimiter: str, headers: list[str], plan_for, pseudonymize: bool) -> RawFile:
    """A CSV file mixing line endings, read as Python's ``csv`` module reads it (CRLF, LF and
    CR all end a record; line breaks inside quoted fields are kept), into ``_raw`` through a
    stream of Arrow batches DuckDB reads as they are made: nothing of the file is written
    anywhere, and at most one batch of rows is held as Python objects. Records with another
    number of fields than the header, or with bytes that are not UTF-8, go to
    ``_reader_rejects`` with their line number, as DuckDB's reader would put them; ``_raw``
    has the line each record starts on."""
    import pyarrow as pa

    projection, plan = _projection(len(headers), plan_for(headers) if plan_for else None, pseudonymize)
    skip = set(plan.contact) if plan is not None and not pseudonymize else set()
    schema = pa.schema([("_line", pa.int64())] + [(f"c{i}", pa.string()) for i in range(len(headers))])
    rejects: list[tuple[int, str, str, int]] = []
    failed: list[FileLoadError] = []  # an error of the csv module, raised once DuckDB stops
    batches = _csv_batches(path, delimiter, schema, skip, rejects, failed)
    store.register("_csv_arrow", pa.RecordBatchReader.from_batches(schema, batches))
    try:
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT r._line, {projection} FROM _csv_arrow r ORDER BY r._line",
            name="ingest/read_csv_mixed",
        )
    except Exception as error:
        with contextlib.suppress(Exception):  # the failed statement aborted the transaction
            store.unregister("_csv_arrow")
        if failed:
            raise failed[0] from None
        raise FileLoadError(f"{path.name} cannot be read as CSV: {_first_line(error)}") from None
    store.unregister("_csv_arrow")
    if rejects:
        store.register("_csv_reject_rows", pa.table({
            "line": pa.array([r[0] for r in rejects], pa.int64()),
            "problem": pa.array([r[1] for r in rejects], pa.string()),
            "detail": pa.array([r[2] for r in rejects], pa.string()),
            "length": pa.array([r[3] for r in rejects], pa.int64()),
        }))
        try:
            store.execute(
                "INSERT INTO _reader_rejects SELECT NULL, line, 'line ' || line || ' could not be read as CSV: '"
                " || problem || detail, 'line … could not be read as CSV: ' || problem, length FROM _csv_reject_rows",
                name="ingest/read_csv_mixed",
            )
        finally:
            store.unregister("_csv_reject_rows")
    return RawFile("csv", tuple(headers), has_line_numbers=True, plan=plan)


def _csv_batches(path: Path, delimiter: str, schema, skip: set[int], rejects: list, failed: list) -> Iterator:
    """The records of ``path`` after its header as csv.reader reads them, in Arrow batches of
    ``schema`` (``_line``, ``c0…``); records it cannot take are appended to ``rejects``, an
    error of the csv module (a NUL byte, a field over its size limit) to ``failed``."""
    width = len(schema) - 1
    check_encoding = _not_utf8_at(path) is not None
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar='"', doublequote=True)
        try:
            next(reader, None)  # the header, read by _csv_header
            line = reader.line_num
            lines, chunk = [], []
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row:  # a blank line is no record
                    continue
                problem = None
                if len(row) != width:
                    problem = "too many columns" if len(row) > width else "missing columns"
                    detail = f" (expected {width} fields, found {len(row)})"
                elif check_encoding and not all(_is_utf8(v) for v in row):
                    problem, detail = "invalid encoding", ""
                if problem:
                    rejects.append((start, problem, detail, len(delimiter.join(row))))
                    continue
                lines.append(start)
                chunk.append(row)
                if len(chunk) == _CSV_BATCH_ROWS:
                    yield _csv_batch(schema, lines, chunk, skip)
                    lines, chunk = [], []
            if chunk:
                yield _csv_batch(schema, lines, chunk, skip)
        except csv.Error as error:
            failed.append(FileLoadError(f"{path.name} cannot be read as CSV: line {reader.line_num}: {error}"))
            raise


def _is_utf8(value: str) -> bool:
    """Whether a field read with ``surrogateescape`` held UTF-8 text only."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _csv_batch(schema, lines: list[int], rows: list[list[str]], skip: set[int]):
    """An Arrow batch of records (empty fields null, as DuckDB reads them); columns in
    ``skip`` (contact columns not pseudonymised) stay null, never turned into Arrow text."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True))
    arrays = [pa.array(lines, pa.int64())]
    arrays += [
        pa.nulls(len(rows), pa.string()) if i in skip else _text_array(column)
        for i, column in enumerate(columns)
    ]
    return pa.record_batch(arrays, schema=schema)


# -- JSON -----------------------------------------------------------------------------------


def _not_utf8_at(path: Path) -> int | None:
    """The offset of the first byte of ``path`` that is not UTF-8 text, or None."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return offset + error.start
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        return offset + error.start
    return None


def _json_read_error(path: Path, error: QueryError, lines: bool = False) -> FileLoadError:
    """The one line for a JSON file DuckDB could not read (a JSON array is one document: a
    byte that is not UTF-8 anywhere refuses it whole). The line names the byte, found only
    now, so a file that reads costs no extra pass."""
    bad = _not_utf8_at(path)
    if bad is not None:
        return FileLoadError(f"{path.name} is not UTF-8 text (byte {bad}); export the file as UTF-8")
    if lines or "Malformed JSON" not in error.reason:  # not the JSON: memory, the disk
        return FileLoadError(f"{path.name} cannot be read as JSON: {_first_line(error)}")
    # DuckDB's words name the file by its full path; the line names the byte instead.
    where = re.search(r"at byte (\d+)[^:]*: (.+?)\.?$", _first_line(error))
    detail = f" (byte {where.group(1)}: {where.group(2)})" if where else ""
    return FileLoadError(f"{path.name} is not a JSON array of records{detail}; use a JSON array or JSON Lines")


def _reader_names_them(keys: list[str]) -> bool:
    """Whether DuckDB's JSON reader can take each key as a column: not the empty key, no two
    keys the same but for case (SQL names ignore it), and not thousands of them (a column
    each: 10,000 ran out of memory, where one JSON function per record does not)."""
    return len(keys) <= _READER_KEYS and all(keys) and len({k.lower() for k in keys}) == len(keys)


_READER_KEYS = 500


# The records the scan found bad are left out of _raw (an anti-join, which keeps no order).
_BAD_RECORDS = " WHERE i.item_no NOT IN (SELECT bad_no FROM _json_scan WHERE bad_no IS NOT NULL)"


def _read_json(store: Store, path: Path, fmt: str, plan_for=None, pseudonymize: bool = False, hints=None) -> RawFile:
    """JSON Lines or a JSON array, streamed by DuckDB (never read whole: a file of any size
    is read within the memory limit), in two passes over the file, each parsing a record
    once: the scan (the keys, and the records that cannot load, quarantined), then ``_raw``."""
    lines = fmt == "jsonl"
    whole = lines and (hints or {}).get("json_lines_whole", False)  # see prepare()
    by_reader = whole or not lines  # DuckDB's JSON reader reads every record: numbers are positions
    store.run("ingest/read_json_array" if not lines else "ingest/read_json_fast" if whole else "ingest/read_json_lines")
    try:  # the first pass over the file: a JSON array that does not parse is refused here
        if by_reader:
            store.run("ingest/json_scan_quick", {"path": str(path)})
        # records that differ in keys need their numbers (the keys' order is their first
        # appearance), and so does the line-by-line reader: the numbered scan
        if not by_reader or store.scalar("SELECT count(*) FROM _json_groups WHERE NOT bad", name="ingest/read_json") > 1:
            store.run("ingest/json_scan", {"path": str(path)})
    except QueryError as error:
        raise _json_read_error(path, error, lines) from None
    store.run("ingest/json_scan_good")
    if store.scalar("SELECT count(*) FROM _json_groups WHERE bad", name="ingest/read_json"):
        store.run("ingest/json_bad", {"path": str(path)})
    # Lines the reader refused: the others are renumbered (a join, which keeps no order).
    shifted = lines and not whole and bool(store.scalar("SELECT count(*) FROM _json_csv_rejects", name="ingest/read_json"))
    if shifted:
        store.run("ingest/json_shift")
    keys = [row[0] for row in store.query_rows("ingest/json_keys")]
    store.run("ingest/json_rejects", {"lines": lines})
    bad = bool(store.scalar("SELECT count(*) FROM _json_scan WHERE bad_no IS NOT NULL", name="ingest/read_json"))
    # One extraction of every key at once (a list, in key order): each record is parsed once,
    # and a record of 10,000 keys costs one JSON function, not 10,000 (each with its own
    # working memory, which ran out at a few thousand keys).
    columns = "".join(f", r.v[{i + 1}] AS c{i}" for i in range(len(keys)))
    # JSON Pointers (RFC 6901), which name any key, the empty one included ("$.\"\"" is no path)
    params = {"paths": ["/" + key.replace("~", "~0").replace("/", "~1") for key in keys]}
    line_column = "r.item_no AS _line" if lines else "NULL::BIGINT AS _line"
    # The records are read from the file by table macros (nothing stores them); _raw lacks
    # the contact keys (pseudonymised here). Numbered by row_number() OVER () and only
    # filtered and projected, they stay in file order (DuckDB keeps it for these).
    projection, plan = _projection(len(keys), plan_for(keys) if plan_for else None, pseudonymize)
    values = "json_extract_string(item, $paths) AS v" if keys else "NULL AS v"
    source = f"(SELECT item_no, {values} FROM _json_items($path) i{_BAD_RECORDS if bad else ''}) r"
    records_are_lines = False
    if keys and by_reader and not bad and _reader_names_them(keys):
        # DuckDB's JSON reader takes the values out itself, in parallel, far faster than a
        # JSON function per record (values as json_extract_string gives them). It refuses a
        # record giving a key twice or one that is not an object: only when there is none.
        # Unnumbered (a number would make the pass serial), the records stay in file order
        # in _raw, so a record's number is its position, and for JSON Lines read whole its
        # line (the stage takes it from there).
        source = (
            "(SELECT NULL::BIGINT AS item_no, [" + ", ".join(f"i.{quote_ident(k)}" for k in keys) + "] AS v FROM "
            f"read_json($path, format = {literal('array' if not lines else 'newline_delimited')}, "
            "records = true, columns = $columns) i) r"
        )
        params = {"columns": {k: "VARCHAR" for k in keys}}
        records_are_lines = lines
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {line_column}"
        f"{', ' + projection if keys else ''} FROM (SELECT item_no{columns} FROM {source}) r"
        + (" ORDER BY r.item_no" if shifted or bad else ""),
        {**(params if keys else {}), "path": str(path)},
        name="ingest/read_json",
    )
    store.execute(
        "DROP MACRO TABLE _json_items; DROP MACRO TABLE IF EXISTS _json_values; DROP TABLE _json_scan; "
        "DROP TABLE _json_groups",
        name="ingest/read_json",
    )
    if lines and not whole:
        store.execute(
            "DROP MACRO TABLE _json_lines; DROP TABLE IF EXISTS _json_shift; DROP TABLE IF EXISTS _json_csv_rejects; "
            "DROP TABLE IF EXISTS _json_csv_scans",
            name="ingest/read_json",
        )
    return RawFile(fmt, tuple(keys), has_line_numbers=lines and not records_are_lines, plan=plan,
                   lines_are_records=records_are_lines)


# -- Parquet --------------------------------------------------------------------------------


def _read_parquet(store: Store, path: Path, fmt: str, plan_for=None, pseudonymize: bool = False, hints=None) -> RawFile:
    import pyarrow.parquet as pq

    try:
        # DuckDB renames a repeated column (``reporter_email``, ``REPORTER_EMAIL``: names are
        # case-insensitive in SQL) to ``reporter_email_1``; its names address the columns,
        # the file's own names (read from its footer) are the headers the plan matches, so
        # a repeated contact column is still known for one.
        names = [
            row[0]
            for row in store.rows("DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(path)},
                                  name="ingest/read_parquet")
        ]
        headers = list(pq.ParquetFile(path).schema_arrow.names)
        if len(headers) != len(names):
            raise FileLoadError(f"{path.name} has nested columns the reader cannot tell apart")
        columns = ", ".join(
            f"CAST({quote_ident(h)} AS VARCHAR) AS c{i}" for i, h in enumerate(names)
        )
    except Exception as error:
        raise FileLoadError(f"{path.name} cannot be read as Parquet: {_first_line(error)}") from None
    projection, plan = _projection(len(headers), plan_for(headers) if plan_for else None, pseudonymize)
    try:
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {projection} FROM (SELECT {columns} FROM read_parquet($path)) r",
            {"path": str(path)},
            name="ingest/read_parquet",
        )
    except Exception as error:
        raise FileLoadError(f"{path.name} cannot be read as Parquet: {_first_line(error)}") from None
    return RawFile("parquet", tuple(headers), plan=plan)


# -- Excel ----------------------------------------------------------------------------------

# fastexcel (calamine, compiled) reads a sheet's cells straight into Arrow text: numbers
# without a needless decimal point ("2", "1.25", "0.00001"), booleans as "true"/"false", and
# a date or time cell as "YYYY-MM-DD HH:MM:SS[.fff]" (a time of day counted from 1899-12-31).
# The reader's SQL turns that last shape into the ISO 8601 text a CSV export holds: a date at
# midnight is the date alone (date columns want YYYY-MM-DD; a timestamp column reads a bare
# date as midnight UTC), a time of day is the time alone, any other has its "T".
_EXCEL_DATETIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?"


def _excel_text(column: str) -> str:
    """The SQL of one cell's contract text (an empty cell, or text of blanks Excel did not mark
    to keep, is no value)."""
    v = f"r.{column}"
    return (
        f"CASE WHEN {v} = '' THEN NULL\n"
        f"  WHEN length({v}) BETWEEN 19 AND 29 AND regexp_full_match({v}, $excel_datetime) THEN\n"
        f"    CASE WHEN ends_with({v}, ' 00:00:00') THEN left({v}, 10)\n"
        f"         WHEN starts_with({v}, '1899-12-31 ') THEN substr({v}, 12)\n"
        f"         ELSE replace({v}, ' ', 'T') END\n"
        f"  ELSE {v} END AS {column}"
    )


def _read_xlsx(store: Store, path: Path, fmt: str, plan_for=None, pseudonymize: bool = False, hints=None) -> RawFile:
    """The first worksheet (chart sheets are passed over): its first used row is the header,
    the rows under it the records (rows with no value, and rows of blanks only, are none: a
    CSV export has no line for them); columns keep their place from column A. The cells come
    into Arrow in compiled code (fastexcel), never one Python object per cell."""
    import pyarrow as pa

    batch, offset = _first_sheet(path)
    header_row = batch.slice(0, 1).to_pylist()[0] if batch.num_rows else {}
    headers = [""] * offset + [value or "" for value in header_row.values()]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise FileLoadError(f"{path.name}: the first sheet is empty")
    projection, plan = _projection(len(headers), plan_for(headers) if plan_for else None, pseudonymize)
    # Columns the projection leaves out (contact columns, unless pseudonymised) never reach
    # DuckDB: their Arrow arrays are replaced by nulls before it sees the table.
    skip = set(plan.contact) if plan is not None and not pseudonymize else set()
    rows = batch.num_rows - 1
    arrays = []
    for i in range(len(headers)):
        at = i - offset
        if i in skip or at < 0 or at >= batch.num_columns:
            arrays.append(pa.nulls(rows, pa.string()))
        else:
            arrays.append(batch.column(at).slice(1).cast(pa.string()))
    table = pa.table(arrays, names=[f"c{i}" for i in range(len(headers))])
    del batch
    cells = ",\n".join(_excel_text(f"c{i}") for i in range(len(headers)))
    kept = " OR ".join(f"trim(c{i}) <> ''" for i in range(len(headers)))
    store.register("_xlsx_arrow", table)
    try:
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {projection} FROM (\n"
            f"SELECT {cells} FROM (SELECT * FROM _xlsx_arrow WHERE {kept}) r) r",
            {"excel_datetime": _EXCEL_DATETIME},
            name="ingest/read_xlsx",
        )
    finally:
        store.unregister("_xlsx_arrow")
    return RawFile("xlsx", tuple(headers), plan=plan)


def _first_sheet(path: Path):
    """The first worksheet's cells as one Arrow batch of text columns (row 0 the header) and
    the number of empty columns before its first used one."""
    import fastexcel
    import python_calamine

    try:  # the sheet kinds are in the workbook's index: no sheet is parsed for them
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            sheets = [m.name for m in book.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        finally:
            book.close()
        if not sheets:
            raise FileLoadError(f"{path.name}: the workbook has no sheet")
        sheet = fastexcel.read_excel(str(path)).load_sheet(sheets[0], header_row=None, dtypes="string")
        if sheet.width == 0 or sheet.height == 0:
            raise FileLoadError(f"{path.name}: the first sheet is empty")
        offset = min(column.absolute_index for column in sheet.available_columns())
        return sheet.to_arrow(), offset
    except CaselibError:
        raise
    except Exception as error:  # a damaged workbook: calamine's zip and XML errors, all one line
        raise FileLoadError(f"{path.name} cannot be read as an Excel workbook: {_first_line(error)}") from None


def _text_array(column: tuple):
    """One column of fields as an Arrow text array, empty fields null (as DuckDB reads a CSV file)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(column, pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _first_line(error: BaseException) -> str:
    if isinstance(error, QueryError):  # DuckDB's words about the file, not the query's name
        return error.reason
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
