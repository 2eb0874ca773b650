-- JSON Lines: one record per non-blank line, numbered by line.
CREATE OR REPLACE TEMP TABLE _json_items AS
SELECT unnest(range(1, len(l) + 1)) AS item_no, unnest(l) AS item
FROM (
    SELECT string_split(replace(ltrim(content, chr(65279)), chr(13), ''), chr(10)) AS l
    FROM read_text($path)
);
DELETE FROM _json_items WHERE trim(item) = '';
