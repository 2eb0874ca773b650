-- A JSON array: one record per element, numbered by position, streamed by DuckDB's JSON
-- reader (never read whole: a file of any size is read within the memory limit), each
-- element as its JSON text (a key given twice stays twice, for json_records to refuse). A
-- table macro, not a table: the records, contact values and all, are never stored (so never
-- spilled to disk); each pass over them reads the file again.
CREATE OR REPLACE TEMP MACRO _json_items(path) AS TABLE
SELECT row_number() OVER () AS item_no, json::VARCHAR AS item
FROM read_json(path, format = 'array', records = false, columns = {'json': 'JSON'}, maximum_object_size = 16777216);
-- The same records unnumbered: a pass that needs no numbers (the scan, when every record
-- gives the same keys) runs on both threads (row_number() makes a pass serial).
CREATE OR REPLACE TEMP MACRO _json_values(path) AS TABLE
SELECT json::VARCHAR AS item
FROM read_json(path, format = 'array', records = false, columns = {'json': 'JSON'}, maximum_object_size = 16777216);
