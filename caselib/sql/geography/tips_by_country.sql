-- Tips per country among the filtered tips: where they were sent from ($by = 'reporter')
-- or where tipsters say the object comes from ($by = 'suggested'). A NULL country counts
-- its tips and, in with_raw, those that had a value the loader could not recognise (the
-- rest had none); caselib.domain.geography names the two groups '(unrecognised)' and '(none)'.
SELECT CASE WHEN $by = 'reporter' THEN reporter_country ELSE suggested_country END AS country,
       count(*) AS tips,
       count(CASE WHEN $by = 'reporter' THEN reporter_country_raw ELSE suggested_country_raw END) AS with_raw
FROM {{filtered_tips}}
GROUP BY 1
