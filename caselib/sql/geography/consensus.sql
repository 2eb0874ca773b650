-- Origin consensus per object as of $as_of: among its countable tips (actionable or
-- forwarded, with a recognised suggested country, received on or before the as-of day),
-- the share suggesting each country, with a Wilson score interval at z = $z, and the
-- number of distinct recognised reporter countries behind each suggestion.
-- $objects: a list of object ids, or NULL for every object.
WITH countable AS (
    SELECT object_id, suggested_country AS country, reporter_country
    FROM tips
    WHERE received_at < $as_of::DATE + INTERVAL 1 DAY
      AND triage_status IN ('actionable', 'forwarded')
      AND suggested_country IS NOT NULL
      AND ($objects::VARCHAR[] IS NULL OR list_contains($objects::VARCHAR[], object_id))
),
per_country AS (
    SELECT object_id, country, count(*) AS tips, count(DISTINCT reporter_country) AS reporter_countries
    FROM countable
    GROUP BY object_id, country
),
shares AS (
    SELECT *,
           sum(tips) OVER (PARTITION BY object_id) AS countable_tips,
           row_number() OVER (PARTITION BY object_id ORDER BY tips DESC, country) AS rank
    FROM per_country
),
wilson AS (
    SELECT *,
           tips / countable_tips AS share,
           ($z * $z) / countable_tips AS z2n
    FROM shares
)
SELECT object_id, rank, country, tips, countable_tips, reporter_countries, share,
       greatest(0.0, (share + z2n / 2 - $z * sqrt(share * (1 - share) / countable_tips + z2n / (4 * countable_tips))) / (1 + z2n)) AS share_low,
       least(1.0, (share + z2n / 2 + $z * sqrt(share * (1 - share) / countable_tips + z2n / (4 * countable_tips))) / (1 + z2n)) AS share_high
FROM wilson
ORDER BY object_id, rank
