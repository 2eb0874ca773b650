-- Headline figures as of $as_of (a DATE; UTC days) that the closure flags do not carry:
-- objects identified by then and the median days from publication to identification (the
-- objects as they stood that day: objects_as_of); tips received by then in total, in the
-- window of wave $wave (NULL: none chosen) and in the 30 days up to the as-of day.
WITH published AS (
    SELECT * FROM objects_as_of($as_of) WHERE published
),
counted AS (
    SELECT received_at FROM tips WHERE received_by(received_at, $as_of)
)
SELECT
    (SELECT count(*) FILTER (WHERE identified) FROM published)                        AS objects_identified,
    (SELECT median(identified_on - first_published) FROM published WHERE identified_on IS NOT NULL)
                                                                                      AS median_days_to_identification,
    (SELECT count(*) FROM counted)                                                    AS tips_total,
    (SELECT count(*) FROM counted WHERE $wave::VARCHAR IS NOT NULL AND in_wave_window(received_at, $wave::VARCHAR))
                                                                                      AS tips_in_wave,
    (SELECT count(*) FROM counted WHERE received_at >= $as_of::DATE - INTERVAL 29 DAY) AS tips_last_30_days
