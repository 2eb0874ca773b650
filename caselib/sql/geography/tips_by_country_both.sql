-- Tips per reporter country and per suggested country among the filtered tips, in one scan
-- (grouping sets). Same groups as tips_by_country.sql: '(unrecognised)' and '(none)'.
WITH chosen AS (
    SELECT coalesce(reporter_country, CASE WHEN reporter_country_raw IS NOT NULL THEN '(unrecognised)' ELSE '(none)' END) AS reporter,
           coalesce(suggested_country, CASE WHEN suggested_country_raw IS NOT NULL THEN '(unrecognised)' ELSE '(none)' END) AS suggested
    FROM {{filtered_tips}}
)
SELECT CASE WHEN grouping(reporter) = 0 THEN 'reporter' ELSE 'suggested' END AS kind,
       coalesce(reporter, suggested) AS country,
       count(*) AS tips
FROM chosen
GROUP BY GROUPING SETS ((reporter), (suggested))
ORDER BY kind, tips DESC, country
