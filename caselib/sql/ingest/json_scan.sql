-- One pass over the records, each parsed once (json_keys), grouped by their list of keys:
-- exporters give most records the same keys, so there are a few groups, each with its first
-- record. A group's records cannot load when they are not JSON objects (json_keys gives no
-- list for what is not JSON, and [] for any value that is not an object: an object starts
-- with {), or give a key twice: the same column twice in one record (which value holds is
-- undefined), as a CSV file repeating a header is refused.
CREATE OR REPLACE TEMP TABLE _json_groups AS
SELECT keys, is_object, min(item_no) AS first_no,
       NOT coalesce(is_object, true) OR keys IS NULL OR len(keys) <> len(list_distinct(keys)) AS bad,
       coalesce(len(keys) <> len(list_distinct(keys)), false) AS twice
FROM (
    SELECT item_no, keys,
           CASE WHEN len(keys) = 0 THEN starts_with(ltrim(item, ' ' || chr(9) || chr(10) || chr(13)), '{') END AS is_object
    FROM (SELECT item_no, item, try(json_keys(item)) AS keys FROM _json_items($path))
)
GROUP BY keys, is_object;
