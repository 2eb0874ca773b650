-- One page of the chosen tips, newest first (ties by tip id). The count is a separate query:
-- a window count here would materialise every chosen tip before the top-N.
SELECT tip_id, object_id, received_at, channel, language, reporter_country, suggested_country,
       suggested_place, brand, shop, period, triage_status, forwarded_to, tip_text
FROM {{filtered_tips}}
ORDER BY received_at DESC, tip_id
LIMIT $limit OFFSET $offset
