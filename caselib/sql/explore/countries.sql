-- Recognised countries present in the tips, for the filter pickers.
SELECT DISTINCT 'reporter' AS kind, reporter_country AS country FROM tips WHERE reporter_country IS NOT NULL
UNION
SELECT DISTINCT 'suggested', suggested_country FROM tips WHERE suggested_country IS NOT NULL
ORDER BY kind, country
