-- The records that cannot load, quarantined with nothing of their text, only its length:
-- which of their values are contact data is unknown.
INSERT INTO _reader_rejects
SELECT NULL,
       CASE WHEN $lines THEN bad_no END,
       CASE WHEN $lines THEN 'line ' ELSE 'element ' END || bad_no || CASE WHEN twice
           THEN ' gives a key twice; each key may appear once in a record' ELSE ' is not a JSON object' END,
       CASE WHEN $lines THEN 'line' ELSE 'element' END || CASE WHEN twice
           THEN ' … gives a key twice; each key may appear once in a record' ELSE ' … is not a JSON object' END,
       length
FROM _json_scan
WHERE bad_no IS NOT NULL
ORDER BY bad_no;
