-- The records that load: JSON objects that give each key once. An object giving a key twice
-- is the same column twice in one record (which value holds is undefined), as a CSV file
-- repeating a header is refused.
CREATE OR REPLACE TEMP MACRO _json_records(path) AS TABLE
SELECT item_no, item
FROM _json_items(path)
WHERE coalesce(CASE WHEN json_valid(item) THEN json_type(item) END, '') = 'OBJECT'
  AND len(json_keys(item)) = len(list_distinct(json_keys(item)));
-- The others, quarantined with nothing of their text, only its length: which of their
-- values are contact data is unknown.
INSERT INTO _reader_rejects
SELECT NULL,
       CASE WHEN $lines THEN item_no END,
       CASE WHEN $lines THEN 'line ' ELSE 'element ' END || item_no || CASE WHEN is_object
           THEN ' gives a key twice; each key may appear once in a record' ELSE ' is not a JSON object' END,
       CASE WHEN $lines THEN 'line' ELSE 'element' END || CASE WHEN is_object
           THEN ' … gives a key twice; each key may appear once in a record' ELSE ' … is not a JSON object' END,
       length(item)
FROM (
    SELECT item_no, item, coalesce(CASE WHEN json_valid(item) THEN json_type(item) END, '') = 'OBJECT' AS is_object
    FROM _json_items($path)
)
WHERE NOT is_object OR len(json_keys(item)) <> len(list_distinct(json_keys(item)));
