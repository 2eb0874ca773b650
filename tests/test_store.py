"""The store: schema versioning, owner-only files, read-only access, progress reporting."""

from __future__ import annotations

import io
import os
import stat

import pytest

from caselib import Store
from caselib.errors import StoreError
from caselib.progress import LoadProgress
from caselib.store import SCHEMA_VERSION, quote_ident, sql_text


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
