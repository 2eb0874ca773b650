-- Contract v1 tables. Timestamps are stored as TIMESTAMP holding UTC (the loader
-- converts every offset to UTC); dates are calendar dates.

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE SEQUENCE load_batch_seq START 1;

CREATE TABLE load_batches (
    batch_id        BIGINT PRIMARY KEY,
    kind            VARCHAR NOT NULL,      -- waves | objects | tips
    file_name       VARCHAR NOT NULL,
    file_sha256     VARCHAR NOT NULL,
    format          VARCHAR NOT NULL,      -- csv | xlsx | jsonl | json | parquet
    mapping_name    VARCHAR,
    mapping_sha256  VARCHAR,
    pseudonymized   BOOLEAN NOT NULL,
    origin          VARCHAR NOT NULL,      -- load | demo
    rows_read       BIGINT NOT NULL,
    inserted        BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    unchanged       BIGINT NOT NULL,
    rejected        BIGINT NOT NULL,
    details         JSON,                  -- ignored columns, unrecognised countries, dropped coordinates
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    loaded_by       VARCHAR NOT NULL
);

CREATE TABLE waves (
    wave_id      VARCHAR PRIMARY KEY,
    name         VARCHAR,
    launched_on  DATE NOT NULL,
    notes        VARCHAR,
    batch_id     BIGINT NOT NULL,
    updated_batch_id BIGINT
);

CREATE TABLE objects (
    object_id           VARCHAR PRIMARY KEY,
    title               VARCHAR NOT NULL,
    category            VARCHAR,
    first_published     DATE NOT NULL,
    wave_id             VARCHAR,
    status              VARCHAR NOT NULL,
    origin_country      VARCHAR,
    origin_country_raw  VARCHAR,
    identified_on       DATE,
    closed_on           DATE,
    description         VARCHAR,
    batch_id            BIGINT NOT NULL,
    updated_batch_id    BIGINT
);

CREATE TABLE object_history (
    object_id       VARCHAR NOT NULL,
    batch_id        BIGINT NOT NULL,
    changed_at      TIMESTAMP NOT NULL,
    old_values      JSON NOT NULL,
    new_values      JSON NOT NULL
);

-- tip_id is unique, enforced by the loader (it compares every load with what is stored,
-- inside the one write transaction DuckDB allows). No PRIMARY KEY: at 10 million tips its
-- index doubled the time and memory of a load.
CREATE TABLE tips (
    tip_id                  VARCHAR NOT NULL,
    object_id               VARCHAR NOT NULL,
    received_at             TIMESTAMP NOT NULL,   -- UTC
    channel                 VARCHAR,
    language                VARCHAR,
    reporter_country        VARCHAR,              -- ISO 3166-1 alpha-3, or NULL
    reporter_country_raw    VARCHAR,              -- the value as given, when it was not recognised
    suggested_country       VARCHAR,
    suggested_country_raw   VARCHAR,
    suggested_place         VARCHAR,
    latitude                DOUBLE,
    longitude               DOUBLE,
    brand                   VARCHAR,
    shop                    VARCHAR,
    period                  VARCHAR,
    tip_text                VARCHAR,
    triage_status           VARCHAR NOT NULL,
    forwarded_to            VARCHAR,
    forwarded_to_raw        VARCHAR,
    reporter_pseudonym      VARCHAR,              -- keyed HMAC of a contact value, only with --pseudonymize
    batch_id                BIGINT NOT NULL,
    updated_batch_id        BIGINT
);

CREATE TABLE tip_triage_history (
    tip_id                  VARCHAR NOT NULL,
    batch_id                BIGINT NOT NULL,
    changed_at              TIMESTAMP NOT NULL,
    old_triage_status       VARCHAR NOT NULL,
    new_triage_status       VARCHAR NOT NULL,
    old_forwarded_to        VARCHAR,
    new_forwarded_to        VARCHAR
);

CREATE TABLE rejected_rows (
    batch_id     BIGINT NOT NULL,
    kind         VARCHAR NOT NULL,
    record_no    BIGINT,          -- 1-based position of the record among the records read from its file
    line_no      BIGINT,          -- line in the file, where known (JSON Lines; CSV lines the reader could not split)
    reason       VARCHAR NOT NULL,
    raw_record   JSON,            -- the record as read, contact columns removed
    file_sha256  VARCHAR NOT NULL
);
