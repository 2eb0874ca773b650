-- The tips still to triage among those a filter chooses, as the triage view lists them: a
-- tip of a near-duplicate cluster (suggested or confirmed; a rejected cluster's tips are not
-- copies) is folded with the cluster's other untriaged tips into one row, shown by its first
-- tip received, with the member ids a decision on the row applies to. Oldest first: the tips
-- waiting longest are triaged first. rows_total and tips_total count every row and tip
-- chosen, before the limit.
WITH chosen AS (
    SELECT t.tip_id, t.object_id, t.received_at, t.triage_status, t.suggested_country, t.suggested_place,
           t.brand, t.shop, t.tip_text
    FROM {{filtered_tips}} AS t
    WHERE is_untriaged(t.triage_status)
), folded AS (
    SELECT c.*,
           CASE WHEN k.state IN ('suggested', 'confirmed') THEN m.cluster_id END AS cluster_id,
           CASE WHEN k.state IN ('suggested', 'confirmed') THEN k.state END AS cluster_state
    FROM chosen AS c
    LEFT JOIN tip_cluster_members AS m USING (tip_id)
    LEFT JOIN tip_clusters AS k ON k.cluster_id = m.cluster_id
), grouped AS (
    SELECT coalesce(cluster_id, tip_id) AS row_key,
           any_value(cluster_id) AS cluster_id,
           any_value(cluster_state) AS cluster_state,
           count(*) AS members,
           list(tip_id ORDER BY received_at, tip_id) AS member_ids,
           first(tip_id ORDER BY received_at, tip_id) AS tip_id,
           first(object_id ORDER BY received_at, tip_id) AS object_id,
           min(received_at) AS received_at,
           first(triage_status ORDER BY received_at, tip_id) AS triage_status,
           first(suggested_country ORDER BY received_at, tip_id) AS suggested_country,
           first(suggested_place ORDER BY received_at, tip_id) AS suggested_place,
           first(brand ORDER BY received_at, tip_id) AS brand,
           first(shop ORDER BY received_at, tip_id) AS shop,
           first(tip_text ORDER BY received_at, tip_id) AS tip_text
    FROM folded
    GROUP BY coalesce(cluster_id, tip_id)
)
SELECT *, count(*) OVER () AS rows_total, (sum(members) OVER ())::BIGINT AS tips_total
FROM grouped
ORDER BY received_at, row_key
LIMIT $limit
