"""Camera record fields: types, NL/FR/EN header synonyms, value synonyms and validation.

One place for the vocabulary that both the CLI (`cameras add/edit`) and the importers use, so a
municipal inventory with Dutch or French headers maps onto the register without a mapping file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from safecities.cameras.models import CameraStatus, Mobility, PlaceKind
from safecities.domain import RowError
from safecities.geo import in_belgium


def norm(text: Any) -> str:
    n = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in n if ch.isalnum())


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # str, float, int, bool, date, enum
    synonyms: tuple[str, ...]
    values: dict[str, str] | None = None  # enum: normalised synonym -> value
    lo: float | None = None
    hi: float | None = None


def _enum(mapping: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {norm(s): v for v, syns in mapping.items() for s in (v, *syns)}


PLACE_VALUES = _enum({
    PlaceKind.OPEN: ("open", "open place", "niet-besloten plaats", "niet besloten", "lieu ouvert",
                     "ouvert", "public road", "openbare weg", "voie publique"),
    PlaceKind.CLOSED_PUBLIC: ("closed public", "besloten plaats toegankelijk voor het publiek",
                              "besloten toegankelijk", "lieu ferme accessible au public",
                              "ferme accessible", "ferme public"),
    PlaceKind.CLOSED_PRIVATE: ("closed private",
                               "besloten plaats niet toegankelijk voor het publiek",
                               "besloten niet toegankelijk", "lieu ferme non accessible au public",
                               "ferme non accessible", "ferme prive"),
})  # fmt: skip
MOBILITY_VALUES = _enum({
    Mobility.FIXED: ("fixed", "vast", "fixe", "vaste camera", "camera fixe"),
    Mobility.TEMPORARY_FIXED: ("temporary fixed", "tijdelijk vast", "tijdelijk", "temporaire",
                               "fixe temporaire", "temporairement fixe", "temporary"),
    Mobility.MOBILE: ("mobile", "mobiel", "mobiele camera", "camera mobile"),
})  # fmt: skip
STATUS_VALUES = _enum({
    CameraStatus.PLANNED: ("planned", "gepland", "prevu", "planifie", "projet"),
    CameraStatus.ACTIVE: ("active", "actief", "actif", "in dienst", "en service", "operational"),
    CameraStatus.OUT_OF_SERVICE: ("out of service", "buiten dienst", "hors service", "defect",
                                  "en panne", "broken"),
    CameraStatus.REMOVED: ("removed", "verwijderd", "supprime", "enleve", "retire", "demonte"),
})  # fmt: skip
BOOL_VALUES = {norm(k): v for k, v in {
    "yes": True, "no": False, "true": True, "false": False, "1": True, "0": False,
    "ja": True, "nee": False, "j": True, "n": False, "oui": True, "non": False, "o": True,
    "y": True, "x": True, "waar": True, "onwaar": False, "vrai": True, "faux": False,
}.items()}  # fmt: skip

FIELDS: tuple[Field, ...] = (
    Field("id", "str", ("id", "camera_id", "camera", "camera nr", "cameranummer", "nummer",
                        "identifiant", "id camera", "numero", "code", "ref", "reference")),
    Field("controller", "str", ("controller", "verantwoordelijke", "verwerkingsverantwoordelijke",
                                "beheerder", "responsable", "responsable du traitement",
                                "gestionnaire", "operator", "exploitant")),
    Field("lat", "float", ("lat", "latitude", "breedtegraad", "y"), lo=-90, hi=90),
    Field("lon", "float", ("lon", "lng", "long", "longitude", "lengtegraad", "x"), lo=-180, hi=180),
    Field("place_kind", "enum", ("place_kind", "place", "soort plaats", "type plaats", "plaats",
                                 "type de lieu", "type lieu", "lieu"), PLACE_VALUES),
    Field("mobility", "enum", ("mobility", "type", "vast mobiel", "soort camera", "type camera",
                               "fixe mobile", "type de camera", "camera type"), MOBILITY_VALUES),
    Field("intelligent", "bool", ("intelligent", "anpr", "slimme camera", "intelligente camera",
                                  "camera intelligente", "anpr camera", "ANPR/intelligent")),
    Field("purpose", "str", ("purpose", "doel", "doeleinde", "doeleinden", "finalite", "finalites",
                             "but")),
    Field("viewing_location", "str", ("viewing_location", "viewing", "plaats bekijken",
                                      "bekeken in", "lieu de visionnage", "visionnage")),
    Field("live_viewing", "bool", ("live_viewing", "live", "real time", "realtime", "rechtstreeks",
                                   "live bekijken", "temps reel", "en direct")),
    Field("retention_days", "int", ("retention_days", "retention", "bewaartermijn",
                                    "bewaartermijn dagen", "duree de conservation",
                                    "conservation", "conservation jours"), lo=0, hi=3650),
    Field("pictogram", "bool", ("pictogram", "pictogramme", "picto")),
    Field("declared_on", "date", ("declared_on", "declaration date", "aangifte", "aangiftedatum",
                                  "datum aangifte", "date de declaration", "declaration",
                                  "date declaration")),
    Field("status", "enum", ("status", "statut", "toestand", "etat"), STATUS_VALUES),
    Field("fov_direction", "float", ("fov_direction", "direction", "richting", "orientation",
                                     "azimut", "azimuth", "kijkrichting"), lo=0, hi=360),
    Field("fov_angle", "float", ("fov_angle", "angle", "hoek", "openingshoek", "angle d'ouverture",
                                 "angle ouverture", "opening angle"), lo=1, hi=360),
    Field("fov_range_m", "float", ("fov_range_m", "range_m", "range", "bereik", "bereik m",
                                   "portee", "portee m", "useful range"), lo=1, hi=5000),
    Field("connected", "bool", ("connected", "aangesloten", "gekoppeld", "connecte", "raccorde",
                                "national register", "nationaal register", "registre national")),
    Field("cost_installation", "float", ("cost_installation", "installation cost",
                                         "installatiekost",
                                         "kost installatie", "cout installation",
                                         "cout d'installation"), lo=0),
    Field("cost_connection", "float", ("cost_connection", "connection cost", "aansluitingskost",
                                       "kost aansluiting", "cout connexion", "cout raccordement",
                                       "cout de raccordement"), lo=0),
    Field("cost_yearly", "float", ("cost_yearly", "yearly cost", "jaarlijkse kost",
                                   "kost jaarlijks", "cout annuel"), lo=0),
)  # fmt: skip
BY_NAME = {f.name: f for f in FIELDS}
EDITABLE = tuple(f.name for f in FIELDS if f.name != "id")


def parse_value(f: Field, raw: Any, file: str, row: int) -> tuple[Any, RowError | None]:
    """(value, None) or (None, error); an empty raw value gives (None, None)."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None, None
    if isinstance(raw, bool) and f.kind == "bool":
        return raw, None
    text = str(raw).strip()
    if text == "":
        return None, None
    err = lambda reason: (None, RowError(file, row, f.name, reason, text))  # noqa: E731
    if f.kind == "str":
        return text, None
    if f.kind in ("float", "int"):
        t = text.replace(",", ".") if "," in text and "." not in text else text
        try:
            v = float(t)
        except ValueError:
            return err("not a number")
        if v != v or (f.lo is not None and v < f.lo) or (f.hi is not None and v > f.hi):
            return err(f"out of range [{f.lo}, {f.hi}]")
        if f.kind == "int":
            if v != int(v):
                return err("not a whole number")
            return int(v), None
        return v, None
    if f.kind == "bool":
        k = norm(text)
        return (
            (BOOL_VALUES[k], None) if k in BOOL_VALUES else err("expected yes/no (ja/nee, oui/non)")
        )
    if f.kind == "enum":
        k = norm(text)
        if k in f.values:
            return f.values[k], None
        allowed = ", ".join(sorted(set(f.values.values())))
        return err(f"unknown value; expected one of {allowed}")
    if f.kind == "date":
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(text, fmt).date(), None
            except ValueError:
                continue
        return err("not a date (YYYY-MM-DD or DD/MM/YYYY)")
    raise AssertionError(f.kind)


def parse_record(raw: dict[str, Any], file: str, row: int, *, partial: bool = False):
    """Validate one record given by field name. Returns (clean dict, errors)."""
    out: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, value in raw.items():
        f = BY_NAME.get(name)
        if f is None:
            errors.append(RowError(file, row, name, "unknown field"))
            continue
        v, e = parse_value(f, value, file, row)
        if e:
            errors.append(e)
        elif v is not None or partial:
            out[name] = v
    if not partial:
        for req in ("lat", "lon"):
            if out.get(req) is None and not any(e.field == req for e in errors):
                errors.append(RowError(file, row, req, "value is missing"))
    lat, lon = out.get("lat"), out.get("lon")
    if lat is not None and lon is not None and not in_belgium(lon, lat):
        errors.append(RowError(file, row, "lat", "position is outside Belgium", f"{lat}, {lon}"))
    if out.get("fov_direction") is not None and out.get("fov_angle") is None and not partial:
        errors.append(RowError(file, row, "fov_angle", "a direction needs an opening angle"))
    return out, errors


def json_ready(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
