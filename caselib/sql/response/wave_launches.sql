-- The waves in launch order, each with its window (wave_windows in rules/campaign.sql):
-- from the launch day to the day before the next launch (window_ends_on is NULL for the
-- latest wave). A wave without a name is shown by its id.
SELECT wave_id, name, launched_on, window_ends_on
FROM wave_windows()
ORDER BY launched_on, wave_id
