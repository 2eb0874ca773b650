INSERT INTO _reader_rejects
SELECT NULL,
       CASE WHEN $lines THEN item_no END,
       CASE WHEN $lines THEN 'line ' ELSE 'element ' END || item_no || ' is not a JSON object',
       CASE WHEN $lines THEN 'line' ELSE 'element' END || ' … is not a JSON object',
       length(item)  -- nothing of its text: which of its values are contact data is unknown
FROM _json_items
WHERE coalesce(CASE WHEN json_valid(item) THEN json_type(item) END, '') <> 'OBJECT';
DELETE FROM _json_items
WHERE coalesce(CASE WHEN json_valid(item) THEN json_type(item) END, '') <> 'OBJECT';
