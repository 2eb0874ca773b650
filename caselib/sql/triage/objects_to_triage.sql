-- The objects with tips still to triage among those a filter chooses, the most first: the
-- triage view's choice of object.
SELECT t.object_id, coalesce(o.title, '') AS title, count(*) AS untriaged
FROM {{filtered_tips}} AS t
LEFT JOIN objects AS o USING (object_id)
WHERE is_untriaged(t.triage_status)
GROUP BY t.object_id, o.title
ORDER BY untriaged DESC, t.object_id
