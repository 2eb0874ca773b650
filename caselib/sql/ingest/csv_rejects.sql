-- One entry per unreadable line (the reader may report several errors for one line).
-- Nothing of the line's text is kept (it may hold contact data we cannot find), only its
-- length; DuckDB's message is kept only for the error types whose message is fixed wording.
INSERT INTO _reader_rejects
SELECT NULL AS record_no,
       line AS line_no,
       'line ' || line || ' could not be read as CSV: ' || lower(string_agg(DISTINCT error_type, ', ' ORDER BY error_type)) ||
           coalesce(' (' || first(error_message ORDER BY error_message) FILTER (
               WHERE error_type IN ('TOO MANY COLUMNS', 'MISSING COLUMNS', 'UNQUOTED VALUE', 'INVALID ENCODING')
           ) || ')', '') AS reason,
       'line … could not be read as CSV: ' || lower(string_agg(DISTINCT error_type, ', ' ORDER BY error_type)) AS template,
       length(first(csv_line)) AS length
FROM _csv_rejects
GROUP BY line;
