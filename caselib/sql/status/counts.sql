SELECT
    (SELECT count(*) FROM waves)              AS waves,
    (SELECT count(*) FROM objects)            AS objects,
    (SELECT count(*) FROM tips)               AS tips,
    (SELECT count(*) FROM rejected_rows)      AS rejected_rows,
    (SELECT count(*) FROM tip_triage_history) AS triage_changes,
    (SELECT count(*) FROM load_batches)       AS loads,
    (SELECT count(*) FROM load_batches WHERE origin <> 'demo') AS analyst_loads,
    (SELECT count(*) FROM load_batches WHERE origin = 'demo')  AS demo_loads
