-- Tips per country among the filtered tips: where they were sent from ($by = 'reporter')
-- or where tipsters say the object comes from ($by = 'suggested'). Values the loader could
-- not recognise are one group, '(unrecognised)'; tips without a value are '(none)'.
WITH chosen AS (
    SELECT CASE WHEN $by = 'reporter' THEN reporter_country ELSE suggested_country END AS country,
           CASE WHEN $by = 'reporter' THEN reporter_country_raw ELSE suggested_country_raw END AS raw
    FROM {{filtered_tips}}
)
SELECT coalesce(country, CASE WHEN raw IS NOT NULL THEN '(unrecognised)' ELSE '(none)' END) AS country,
       count(*) AS tips
FROM chosen
GROUP BY 1
ORDER BY tips DESC, country
