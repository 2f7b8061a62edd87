"""Convert the open data in ../shared/data into the small package data files of safecities/data/.

Run once (and again when a source changes):  .venv/bin/python scripts/build_reference_data.py
The package never reads ../shared at run time: the demo works with no network and no sibling folder.

Sources and licences are written to safecities/data/SOURCES.md beside the files.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, mapping

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "safecities" / "data"
LAMBERT_2008 = "EPSG:3812"

# French names of the 19 Brussels municipalities (the Statbel-derived shapefile has Dutch names).
BRUSSELS_FR = {
    "21001": "Anderlecht", "21002": "Auderghem", "21003": "Berchem-Sainte-Agathe",
    "21004": "Bruxelles", "21005": "Etterbeek", "21006": "Evere", "21007": "Forest",
    "21008": "Ganshoren", "21009": "Ixelles", "21010": "Jette", "21011": "Koekelberg",
    "21012": "Molenbeek-Saint-Jean", "21013": "Saint-Gilles", "21014": "Saint-Josse-ten-Noode",
    "21015": "Schaerbeek", "21016": "Uccle", "21017": "Watermael-Boitsfort",
    "21018": "Woluwe-Saint-Lambert", "21019": "Woluwe-Saint-Pierre",
}  # fmt: skip
OTHER_CITY_MUNICIPALITIES = {"11002": ("antwerp", "Anvers"), "44021": ("ghent", "Gand")}

# Brussels local police zones (command posts), keyed by the ipz code of gemeente_politiezone.xlsx
POLICE_ZONES = {
    "ipz25": "ZP Midi / PZ Zuid (5341)",
    "ipz26": "ZP Uccle/W-B/Auderghem / PZ Ukkel/W-B/Oudergem (5343)",
    "ipz27": "ZP Bruxelles-Ouest / PZ Brussel-West (5340)",
    "ipz28": "ZP Bruxelles-Capitale Ixelles / PZ Brussel-Hoofdstad Elsene (5339)",
    "ipz29": "ZP Montgomery / PZ Montgomery (5342)",
    "ipz30": "ZP Polbruno / PZ Polbruno (5344)",
}
RAILWAY_POLICE_POST = "SPC Police des chemins de fer / Spoorwegpolitie Brussel"

CITIES = [
    {"id": "brussels", "name_nl": "Brussel", "name_fr": "Bruxelles", "name_en": "Brussels",
     "main_station": "nmbs:008812005"},
    {"id": "antwerp", "name_nl": "Antwerpen", "name_fr": "Anvers", "name_en": "Antwerp",
     "main_station": "nmbs:008821006"},
    {"id": "ghent", "name_nl": "Gent", "name_fr": "Gand", "name_en": "Ghent",
     "main_station": "nmbs:008892007"},
    {"id": "liege", "name_nl": "Luik", "name_fr": "Liège", "name_en": "Liege",
     "main_station": "nmbs:008841004"},
    {"id": "charleroi", "name_nl": "Charleroi", "name_fr": "Charleroi", "name_en": "Charleroi",
     "main_station": "nmbs:008872009"},
    {"id": "mons", "name_nl": "Bergen", "name_fr": "Mons", "name_en": "Mons",
     "main_station": "nmbs:008881000"},
]  # fmt: skip
# Walloon municipality polygons are not in the bundled Statbel-derived file: their stations are
# attached to the city by distance to the main station (documented approximation).
WALLOON_RADIUS_M = 6000

# STIB metro and premetro lines as ordered lists of GTFS parent-station ids (2019 feed), transcribed
# from the public STIB network map. Parent ids follow the line order in the feed itself.
LINES: dict[str, list[int]] = {
    "1": [2, 1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
    "5": [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
          31, 32, 33, 34, 35, 36, 37],
    "2": [59, 60, 1, 2, 38, 39, 40, 41, 42, 43, 44, 45, 18, 46, 47, 48, 49, 50, 51],
    "6": [52, 53, 54, 55, 56, 57, 58, 59, 60, 1, 2, 38, 39, 40, 41, 42, 43, 44, 45, 18,
          46, 47, 48, 49, 50, 51],
    "3": [61, 48, 15, 62, 63, 64, 40, 41, 65, 66, 67],
    "4": [61, 48, 15, 62, 63, 64, 40, 41, 65, 66, 67],
    "7": [68, 22, 69, 70],
    "25": [68, 22, 69, 70],
}  # fmt: skip
METRO_LINES = {"1", "2", "5", "6"}

# Named zones: how each polygon is drawn, so a user can redo or replace it.
# (id, name, kind, centre: ("station", id) or ("point", lat, lon), radius m, how)
NAMED_ZONES = [
    ("clemenceau", "Clemenceau", "hotspot", ("station", "stib:39"), 350,
     "350 m buffer around Clemenceau metro station (Anderlecht), where 2025 shootings clustered"),
    ("peterbos", "Peterbos", "hotspot", ("point", 50.8418, 4.2848), 350,
     "350 m buffer around the centre of the Peterbos housing estate (Anderlecht); replace with the "
     "estate outline from the municipality's cadastre when available"),
    ("gare-du-nord", "Gare du Nord / Noordstation", "hotspot", ("station", "nmbs:008812005"), 450,
     "450 m buffer around Brussels-North railway station (Schaerbeek / Saint-Josse / Brussels)"),
    ("parc-bonnevie", "Parc Bonnevie / Bonneviepark", "hotspot", ("point", 50.8556, 4.3318), 300,
     "300 m buffer around Bonnevie park (Molenbeek-Saint-Jean)"),
    ("matonge", "Matonge", "hotspot", ("point", 50.8346, 4.3648), 300,
     "300 m buffer around the Matonge district centre (Chaussee de Wavre, Ixelles)"),
    ("railway-north", "Brussels-North priority terrain", "railway_priority",
     ("station", "nmbs:008812005"), 600,
     "600 m buffer around Brussels-North: railway police priority terrain (station and around)"),
    ("railway-central", "Brussels-Central priority terrain", "railway_priority",
     ("station", "nmbs:008813003"), 500,
     "500 m buffer around Brussels-Central: railway police priority terrain"),
    ("railway-south", "Brussels-South priority terrain", "railway_priority",
     ("station", "nmbs:008814001"), 600,
     "600 m buffer around Brussels-South (Midi): railway police priority terrain"),
]  # fmt: skip
METRO_ZONE_RADIUS_M = 150


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def build_municipalities(shared: Path) -> gpd.GeoDataFrame:
    base = shared / "be-boundaries" / "statbel_flanders_brussels"
    g = gpd.read_file(base / "gemeente2024.shp")
    g["nis"] = g["gemeente"].astype(str)
    pz = pd.read_excel(base / "gemeente_politiezone.xlsx").astype(str)
    pz_of = dict(zip(pz["gemeente"], pz["politiezone"], strict=True))
    keep = g[g["nis"].isin(set(BRUSSELS_FR) | set(OTHER_CITY_MUNICIPALITIES))].copy()
    keep["city"] = [
        "brussels" if n in BRUSSELS_FR else OTHER_CITY_MUNICIPALITIES[n][0] for n in keep["nis"]
    ]
    keep["name_nl"] = keep["naam"]
    keep["name_fr"] = [BRUSSELS_FR.get(n) or OTHER_CITY_MUNICIPALITIES[n][1] for n in keep["nis"]]
    keep["police_zone"] = [
        POLICE_ZONES.get(pz_of.get(n, ""), pz_of.get(n, "")) for n in keep["nis"]
    ]
    metric = keep.to_crs(LAMBERT_2008)
    metric["geometry"] = metric.geometry.simplify(5.0, preserve_topology=True)
    metric["area_m2"] = metric.geometry.area.round(0)
    out = metric.to_crs("EPSG:4326")
    return out[
        ["nis", "city", "name_nl", "name_fr", "police_zone", "area_m2", "geometry"]
    ].sort_values("nis")


def build_stations(shared: Path, munis: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    stib = pd.read_csv(shared / "stib-stops" / "stib_gtfs_stops_2019-06.txt", dtype=str)
    parents = stib[stib["location_type"].str.strip() == "1"]
    lines_of: dict[int, list[str]] = {}
    for line, ids in LINES.items():
        for pid in ids:
            lines_of.setdefault(pid, []).append(line)
    for _, r in parents.iterrows():
        pid = int(r["stop_id"])
        served = sorted(lines_of.get(pid, []), key=int)
        rows.append({
            "id": f"stib:{pid}", "kind": "metro", "name": r["stop_name"].strip().title(),
            "name_nl": None, "name_fr": r["stop_name"].strip().title(), "lines": served,
            "mode": "metro" if METRO_LINES & set(served) else "premetro",
            "lat": float(r["stop_lat"]), "lon": float(r["stop_lon"]),
            "source": "STIB-MIVB GTFS 2019-06 (parent station)",
        })  # fmt: skip
    rail = pd.read_csv(shared / "irail-stations" / "stations.csv", dtype=str)
    rail = rail[rail["country-code"] == "be"]
    for _, r in rail.iterrows():
        code = r["URI"].rsplit("/", 1)[-1]
        rows.append({
            "id": f"nmbs:{code}", "kind": "railway", "name": r["name"],
            "name_nl": r["alternative-nl"] if isinstance(r["alternative-nl"], str) else r["name"],
            "name_fr": r["alternative-fr"] if isinstance(r["alternative-fr"], str) else r["name"],
            "lines": [], "mode": "railway", "lat": float(r["latitude"]),
            "lon": float(r["longitude"]), "source": "iRail stations.csv (NMBS/SNCB), CC0",
        })  # fmt: skip
    st = gpd.GeoDataFrame(rows, geometry=[Point(r["lon"], r["lat"]) for r in rows], crs="EPSG:4326")
    joined = gpd.sjoin(st, munis[["nis", "city", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    st["municipality"] = joined["nis"]
    st["city"] = joined["city"]
    # Walloon cities: attach stations within WALLOON_RADIUS_M of the city's main station.
    metric = st.to_crs(LAMBERT_2008)
    for c in CITIES:
        if c["id"] in set(munis["city"]):
            continue
        centre = metric.loc[metric["id"] == c["main_station"], "geometry"].iloc[0]
        near = metric.geometry.distance(centre) <= WALLOON_RADIUS_M
        st.loc[near & st["city"].isna(), "city"] = c["id"]
    st = st[st["city"].notna()].copy()  # only the six cities of the plan are bundled
    return st.sort_values("id")


def build_zones(stations: gpd.GeoDataFrame, munis: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    st_m = stations.to_crs(LAMBERT_2008).set_index("id")
    munis_m = munis[munis["city"] == "brussels"].to_crs(LAMBERT_2008)
    rows = []

    def post_for(centre: Point) -> str:
        hit = munis_m[munis_m.contains(centre)]
        return hit["police_zone"].iloc[0] if len(hit) else RAILWAY_POLICE_POST

    for zid, name, kind, centre_spec, radius, how in NAMED_ZONES:
        if centre_spec[0] == "station":
            centre = st_m.loc[centre_spec[1], "geometry"]
        else:
            centre = gpd.GeoSeries([Point(centre_spec[2], centre_spec[1])], crs="EPSG:4326").to_crs(
                LAMBERT_2008
            )[0]
        post = RAILWAY_POLICE_POST if kind == "railway_priority" else post_for(centre)
        rows.append({"id": zid, "name": name, "kind": kind, "command_post": post, "drawn_how": how,
                     "geometry": centre.buffer(radius, 32)})  # fmt: skip
    metro = st_m[(st_m["kind"] == "metro") & (st_m["city"] == "brussels")]
    for sid, r in metro.iterrows():
        rows.append({
            "id": f"metro-{slug(r['name'])}", "name": f"Metro {r['name']}",
            "kind": "approved_patrol_area", "command_post": post_for(r.geometry),
            "drawn_how": f"{METRO_ZONE_RADIUS_M} m buffer around the STIB station {sid} "
                         f"({'/'.join(r['lines']) or 'no line known'})",
            "geometry": r.geometry.buffer(METRO_ZONE_RADIUS_M, 16),
        })  # fmt: skip
    z = gpd.GeoDataFrame(rows, crs=LAMBERT_2008)
    z["area_m2"] = z.geometry.area.round(0)
    z["city"] = "brussels"
    return z.to_crs("EPSG:4326")


def build_metro_lines(stations: gpd.GeoDataFrame) -> list[dict]:
    pos = {r["id"]: (r["lon"], r["lat"]) for _, r in stations.iterrows()}
    feats = []
    for line, ids in LINES.items():
        coords = [pos[f"stib:{i}"] for i in ids]
        feats.append({"type": "Feature", "properties": {
            "line": line, "mode": "metro" if line in METRO_LINES else "premetro",
            "drawn_how": "straight segments between consecutive stations (schematic)"},
            "geometry": mapping(LineString(coords))})  # fmt: skip
    return feats


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, precision: int = 6) -> None:
    data = json.loads(gdf.to_json(drop_id=True, to_wgs84=True))
    for f in data["features"]:
        f["geometry"] = _round(f["geometry"], precision)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def _round(obj, nd):
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, list):
        return [_round(o, nd) for o in obj]
    if isinstance(obj, dict):
        return {k: _round(v, nd) for k, v in obj.items()}
    return obj


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    munis = build_municipalities(args.shared)
    stations = build_stations(args.shared, munis)
    zones = build_zones(stations, munis)
    write_geojson(munis, OUT / "municipalities.geojson")
    write_geojson(stations.drop(columns=["lat", "lon"]).assign(
        lat=stations["lat"], lon=stations["lon"]), OUT / "stations.geojson")  # fmt: skip
    write_geojson(zones, OUT / "zones.geojson")
    (OUT / "metro_lines.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": build_metro_lines(stations)},
        separators=(",", ":")) + "\n")  # fmt: skip
    (OUT / "cities.json").write_text(json.dumps(CITIES, indent=1, ensure_ascii=False) + "\n")
    print(f"municipalities {len(munis)}, stations {len(stations)} "
          f"({(stations['kind'] == 'metro').sum()} STIB), zones {len(zones)}")  # fmt: skip


if __name__ == "__main__":
    main()
