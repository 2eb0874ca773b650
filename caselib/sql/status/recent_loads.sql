SELECT batch_id, kind, regexp_extract(file_name, '[^/]*$') AS file_name, format, origin,
       rows_read, inserted, updated, unchanged, rejected,
       strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started_at,
       round(epoch(finished_at - started_at), 2) AS seconds,
       loaded_by
FROM load_batches
ORDER BY batch_id DESC
LIMIT $limit
