-- The figures behind the closure rules, one row per object, as of $as_of (a DATE).
-- Only tips received on or before the as-of day (UTC, the whole day) count. $objects (a
-- list of object ids, or NULL for all) limits the objects, so that one decision in the
-- closure review recomputes one flag, not every flag.
WITH counted AS (
    SELECT object_id, triage_status, suggested_country, reporter_country, received_at
    FROM tips
    WHERE received_at < $as_of::DATE + INTERVAL 1 DAY
      AND ($objects::VARCHAR[] IS NULL OR list_contains($objects::VARCHAR[], object_id))
),
activity AS (
    SELECT object_id,
           count(*) FILTER (WHERE triage_status IN ('new', 'under_review')) AS untriaged_tips,
           max(received_at)::DATE AS last_tip_on
    FROM counted
    GROUP BY object_id
),
per_country AS (
    -- C: actionable or forwarded tips whose suggested country was recognised
    SELECT object_id, suggested_country,
           count(*) AS n,
           count(DISTINCT reporter_country) AS reporter_countries
    FROM counted
    WHERE triage_status IN ('actionable', 'forwarded') AND suggested_country IS NOT NULL
    GROUP BY object_id, suggested_country
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY object_id ORDER BY n DESC, suggested_country) AS rank,
           sum(n) OVER (PARTITION BY object_id) AS countable_tips,
           count(*) OVER (PARTITION BY object_id) AS suggested_countries
    FROM per_country
),
leaders AS (
    SELECT object_id,
           list(struct_pack(country := suggested_country, n := n) ORDER BY rank) FILTER (WHERE rank <= 3) AS top_countries
    FROM ranked
    GROUP BY object_id
)
SELECT o.object_id,
       o.title,
       o.status,
       o.origin_country AS established_origin,
       o.first_published,
       coalesce(a.untriaged_tips, 0)        AS untriaged_tips,
       coalesce(r.countable_tips, 0)        AS countable_tips,
       r.suggested_country                  AS leading_country,
       coalesce(r.n, 0)                     AS leading_tips,
       CASE WHEN r.countable_tips > 0 THEN r.n / r.countable_tips END AS leading_share,
       coalesce(r.reporter_countries, 0)    AS leading_reporter_countries,
       coalesce(r.suggested_countries, 0)   AS suggested_countries,
       a.last_tip_on,
       l.top_countries
FROM objects o
LEFT JOIN activity a ON a.object_id = o.object_id
LEFT JOIN ranked r ON r.object_id = o.object_id AND r.rank = 1
LEFT JOIN leaders l ON l.object_id = o.object_id
WHERE $objects::VARCHAR[] IS NULL OR list_contains($objects::VARCHAR[], o.object_id)
ORDER BY o.object_id
