-- Each wave's tips by day since its launch: day 0 is the launch day (UTC), up to day
-- $days - 1. A wave's tips are those received in its window, from its launch day to the
-- day before the next launch (the same window as the wave filter), so a wave's days stop
-- at the next launch. A day is `counted` when it lies in the wave's window, on or after
-- $range_from and on or before the last day of data (the latest tip's day, or $range_to if
-- earlier); days not counted have no tips figure. When $range_wave is given only that
-- wave (and waves launched the same day) is shown.
-- share = the day's tips / the wave's tips over its counted days; cumulative_share likewise.
WITH {{include response/_wave_days}},
grid AS (
    SELECT s.wave_id, s.name, s.launched_on, s.span_days,
           d.day::INTEGER AS day,
           s.launched_on + d.day::INTEGER AS date,
           (d.day < s.span_days
            AND s.launched_on + d.day::INTEGER <= e.last_day
            AND s.launched_on + d.day::INTEGER >= coalesce($range_from::DATE, s.launched_on)) AS counted
    FROM spans AS s, data_end AS e, range($days) AS d(day)
),
daily AS (
    SELECT g.wave_id, g.name, g.launched_on, g.day, g.date, g.counted,
           CASE WHEN g.counted THEN coalesce(p.tips, 0) END AS tips
    FROM grid AS g
    LEFT JOIN per_day AS p ON p.day = g.date
),
running AS (
    SELECT *,
           sum(tips) OVER (PARTITION BY wave_id ORDER BY day) AS cumulative_tips,
           sum(tips) OVER (PARTITION BY wave_id) AS wave_tips
    FROM daily
)
SELECT wave_id, name, launched_on, day, date, counted,
       tips,
       CASE WHEN counted THEN cumulative_tips END::BIGINT AS cumulative_tips,
       CASE WHEN counted AND wave_tips > 0 THEN tips / wave_tips END AS share,
       CASE WHEN counted AND wave_tips > 0 THEN cumulative_tips / wave_tips END AS cumulative_share
FROM running
ORDER BY launched_on, wave_id, day
