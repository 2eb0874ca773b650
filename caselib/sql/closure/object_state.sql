-- One object's own columns of closure/figures.sql as of $as_of (what a decision changes;
-- its tips do not).
SELECT status, established_origin, title, first_published
FROM objects_as_of($as_of)
WHERE object_id = $object_id
