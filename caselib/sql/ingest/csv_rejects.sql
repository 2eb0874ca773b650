-- One entry per unreadable line (the reader may report several errors for one line).
INSERT INTO _reader_rejects
SELECT NULL AS record_no,
       line AS line_no,
       'line ' || line || ' could not be read as CSV: ' || lower(string_agg(DISTINCT error_type, ', ')) ||
           ' (' || first(error_message) || ')' AS reason,
       first(csv_line) AS raw_text
FROM _csv_rejects
GROUP BY line;
