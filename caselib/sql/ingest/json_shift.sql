-- After a pass over a JSON Lines file in which the reader refused lines (_json_csv_rejects):
-- the lines it read are numbered without those, so each is shifted by the refused lines
-- before it. For the i-th refused line L_i (in order), L_i - i lines were read before it:
-- a read line numbered n > L_i - i comes after it.
CREATE OR REPLACE TEMP TABLE _json_shift AS
SELECT below, max(shift) AS shift
FROM (SELECT line - row_number() OVER (ORDER BY line) AS below, row_number() OVER (ORDER BY line) AS shift
      FROM (SELECT DISTINCT line FROM _json_csv_rejects))
GROUP BY below;
CREATE OR REPLACE TEMP MACRO _json_items(path) AS TABLE
SELECT l.n + coalesce(s.shift, 0) AS item_no,
       CASE WHEN l.n + coalesce(s.shift, 0) = 1 THEN ltrim(l.line, chr(65279)) ELSE l.line END AS item
FROM _json_lines(path) l
ASOF LEFT JOIN _json_shift s ON l.n > s.below
WHERE trim(l.line) <> '';
-- The records the scan found bad were numbered before the shift was known.
UPDATE _json_scan
SET bad_no = bad_no + (SELECT coalesce(max(s.shift), 0) FROM _json_shift s WHERE s.below < _json_scan.bad_no)
WHERE bad_no IS NOT NULL;
-- The refused lines themselves, with nothing of their text but its length.
INSERT INTO _reader_rejects
SELECT NULL,
       line,
       'line ' || line || CASE WHEN bool_or(error_type = 'INVALID ENCODING') THEN ' is not UTF-8 text'
                               WHEN bool_or(error_type = 'LINE SIZE OVER MAXIMUM') THEN ' is too long to be a record (over 2 MB)'
                               ELSE ' is not a JSON object' END,
       'line …' || CASE WHEN bool_or(error_type = 'INVALID ENCODING') THEN ' is not UTF-8 text'
                        WHEN bool_or(error_type = 'LINE SIZE OVER MAXIMUM') THEN ' is too long to be a record (over 2 MB)'
                        ELSE ' is not a JSON object' END,
       length(first(csv_line))
FROM _json_csv_rejects
GROUP BY line;
