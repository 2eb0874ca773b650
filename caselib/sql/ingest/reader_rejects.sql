CREATE OR REPLACE TEMP TABLE _reader_rejects (
    record_no BIGINT,
    line_no   BIGINT,
    reason    VARCHAR,
    template  VARCHAR,  -- the reason without the line number (what the report groups by)
    length    BIGINT   -- the record's length in characters: nothing of its text is kept
);
