"""The state of near-duplicate clusters: every read and write of the tables of schema 6.

`caselib.domain.clusters` decides what is similar and what joins which cluster; this module
only moves rows, so that a shared server database can hold the same state later. A refresh
works on two temporary tables of the connection: ``cluster_new`` (the tips being compared,
with their normalised text), ``cluster_firsts`` (those carrying LSH bands),
``cluster_new_bands`` (their bands) and ``cluster_pairs`` (the candidate pairs).

Normalising a tip's text (the rule of "the same text", `NORMALISED_TEXT`): lower case, every
run of characters other than letters and digits (punctuation, white space, symbols) made one
space, trimmed; an empty result is no text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from caselib.store import Store

__all__ = [
    "NORMALISED_TEXT",
    "add_bands",
    "add_members",
    "add_clusters",
    "candidate_pairs",
    "cluster_row",
    "cluster_rows",
    "compared_count",
    "decisions",
    "exact_pairs",
    "hold_out",
    "involved_tips",
    "member_rows",
    "new_shingles",
    "record_decision",
    "record_refresh",
    "refreshes",
    "set_state",
    "stage_new_tips",
]

# The one definition of a normalised tip text, as SQL over a column ``tip_text``: its words
# (runs of letters and digits, lower case) joined by single spaces; NULL when it has none.
# (Extracting the words is twice as fast in DuckDB as replacing what lies between them.)
NORMALISED_TEXT = r"nullif(array_to_string(regexp_extract_all(lower(tip_text), '[\p{L}\p{N}]+'), ' '), '')"

# Tips whose text or object is not the one compared (new tips, and tips a later load changed).
_STAGE = f"""
CREATE OR REPLACE TEMP TABLE cluster_new AS
WITH current AS (
    SELECT tip_id, object_id, hash(object_id, tip_text) AS text_hash, tip_text FROM tips
), fresh AS (
    SELECT c.* FROM current AS c
    ANTI JOIN tip_cluster_compared AS p ON p.tip_id = c.tip_id AND p.text_hash = c.text_hash
), normalised AS (
    SELECT tip_id, object_id, text_hash, {NORMALISED_TEXT} AS norm FROM fresh
)
SELECT
    (SELECT coalesce(max(tip_key), 0) FROM tip_cluster_compared)
        + row_number() OVER (ORDER BY tip_id) AS tip_key,
    tip_id, object_id, text_hash, norm,
    CASE WHEN norm IS NULL THEN NULL ELSE hash(norm) END AS norm_hash,
    CASE WHEN norm IS NULL THEN 0 ELSE len(string_split(norm, ' ')) END AS words,
    coalesce(len(norm), 0) AS chars
FROM normalised
"""

# A changed tip is compared again as a new one: its old row, bands and place in a
# suggested cluster go (a decided cluster keeps its tips).
_FORGET_CHANGED = (
    """DELETE FROM tip_cluster_bands WHERE tip_key IN
       (SELECT p.tip_key FROM tip_cluster_compared AS p JOIN cluster_new AS n USING (tip_id))""",
    """DELETE FROM tip_cluster_members WHERE tip_id IN (SELECT tip_id FROM cluster_new)
       AND cluster_id IN (SELECT cluster_id FROM tip_clusters WHERE state = 'suggested')""",
    """DELETE FROM tip_cluster_compared WHERE tip_id IN (SELECT tip_id FROM cluster_new)""",
)

_ADD_COMPARED = """
INSERT INTO tip_cluster_compared
SELECT tip_key, tip_id, object_id, text_hash, norm_hash, words, chars,
       CASE WHEN words >= $min_words THEN norm END,
       tip_id IN (SELECT tip_id FROM tip_cluster_decisions WHERE action = 'removed'),  -- held out
       $refresh
FROM cluster_new
"""

# The compared tips a new tip may join: not held out, not in a rejected cluster.
_JOINABLE = """
joinable AS (
    SELECT o.* FROM tip_cluster_compared AS o
    WHERE NOT o.held_out AND o.tip_id NOT IN (
        SELECT m.tip_id FROM tip_cluster_members AS m JOIN tip_clusters AS k USING (cluster_id)
        WHERE k.state = 'rejected')
)"""

# Each new tip with the same normalised text as another joinable tip of its object is paired
# with the first such tip (the second, for the first itself): a star per text joins them all.
_EXACT = f"""
WITH {_JOINABLE}, texts AS (
    SELECT o.object_id, o.norm_hash, min(o.tip_key, 2) AS firsts
    FROM joinable AS o
    SEMI JOIN cluster_new AS n ON n.object_id = o.object_id AND n.norm_hash = o.norm_hash
    GROUP BY ALL
)
SELECT n.tip_key AS a, CASE WHEN t.firsts[1] = n.tip_key THEN t.firsts[2] ELSE t.firsts[1] END AS b
FROM cluster_new AS n JOIN texts AS t USING (object_id, norm_hash)
WHERE len(t.firsts) = 2
"""

# The words of each new text of at least ``min_words`` words that no earlier joinable tip of
# its object has (one tip per text carries its bands), hashed to 32 bits, grouped by tip
# (the order MinHash needs); `_SHINGLED_OBJECTS` gives the object of each such tip.
_FIRSTS = f"""
WITH {_JOINABLE}
SELECT n.tip_key, n.object_id, n.norm, n.chars FROM cluster_new AS n
WHERE n.words >= $min_words
  AND NOT EXISTS (SELECT 1 FROM joinable AS o
                  WHERE o.object_id = n.object_id AND o.norm_hash = n.norm_hash AND o.tip_key < n.tip_key)
"""
_SHINGLES = """
SELECT tip_key, (hash(word) % 4294967296)::UINTEGER AS word_hash
FROM (SELECT tip_key, unnest(string_split(norm, ' ')) AS word FROM cluster_firsts)
ORDER BY tip_key
"""
_SHINGLED_OBJECTS = "SELECT tip_key, hash(object_id) AS object_hash, chars FROM cluster_firsts ORDER BY tip_key"

# Pairs of texts sharing a band, each pair once (the later tip first), whose lengths allow a
# score of $similar (fuzz.ratio is at most 2 min(length) / (sum of lengths)), sharing two
# bands or more when both texts are $long_chars characters long or more (one for shorter
# texts, whose copies share fewer words). A band hash mixes in the object, so the pairs are
# of one object (the domain checks it).
_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE cluster_pairs AS
SELECT n.tip_key AS a, o.tip_key AS b
FROM cluster_new_bands AS n JOIN tip_cluster_bands AS o USING (band_hash)
WHERE o.tip_key < n.tip_key AND 2 * least(n.chars, o.chars) / (n.chars + o.chars) >= $similar
GROUP BY n.tip_key, o.tip_key
HAVING count(*) >= CASE WHEN least(any_value(n.chars), any_value(o.chars)) >= $long_chars THEN 2 ELSE 1 END
"""

_CANDIDATE_TEXTS = """
SELECT p.a, p.b, ca.norm AS text_a, cb.norm AS text_b
FROM cluster_pairs AS p
JOIN tip_cluster_compared AS ca ON ca.tip_key = p.a
JOIN tip_cluster_compared AS cb ON cb.tip_key = p.b
"""

_INVOLVED = """
SELECT c.tip_key, c.tip_id, c.object_id, c.held_out, m.cluster_id, k.state, m.score
FROM tip_cluster_compared AS c
SEMI JOIN cluster_keys AS i ON i.tip_key = c.tip_key
LEFT JOIN tip_cluster_members AS m ON m.tip_id = c.tip_id
LEFT JOIN tip_clusters AS k ON k.cluster_id = m.cluster_id
"""

_CLUSTER_ROWS = """
SELECT m.tip_id, k.object_id, m.cluster_id, m.score,
       CASE WHEN m.pending THEN 'suggested' ELSE k.state END AS state
FROM tip_cluster_members AS m JOIN tip_clusters AS k USING (cluster_id)
WHERE $object IS NULL OR k.object_id = $object
ORDER BY k.object_id, m.cluster_id, m.tip_id
"""

_MEMBER_ROWS = """
SELECT m.tip_id, k.object_id, m.cluster_id, m.score,
       CASE WHEN m.pending THEN 'suggested' ELSE k.state END AS state,
       t.received_at, t.tip_text
FROM tip_cluster_members AS m JOIN tip_clusters AS k USING (cluster_id)
LEFT JOIN tips AS t USING (tip_id)
WHERE m.cluster_id = $cluster
ORDER BY m.score DESC, m.tip_id
"""


def stage_new_tips(store: Store, refresh_id: int, min_words: int) -> int:
    """Stage the tips to compare (new, or changed since compared) in ``cluster_new``, give
    them tip keys and record them as compared (with their normalised text when it has
    ``min_words`` words or more); returns how many there are.

    Call inside the refresh's transaction."""
    store.execute(_STAGE, name="clusters/stage")
    staged = int(store.scalar("SELECT count(*) FROM cluster_new", name="clusters/staged"))
    if staged:
        for statement in _FORGET_CHANGED:
            store.execute(statement, name="clusters/forget_changed")
        store.execute(_ADD_COMPARED, {"refresh": refresh_id, "min_words": min_words}, name="clusters/add_compared")
    return staged


def exact_pairs(store: Store):
    """Pairs ``a`` (a staged tip) and ``b`` (tip keys) of the same object and normalised text,
    as a frame."""
    return store.df(_EXACT, name="clusters/exact")


def new_shingles(store: Store, min_words: int):
    """The word hashes of the staged texts that need LSH bands: a frame of ``tip_key``,
    ``word_hash`` grouped by tip key, and one of ``tip_key``, ``object_hash``, ``chars`` (a
    row per tip, in the same order)."""
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE cluster_firsts AS {_FIRSTS}", {"min_words": min_words}, name="clusters/firsts"
    )
    return (
        store.df(_SHINGLES, name="clusters/shingles"),
        store.df(_SHINGLED_OBJECTS, name="clusters/shingled_objects"),
    )


def add_bands(store: Store, bands) -> None:
    """Keep the staged texts' bands (an Arrow table of ``band_hash``, ``tip_key``, ``chars``)
    and expose them to `candidate_pairs` as ``cluster_new_bands``."""
    store.register("cluster_new_bands_arrow", bands)
    try:
        store.execute(
            "CREATE OR REPLACE TEMP TABLE cluster_new_bands AS SELECT band_hash, tip_key, chars FROM cluster_new_bands_arrow",
            name="clusters/new_bands",
        )
    finally:
        store.unregister("cluster_new_bands_arrow")
    store.execute("INSERT INTO tip_cluster_bands SELECT band_hash, tip_key, chars FROM cluster_new_bands", name="clusters/add_bands")


def candidate_pairs(store: Store, similar: float, long_chars: int):
    """The candidate pairs of tips (see `_CANDIDATES`): a frame of keys ``a`` > ``b`` with
    their normalised texts ``text_a``, ``text_b``, in no particular order."""
    store.execute(_CANDIDATES, {"similar": similar, "long_chars": long_chars}, name="clusters/candidates")
    return store.df(_CANDIDATE_TEXTS, name="clusters/candidate_texts")


def involved_tips(store: Store, tip_keys) -> list[tuple[Any, ...]]:
    """For the tip keys given (an Arrow table with ``tip_key``): ``(tip_key, tip_id,
    object_id, held_out, cluster_id, state, score)``, cluster fields None when in none."""
    store.register("cluster_keys", tip_keys)
    try:
        return store.rows(_INVOLVED, name="clusters/involved")
    finally:
        store.unregister("cluster_keys")


def add_clusters(store: Store, clusters, refresh_id: int, at: dt.datetime) -> None:
    """Create suggested clusters (an Arrow table of ``cluster_id``, ``object_id``)."""
    store.register("cluster_add_clusters", clusters)
    try:
        store.execute(
            "INSERT INTO tip_clusters SELECT cluster_id, object_id, 'suggested', $at, $refresh, NULL, NULL, NULL "
            "FROM cluster_add_clusters",
            {"at": at, "refresh": refresh_id},
            name="clusters/add_clusters",
        )
    finally:
        store.unregister("cluster_add_clusters")


def add_members(store: Store, members, refresh_id: int, at: dt.datetime) -> None:
    """Add tips to clusters (an Arrow table of ``tip_id``, ``cluster_id``, ``score``); a tip
    joining a decided cluster is pending until the cluster is decided again."""
    store.register("cluster_add_members", members)
    try:
        store.execute(
            "INSERT INTO tip_cluster_members "
            "SELECT a.tip_id, a.cluster_id, a.score, $at, $refresh, k.state <> 'suggested' "
            "FROM cluster_add_members AS a JOIN tip_clusters AS k USING (cluster_id)",
            {"at": at, "refresh": refresh_id},
            name="clusters/add_members",
        )
    finally:
        store.unregister("cluster_add_members")


def next_refresh_id(store: Store) -> int:
    return int(store.scalar("SELECT coalesce(max(refresh_id), 0) + 1 FROM tip_cluster_refreshes", name="clusters/next_refresh"))


def record_refresh(store: Store, refresh_id: int, started_at: dt.datetime, seconds: float, figures: dict, method: str) -> None:
    """Keep one refresh's figures (``compared``, ``candidates``, ``exact_pairs``,
    ``fuzzy_pairs``, ``new_clusters``, ``joined``)."""
    store.execute(
        "INSERT INTO tip_cluster_refreshes VALUES ($id, $at, $seconds, $compared, $candidates, $exact, $fuzzy, "
        "$new_clusters, $joined, $method)",
        {
            "id": refresh_id, "at": started_at, "seconds": seconds,
            "compared": figures["compared"], "candidates": figures["candidates"],
            "exact": figures["exact_pairs"], "fuzzy": figures["fuzzy_pairs"],
            "new_clusters": figures["new_clusters"], "joined": figures["joined"], "method": method,
        },
        name="clusters/record_refresh",
    )


def last_method(store: Store) -> str | None:
    """The method of the latest refresh, or None before the first."""
    return store.scalar(
        "SELECT method FROM tip_cluster_refreshes ORDER BY refresh_id DESC LIMIT 1", name="clusters/last_method"
    )


def forget_comparisons(store: Store) -> None:
    """Forget which tips were compared and their bands (the clusters and decisions stay): the
    next refresh compares every tip again."""
    store.execute("DELETE FROM tip_cluster_bands", name="clusters/forget_bands")
    store.execute("DELETE FROM tip_cluster_compared", name="clusters/forget_compared")


def drop_staging(store: Store) -> None:
    store.execute(
        "DROP TABLE IF EXISTS cluster_new; DROP TABLE IF EXISTS cluster_new_bands; "
        "DROP TABLE IF EXISTS cluster_firsts; DROP TABLE IF EXISTS cluster_pairs"
    )


def refreshes(store: Store):
    """Every refresh, oldest first, as a frame."""
    return store.df("SELECT * FROM tip_cluster_refreshes ORDER BY refresh_id", name="clusters/refreshes")


def compared_count(store: Store) -> int:
    """How many tips have been compared."""
    return int(store.scalar("SELECT count(*) FROM tip_cluster_compared", name="clusters/compared_count"))


def cluster_rows(store: Store, object_id: str | None = None):
    """One row per clustered tip: ``tip_id``, ``object_id``, ``cluster_id``, ``score``,
    ``state``, as a frame."""
    return store.df(_CLUSTER_ROWS, {"object": object_id}, name="clusters/rows")


def member_rows(store: Store, cluster_id: str):
    """The tips of one cluster with their receipt time and text, the closest first."""
    return store.df(_MEMBER_ROWS, {"cluster": cluster_id}, name="clusters/members")


def cluster_row(store: Store, cluster_id: str) -> tuple | None:
    """``(cluster_id, object_id, state, decided_by, decided_at, reason, members)`` or None."""
    found = store.rows(
        "SELECT k.cluster_id, k.object_id, k.state, k.decided_by, k.decided_at, k.reason, "
        "(SELECT count(*) FROM tip_cluster_members AS m WHERE m.cluster_id = k.cluster_id) "
        "FROM tip_clusters AS k WHERE k.cluster_id = $cluster",
        {"cluster": cluster_id},
        name="clusters/cluster",
    )
    return found[0] if found else None


def member_tip_ids(store: Store, cluster_id: str) -> list[str]:
    return [r[0] for r in store.rows(
        "SELECT tip_id FROM tip_cluster_members WHERE cluster_id = $cluster ORDER BY tip_id",
        {"cluster": cluster_id}, name="clusters/member_ids",
    )]


def tip_cluster(store: Store, tip_id: str) -> str | None:
    """The cluster holding ``tip_id``, or None."""
    return store.scalar(
        "SELECT cluster_id FROM tip_cluster_members WHERE tip_id = $tip", {"tip": tip_id}, name="clusters/tip_cluster"
    )


def set_state(store: Store, cluster_id: str, state: str, by: str, at: dt.datetime, reason: str) -> None:
    """Record an analyst's decision on a cluster; its pending members join the decision."""
    store.execute(
        "UPDATE tip_clusters SET state = $state, decided_by = $by, decided_at = $at, reason = $reason "
        "WHERE cluster_id = $cluster",
        {"state": state, "by": by, "at": at, "reason": reason, "cluster": cluster_id},
        name="clusters/set_state",
    )
    store.execute(
        "UPDATE tip_cluster_members SET pending = false WHERE cluster_id = $cluster AND pending",
        {"cluster": cluster_id},
        name="clusters/settle_pending",
    )


def hold_out(store: Store, tip_id: str) -> None:
    """Take a tip out of its cluster for good: no later refresh clusters it again."""
    store.execute("DELETE FROM tip_cluster_members WHERE tip_id = $tip", {"tip": tip_id}, name="clusters/remove_member")
    store.execute(
        "UPDATE tip_cluster_compared SET held_out = true WHERE tip_id = $tip", {"tip": tip_id}, name="clusters/hold_out"
    )


def record_decision(
    store: Store, cluster_id: str, tip_id: str | None, action: str, by: str, at: dt.datetime, reason: str, audit_seq: int | None
) -> None:
    store.execute(
        "INSERT INTO tip_cluster_decisions VALUES ($cluster, $tip, $action, $by, $at, $reason, $seq)",
        {"cluster": cluster_id, "tip": tip_id, "action": action, "by": by, "at": at, "reason": reason, "seq": audit_seq},
        name="clusters/record_decision",
    )


def decisions(store: Store, cluster_id: str | None = None):
    """The analysts' decisions on clusters (all, or one cluster's), oldest first, as a frame."""
    return store.df(
        "SELECT * FROM tip_cluster_decisions WHERE $cluster IS NULL OR cluster_id = $cluster ORDER BY decided_at, cluster_id",
        {"cluster": cluster_id},
        name="clusters/decisions",
    )
