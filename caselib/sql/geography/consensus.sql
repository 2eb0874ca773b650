-- Origin consensus per object as of $as_of: among its countable tips, the share suggesting
-- each country (suggested_origins in rules/campaign.sql, which also ranks the leading
-- country), with a Wilson score interval at z = $z. $objects: a list of object ids, or NULL.
WITH wilson AS (
    SELECT *,
           tips / countable_tips AS share,
           ($z * $z) / countable_tips AS z2n
    FROM suggested_origins($as_of, $objects::VARCHAR[])
)
SELECT object_id, rank, country, tips, countable_tips, reporter_countries, share,
       greatest(0.0, (share + z2n / 2 - $z * sqrt(share * (1 - share) / countable_tips + z2n / (4 * countable_tips))) / (1 + z2n)) AS share_low,
       least(1.0, (share + z2n / 2 + $z * sqrt(share * (1 - share) / countable_tips + z2n / (4 * countable_tips))) / (1 + z2n)) AS share_high
FROM wilson
ORDER BY object_id, rank
