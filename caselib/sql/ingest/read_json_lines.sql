-- JSON Lines: one record per non-blank line, numbered by line. A table macro, not a table:
-- the records, contact values and all, are never stored (so never spilled to disk); each
-- pass over them reads the file again.
CREATE OR REPLACE TEMP MACRO _json_items(path) AS TABLE
SELECT item_no, item
FROM (
    SELECT unnest(range(1, len(l) + 1)) AS item_no, unnest(l) AS item
    FROM (
        SELECT string_split(replace(ltrim(content, chr(65279)), chr(13), ''), chr(10)) AS l
        FROM read_text(path)
    )
)
WHERE trim(item) <> '';
