-- Keys in order of first appearance.
SELECT k
FROM (SELECT item_no, unnest(json_keys(item)) AS k, generate_subscripts(json_keys(item), 1) AS pos FROM _json_records($path))
GROUP BY k
ORDER BY min(item_no), min(pos);
