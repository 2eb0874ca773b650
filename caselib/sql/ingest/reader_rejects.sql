CREATE OR REPLACE TEMP TABLE _reader_rejects (
    record_no BIGINT,
    line_no   BIGINT,
    reason    VARCHAR,
    raw_text  VARCHAR
);
