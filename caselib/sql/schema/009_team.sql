-- Team mode (a shared PostgreSQL store, caselib.shared): who has claimed a tip for review,
-- and to whom objects and tips are assigned. Filled only by `caselib sync` from the shared
-- store; a database worked alone keeps them empty.
CREATE TABLE tip_claims (
    tip_id      VARCHAR NOT NULL,
    claimed_by  VARCHAR NOT NULL,
    claimed_at  TIMESTAMP NOT NULL,   -- UTC
    expires_at  TIMESTAMP NOT NULL    -- UTC; a claim not renewed lapses (an analyst gone home)
);

CREATE TABLE object_assignments (
    object_id    VARCHAR NOT NULL,
    assigned_to  VARCHAR NOT NULL,
    assigned_by  VARCHAR NOT NULL,
    assigned_at  TIMESTAMP NOT NULL
);

CREATE TABLE tip_assignments (
    tip_id       VARCHAR NOT NULL,
    assigned_to  VARCHAR NOT NULL,
    assigned_by  VARCHAR NOT NULL,
    assigned_at  TIMESTAMP NOT NULL
);
