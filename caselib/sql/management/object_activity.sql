-- Per object as of $as_of: its first publication, tips in the 30 days up to that day, all
-- its tips by then, and when its oldest tip still to triage arrived.
SELECT o.object_id,
       o.first_published,
       count(t.tip_id) FILTER (WHERE t.received_at >= $as_of::DATE - INTERVAL 29 DAY) AS tips_last_30_days,
       count(t.tip_id) AS tips_total,
       min(t.received_at) FILTER (WHERE is_untriaged(t.triage_status)) AS oldest_untriaged_at
FROM objects AS o
LEFT JOIN tips_as_of($as_of) AS t ON t.object_id = o.object_id AND received_by(t.received_at, $as_of)
GROUP BY o.object_id, o.first_published
