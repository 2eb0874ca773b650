-- Per wave, how fast its response came: tips over its first $days days (day 0 = launch day,
-- UTC), stopping at the next launch, as in wave_response.sql, whose day grid this repeats.
-- half_life_days = the smallest day d with tips over days 0..d >= half the wave's tips in
-- its counted days (2 * cumulative >= total, so 10 tips with 5 on day 0 give 0); NULL when
-- the wave has no tips. peak_day = the day with most tips (the earliest on a tie).
-- complete = every day the wave can count (its first $days days, or its whole window when
-- the next launch comes sooner) lies within the data, so later loads cannot change it.
WITH {{include response/_wave_days}},
grid AS (
    SELECT s.wave_id, s.name, s.launched_on, s.span_days,
           d.day::INTEGER AS day,
           s.launched_on + d.day::INTEGER AS date,
           (s.launched_on + d.day::INTEGER <= e.last_day
            AND s.launched_on + d.day::INTEGER >= coalesce($range_from::DATE, s.launched_on)) AS counted
    FROM spans AS s, data_end AS e, range($days) AS d(day)
    WHERE d.day < s.span_days
),
daily AS (
    SELECT g.*, CASE WHEN g.counted THEN coalesce(p.tips, 0) END AS tips
    FROM grid AS g
    LEFT JOIN per_day AS p ON p.day = g.date
),
running AS (
    SELECT *,
           sum(tips) OVER (PARTITION BY wave_id ORDER BY day) AS cumulative_tips,
           sum(tips) OVER (PARTITION BY wave_id) AS wave_tips
    FROM daily
),
per_wave AS (
    SELECT wave_id,
           count(*) FILTER (WHERE counted) AS counted_days,
           bool_and(counted) AS complete,
           coalesce(sum(tips), 0) AS total_tips,
           max(tips) FILTER (WHERE day = 0) AS launch_day_tips,
           min(day) FILTER (WHERE wave_tips > 0 AND 2 * cumulative_tips >= wave_tips) AS half_life_days,
           arg_max(day, struct_pack(tips := tips, earlier := -day)) FILTER (WHERE counted AND wave_tips > 0) AS peak_day,
           max(tips) FILTER (WHERE counted AND wave_tips > 0) AS peak_tips
    FROM running
    GROUP BY wave_id
)
SELECT s.wave_id, s.name, s.launched_on,
       s.span_days,
       coalesce(p.counted_days, 0) AS counted_days,
       coalesce(p.complete, false) AS complete,
       coalesce(p.total_tips, 0)::BIGINT AS total_tips,
       p.launch_day_tips::BIGINT AS launch_day_tips,
       p.peak_day,
       p.peak_tips::BIGINT AS peak_tips,
       p.half_life_days
FROM spans AS s
LEFT JOIN per_wave AS p USING (wave_id)
ORDER BY s.launched_on, s.wave_id
