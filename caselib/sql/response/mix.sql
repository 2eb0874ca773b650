-- Tips per period and per channel or language ($dimension), with each value's share of
-- the period's tips. Periods as in tips_over_time.sql ($freq, the same range rules), every
-- period x value present (0 tips when none). A missing value counts as 'unknown'. With
-- $top, values beyond the $top most frequent over the whole range become 'other'
-- ('unknown' is never ranked away). share is NULL in a period without tips.
-- Values come in a fixed order: those listed in $order first (in that order), then by
-- tips over the whole range, then 'other', then 'unknown'.
WITH chosen AS (  -- tips per day and value: the filtered tips are read once
    SELECT received_at::DATE AS day,
           coalesce(CASE $dimension WHEN 'channel' THEN f.channel ELSE f.language END, 'unknown') AS value,
           count(*) AS tips
    FROM {{filtered_tips}} AS f
    GROUP BY ALL
),
ranked AS (
    SELECT value, sum(tips) AS tips,
           row_number() OVER (ORDER BY value = 'unknown', sum(tips) DESC, value) AS rank
    FROM chosen
    GROUP BY value
),
grouped AS (
    SELECT value,
           CASE WHEN value <> 'unknown' AND $top::INTEGER IS NOT NULL AND rank > $top::INTEGER
                THEN 'other' ELSE value END AS category
    FROM ranked
),
categories AS (
    SELECT g.category,
           row_number() OVER (ORDER BY
               coalesce(list_position($order::VARCHAR[], g.category), 1000000),
               g.category = 'unknown',
               g.category = 'other',
               sum(r.tips) DESC,
               g.category) AS position
    FROM grouped AS g JOIN ranked AS r USING (value)
    GROUP BY g.category
),
chosen_wave AS (  -- the chosen wave's window (wave_windows in rules/campaign.sql)
    SELECT min(launched_on) AS starts_on, min(window_ends_on) AS ends_on
    FROM wave_windows()
    WHERE wave_id = $range_wave::VARCHAR
),
bounds AS (
    SELECT coalesce(greatest($range_from::DATE, c.starts_on), min(d.day)) AS first_day,
           coalesce(least($range_to::DATE, c.ends_on), max(d.day)) AS last_day
    FROM chosen_wave AS c LEFT JOIN chosen AS d ON true
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
counts AS (
    SELECT date_trunc($freq, c.day)::DATE AS period_start, g.category, sum(c.tips) AS tips
    FROM chosen AS c JOIN grouped AS g USING (value)
    GROUP BY ALL
),
cells AS (
    SELECT p.period_start, p.period_end, k.category, k.position,
           coalesce(n.tips, 0) AS tips
    FROM periods AS p
    CROSS JOIN categories AS k
    LEFT JOIN counts AS n USING (period_start, category)
)
SELECT period_start,
       period_end,
       CASE $freq WHEN 'day' THEN strftime(period_start, '%Y-%m-%d')
                  WHEN 'week' THEN strftime(period_start, '%G-W%V')
                  ELSE strftime(period_start, '%Y-%m') END AS label,
       category,
       tips::BIGINT AS tips,
       sum(tips) OVER (PARTITION BY period_start)::BIGINT AS period_tips,
       CASE WHEN sum(tips) OVER (PARTITION BY period_start) > 0
            THEN tips / sum(tips) OVER (PARTITION BY period_start) END AS share
FROM cells
ORDER BY period_start, position
