-- One object's own columns of closure/figures.sql (what a decision changes; its tips do not).
SELECT status, origin_country AS established_origin, title, first_published
FROM objects
WHERE object_id = $object_id
