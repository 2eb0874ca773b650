"""Near-duplicate clusters of tips: tips of one object that say the same thing.

Two tips of the same object are near-duplicates when their texts, normalised (lower case,
punctuation and white space made single spaces; `caselib.store.clusters.NORMALISED_TEXT`),
are equal (score 1.0) or near-identical: a word added, dropped or misspelt. Near-identical
texts are found with MinHash LSH (``datasketch``: its ``affine32`` permutations over the
set of a text's words, banded as its ``MinHashLSH`` bands them) and scored with
``rapidfuzz``'s ``fuzz.ratio`` / 100, kept from `SIMILAR` on. A text of fewer than
`MIN_WORDS` words only matches an equal one: two short texts a word apart ("seen it in
Spain", "seen it in Italy") are usually different tips. Tips of different objects never
cluster.

Refreshing is incremental: only the tips not compared before (new, or whose text or object
a later load changed) are compared, with the tips compared before and with each other. The
band table kept in the store (`tip_cluster_bands`) is what lets a new tip meet an old one
without recomputing anything old.

How a refresh joins tips, so that analysts' decisions hold:

- A tip is in at most one cluster, and a refresh never moves a tip out of one nor merges
  two clusters; clusters are joined transitively (a tip near a tip near another).
- A new tip matching a *suggested* cluster joins it. One matching a *confirmed* cluster
  joins it as a pending member, listed as ``suggested`` until the cluster is confirmed (or
  rejected) again: a confirmed cluster counts only what the analyst saw.
- A *rejected* cluster (an analyst split it: its tips are not copies of each other) is
  never joined; its tips match nothing any more. A tip an analyst removed from a cluster
  (`remove_from_cluster`) is never clustered again by a refresh.
- Tips matching each other, and no cluster, form a new suggested cluster whose id is
  ``C-`` and its smallest tip id: the same tips compared in the same order give the same ids.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from caselib.domain import audit
from caselib.errors import CaselibError
from caselib.store import Store
from caselib.store import clusters as state_store

__all__ = [
    "MIN_WORDS",
    "SIMILAR",
    "RefreshStats",
    "cluster_members",
    "clustered_pairs",
    "clusters",
    "decide_cluster",
    "refresh_clusters",
    "remove_from_cluster",
    "signatures",
]

MIN_WORDS = 4  # texts with fewer words only match an equal text
SIMILAR = 0.85  # the lowest fuzz.ratio / 100 of two texts kept as near-duplicates
NUM_PERM = 64
BANDS, ROWS = 16, 4  # P(candidate) = 1 - (1 - J^4)^16: 0.89 at Jaccard 0.6, 0.99 at 0.7, 0.03 at 0.2
# Texts this long (about 7 words or more) are candidates when they share 2 bands: their
# copies do (0.98 at Jaccard 0.75, 6 of 8 words), texts sharing a stock phrase seldom do
# (0.008 at Jaccard 0.3, against 0.12 for one band).
LONG_CHARS = 40
SEED = 14
METHOD = f"words/minhash-affine32-{NUM_PERM}-seed{SEED}/lsh-{BANDS}x{ROWS}/min-words-{MIN_WORDS}/ratio-{SIMILAR}"
DECISIONS = ("confirmed", "rejected")


@dataclass(frozen=True)
class RefreshStats:
    """What one refresh did: tips ``compared`` (the new ones), LSH ``candidates`` (pairs
    sharing enough bands whose lengths allow a score of `SIMILAR`, all scored), ``exact_pairs`` and ``fuzzy_pairs`` found, ``new_clusters`` created,
    tips ``joined`` to a cluster (new or existing), and its duration in ``seconds``."""

    compared: int = 0
    candidates: int = 0
    exact_pairs: int = 0
    fuzzy_pairs: int = 0
    new_clusters: int = 0
    joined: int = 0
    seconds: float = 0.0


# -- similarity ----------------------------------------------------------------------------

def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser, as datasketch's affine32 scheme pre-mixes each input hash."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def signatures(tip_keys: np.ndarray, word_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of many word sets at once.

    ``word_hashes`` (32-bit) are grouped by ``tip_keys`` (equal keys adjacent). Returns the
    keys, one per set, and their signatures (``len(keys)`` x `NUM_PERM`, uint32): for each
    set, what ``datasketch.MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")``
    holds after ``update_batch`` of its hashes (its permutations, applied to all sets in one
    vectorised pass; `tests/test_clusters.py` checks the equality).
    """
    from datasketch import MinHash

    tip_keys = np.asarray(tip_keys)
    if len(tip_keys) == 0:
        return tip_keys[:0], np.zeros((0, NUM_PERM), dtype=np.uint32)
    starts = np.flatnonzero(np.r_[True, tip_keys[1:] != tip_keys[:-1]])
    mixed = _fmix32(np.asarray(word_hashes, dtype=np.uint32))
    a, b = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32").permutations
    out = np.empty((len(starts), NUM_PERM), dtype=np.uint32)

    def permute(k: int) -> None:
        out[:, k] = np.minimum.reduceat(mixed * a[k] + b[k], starts)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:  # numpy lets go of the GIL
        list(pool.map(permute, range(NUM_PERM)))
    return tip_keys[starts], out


def _band_table(shingles, objects) -> pa.Table:
    """The LSH bands of the staged texts (word hashes ``shingles``; the object hash and
    length of each text in ``objects``): one ``band_hash`` per text and band, mixing the
    object, the band's number and the band's MinHash values, with the text's length."""
    from datasketch import MinHashLSH

    keys, sigs = signatures(shingles["tip_key"].to_numpy(), shingles["word_hash"].to_numpy())
    if len(keys) == 0:
        return pa.table({
            "band_hash": pa.array([], pa.uint64()), "tip_key": pa.array([], pa.int32()), "chars": pa.array([], pa.int32()),
        })
    object_hash = objects["object_hash"].to_numpy(dtype=np.uint64)
    assert np.array_equal(objects["tip_key"].to_numpy(), keys)
    ranges = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS)).hashranges
    wide = sigs.astype(np.uint64)
    hashes = []
    for number, (start, end) in enumerate(ranges, start=1):
        h = _fmix64(object_hash ^ np.uint64(number * 0x9E3779B97F4A7C15 % 2**64))
        for column in range(start, end):
            h = _fmix64(h ^ wide[:, column])
        hashes.append(h)
    return pa.table({
        "band_hash": pa.array(np.concatenate(hashes)),
        "tip_key": pa.array(np.tile(keys.astype(np.int32), len(ranges))),
        "chars": pa.array(np.tile(objects["chars"].to_numpy(dtype=np.int32), len(ranges))),
    })


def _scores(text_a: list[str], text_b: list[str]) -> np.ndarray:
    """fuzz.ratio / 100 of each pair of texts."""
    from rapidfuzz import fuzz, process

    if not text_a:
        return np.zeros(0)
    return np.asarray(process.cpdist(text_a, text_b, scorer=fuzz.ratio, workers=-1), dtype=np.float64) / 100.0


# -- joining -------------------------------------------------------------------------------

def _assemble(edges: list[tuple[float, int, int]], tips: dict[int, tuple]) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    """Clusters from the refresh's pairs ``(score, a, b)`` over tips ``key -> (tip_id,
    object_id, held_out, cluster_id, state, score)``.

    Returns the new clusters (id -> object) and the memberships to add (tip_id,
    cluster_id, score), following the rules in the module's docstring.
    """
    def joinable(key: int) -> bool:
        return not tips[key][2] and tips[key][4] != "rejected"

    usable = [e for e in edges if joinable(e[1]) and joinable(e[2]) and tips[e[1]][1] == tips[e[2]][1]]
    usable.sort(key=lambda e: (-e[0], e[1], e[2]))
    parent = {key: key for e in usable for key in e[1:]}
    holds = {key: tips[key][3] for key in parent if tips[key][3] is not None}

    def find(key: int) -> int:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for _, a, b in usable:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ca, cb = holds.get(ra), holds.get(rb)
        if ca is not None and cb is not None and ca != cb:
            continue  # two clusters are never merged
        parent[rb] = ra
        if ca is None and cb is not None:
            holds[ra] = cb
    best: dict[int, float] = {}
    for score, a, b in usable:
        if find(a) == find(b):
            best[a] = max(best.get(a, 0.0), score)
            best[b] = max(best.get(b, 0.0), score)
    groups: dict[int, list[int]] = {}
    for key in parent:
        groups.setdefault(find(key), []).append(key)
    created: dict[str, str] = {}
    members: list[tuple[str, str, float]] = []
    for root, keys in sorted(groups.items()):
        free = [k for k in keys if tips[k][3] is None]
        cluster_id = holds.get(root)
        if cluster_id is None:
            if len(free) < 2:
                continue
            cluster_id = "C-" + min(tips[k][0] for k in free)
            created[cluster_id] = tips[free[0]][1]
        members.extend((tips[k][0], cluster_id, round(best[k], 4)) for k in sorted(free))
    return created, members


def _unique_ids(store: Store, created: dict[str, str], members: list[tuple[str, str, float]]):
    """Cluster ids not taken yet (a tip whose text changed may found a second cluster)."""
    if not created:
        return created, members
    taken = {row[0] for row in store.rows("SELECT cluster_id FROM tip_clusters", name="clusters/ids")} & set(created)
    if not taken:
        return created, members
    renamed = {}
    for cluster_id in sorted(taken):
        n = 2
        while f"{cluster_id}-{n}" in renamed.values() or state_store.cluster_row(store, f"{cluster_id}-{n}"):
            n += 1
        renamed[cluster_id] = f"{cluster_id}-{n}"
    created = {renamed.get(c, c): o for c, o in created.items()}
    members = [(t, renamed.get(c, c), s) for t, c, s in members]
    return created, members


def refresh_clusters(store: Store) -> RefreshStats:
    """Compare the tips not compared yet and update the clusters; returns what it did.

    One transaction: a refresh that fails leaves the clusters as they were. With nothing
    new to compare it writes nothing. After a refresh by another `METHOD` (other parameters,
    whose bands cannot meet these), every tip is compared again; clusters, their states and
    the tips analysts removed stay as they are.
    """
    started = time.perf_counter()
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction():
        refresh_id = state_store.next_refresh_id(store)
        if state_store.last_method(store) not in (None, METHOD):
            state_store.forget_comparisons(store)  # bands of another method do not meet these
        compared = state_store.stage_new_tips(store, refresh_id, MIN_WORDS)
        if compared == 0:
            state_store.drop_staging(store)
            return RefreshStats(seconds=time.perf_counter() - started)
        exact = state_store.exact_pairs(store)
        state_store.add_bands(store, _band_table(*state_store.new_shingles(store, MIN_WORDS)))
        candidates = state_store.candidate_pairs(store, SIMILAR, LONG_CHARS)
        a, b = candidates["a"].to_numpy(), candidates["b"].to_numpy()
        scores = _scores(candidates["text_a"].tolist(), candidates["text_b"].tolist())
        kept = scores >= SIMILAR
        edges = [(1.0, int(x), int(y)) for x, y in zip(exact["a"].to_numpy(), exact["b"].to_numpy())]
        edges += [(round(float(s), 4), int(x), int(y)) for x, y, s in zip(a[kept], b[kept], scores[kept])]
        created: dict[str, str] = {}
        members: list[tuple[str, str, float]] = []
        if edges:
            keys = sorted({key for e in edges for key in e[1:]})
            tips = {row[0]: row[1:] for row in state_store.involved_tips(store, pa.table({"tip_key": pa.array(keys, pa.int32())}))}
            created, members = _unique_ids(store, *_assemble(edges, tips))
        if created:
            state_store.add_clusters(
                store, pa.table({"cluster_id": list(created), "object_id": list(created.values())}), refresh_id, at
            )
        if members:
            tip_ids, cluster_ids, member_scores = zip(*members)
            state_store.add_members(
                store,
                pa.table({"tip_id": list(tip_ids), "cluster_id": list(cluster_ids), "score": list(member_scores)}),
                refresh_id,
                at,
            )
        stats = RefreshStats(
            compared=compared,
            candidates=len(candidates),
            exact_pairs=len(exact),
            fuzzy_pairs=int(kept.sum()),
            new_clusters=len(created),
            joined=len(members),
            seconds=time.perf_counter() - started,
        )
        state_store.record_refresh(store, refresh_id, at, stats.seconds, stats.__dict__, METHOD)
        state_store.drop_staging(store)
    return stats


# -- reading and deciding ------------------------------------------------------------------

def clusters(store: Store, object_id: str | None = None):
    """One row per clustered tip (of ``object_id``, or of every object), as a pandas frame:
    ``tip_id``, ``object_id``, ``cluster_id``, ``score`` (0..1, the tip's highest similarity
    to another tip of its cluster), ``state`` (``suggested``, ``confirmed``, ``rejected``;
    a tip that joined a decided cluster after the decision is ``suggested``)."""
    return state_store.cluster_rows(store, object_id)


def clustered_pairs(frame) -> set[tuple[str, str]]:
    """Every pair of tips in one cluster, of a frame of :func:`clusters` (for measuring)."""
    import itertools

    return {pair for _, group in frame.groupby("cluster_id")
            for pair in itertools.combinations(sorted(group["tip_id"]), 2)}


def _cluster(store: Store, cluster_id: str) -> tuple:
    row = state_store.cluster_row(store, cluster_id)
    if row is None:
        raise CaselibError(f"there is no cluster {cluster_id!r}; `caselib clusters` lists them")
    return row


def cluster_members(store: Store, cluster_id: str):
    """The tips of one cluster, the closest first, as a pandas frame: ``tip_id``,
    ``object_id``, ``cluster_id``, ``score``, ``state``, ``received_at``, ``tip_text``."""
    _cluster(store, cluster_id)
    return state_store.member_rows(store, cluster_id)


def decide_cluster(store: Store, cluster_id: str, state: str, *, reason: str, by: str | None = None) -> audit.AuditRecord:
    """Confirm a cluster (its tips are copies: they count once) or reject it (split: they
    are not); its pending members take the decision too. Returns the audit record."""
    if state not in DECISIONS:
        raise CaselibError(f"a cluster is decided 'confirmed' or 'rejected', not {state!r}")
    verb = "confirm" if state == "confirmed" else "reject"
    reason = audit.visible_text(reason, "a reason", purpose=f"to {verb} a cluster", line_breaks=True)
    row = _cluster(store, cluster_id)
    with store.transaction():
        tips = state_store.member_tip_ids(store, cluster_id)
        record = audit.append(
            store,
            action=f"cluster_{state}",
            payload={"cluster_id": cluster_id, "state": state, "reason": reason, "tips": tips},
            actor=by,
            object_id=row[1],
        )
        state_store.set_state(store, cluster_id, state, record.actor, record.recorded_at, reason)
        state_store.record_decision(store, cluster_id, None, state, record.actor, record.recorded_at, reason, record.seq)
    return record


def remove_from_cluster(store: Store, tip_id: str, *, reason: str, by: str | None = None) -> audit.AuditRecord:
    """Take one tip out of its cluster, for good (no refresh clusters it again); the rest of
    the cluster keeps its state. Returns the audit record."""
    reason = audit.visible_text(reason, "a reason", purpose="to remove a tip from its cluster", line_breaks=True)
    cluster_id = state_store.tip_cluster(store, tip_id)
    if cluster_id is None:
        raise CaselibError(f"tip {tip_id!r} is in no cluster; `caselib clusters` lists the clustered tips")
    row = _cluster(store, cluster_id)
    with store.transaction():
        record = audit.append(
            store,
            action="cluster_removed",
            payload={"cluster_id": cluster_id, "tip_id": tip_id, "reason": reason},
            actor=by,
            object_id=row[1],
        )
        state_store.hold_out(store, tip_id)
        state_store.record_decision(store, cluster_id, tip_id, "removed", record.actor, record.recorded_at, reason, record.seq)
    return record
