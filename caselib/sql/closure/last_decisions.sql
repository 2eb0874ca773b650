-- Each object's latest closure decision in the audit (close, keep open, reopen): when, by
-- whom, and the reason and outcome it carries. Objects never decided on have no row.
SELECT object_id, action, recorded_at, actor,
       json_extract_string(payload, '$.reason') AS reason,
       json_extract_string(payload, '$.outcome') AS outcome
FROM audit_log
WHERE object_id IS NOT NULL AND action IN ('close', 'keep_open', 'reopen')
QUALIFY row_number() OVER (PARTITION BY object_id ORDER BY seq DESC) = 1
