-- The closure pipeline over time: at the end of each day in $days (a DATE list: the ends
-- of the months up to the as-of day), how many objects had been published, identified and
-- closed (closed or withdrawn), each object as it stood that day (object_states).
SELECT as_of AS month_end,
       date_trunc('month', as_of)::DATE AS month,
       count(*) FILTER (WHERE published)                         AS published,
       count(*) FILTER (WHERE identified)                        AS identified,
       count(*) FILTER (WHERE status IN ('closed', 'withdrawn')) AS closed
FROM object_states($days::DATE[])
GROUP BY as_of
ORDER BY as_of
