-- Shared by wave_response.sql and half_life.sql, which include it: each
-- wave's day span (its first $days days, stopping at the next launch; only the wave
-- launched with $range_wave when given), the last day of data (capped at $range_to)
-- and the filtered tips per UTC day. A list of CTEs, without WITH.
launch_days AS (
    SELECT launched_on, lead(launched_on) OVER (ORDER BY launched_on) AS next_launch
    FROM (SELECT DISTINCT launched_on FROM waves)
),
spans AS (
    SELECT w.wave_id,
           coalesce(w.name, w.wave_id) AS name,
           w.launched_on,
           least($days, coalesce(l.next_launch - w.launched_on, $days)) AS span_days
    FROM waves AS w
    JOIN launch_days AS l USING (launched_on)
    WHERE $range_wave::VARCHAR IS NULL
       OR w.launched_on = (SELECT launched_on FROM waves WHERE wave_id = $range_wave::VARCHAR)
),
data_end AS (
    SELECT CASE WHEN max(received_at) IS NOT NULL
                THEN least(max(received_at)::DATE, $range_to::DATE) END AS last_day
    FROM tips
),
per_day AS (
    SELECT received_at::DATE AS day, count(*) AS tips
    FROM {{filtered_tips}} AS f
    GROUP BY ALL
)
