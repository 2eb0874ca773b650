-- One page of the chosen tips, newest first (ties by tip id). The count is a separate query:
-- a window count here would materialise every chosen tip before the top-N. The language
-- detected in a tip's text (tip_languages, for tips the intake system gave none) is looked
-- up for the page's tips only.
WITH page AS (
    SELECT tip_id, object_id, received_at, channel, language, reporter_country, suggested_country,
           suggested_place, brand, shop, period, triage_status, forwarded_to, tip_text
    FROM {{filtered_tips}}
    ORDER BY received_at DESC, tip_id
    LIMIT $limit OFFSET $offset
)
SELECT page.*, d.detected_language, d.confidence AS detected_confidence
FROM page LEFT JOIN tip_languages AS d USING (tip_id)
ORDER BY page.received_at DESC, page.tip_id
