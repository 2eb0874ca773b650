-- _json_scan: the groups of records that load (their keys, their first record); the records
-- of the others are added one by one by json_bad, a second pass made only when there are any.
CREATE OR REPLACE TEMP TABLE _json_scan AS
SELECT NULL::BIGINT AS bad_no, false AS twice, NULL::BIGINT AS length, keys, first_no
FROM _json_groups
WHERE NOT bad;
