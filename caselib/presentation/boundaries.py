"""Country outlines for maps: Natural Earth 1:110m, shipped with the package, keyed by alpha-3.

The file is ``caselib/data/countries_110m.geojson``; ``data/boundaries/README.md`` says where
it comes from and how it was made. Nothing here reads from the network.

geopandas is imported by the functions, not by this module, so that ``import caselib`` stays
light.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from caselib.config import PACKAGE_DIR
from caselib.domain.countries import country_name

if TYPE_CHECKING:
    import geopandas

__all__ = ["BOUNDARIES_FILE", "countries", "small_countries"]

BOUNDARIES_FILE = PACKAGE_DIR / "data" / "countries_110m.geojson"


@functools.cache
def _read() -> geopandas.GeoDataFrame:
    import geopandas

    frame = geopandas.read_file(BOUNDARIES_FILE, engine="pyogrio")
    frame["name"] = frame["iso3"].map(country_name).fillna(frame["ne_name"])
    return frame[["iso3", "name", "continent", "geometry"]].set_crs("EPSG:4326", allow_override=True)


def countries() -> geopandas.GeoDataFrame:
    """Return the country outlines: one row per country with an outline at 1:110m.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``iso3`` (ISO 3166-1 alpha-3, ``XKX`` for Kosovo; unique), ``name``
        (caselib's English display name), ``continent`` and ``geometry`` (Polygon or
        MultiPolygon, longitude/latitude in degrees, EPSG:4326), sorted by ``iso3``.
        About 175 countries; the territories Natural Earth draws as part of another
        country at this scale (French Guiana in France) and the countries too small for
        it (see `small_countries`) have no row. A fresh copy on every call; the file is
        read once.
    """
    frame = _read()
    polygons = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    return polygons.reset_index(drop=True).copy()


def small_countries() -> geopandas.GeoDataFrame:
    """Return the countries too small to have an outline at 1:110m, as points at their capital.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``iso3``, ``name``, ``continent`` (empty) and ``geometry`` (Point, EPSG:4326),
        one row for each of Malta, Singapore, Bahrain, Monaco and about 25 other states; none
        of them is in `countries`.
    """
    frame = _read()
    return frame[frame.geom_type == "Point"].reset_index(drop=True).copy()
