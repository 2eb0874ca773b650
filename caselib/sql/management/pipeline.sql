-- The closure pipeline over time: at the end of each month up to $as_of, how many objects
-- had been published, identified and closed (closed or withdrawn, by closed_on).
WITH months AS (
    SELECT unnest(generate_series(
        date_trunc('month', (SELECT min(first_published) FROM objects)),
        date_trunc('month', $as_of::DATE),
        INTERVAL 1 MONTH))::DATE AS month
),
ends AS (
    SELECT month, least((month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE, $as_of::DATE) AS month_end FROM months
)
SELECT e.month,
       e.month_end,
       count(*) FILTER (WHERE o.first_published <= e.month_end)                               AS published,
       count(*) FILTER (WHERE o.identified_on <= e.month_end)                                 AS identified,
       count(*) FILTER (WHERE o.closed_on <= e.month_end AND o.status IN ('closed', 'withdrawn')) AS closed
FROM ends e
CROSS JOIN objects o
GROUP BY e.month, e.month_end
ORDER BY e.month
