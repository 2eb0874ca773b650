"""Near-duplicate clustering benchmark: `refresh_clusters` timed at the sizes given.

For each size N (``--tips 30000 1000000``) a campaign with planted near-duplicates is
generated (``generate_campaign(..., messy=False, near_duplicates=--share)``) and loaded, then
timed inside this process (generation and loading untimed, printed apart):

* ``all``: the first refresh of all N tips in a new database;
* ``again``: a second refresh with nothing new (expected: nothing compared);
* ``new load``: in another new database, the first N - ``--new`` tips (by receipt, as an
  intake system exports them) loaded and refreshed untimed, then the last ``--new`` tips
  (30,000 by default) loaded as a second file and refreshed: what follows one new load.
  Skipped when N is not larger than ``--new``.

Pairwise precision and recall against the planted truth are printed for the ``all`` case;
each time is wall-clock and, beside it, the CPU time of the process (all its threads).

    python benchmarks/bench_clusters.py --tips 30000 1000000 [--share 0.1] [--new 30000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

from caselib import Store, load_file
from caselib.domain import clusters as C
from caselib.domain.sample import generate_campaign
from caselib.domain.sample.duplicates import pairwise_quality, planted_pairs

os.environ.setdefault("CASELIB_PSEUDONYM_KEY", "bench-key-not-secret-0123456789")


def _load(store: Store, campaign, tips_path: Path) -> float:
    started = time.perf_counter()
    load_file(store, "waves", campaign.waves_path, progress=False)
    load_file(store, "objects", campaign.objects_path, progress=False)
    load_file(store, "tips", tips_path, progress=False)
    return time.perf_counter() - started


def _quality(store: Store, truth: dict) -> tuple[float, float]:
    return pairwise_quality(C.clustered_pairs(C.clusters(store)), planted_pairs(truth))


def _timed(store: Store) -> tuple[str, C.RefreshStats]:
    """The refresh's wall-clock time, and the CPU time of this process's threads (DuckDB's
    included): on a shared machine the second says what the work costs."""
    started, cpu = time.perf_counter(), time.process_time()
    stats = C.refresh_clusters(store)
    return f"{time.perf_counter() - started:7.2f} s (CPU {time.process_time() - cpu:.2f} s)", stats


def bench(n: int, share: float, new: int, folder: Path) -> None:
    started = time.perf_counter()
    campaign = generate_campaign(folder / f"campaign-{n}", tips=n, seed=2017, messy=False, near_duplicates=share)
    truth = json.loads(campaign.truth_path.read_text())["near_duplicates"]
    print(f"\n{n:,} tips ({len(truth['copies']):,} planted copies): generated in {time.perf_counter() - started:.1f} s")

    with Store(folder / f"all-{n}.duckdb") as store:
        print(f"  loaded in {_load(store, campaign, campaign.tips_path):.1f} s")
        seconds, stats = _timed(store)
        print(f"  all       {seconds}  {stats}")
        seconds, stats = _timed(store)
        print(f"  again     {seconds}  compared {stats.compared}")
        precision, recall = _quality(store, truth)
        print(f"  pairwise precision {precision:.4f}, recall {recall:.4f}")

    if n <= new:
        return
    tips = pacsv.read_csv(campaign.tips_path, parse_options=pacsv.ParseOptions(newlines_in_values=True))
    first, last = folder / f"first-{n}.csv", folder / f"last-{n}.csv"
    pacsv.write_csv(tips.slice(0, n - new), first)
    pacsv.write_csv(tips.slice(n - new), last)
    del tips
    with Store(folder / f"new-{n}.duckdb") as store:
        _load(store, campaign, first)
        seconds, stats = _timed(store)
        print(f"  first {n - new:,}: {seconds}")
        load_file(store, "tips", last, progress=False)
        seconds, stats = _timed(store)
        print(f"  new load  {seconds}  {stats}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[30_000, 1_000_000])
    parser.add_argument("--share", type=float, default=0.1, help="share of the tips planted as copies")
    parser.add_argument("--new", type=int, default=30_000, help="tips of the new load")
    args = parser.parse_args(argv)
    import datasketch  # noqa: F401  (imported once, outside the timings)
    import rapidfuzz  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="bench-clusters-") as folder:
        for n in args.tips:
            bench(n, args.share, args.new, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
