-- The keys of the records that load, in order of first appearance.
SELECT k
FROM (SELECT first_no, unnest(keys) AS k, generate_subscripts(keys, 1) AS pos FROM _json_scan WHERE bad_no IS NULL)
GROUP BY k
ORDER BY min(first_no), min(pos);
