-- Records that are not JSON objects, and objects that give a key twice (the same column
-- twice in one record: which value holds is undefined, as a CSV file with a repeated
-- header is refused). Nothing of their text is kept, only its length: which of its values
-- are contact data is unknown.
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
    FROM _json_items
)
WHERE NOT is_object OR len(json_keys(item)) <> len(list_distinct(json_keys(item)));
DELETE FROM _json_items
WHERE coalesce(CASE WHEN json_valid(item) THEN json_type(item) END, '') <> 'OBJECT'
   OR len(json_keys(item)) <> len(list_distinct(json_keys(item)));
