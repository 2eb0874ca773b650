-- The figures behind the closure rules, one row per object, as of $as_of (a DATE): the
-- object as it stood at the end of that day (objects_as_of) and the tips received by then
-- (the rules' macros in rules/campaign.sql). $objects (a list of object ids, or NULL for
-- all) limits the objects, so that one decision in the closure review recomputes one flag.
WITH activity AS (
    SELECT object_id,
           count(*) FILTER (WHERE is_untriaged(triage_status)) AS untriaged_tips,
           max(received_at)::DATE AS last_tip_on
    FROM tips_as_of($as_of)
    WHERE received_by(received_at, $as_of)
      AND ($objects::VARCHAR[] IS NULL OR list_contains($objects::VARCHAR[], object_id))
    GROUP BY object_id
),
origins AS (
    SELECT * FROM suggested_origins($as_of, $objects::VARCHAR[])
),
leaders AS (
    SELECT object_id,
           list(struct_pack(country := country, n := tips) ORDER BY rank) FILTER (WHERE rank <= 3) AS top_countries
    FROM origins
    GROUP BY object_id
)
SELECT o.object_id,
       o.title,
       o.status,
       o.established_origin,
       o.first_published,
       coalesce(a.untriaged_tips, 0)        AS untriaged_tips,
       coalesce(r.countable_tips, 0)        AS countable_tips,
       r.country                            AS leading_country,
       coalesce(r.tips, 0)                  AS leading_tips,
       CASE WHEN r.countable_tips > 0 THEN r.tips / r.countable_tips END AS leading_share,
       coalesce(r.reporter_countries, 0)    AS leading_reporter_countries,
       coalesce(r.suggested_countries, 0)   AS suggested_countries,
       coalesce(r.duplicate_tips, 0)        AS duplicate_tips,
       coalesce(r.duplicate_groups, 0)      AS duplicate_groups,
       a.last_tip_on,
       l.top_countries
FROM objects_as_of($as_of) AS o
LEFT JOIN activity AS a ON a.object_id = o.object_id
LEFT JOIN origins AS r ON r.object_id = o.object_id AND r.rank = 1
LEFT JOIN leaders AS l ON l.object_id = o.object_id
WHERE $objects::VARCHAR[] IS NULL OR list_contains($objects::VARCHAR[], o.object_id)
ORDER BY o.object_id
