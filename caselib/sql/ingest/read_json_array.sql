-- A JSON array: one record per element, numbered by position.
CREATE OR REPLACE TEMP TABLE _json_items AS
SELECT unnest(range(1, len(a) + 1)) AS item_no, unnest(a)::VARCHAR AS item
FROM (SELECT json_extract(ltrim(content, chr(65279)), '$[*]') AS a FROM read_text($path));
