"""The store: schema versioning, owner-only files, read-only access, progress reporting,
named parameters, named errors and the query log."""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import stat
from importlib import resources

import pytest

import caselib.store
from caselib import Store, load_file
from caselib.domain.filters import FILTERS, PARAMETER_PREFIX, TipFilter
from caselib.domain.ingest.progress import LoadProgress
from caselib.errors import CaselibError, QueryError, StoreError
from caselib.store import SCHEMA_VERSION, quote_ident, sql_text
from conftest import tip, write_csv


def test_a_new_database_gets_the_schema_and_is_owner_only(db_path):
    with Store(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        versions = store.rows("SELECT version, name FROM schema_version ORDER BY version")
        tables = {r[0] for r in store.rows("SELECT table_name FROM information_schema.tables")}
    assert [v for v, _ in versions] == list(range(1, SCHEMA_VERSION + 1))
    assert {"waves", "objects", "tips", "tip_triage_history", "load_batches", "rejected_rows"} <= tables
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_reopening_applies_no_migration_twice(db_path):
    Store(db_path).close()
    with Store(db_path) as store:
        assert store.scalar("SELECT count(*) FROM schema_version") == SCHEMA_VERSION


def test_a_database_from_a_newer_caselib_is_refused(db_path):
    with Store(db_path) as store:
        store.execute("INSERT INTO schema_version VALUES (999, 'future', now()::TIMESTAMP)")
    with pytest.raises(StoreError, match="newer than this caselib knows"):
        Store(db_path)
    with pytest.raises(StoreError, match="newer than this caselib knows"):
        Store(db_path, read_only=True)


def test_read_only_needs_an_existing_database(tmp_path):
    with pytest.raises(StoreError, match="run `caselib demo`"):
        Store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_failed_transaction_leaves_nothing(fresh_store):
    with pytest.raises(RuntimeError):
        with fresh_store.transaction():
            fresh_store.execute("INSERT INTO meta VALUES ('a', 'b')")
            raise RuntimeError("boom")
    assert fresh_store.scalar("SELECT count(*) FROM meta") == 0


def test_identifiers_are_quoted_and_queries_load_by_name():
    assert quote_ident('a"b') == '"a""b"'
    assert "FROM load_batches" in sql_text("status/recent_loads")
    with pytest.raises(KeyError):
        sql_text("no/such/query")


def test_progress_bar_appears_for_a_long_statement_and_reaches_100(fresh_store):
    stream = io.StringIO()
    with LoadProgress("tips big.csv", ["reading", "writing"], fresh_store.query_progress, enabled=True, after=0.2, stream=stream) as bar:
        bar.phase("reading")
        fresh_store.execute("CREATE TEMP TABLE t AS SELECT i, md5(i::VARCHAR) FROM range(6000000) r(i)")
        bar.phase("writing")
        fresh_store.execute("CREATE TEMP TABLE u AS SELECT md5(i::VARCHAR) AS h, count(*) FROM range(6000000) r(i) GROUP BY h")
    assert bar.shown
    text = stream.getvalue()
    assert "tips big.csv: reading" in text
    assert "100%" in text and "done" in text


def test_no_progress_bar_for_a_short_load(fresh_store):
    stream = io.StringIO()
    with LoadProgress("tips small.csv", ["reading"], fresh_store.query_progress, enabled=True, after=5, stream=stream):
        fresh_store.execute("SELECT 1")
    assert stream.getvalue() == ""


# -- parameters: a filter's and a query's never mix --------------------------------------

_BOTH_CHOOSE_OBJECTS = """
SELECT (SELECT list(object_id ORDER BY object_id) FROM objects
        WHERE list_contains($objects, object_id)) AS chosen,
       (SELECT list(object_id ORDER BY object_id)
        FROM (SELECT DISTINCT object_id FROM {{filtered_tips}})) AS tipped
"""


@pytest.fixture
def test_queries(monkeypatch):
    """Queries under ``test/`` that exist only in these tests."""
    real = caselib.store.sql_text
    queries = {"test/both_choose_objects": _BOTH_CHOOSE_OBJECTS}
    monkeypatch.setattr(caselib.store, "sql_text", lambda name: queries.get(name) or real(name))
    return queries


def test_a_filter_and_a_query_that_both_choose_objects_each_get_their_own(campaign_store, tmp_path, test_queries):
    tips = [tip("T1", object_id="G01"), tip("T2", object_id="G02"), tip("T3", object_id="G03")]
    load_file(campaign_store, "tips", write_csv(tmp_path / "tips.csv", tips), progress=False)
    rows = campaign_store.query_rows(
        "test/both_choose_objects", {"objects": ["G01", "G02"]}, tips=TipFilter(objects=("G03",))
    )
    assert rows == [(["G01", "G02"], ["G03"])]
    frame = campaign_store.query_df("test/both_choose_objects", {"objects": ["G02"]}, tips=TipFilter(objects=("G01", "G03")))
    assert [list(v) for v in frame.iloc[0]] == [["G02"], ["G01", "G03"]]


def test_a_parameter_given_by_both_the_query_and_the_filter_is_an_error(campaign_store, test_queries):
    test_queries["test/clash"] = "SELECT count(*) FROM {{filtered_tips}} WHERE list_contains($tips_objects, object_id)"
    with pytest.raises(QueryError, match=r"^query test/clash failed: the caller and the tip filter both give the parameter \$tips_objects$") as caught:
        campaign_store.query_rows("test/clash", {"tips_objects": ["G01"]}, tips=TipFilter(objects=("G02",)))
    assert caught.value.name == "test/clash"
    assert not isinstance(caught.value, CaselibError)  # a bug in the caller, not a user error


def test_the_filter_parameters_are_named_apart_from_every_query_parameter():
    for field in FILTERS:
        assert field.parameter == PARAMETER_PREFIX + field.name
        assert re.search(rf"\${field.parameter}\b", field.sql), field.name
    everything = TipFilter(
        wave="2017-06", received_from="2017-06-01", received_to="2017-06-30", objects="G01",
        categories="textile", triage="new", reporter_countries="DEU", suggested_countries="FRA",
        languages="de", given_languages="fr", detected_languages="pl",
    )
    assert sorted(everything.sql()[1]) == sorted(f.parameter for f in FILTERS)
    folder = resources.files("caselib").joinpath("sql")
    used = set()
    for path in _sql_files(folder):
        used |= set(re.findall(r"\$([a-z_][a-z0-9_]*)", path.read_text(encoding="utf-8")))
    assert "as_of" in used and "objects" in used  # the scan sees the query files
    assert sorted(p for p in used if p.startswith(PARAMETER_PREFIX)) == []


def _sql_files(folder):
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _sql_files(entry)
        elif entry.name.endswith(".sql"):
            yield entry


# -- errors name their query ---------------------------------------------------------------


def test_a_failing_named_query_names_itself_and_keeps_duckdbs_error(fresh_store):
    fresh_store.execute("DROP TABLE tip_triage_history")
    with pytest.raises(QueryError) as caught:
        fresh_store.query_df("status/counts")
    error = caught.value
    assert str(error).startswith("query status/counts failed: Catalog Error: Table with name tip_triage_history")
    assert "\n" not in str(error)
    assert error.name == "status/counts"
    assert error.sql == sql_text("status/counts")
    assert error.reason.startswith("Catalog Error:")
    assert type(error.__cause__).__name__ == "CatalogException"
    assert pickle.loads(pickle.dumps(error)).args == error.args


def test_each_statement_of_a_run_query_names_the_file(fresh_store, test_queries):
    test_queries["test/two_statements"] = "CREATE TEMP TABLE _t AS SELECT 1 AS x;\nSELECT nope FROM _t;"
    with pytest.raises(QueryError, match=r"^query test/two_statements failed: Binder Error") as caught:
        fresh_store.run("test/two_statements")
    assert "nope" in caught.value.sql and "CREATE" not in caught.value.sql


def test_ad_hoc_sql_is_named_when_the_caller_names_it(fresh_store):
    for method in (fresh_store.execute, fresh_store.rows, fresh_store.scalar, fresh_store.df):
        with pytest.raises(QueryError, match=r"^query my/check failed: Catalog Error") as caught:
            method("SELECT * FROM no_such_table", name="my/check")
        assert caught.value.sql == "SELECT * FROM no_such_table"
    # Unnamed, DuckDB's own exception, which callers may catch by type.
    with pytest.raises(Exception) as caught:
        fresh_store.scalar("SELECT * FROM no_such_table")
    assert type(caught.value).__name__ == "CatalogException"
    assert fresh_store.scalar("SELECT $x + 1", {"x": 1}, name="my/sum") == 2


def test_a_failed_named_query_in_a_transaction_still_rolls_it_back(fresh_store):
    with pytest.raises(QueryError):
        with fresh_store.transaction():
            fresh_store.execute("INSERT INTO meta VALUES ('a', 'b')")
            fresh_store.execute("INSERT INTO no_such_table VALUES (1)", name="my/insert")
    assert fresh_store.scalar("SELECT count(*) FROM meta") == 0


# -- the query log -------------------------------------------------------------------------


def test_at_debug_each_query_is_logged_with_its_name_and_duration(fresh_store, caplog):
    with caplog.at_level(logging.DEBUG, logger="caselib.store"):
        fresh_store.query_df("status/counts")
        fresh_store.scalar("SELECT 42")
    messages = [r.getMessage() for r in caplog.records if r.name == "caselib.store"]
    assert re.fullmatch(r"status/counts \d+\.\d ms", messages[0]), messages
    assert re.fullmatch(r"sql: SELECT 42 \d+\.\d ms", messages[1]), messages


def test_caselib_log_sets_the_level_and_refuses_an_unknown_one(db_path, monkeypatch):
    logger = logging.getLogger("caselib")
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    for value, level in (("debug", logging.DEBUG), ("INFO", logging.INFO), ("warning", logging.WARNING)):
        monkeypatch.setenv("CASELIB_LOG", value)
        Store(db_path).close()
        assert logger.level == level
    assert len(logger.handlers) == 1  # added once, however many stores open
    monkeypatch.setenv("CASELIB_LOG", "loud")
    with pytest.raises(CaselibError, match="CASELIB_LOG must be debug, info or warning, not 'loud'"):
        Store(db_path)


def test_what_a_writing_store_creates_is_owner_only_whatever_the_umask(tmp_path):
    """The database, its folder and the WAL DuckDB writes later are 0600/0700 with a umask
    of 022; the process's umask comes back when the last writing store closes."""
    previous = os.umask(0o022)
    try:
        path = tmp_path / "new" / "folder" / "case.duckdb"
        first = Store(path)
        second = Store(tmp_path / "other.duckdb")
        first.execute("CREATE TABLE scratch AS SELECT range AS n FROM range(1000)")
        wal = path.with_name(path.name + ".wal")
        assert wal.exists() and wal.stat().st_mode & 0o777 == 0o600
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        first.close()
        assert os.umask(0o022) == 0o077  # the other store still writes
        second.close()
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(previous)


def test_a_database_of_an_older_schema_is_upgraded_when_opened_for_reading(tmp_path):
    """A new caselib reads an older caselib's file: `caselib status` (a read-only command) on a
    database built with every migration but the latest upgrades it, then reads it."""
    import subprocess
    import sys

    import duckdb

    from caselib.store import _migrations

    path = tmp_path / "older.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    for version, name, text in _migrations()[:-1]:
        con.execute(text)
        con.execute("INSERT INTO schema_version VALUES ($v, $n, now()::TIMESTAMP)", {"v": version, "n": name})
    con.close()
    result = subprocess.run([sys.executable, "-m", "caselib", "--db", str(path), "status", "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with Store(path, read_only=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
