-- Tips per period ($freq: 'day' = UTC day, 'week' = ISO week from Monday, 'month'), every
-- period of the range present (0 when no tip came), with the waves launched in it.
-- The range runs from the first to the last chosen tip, narrowed to the chosen date range
-- ($range_from, $range_to) and wave window ($range_wave) where those are given, so that
-- quiet days at either end of a chosen range show as zeros.
WITH per_day AS (
    SELECT received_at::DATE AS day, count(*) AS tips
    FROM {{filtered_tips}} AS f
    GROUP BY ALL
),
launch_days AS (
    SELECT launched_on, lead(launched_on) OVER (ORDER BY launched_on) AS next_launch
    FROM (SELECT DISTINCT launched_on FROM waves)
),
chosen_wave AS (
    SELECT min(l.launched_on) AS starts_on, min(l.next_launch) - 1 AS ends_on
    FROM waves AS w JOIN launch_days AS l USING (launched_on)
    WHERE w.wave_id = $range_wave::VARCHAR
),
bounds AS (
    SELECT coalesce(greatest($range_from::DATE, c.starts_on), min(d.day)) AS first_day,
           coalesce(least($range_to::DATE, c.ends_on), max(d.day)) AS last_day
    FROM chosen_wave AS c LEFT JOIN per_day AS d ON true
    GROUP BY c.starts_on, c.ends_on
),
step AS (
    SELECT CASE $freq WHEN 'day' THEN INTERVAL 1 DAY
                      WHEN 'week' THEN INTERVAL 7 DAY
                      ELSE INTERVAL 1 MONTH END AS length
),
periods AS (
    SELECT p.generate_series::DATE AS period_start,
           (p.generate_series + step.length - INTERVAL 1 DAY)::DATE AS period_end
    FROM bounds, step,
         generate_series(date_trunc($freq, bounds.first_day), date_trunc($freq, bounds.last_day), step.length) AS p
),
per_period AS (
    SELECT date_trunc($freq, day)::DATE AS period_start, sum(tips) AS tips
    FROM per_day
    GROUP BY ALL
),
launches AS (
    SELECT date_trunc($freq, launched_on)::DATE AS period_start,
           string_agg(wave_id, ', ' ORDER BY launched_on, wave_id) AS launched_waves
    FROM waves
    GROUP BY ALL
)
SELECT p.period_start,
       p.period_end,
       CASE $freq WHEN 'day' THEN strftime(p.period_start, '%Y-%m-%d')
                  WHEN 'week' THEN strftime(p.period_start, '%G-W%V')
                  ELSE strftime(p.period_start, '%Y-%m') END AS label,
       coalesce(c.tips, 0)::BIGINT AS tips,
       l.launched_waves
FROM periods AS p
LEFT JOIN per_period AS c USING (period_start)
LEFT JOIN launches AS l USING (period_start)
ORDER BY p.period_start
