-- Tips with coordinates counted per hexagon of $size degrees (pointy-top hexagons on the
-- longitude/latitude plane, axial coordinates q, r; cube rounding picks the hexagon).
-- The result has one row per occupied hexagon: its size is bounded by the grid, never by
-- the number of tips.
WITH points AS (
    SELECT longitude AS x, latitude AS y
    FROM {{filtered_tips}}
    WHERE latitude IS NOT NULL AND longitude IS NOT NULL
),
fractional AS (
    SELECT (sqrt(3) / 3 * x - y / 3) / $size AS q, (2.0 / 3 * y) / $size AS r FROM points
),
cube AS (
    SELECT q, r, -q - r AS s, round(q) AS rq, round(r) AS rr, round(-q - r) AS rs FROM fractional
),
hexes AS (
    SELECT CASE WHEN abs(rq - q) > abs(rr - r) AND abs(rq - q) > abs(rs - s) THEN -rr - rs ELSE rq END AS hq,
           CASE WHEN abs(rq - q) > abs(rr - r) AND abs(rq - q) > abs(rs - s) THEN rr
                WHEN abs(rr - r) > abs(rs - s) THEN -rq - rs
                ELSE rr END AS hr
    FROM cube
)
SELECT hq::INTEGER AS q, hr::INTEGER AS r,
       $size * sqrt(3) * (hq + hr / 2) AS longitude,
       $size * 1.5 * hr AS latitude,
       count(*) AS tips
FROM hexes
GROUP BY hq, hr
ORDER BY tips DESC, q, r
