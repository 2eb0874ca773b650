"""Name extraction benchmark: :func:`caselib.domain.names.refresh_names` at given sizes.

For each size (``--tips 30000 1000000``) a fresh database gets that many tips (inserted
directly: the loader is benchmarked elsewhere), each with a unique text: one or two tip-like
clauses that name a city or a country (or nothing), written with its capitals or, for a
share of them, a decoy ("nice soap", "Nice colours", "Most of them", "split in two",
"Police should ask"), and a number. A quarter of the tips give a brand and a fifth a shop,
in the spellings people type ("Lidl", "LIDL GmbH", "lidl."); one text in ten names a brand
the fields give. Printed per size: the gazetteer's build (once per process), the refresh's
time and rate, a second refresh (nothing to do), the place precision and recall against
what the texts were built to name (by country), the brand groups found, and peak memory.

    python benchmarks/bench_names.py --tips 30000 1000000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from caselib import Store
from caselib.domain import names

# (as written in a tip, the country it names)
PLACES = (
    ("Porto", "PRT"), ("Lisbon", "PRT"), ("Lisboa", "PRT"), ("Lyon", "FRA"), ("Marseille", "FRA"),
    ("Nice", "FRA"), ("Split", "HRV"), ("Zagreb", "HRV"), ("München", "DEU"), ("Frankfurt am Main", "DEU"),
    ("Hamburg", "DEU"), ("Kraków", "POL"), ("Gdańsk", "POL"), ("Napoli", "ITA"), ("Bologna", "ITA"),
    ("Sevilla", "ESP"), ("Málaga", "ESP"), ("Rotterdam", "NLD"), ("The Hague", "NLD"), ("Ghent", "BEL"),
    ("Brno", "CZE"), ("Timișoara", "ROU"), ("Thessaloniki", "GRC"), ("Izmir", "TUR"), ("Manchester", "GBR"),
    ("Portugal", "PRT"), ("France", "FRA"), ("Germany", "DEU"), ("Poland", "POL"), ("Romania", "ROU"),
    ("Holland", "NLD"), ("Turkey", "TUR"), ("Bath", "GBR"),
)
NAMING = (
    "I bought one like this in {}", "we saw it on holiday near {}", "my aunt brought it from {}",
    "sold at a market in {}", "it is common around {}", "{} has shops full of these",
)
DECOYS = (
    "nice soap, it smells good", "Nice colours, I remember them", "Most of them were blue",
    "the wrapper was split in two", "Police should ask the shops", "Of course it was cheap",
    "Reading the label helped", "a mobile shop sold them", "Orange and blue stripes",
)
PLAIN = ("I have seen this before", "not sure but it looks familiar", "good luck with the search")
BRANDS = (("Lidl", "LIDL GmbH", "lidl."), ("Aldi", "ALDI Süd", "Aldi"), ("Nordvik", "Nordvik AB", "NORDVIK"),
          ("Casa Bella", "casa bella", "Casa Bella S.r.l."))
SHOPS = (("CityMart", "Citymart", "CITYMART"), ("Kiosk 24", "kiosk 24", "Kiosk-24"))


def tips_with_names(n: int, seed: int = 7) -> tuple[pa.Table, list[set[str]]]:
    """``n`` tips with unique texts, and the countries each text was built to name."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])  # a place, a decoy, nothing
    place = rng.integers(0, len(PLACES), n)
    frame = rng.integers(0, len(NAMING), n)
    extra = rng.integers(0, len(PLAIN), n)
    brand_group = np.where(rng.random(n) < 0.25, rng.integers(0, len(BRANDS), n), -1)
    shop_group = np.where(rng.random(n) < 0.20, rng.integers(0, len(SHOPS), n), -1)
    spelling = rng.integers(0, 3, n)
    brand_in_text = rng.random(n) < 0.1
    texts, truth, brands, shops = [], [], [], []
    for i in range(n):
        clauses = [PLAIN[extra[i]]]
        named: set[str] = set()
        if kind[i] == 0:
            written, country = PLACES[place[i]]
            clauses.append(NAMING[frame[i]].format(written))
            named.add(country)
        elif kind[i] == 1:
            clauses.insert(0, DECOYS[place[i] % len(DECOYS)])
        if brand_in_text[i]:
            clauses.append(f"the packet said {BRANDS[place[i] % len(BRANDS)][0]}")
        text = ", ".join(clauses)
        texts.append(f"{text[0].upper()}{text[1:]}. {i}")
        truth.append(named)
        brands.append(BRANDS[brand_group[i]][spelling[i]] if brand_group[i] >= 0 else None)
        shops.append(SHOPS[shop_group[i]][spelling[i]] if shop_group[i] >= 0 else None)
    table = pa.table({
        "tip_id": pa.array([f"T{i:08d}" for i in range(n)], pa.string()),
        "tip_text": pa.array(texts, pa.string()),
        "brand": pa.array(brands, pa.string()),
        "shop": pa.array(shops, pa.string()),
    })
    return table, truth


def _store_with_tips(folder: Path, table: pa.Table) -> Store:
    store = Store(folder / "bench.duckdb")
    store.register("_bench_tips", table)
    store.execute(
        "INSERT INTO tips (tip_id, object_id, received_at, brand, shop, tip_text, triage_status, batch_id)\n"
        "SELECT tip_id, 'G01', TIMESTAMP '2024-06-01 10:00:00', brand, shop, tip_text, 'new', 1 FROM _bench_tips"
    )
    store.unregister("_bench_tips")
    return store


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, folder: Path) -> dict:
    table, truth = tips_with_names(n)
    store = _store_with_tips(folder, table)
    try:
        done = names.refresh_names(store)
        started = time.perf_counter()
        again = names.refresh_names(store)
        second = time.perf_counter() - started
        found: dict[str, set[str]] = {}
        for tip_id, country in store.rows("SELECT tip_id, country FROM tip_names WHERE kind = 'place'"):
            found.setdefault(tip_id, set()).add(country)
        groups = store.rows("SELECT kind, count(DISTINCT name_key) FROM tip_names WHERE kind <> 'place' GROUP BY kind ORDER BY kind")
    finally:
        store.close()
    right = wrong = planted = 0
    for i, named in enumerate(truth):
        got = found.get(f"T{i:08d}", set())
        right += len(got & named)
        wrong += len(got - named)
        planted += len(named)
    return {
        "tips": n, "seconds": done.seconds, "per_second": n / done.seconds,
        "second_refresh": second, "second_tips": again.tips,
        "precision": right / max(1, right + wrong), "recall": right / max(1, planted),
        "groups": dict(groups), "peak_mib": _peak_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[30_000])
    args = parser.parse_args(argv)
    started = time.perf_counter()
    names.extract(tip_text="Built once: bought in Porto.")
    print(f"gazetteer built: {time.perf_counter() - started:.1f} s")
    for n in args.tips:
        with tempfile.TemporaryDirectory(prefix="bench-names-") as folder:
            r = run(n, Path(folder))
        print(
            f"{r['tips']:>9,} tips: refresh {r['seconds']:.1f} s ({r['per_second']:,.0f} tips/s); "
            f"second refresh {r['second_refresh']:.2f} s ({r['second_tips']} tips); "
            f"places: precision {r['precision']:.3f}, recall {r['recall']:.3f}; "
            f"groups {r['groups']}; peak {r['peak_mib']:,.0f} MiB"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
