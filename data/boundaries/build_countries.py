"""Build caselib/data/countries_110m.geojson from the Natural Earth files geopandas 0.14.4 shipped.

Run once, from the project root, with the project's venv (it needs geopandas and caselib):

    pip download geopandas==0.14.4 --no-deps -d /tmp/ne
    .venv/bin/python data/boundaries/build_countries.py /tmp/ne/geopandas-0.14.4-py3-none-any.whl

The wheel's ``geopandas/datasets/naturalearth_lowres`` is Natural Earth's
``ne_110m_admin_0_countries`` (version 5.1, public domain), cut down by geopandas to a few
columns, with ISO_A3 "-99" replaced by ADM0_A3 for France and Norway and Crimea drawn as
part of Ukraine. ``naturalearth_cities`` is ``ne_110m_populated_places``; it gives a point
for the countries that have no outline at 1:110m (Malta, Singapore, most island states).

What this script changes, so that every feature carries the alpha-3 code caselib stores
(see caselib.domain.countries.normalise_country):

- Kosovo, still "-99" in the file, becomes XKX.
- Northern Cyprus (NE's CYN) and Somaliland (NE's SOL) have no ISO 3166-1 code; ISO counts
  them as parts of Cyprus and Somalia, and so does the intake contract, so their outlines
  are merged into CYP and SOM.
- Exterior rings run anticlockwise and holes clockwise (a hole then stays empty under SVG's
  default fill rule), coordinates are snapped to a 0.001 degree grid (about 100 m, far
  finer than the 1:110m generalisation) and every geometry is checked to be valid.
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from caselib.domain.countries import country_name, normalise_country

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "caselib" / "data" / "countries_110m.geojson"
GRID = 0.001

# NE codes that are not ISO 3166-1, and the alpha-3 whose outline they belong to.
MERGE_INTO = {"CYN": "CYP", "SOL": "SOM"}

# Capitals in ne_110m_populated_places of the countries with no outline at 1:110m.
SMALL_COUNTRY_CAPITALS = {
    "Andorra": "AND",
    "Apia": "WSM",
    "Basseterre": "KNA",
    "Bridgetown": "BRB",
    "Castries": "LCA",
    "Funafuti": "TUV",
    "Hong Kong": "HKG",
    "Kingstown": "VCT",
    "Majuro": "MHL",
    "Malé": "MDV",
    "Manama": "BHR",
    "Melekeok": "PLW",
    "Monaco": "MCO",
    "Moroni": "COM",
    "Nuku'alofa": "TON",
    "Palikir": "FSM",
    "Port Louis": "MUS",
    "Praia": "CPV",
    "Roseau": "DMA",
    "Saint George's": "GRD",
    "Saint John's": "ATG",
    "San Marino": "SMR",
    "Singapore": "SGP",
    "São Tomé": "STP",
    "Tarawa": "KIR",
    "Vaduz": "LIE",
    "Valletta": "MLT",
    "Vatican City": "VAT",
    "Victoria": "SYC",
}


def _extract(wheel: Path, folder: Path) -> tuple[Path, Path]:
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith("geopandas/datasets/naturalearth_")]
        archive.extractall(folder, members)
    datasets = folder / "geopandas" / "datasets"
    return (
        datasets / "naturalearth_lowres" / "naturalearth_lowres.shp",
        datasets / "naturalearth_cities" / "naturalearth_cities.shp",
    )


def outlines(path: Path) -> gpd.GeoDataFrame:
    """Country polygons keyed by alpha-3, one row per country."""
    world = gpd.read_file(path)
    codes = world["iso_a3"].where(world["iso_a3"] != "-99", world["name"].map(normalise_country))
    world["iso3"] = codes.replace(MERGE_INTO)
    unknown = world.loc[world["iso3"].map(country_name).isna(), ["name", "iso_a3"]]
    if len(unknown):
        raise SystemExit(f"No alpha-3 code for: {unknown.to_dict('records')}")
    # Merging keeps the name and continent of the ISO country, not those of the merged part.
    world["is_merged_part"] = world["iso_a3"].isin(MERGE_INTO.keys())
    world = world.sort_values(["iso3", "is_merged_part"])
    merged = world.dissolve(by="iso3", aggfunc={"name": "first", "continent": "first"})
    merged = merged.reset_index().rename(columns={"name": "ne_name"})
    geometry = shapely.set_precision(merged.geometry.values, GRID)
    merged["geometry"] = shapely.orient_polygons(shapely.make_valid(geometry), exterior_cw=False)
    return merged[["iso3", "ne_name", "continent", "geometry"]]


def small_countries(path: Path, drawn: set[str]) -> gpd.GeoDataFrame:
    """Capital points of the countries that `outlines` has no polygon for."""
    places = gpd.read_file(path)
    points = places[places["name"].isin(SMALL_COUNTRY_CAPITALS.keys())].copy()
    missing = set(SMALL_COUNTRY_CAPITALS) - set(points["name"])
    if missing:
        raise SystemExit(f"Capitals not in ne_110m_populated_places: {sorted(missing)}")
    points["iso3"] = points["name"].map(SMALL_COUNTRY_CAPITALS)
    overlap = set(points["iso3"]) & drawn
    if overlap:
        raise SystemExit(f"Already drawn as outlines, drop from SMALL_COUNTRY_CAPITALS: {sorted(overlap)}")
    points["ne_name"] = points["iso3"].map(country_name)
    points["continent"] = None
    points["geometry"] = shapely.set_precision(points.geometry.values, GRID)
    return points[["iso3", "ne_name", "continent", "geometry"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="geopandas-0.14.4-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lowres, cities = _extract(args.wheel, Path(tmp))
        polygons = outlines(lowres)
        points = small_countries(cities, set(polygons["iso3"]))
    countries = pd.concat([polygons, points], ignore_index=True).sort_values("iso3")
    countries = gpd.GeoDataFrame(countries, geometry="geometry", crs="EPSG:4326")
    assert countries["iso3"].is_unique and countries.is_valid.all()
    args.out.unlink(missing_ok=True)
    countries.to_file(
        args.out, driver="GeoJSON", engine="pyogrio",
        layer_options={"COORDINATE_PRECISION": "3", "RFC7946": "YES", "WRITE_NAME": "NO"},
    )
    print(f"{args.out}: {len(polygons)} outlines, {len(points)} points, {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
