-- Per object as of $as_of: tips in the 30 days up to that day, and tips still to triage.
SELECT o.object_id,
       count(t.tip_id) FILTER (WHERE t.received_at >= $as_of::DATE - INTERVAL 29 DAY) AS tips_last_30_days,
       count(t.tip_id) AS tips_total
FROM objects o
LEFT JOIN tips t ON t.object_id = o.object_id AND t.received_at < $as_of::DATE + INTERVAL 1 DAY
GROUP BY o.object_id
