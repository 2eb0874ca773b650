-- Each rejected row's reason without the values from the file: the wording the loader
-- builds the reason from, with every value shown as "…" and line numbers as …. Management
-- outputs group by it, so no value a file holds reaches them (a value may hold anything,
-- a quote included, so masking the reason's text cannot be relied on).
ALTER TABLE rejected_rows ADD COLUMN reason_template VARCHAR;
-- Rows quarantined before: everything up to the first quote is the loader's wording (a
-- contract column's name, or a line number and the reader's fixed words); the rest is cut.
UPDATE rejected_rows
SET reason_template = CASE
    WHEN contains(reason, '"') THEN split_part(reason, '"', 1) || '"…'
    ELSE regexp_replace(reason, '^(line|element) [0-9]+', '\1 …')
END;
