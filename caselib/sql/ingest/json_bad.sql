-- The records of the groups the scan found cannot load (there are some), one row each.
INSERT INTO _json_scan
SELECT r.item_no, g.twice, length(r.item), NULL, r.item_no
FROM (SELECT item_no, item, try(json_keys(item)) AS keys,
             CASE WHEN len(try(json_keys(item))) = 0
                  THEN starts_with(ltrim(item, ' ' || chr(9) || chr(10) || chr(13)), '{') END AS is_object
      FROM _json_items($path)) r
JOIN _json_groups g ON g.keys IS NOT DISTINCT FROM r.keys AND g.is_object IS NOT DISTINCT FROM r.is_object
WHERE g.bad;
