-- JSON Lines that DuckDB's JSON reader reads whole (checked before the load: every line a
-- JSON value, none blank, so a record's position is its line number): one record per line,
-- parsed by the reader in parallel, each as its JSON text (a key given twice stays twice,
-- for json_scan to refuse). A table macro, not a table: the records are never stored.
CREATE OR REPLACE TEMP MACRO _json_items(path) AS TABLE
SELECT row_number() OVER () AS item_no, json::VARCHAR AS item
FROM read_json(path, format = 'newline_delimited', records = false, columns = {'json': 'JSON'});
-- The same records unnumbered: a pass that needs no numbers (the scan, when every record
-- gives the same keys; the values) runs on both threads (row_number() makes a pass serial).
CREATE OR REPLACE TEMP MACRO _json_values(path) AS TABLE
SELECT json::VARCHAR AS item
FROM read_json(path, format = 'newline_delimited', records = false, columns = {'json': 'JSON'});
