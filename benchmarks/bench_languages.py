"""Language detection benchmark: :func:`caselib.domain.languages.refresh_languages` at given sizes.

For each size (``--tips 30000 1000000``) a fresh database gets that many tips awaiting
detection (no ``language``, inserted directly: the loader is benchmarked elsewhere), each
with a unique text of known language: one to three clauses of one of 14 languages (short
tips under 40 characters, most between 40 and 120, a fifth longer, which go to lingua's
faster low-accuracy mode) and a number. One tip in twenty is a word or two ("Danke!",
"Lidl"). Printed per size: the refresh's time and rate, the accuracy against the texts'
languages (detected right / detected; undetermined share), a second refresh (nothing to do)
and the process's peak memory. lingua runs on every core: the CPU seconds (every thread) say
what the refresh costs when other processes share the machine. The detector's models load on first use: the first size's
time includes it, and it is also printed alone (``models loaded``).

    python benchmarks/bench_languages.py --tips 30000 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from caselib import Store
from caselib.domain.languages import detect, refresh_languages

# Clauses of tips, three per language, written for this benchmark.
CLAUSES = {
    "en": ("I saw this towel in a hotel near the beach", "my grandmother had the same soap at home",
           "the shop was next to the train station"),
    "de": ("ich habe dieses Handtuch in einem Hotel am Strand gesehen", "meine Großmutter hatte die gleiche Seife zu Hause",
           "der Laden war direkt neben dem Bahnhof"),
    "fr": ("j'ai vu cette serviette dans un hôtel près de la plage", "ma grand-mère avait le même savon à la maison",
           "le magasin était à côté de la gare"),
    "es": ("vi esta toalla en un hotel cerca de la playa", "mi abuela tenía el mismo jabón en casa",
           "la tienda estaba al lado de la estación de tren"),
    "it": ("ho visto questo asciugamano in un albergo vicino alla spiaggia", "mia nonna aveva lo stesso sapone a casa",
           "il negozio era accanto alla stazione"),
    "nl": ("ik zag deze handdoek in een hotel bij het strand", "mijn oma had dezelfde zeep thuis",
           "de winkel was naast het station"),
    "pl": ("widziałem ten ręcznik w hotelu przy plaży", "moja babcia miała takie samo mydło w domu",
           "sklep był obok dworca kolejowego"),
    "pt": ("vi esta toalha num hotel perto da praia", "a minha avó tinha o mesmo sabonete em casa",
           "a loja ficava ao lado da estação de comboios"),
    "sv": ("jag såg den här handduken på ett hotell nära stranden", "min mormor hade samma tvål hemma",
           "affären låg bredvid järnvägsstationen"),
    "cs": ("viděl jsem tento ručník v hotelu u pláže", "moje babička měla doma stejné mýdlo",
           "obchod byl hned vedle nádraží"),
    "ro": ("am văzut acest prosop într-un hotel lângă plajă", "bunica mea avea același săpun acasă",
           "magazinul era lângă gară"),
    "ru": ("я видел это полотенце в гостинице у пляжа", "у моей бабушки было такое же мыло дома",
           "магазин был рядом с вокзалом"),
    "tr": ("bu havluyu plaja yakın bir otelde gördüm", "büyükannemin evinde aynı sabun vardı",
           "dükkan tren istasyonunun yanındaydı"),
    "ar": ("رأيت هذه المنشفة في فندق قرب الشاطئ", "كان لدى جدتي نفس الصابون في البيت", "كان المتجر بجانب محطة القطار"),
}
# Tips of a word or two, with their language (None: a name, no language to find).
SHORT = (("de", "Danke!"), ("fr", "Merci beaucoup."), ("en", "Good luck."), ("es", "Buena suerte."),
         ("it", "Grazie mille!"), (None, "Lidl"), (None, "IKEA?"), ("nl", "Veel succes."))


def texts_of_known_language(n: int, seed: int = 7) -> tuple[list[str], list[str | None]]:
    """``n`` unique tip texts and the language each is written in."""
    rng = np.random.default_rng(seed)
    languages = list(CLAUSES)
    texts, labels = [], []
    pick = rng.integers(0, len(languages), n)
    clauses = rng.choice([1, 2, 3], size=n, p=[0.3, 0.5, 0.2])
    short = rng.random(n) < 0.05
    for i in range(n):
        if short[i]:
            label, text = SHORT[i % len(SHORT)]
            texts.append(f"{text} {i}")
            labels.append(label)
            continue
        label = languages[pick[i]]
        chosen = rng.permutation(3)[: clauses[i]]
        text = ", ".join(CLAUSES[label][c] for c in chosen)
        texts.append(f"{text[0].upper()}{text[1:]}. {i}")
        labels.append(label)
    return texts, labels


def _store_with_tips(folder: Path, texts: list[str]) -> Store:
    store = Store(folder / "bench.duckdb")
    n = len(texts)
    store.register("_bench_tips", pa.table({
        "tip_id": pa.array([f"T{i:08d}" for i in range(n)], pa.string()),
        "tip_text": pa.array(texts, pa.string()),
    }))
    store.execute(
        "INSERT INTO tips (tip_id, object_id, received_at, tip_text, triage_status, batch_id)\n"
        "SELECT tip_id, 'G01', TIMESTAMP '2024-06-01 10:00:00', tip_text, 'new', 1 FROM _bench_tips"
    )
    store.unregister("_bench_tips")
    return store


def _cpu_seconds() -> float:
    """User and system time of this process so far, every thread (lingua's) included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, folder: Path) -> dict:
    texts, labels = texts_of_known_language(n)
    lengths = np.array([len(t) for t in texts])
    store = _store_with_tips(folder, texts)
    try:
        cpu = _cpu_seconds()
        done = refresh_languages(store, now=dt.datetime.now(dt.UTC))
        cpu = _cpu_seconds() - cpu
        started = time.perf_counter()
        again = refresh_languages(store)
        second = time.perf_counter() - started
        found = dict(store.rows("SELECT tip_id, detected_language FROM tip_languages"))
    finally:
        store.close()
    got = [found.get(f"T{i:08d}") for i in range(n)]
    detected = [(g, label) for g, label in zip(got, labels, strict=True) if g is not None]
    right = sum(g == label for g, label in detected)
    return {
        "tips": n,
        "seconds": done.seconds,
        "per_second": n / done.seconds,
        "cpu_seconds": cpu,
        "accuracy": right / max(1, len(detected)),
        "undetermined": done.undetermined / n,
        "second_refresh": second,
        "second_tips": again.tips,
        "long_share": float((lengths >= 120).mean()),
        "median_length": float(np.median(lengths)),
        "peak_mib": _peak_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[30_000])
    args = parser.parse_args(argv)
    started = time.perf_counter()
    detect([CLAUSES[lang][0] for lang in CLAUSES] + [CLAUSES["en"][0] * 4])  # both detectors' models
    print(f"models loaded: {time.perf_counter() - started:.1f} s")
    for n in args.tips:
        with tempfile.TemporaryDirectory(prefix="bench-languages-") as folder:
            r = run(n, Path(folder))
        print(
            f"{r['tips']:>9,} tips: refresh {r['seconds']:.1f} s ({r['per_second']:,.0f} tips/s, "
            f"{r['cpu_seconds']:.1f} CPU s); "
            f"accuracy {r['accuracy']:.3f} of those detected, {r['undetermined']:.1%} undetermined; "
            f"second refresh {r['second_refresh']:.2f} s ({r['second_tips']} tips); "
            f"texts: median {r['median_length']:.0f} chars, {r['long_share']:.0%} >= 120; peak {r['peak_mib']:,.0f} MiB"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
