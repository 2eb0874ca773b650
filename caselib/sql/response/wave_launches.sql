-- The waves in launch order, each with its window: from the launch day to the day before
-- the next launch (window_ends_on is NULL for the latest wave). A wave without a name is
-- shown by its id.
WITH launch_days AS (
    SELECT launched_on, lead(launched_on) OVER (ORDER BY launched_on) AS next_launch
    FROM (SELECT DISTINCT launched_on FROM waves)
)
SELECT w.wave_id,
       coalesce(w.name, w.wave_id) AS name,
       w.launched_on,
       l.next_launch - 1 AS window_ends_on
FROM waves AS w
JOIN launch_days AS l USING (launched_on)
ORDER BY w.launched_on, w.wave_id
