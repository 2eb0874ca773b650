-- Near-duplicate clusters of tips (issue 14, item 2), kept so that refreshing them after a
-- load compares only the tips not compared before (caselib.domain.clusters).
--
-- A cluster groups tips of one object that say the same thing. It is 'suggested' until an
-- analyst confirms it ('confirmed') or splits it ('rejected': its tips are not copies of
-- each other). A refresh never changes a decided cluster's state, nor moves a tip out of
-- any cluster; new tips matching a confirmed cluster join it as pending members (shown as
-- 'suggested' until the cluster is confirmed again).
CREATE TABLE tip_clusters (
    cluster_id   VARCHAR NOT NULL,     -- 'C-' and the smallest tip_id it had when created
    object_id    VARCHAR NOT NULL,
    state        VARCHAR NOT NULL CHECK (state IN ('suggested', 'confirmed', 'rejected')),
    created_at   TIMESTAMP NOT NULL,
    refresh_id   BIGINT NOT NULL,      -- the refresh that created it
    decided_by   VARCHAR,
    decided_at   TIMESTAMP,
    reason       VARCHAR
);

-- A tip is in at most one cluster. score: its highest similarity (0..1) to another tip of
-- the cluster (1.0: the same normalised text).
CREATE TABLE tip_cluster_members (
    tip_id      VARCHAR NOT NULL,
    cluster_id  VARCHAR NOT NULL,
    score       DOUBLE NOT NULL CHECK (score >= 0 AND score <= 1),
    added_at    TIMESTAMP NOT NULL,
    refresh_id  BIGINT NOT NULL,
    pending     BOOLEAN NOT NULL DEFAULT false  -- joined a decided cluster after its decision
);

-- Every tip a refresh has compared, with what it was compared as: a tip without a row
-- here (new, or whose text or object changed since) is compared at the next refresh.
-- tip_key numbers the tips for the band table. norm_hash: hash of the normalised text
-- (NULL: no text); words: its number of words (fewer than 4: matched on equal text only);
-- held_out: an analyst removed it from its cluster, and no refresh clusters it again.
CREATE TABLE tip_cluster_compared (
    tip_key     INTEGER NOT NULL,
    tip_id      VARCHAR NOT NULL,
    object_id   VARCHAR NOT NULL,
    text_hash   UBIGINT NOT NULL,   -- hash of object_id and tip_text as they were compared
    norm_hash   UBIGINT,
    words       INTEGER NOT NULL,
    chars       INTEGER NOT NULL,   -- length of the normalised text (bounds the score of a pair)
    norm        VARCHAR,            -- the normalised text, kept for texts of 4 words or more: a
                                    -- new pair is scored without reading and normalising tips again
    held_out    BOOLEAN NOT NULL DEFAULT false,
    refresh_id  BIGINT NOT NULL
);

-- The MinHash LSH bands of each distinct normalised text of an object (one tip per text),
-- texts of 4 words or more: two tips sharing a band_hash are candidates, scored afterwards.
-- band_hash mixes the object, the band's number and its MinHash values.
CREATE TABLE tip_cluster_bands (
    band_hash   UBIGINT NOT NULL,
    tip_key     INTEGER NOT NULL,
    chars       INTEGER NOT NULL    -- the text's length, as in tip_cluster_compared: pairs whose
                                    -- lengths rule out the score are dropped before anything else
);

-- One row per refresh: what it compared and found, and the method's parameters (bands
-- are only comparable between refreshes of the same method).
CREATE TABLE tip_cluster_refreshes (
    refresh_id     BIGINT NOT NULL,
    started_at     TIMESTAMP NOT NULL,
    seconds        DOUBLE NOT NULL,
    compared       BIGINT NOT NULL,     -- tips compared (the new ones)
    candidates     BIGINT NOT NULL,     -- pairs the LSH bands proposed
    exact_pairs    BIGINT NOT NULL,
    fuzzy_pairs    BIGINT NOT NULL,
    new_clusters   BIGINT NOT NULL,
    joined         BIGINT NOT NULL,     -- tips that joined a cluster
    method         VARCHAR NOT NULL
);

-- Analysts' decisions on clusters, in order (each also in the audit): a cluster confirmed
-- or rejected (tip_id NULL), or one tip removed from it.
CREATE TABLE tip_cluster_decisions (
    cluster_id  VARCHAR NOT NULL,
    tip_id      VARCHAR,
    action      VARCHAR NOT NULL CHECK (action IN ('confirmed', 'rejected', 'removed')),
    decided_by  VARCHAR NOT NULL,
    decided_at  TIMESTAMP NOT NULL,
    reason      VARCHAR NOT NULL,
    audit_seq   BIGINT
);
