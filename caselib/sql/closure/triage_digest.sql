-- A digest of one load batch's triage changes, in a fixed order, for the audit chain.
SELECT count(*) AS changes,
       coalesce(sha256(string_agg(
           concat_ws(chr(31), tip_id, strftime(changed_at, '%Y-%m-%dT%H:%M:%S.%f'),
                     old_triage_status, new_triage_status,
                     coalesce(old_forwarded_to, ''), coalesce(new_forwarded_to, ''),
                     -- a row a load did not apply (v5: the intake disagreeing with an analyst)
                     CASE WHEN source <> 'load' THEN source END),
           chr(30) ORDER BY tip_id, changed_at, old_triage_status, new_triage_status)), '') AS digest
FROM tip_triage_history
WHERE batch_id = $batch
