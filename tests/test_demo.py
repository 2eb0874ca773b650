"""`caselib demo`: the synthetic campaign goes through the real loader, and the load
reconciles with what the generator says it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from caselib import Store
from caselib.domain import demo as demo_module
from caselib.domain.demo import build_demo
from caselib.errors import CaselibError, DemoRefused
from conftest import WAVES, write_csv

CASELIB = [sys.executable, "-m", "caselib"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return build_demo(folder / "demo.duckdb", tips=8000, seed=7, progress=False)


def test_demo_loads_match_the_generators_ground_truth(built):
    truth = json.loads((built.files_dir / "truth.json").read_text())
    waves, objects, tips, redelivery = built.loads
    assert (waves.inserted, objects.inserted) == (len(truth["waves"]), len(truth["objects"]))
    mess = truth["tips_file"]
    assert (tips.rows_read, tips.inserted, tips.unchanged, tips.rejected) == (
        mess["rows"],
        mess["valid_tips"],
        mess["exact_duplicate"],
        mess["rejected"],
    )
    assert tips.coordinates_dropped == truth["messy"]["invalid_coordinates"]
    unrecognised = sum(1 for v in truth["messy_detail"]["odd_country_alpha3"].values() if v is None)
    per_value = truth["messy"]["odd_country"] // len(truth["messy_detail"]["odd_country"])
    assert tips.unrecognised_countries["reporter_country"]["count"] == unrecognised * per_value
    expected = truth["redelivery"]
    assert (redelivery.updated, redelivery.unchanged, redelivery.rejected) == (
        expected["triage_update"],
        expected["unchanged"],
        expected["conflict"],
    )
    assert all(load.reconciles for load in built.loads)


def test_the_demo_works_out_clusters_languages_and_names_of_its_tips(built):
    assert [line.split(":")[0] for line in built.enriched] == ["near-duplicates", "languages", "names in tips"]
    with Store(built.db_path, read_only=True) as store:
        tips = store.scalar("SELECT count(*) FROM tips")
        assert store.scalar("SELECT count(*) FROM tip_cluster_compared") == tips
        assert store.scalar("SELECT count(*) FROM tip_clusters") > 0
        assert store.scalar("SELECT count(*) FROM tip_names_processed") == tips
        # every tip without a language and with a text got a detection row
        assert store.scalar("SELECT count(*) FROM tip_languages") == store.scalar(
            "SELECT count(*) FROM tips WHERE language IS NULL AND trim(tip_text) <> ''") > 0


def test_demo_database_holds_no_contact_data_and_is_marked_demo(built):
    with Store(built.db_path, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'contents'") == "demo"
        assert store.scalar("SELECT count(*) FROM load_batches WHERE origin <> 'demo'") == 0
        texts = " ".join(
            str(v)
            for table in ("tips", "rejected_rows", "load_batches")
            for row in store.rows(f"SELECT * FROM {table}")
            for v in row
        )
    assert "@example.org" not in texts
    assert not list(built.db_path.parent.glob("*.building*"))


def test_demo_refuses_to_replace_analyst_data_without_force(tmp_path):
    db = tmp_path / "case.duckdb"
    with Store(db) as store:
        from caselib import load_file

        load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
    result = subprocess.run([*CASELIB, "--db", str(db), "demo", "--no-refresh", "--tips", "5000"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "holds loaded (non-demo) data" in result.stderr and "--force" in result.stderr
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM waves") == 2
    forced = subprocess.run([*CASELIB, "--db", str(db), "demo", "--no-refresh", "--tips", "5000", "--force"], capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    backups = list(tmp_path.glob("case.duckdb.bak-*"))
    assert len(backups) == 1
    with Store(backups[0], read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM load_batches WHERE origin = 'load'") == 1
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'contents'") == "demo"


def test_demo_again_replaces_the_demo_and_if_missing_keeps_it(tmp_path):
    db = tmp_path / "demo.duckdb"
    build_demo(db, tips=5000, seed=1, progress=False, enrich=False)
    build_demo(db, tips=6000, seed=2, progress=False, enrich=False)
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM load_batches") == 4
        assert store.scalar("SELECT value FROM meta WHERE key = 'demo_tips'") == "6000"
    before = os.stat(db).st_mtime_ns
    result = subprocess.run([*CASELIB, "--db", str(db), "demo", "--if-missing"], capture_output=True, text=True)
    assert result.returncode == 0 and "not building the demo" in result.stdout
    assert os.stat(db).st_mtime_ns == before


def test_a_failed_demo_build_leaves_the_old_database_untouched(tmp_path, monkeypatch):
    db = tmp_path / "demo.duckdb"
    build_demo(db, tips=5000, seed=1, progress=False, enrich=False)
    before = db.read_bytes()
    real_load = demo_module.load_file

    def failing_load(store, kind, path, **kwargs):
        if kind == "tips":
            raise OSError("disk full (injected)")
        return real_load(store, kind, path, **kwargs)

    monkeypatch.setattr(demo_module, "load_file", failing_load)
    with pytest.raises(CaselibError, match="cannot build the demo database .*injected"):
        build_demo(db, tips=5000, seed=3, progress=False, enrich=False)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob("*.building*"))


def test_demo_refusal_is_a_caselib_error(tmp_path):
    db = tmp_path / "case.duckdb"
    with Store(db) as store:
        from caselib import load_file

        load_file(store, "waves", write_csv(tmp_path / "waves.csv", WAVES), progress=False)
    with pytest.raises(DemoRefused):
        build_demo(db, tips=5000, progress=False, enrich=False)


def test_a_read_only_target_is_one_line(tmp_path):
    """`caselib demo` into a read-only filesystem (a tmpfs the test mounts read-only, as root):
    one line, exit 1, no internal error."""
    import subprocess
    import sys

    from conftest import small_filesystem

    with small_filesystem(tmp_path / "read-only", "ro,size=1m") as target:
        result = subprocess.run([sys.executable, "-m", "caselib", "--db", str(target / "case.duckdb"), "demo",
                                 "--no-refresh", "--tips", "4000", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 7, result.stderr  # cannot write
    assert len(result.stderr.strip().splitlines()) == 1 and "internal error" not in result.stderr
    assert "Read-only file system" in result.stderr or "read-only" in result.stderr.lower()


def test_the_demo_command_runs_the_campaign_up_to_today(tmp_path, built):
    """`caselib demo` (as `make lab` runs it) is live as of today: tips in the last 30 days,
    the latest wave's backlog to triage, and few objects exhausted; the library's default
    (every fixture's campaign) still ends on 30 June 2024."""
    from caselib.domain.management import campaign_figures
    from caselib.domain.rules import today_utc

    db = tmp_path / "current.duckdb"
    result = subprocess.run([*CASELIB, "--db", str(db), "demo", "--no-refresh", "--tips", "8000", "--no-progress"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    today = today_utc()
    truth = json.loads((tmp_path / "demo" / "truth.json").read_text())
    assert truth["as_of"] == today.isoformat()
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'demo_until'") == today.isoformat()
        figures = campaign_figures(store, as_of=today)
    assert figures["tips"]["last_30_days"] >= 20, figures["tips"]
    by_outcome = figures["objects"]["by_outcome"]
    assert by_outcome["exhausted"] <= 0.25 * figures["objects"]["published"], by_outcome
    assert by_outcome["not_ready"] >= 0.25 * figures["objects"]["published"], by_outcome
    expected = {}
    for o in truth["objects"].values():
        expected[o["expected_outcome"]] = expected.get(o["expected_outcome"], 0) + 1
    assert by_outcome == {k: v for k, v in expected.items() if v}

    old = tmp_path / "old" / "old.duckdb"
    result = subprocess.run([*CASELIB, "--db", str(old), "demo", "--no-refresh", "--tips", "8000", "--seed", "7",
                             "--until", "2024-06-30", "--no-progress"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with Store(old, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'demo_until'") == "2024-06-30"
    # --until 2024-06-30 is the library's default campaign, file for file.
    for name in ("waves.csv", "objects.csv", "tips.csv", "tips_redelivery.csv", "truth.json"):
        assert (old.parent / "demo" / name).read_bytes() == (built.files_dir / name).read_bytes(), name


def test_the_library_demo_ends_on_the_configured_day(built):
    with Store(built.db_path, read_only=True) as store:
        assert store.scalar("SELECT value FROM meta WHERE key = 'demo_until'") == "2024-06-30"
