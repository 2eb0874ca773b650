-- Shared by wave_response.sql and half_life.sql, which include it: each
-- wave's day span (its first $days days, stopping at the next launch: wave_windows in
-- rules/campaign.sql; only the wave
-- launched with $range_wave when given), the last day of data (capped at $range_to)
-- and the filtered tips per UTC day. A list of CTEs, without WITH.
spans AS (
    SELECT w.wave_id,
           w.name,
           w.launched_on,
           least($days, coalesce(w.next_launch - w.launched_on, $days)) AS span_days
    FROM wave_windows() AS w
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
