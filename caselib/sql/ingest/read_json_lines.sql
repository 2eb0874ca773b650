-- JSON Lines: one record per non-blank line, numbered by line. The file is streamed by
-- DuckDB's CSV reader as lines of text (no quoting, and U+0001 as the delimiter: JSON text
-- never holds it unescaped, so a line that does is not JSON and is refused with its line
-- number), never read whole: a file of any size is read within the memory limit. A table
-- macro, not a table: the records, contact values and all, are never stored (so never
-- spilled to disk); each pass over them reads the file again. A blank line is a NULL line,
-- so the row number is the line number, until a line the reader refuses (not UTF-8, longer
-- than its line limit of 2 MB): those are in _json_csv_rejects, and ingest/json_shift renumbers the lines after them.
CREATE OR REPLACE TEMP MACRO _json_lines(path) AS TABLE
SELECT row_number() OVER () AS n, line
FROM read_csv(
    path,
    columns = {'line': 'VARCHAR'},
    delim = chr(1),
    quote = '',
    escape = '',
    header = false,
    auto_detect = false,
    strict_mode = true,
    store_rejects = true,
    rejects_table = '_json_csv_rejects',
    rejects_scan = '_json_csv_scans',
    buffer_size = 8388608,
    encoding = 'utf-8'
);
CREATE OR REPLACE TEMP MACRO _json_items(path) AS TABLE
SELECT n AS item_no, CASE WHEN n = 1 THEN ltrim(line, chr(65279)) ELSE line END AS item
FROM _json_lines(path)
WHERE trim(line) <> '';
