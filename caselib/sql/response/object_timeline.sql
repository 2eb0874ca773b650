-- Per object, how long the public took to help: whole UTC days from first_published to its
-- first tip, to its first actionable tip (triage status actionable or forwarded, as the tip
-- stands now) and to identification (identified_on). NULL when there is none.
-- As of $as_of (a DATE, or NULL for all data): only tips received on or before that day
-- (UTC, the whole day) count, and an identification after it does not.
WITH counted AS (
    SELECT object_id, received_at, triage_status
    FROM tips
    WHERE $as_of::DATE IS NULL OR received_by(received_at, $as_of::DATE)
),
per_object AS (
    SELECT object_id,
           count(*) AS tips,
           count(*) FILTER (WHERE is_actionable(triage_status)) AS actionable_tips,
           min(received_at) AS first_tip_at,
           min(received_at) FILTER (WHERE is_actionable(triage_status)) AS first_actionable_at
    FROM counted
    GROUP BY object_id
),
identified AS (
    SELECT object_id,
           CASE WHEN $as_of::DATE IS NULL OR identified_on <= $as_of::DATE THEN identified_on END AS identified_on
    FROM objects
)
SELECT o.object_id,
       o.title,
       o.wave_id,
       o.first_published,
       coalesce(p.tips, 0)::BIGINT AS tips,
       coalesce(p.actionable_tips, 0)::BIGINT AS actionable_tips,
       p.first_tip_at,
       p.first_tip_at::DATE - o.first_published AS days_to_first_tip,
       p.first_actionable_at,
       p.first_actionable_at::DATE - o.first_published AS days_to_first_actionable,
       i.identified_on,
       i.identified_on - o.first_published AS days_to_identification
FROM objects AS o
JOIN identified AS i USING (object_id)
LEFT JOIN per_object AS p USING (object_id)
ORDER BY o.first_published, o.object_id
