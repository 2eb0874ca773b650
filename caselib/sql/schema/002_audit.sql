-- Append-only, hash-chained audit of case decisions (close, reopen) and of the triage
-- changes each load brought. Each record's hash covers its own fields and the hash of the
-- record before it, so an edited, removed or reordered record breaks the chain.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,   -- 1, 2, 3, … without gaps
    recorded_at  TIMESTAMP NOT NULL,   -- UTC
    actor        VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,     -- close | reopen | triage_changes
    object_id    VARCHAR,
    batch_id     BIGINT,
    payload      VARCHAR NOT NULL,     -- canonical JSON: reason, outcome, flag and figures; or a digest
    prev_hash    VARCHAR NOT NULL,
    hash         VARCHAR NOT NULL
);
