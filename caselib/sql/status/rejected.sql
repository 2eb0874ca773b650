SELECT r.batch_id, r.kind, regexp_extract(b.file_name, '[^/]*$') AS file_name,
       r.record_no, r.line_no, r.reason, r.raw_record::VARCHAR AS raw_record
FROM rejected_rows r
LEFT JOIN load_batches b ON b.file_sha256 = r.file_sha256 AND b.batch_id = r.batch_id
WHERE $batch IS NULL OR r.batch_id = $batch
ORDER BY r.batch_id, r.record_no NULLS LAST, r.line_no
LIMIT $limit
