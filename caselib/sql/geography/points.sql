-- Tips with coordinates counted per point rounded to $digits decimals (2 digits: about
-- 1 km). One row per distinct rounded point, so at most the grid's size, never the tips'.
SELECT round(latitude, $digits) AS latitude,
       round(longitude, $digits) AS longitude,
       count(*) AS tips
FROM {{filtered_tips}}
WHERE latitude IS NOT NULL AND longitude IS NOT NULL
GROUP BY 1, 2
ORDER BY tips DESC, latitude, longitude
