-- The language detected in the text of each tip the intake system gave no language (issue
-- 14), kept apart from tips.language, which holds only what the intake system gave: a later
-- re-export never meets a guess of ours, and the explorer filters on either.
-- One row per examined tip (the refresh writes a tip's row once, inside its transaction; no
-- PRIMARY KEY, as for tips). detected_language is NULL when the text was examined and its
-- language stayed undetermined (too short, no letters, confidence under the threshold).
CREATE TABLE tip_languages (
    tip_id             VARCHAR NOT NULL,
    detected_language  VARCHAR CHECK (detected_language IS NULL OR regexp_full_match(detected_language, '[a-z]{2}')),  -- ISO 639-1, lower case
    confidence         DOUBLE NOT NULL CHECK (confidence BETWEEN 0 AND 1),  -- the detector's, for its best candidate
    detector           VARCHAR NOT NULL,   -- the detector, its version and settings, e.g. 'lingua-language-detector 2.1.1; 54 languages; ...'
    detected_at        TIMESTAMP NOT NULL  -- UTC
);
