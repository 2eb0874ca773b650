-- Tips per UTC day among the filtered tips, with every wave's launch day and the last day
-- of its window (kind 'launch', tips NULL), for caselib.domain.response.tips_over_time to lay out in periods. One plain
-- aggregation: the periods, their bounds and labels are a few hundred rows of Python,
-- where the same layout in SQL cost more to plan than the scan (10+ ms per call).
SELECT 'day' AS kind, received_at::DATE AS day, count(*) AS tips, NULL::VARCHAR AS wave_id,
       NULL::DATE AS window_ends_on
FROM {{filtered_tips}}
GROUP BY ALL
UNION ALL
SELECT 'launch' AS kind, launched_on AS day, NULL AS tips, wave_id, window_ends_on
FROM wave_windows()
