-- The tips still to triage among those a filter chooses, as the triage view lists them: a
-- tip of a near-duplicate cluster (suggested or confirmed; a rejected cluster's tips are not
-- copies) is folded with the cluster's other untriaged tips into one row, shown by its first
-- tip received, with the member ids a decision on the row applies to. Oldest first: the tips
-- waiting longest are triaged first. rows_total and tips_total count every row and tip
-- chosen, before the limit. The tips' fields are read for the rows kept only. member_statuses
-- and member_forwarded are each member's status and country as read (what a decision on the
-- row names as seen, so that a team's shared store refuses it if they changed since).
WITH chosen AS (
    SELECT t.tip_id, t.received_at, t.triage_status, t.forwarded_to
    FROM {{filtered_tips}} AS t
    WHERE is_untriaged(t.triage_status)
), folded AS (
    SELECT c.tip_id, c.received_at, c.triage_status, c.forwarded_to,
           CASE WHEN k.state IN ('suggested', 'confirmed') THEN m.cluster_id END AS cluster_id,
           CASE WHEN k.state IN ('suggested', 'confirmed') THEN k.state END AS cluster_state
    FROM chosen AS c
    LEFT JOIN tip_cluster_members AS m USING (tip_id)
    LEFT JOIN tip_clusters AS k ON k.cluster_id = m.cluster_id
), grouped AS (  -- a tip in no cluster is a row of its own: only clusters are grouped
    SELECT tip_id AS row_key, NULL::VARCHAR AS cluster_id, NULL::VARCHAR AS cluster_state, 1::BIGINT AS members,
           received_at AS first_at, tip_id AS first_tip
    FROM folded WHERE cluster_id IS NULL
    UNION ALL
    SELECT cluster_id, cluster_id, any_value(cluster_state), count(*), min(received_at),
           arg_min(tip_id, (received_at, tip_id))
    FROM folded WHERE cluster_id IS NOT NULL
    GROUP BY cluster_id
), kept AS (
    SELECT *, count(*) OVER () AS rows_total, (sum(members) OVER ())::BIGINT AS tips_total
    FROM grouped
    ORDER BY first_at, row_key
    LIMIT $limit
), member_lists AS (  -- the members of the rows kept only
    SELECT k.row_key, list(f.tip_id ORDER BY f.received_at, f.tip_id) AS member_ids,
           list(f.triage_status ORDER BY f.received_at, f.tip_id) AS member_statuses,
           list(f.forwarded_to ORDER BY f.received_at, f.tip_id) AS member_forwarded
    FROM kept AS k JOIN folded AS f ON f.cluster_id = k.cluster_id
    GROUP BY k.row_key
)
SELECT k.row_key, k.cluster_id, k.cluster_state, k.members, coalesce(l.member_ids, [k.first_tip]) AS member_ids,
       coalesce(l.member_statuses, [t.triage_status]) AS member_statuses,
       coalesce(l.member_forwarded, [t.forwarded_to]) AS member_forwarded,
       t.tip_id, t.object_id, t.received_at, t.triage_status, t.suggested_country, t.suggested_place,
       t.brand, t.shop, t.tip_text, k.rows_total, k.tips_total
FROM kept AS k JOIN tips AS t ON t.tip_id = k.first_tip
LEFT JOIN member_lists AS l USING (row_key)
ORDER BY k.first_at, k.row_key
