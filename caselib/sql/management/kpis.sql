-- Headline figures as of $as_of (a DATE; UTC days): objects published, open, closed and
-- identified; tips in total, in the wave $wave (its window; NULL: none chosen) and in the
-- 30 days up to the as-of day; median days from publication to identification.
WITH published AS (
    SELECT * FROM objects WHERE first_published <= $as_of::DATE
),
counted AS (
    SELECT received_at FROM tips WHERE received_at < $as_of::DATE + INTERVAL 1 DAY
),
wave_window AS (
    SELECT w.launched_on AS starts,
           coalesce((SELECT min(n.launched_on) FROM waves n WHERE n.launched_on > w.launched_on),
                    DATE '9999-12-31') AS ends
    FROM waves w WHERE w.wave_id = $wave
)
SELECT
    (SELECT count(*) FROM published)                                                 AS objects_published,
    (SELECT count(*) FROM published WHERE status = 'open')                           AS objects_open,
    (SELECT count(*) FROM published WHERE status IN ('closed', 'withdrawn'))         AS objects_closed,
    (SELECT count(*) FROM published
      WHERE status = 'identified' OR (identified_on IS NOT NULL AND identified_on <= $as_of::DATE)) AS objects_identified,
    (SELECT median(identified_on - first_published) FROM published
      WHERE identified_on IS NOT NULL AND identified_on <= $as_of::DATE)             AS median_days_to_identification,
    (SELECT count(*) FROM counted)                                                   AS tips_total,
    (SELECT count(*) FROM counted, wave_window
      WHERE received_at >= starts AND received_at < ends)                            AS tips_in_wave,
    (SELECT count(*) FROM counted
      WHERE received_at >= $as_of::DATE - INTERVAL 29 DAY)                           AS tips_last_30_days
