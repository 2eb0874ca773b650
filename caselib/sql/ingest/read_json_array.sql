-- A JSON array: one record per element, numbered by position. A table macro, not a table:
-- the records, contact values and all, are never stored (so never spilled to disk); each
-- pass over them reads the file again.
CREATE OR REPLACE TEMP MACRO _json_items(path) AS TABLE
SELECT unnest(range(1, len(a) + 1)) AS item_no, unnest(a)::VARCHAR AS item
FROM (SELECT json_extract(ltrim(content, chr(65279)), '$[*]') AS a FROM read_text(path));
