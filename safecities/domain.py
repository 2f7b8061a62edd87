"""Domain types shared by every capability (one place, no ORM or web imports here).

Data flows one way: store -> analysis (hotspots) -> planning (patrols, cameras) -> review ->
presentation (cli, api, web). These types are the vocabulary all layers use.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

BRUSSELS_TZ = ZoneInfo("Europe/Brussels")


def local_midnight(d: date | None) -> datetime | None:
    """The start of day `d` in Brussels (a filter's "from day" / "before day"); None stays None."""
    return datetime.combine(d, time(0), tzinfo=BRUSSELS_TZ) if d else None


#: Storage CRS (WGS84 lon/lat) and the metric CRS for Belgium (Belgian Lambert 2008).
WGS84 = "EPSG:4326"
BELGIAN_LAMBERT_2008 = "EPSG:3812"
BELGIAN_LAMBERT_72 = "EPSG:31370"

#: Rough Belgium bounding box (WGS84), used to reject points that cannot be Belgian.
BELGIUM_BBOX = (2.5, 49.45, 6.45, 51.55)  # min lon, min lat, max lon, max lat


class IncidentKind(enum.StrEnum):
    SHOOTING = "shooting"  # shots fired with at least one person hit
    SHOTS_FIRED = "shots_fired"  # shots fired without victim
    ARMED_THREAT = "armed_threat"  # firearm brandished, no shot
    OTHER = "other"


class ZoneKind(enum.StrEnum):
    HOTSPOT = "hotspot"
    APPROVED_PATROL_AREA = "approved_patrol_area"
    RAILWAY_PRIORITY = "railway_priority"


class TransportKind(enum.StrEnum):
    METRO = "metro"  # metro or premetro station (STIB parent station)
    RAILWAY = "railway"  # NMBS/SNCB railway station


class Role(enum.StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    PLANNER = "planner"
    POLICE_COMMANDER = "police_commander"
    DEFENCE_LIAISON = "defence_liaison"
    INTERIOR_APPROVER = "interior_approver"
    DEFENCE_APPROVER = "defence_approver"
    CAMERA_OPERATOR = "camera_operator"  # bound to one municipality
    AUDITOR = "auditor"
    MINISTERIAL_STAFF = "ministerial_staff"


#: The six cities of the Plan for Major Cities; Brussels first, the others may request support.
CITIES = ("brussels", "antwerp", "ghent", "liege", "charleroi", "mons")


@dataclass(frozen=True, slots=True)
class Event:
    """A point event in space and time, the input of every hotspot and review method."""

    occurred_at: datetime
    lat: float
    lon: float
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one input row: enough to find and fix it without guessing."""

    file: str
    row: int  # 1-based data row number (header excluded); 0 = the file as a whole
    field: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        val = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}: field {self.field!r}: {self.reason}{val}"


@dataclass(slots=True)
class ImportReport:
    """Outcome of an import: rows read, written, skipped as already present, and errors."""

    file: str
    rows_read: int = 0
    inserted: int = 0
    unchanged: int = 0
    updated: int = 0
    collapsed: int = 0  # victim rows merged into their incident (one row per victim files)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {
            "file": self.file, "rows_read": self.rows_read, "inserted": self.inserted,
            "unchanged": self.unchanged, "updated": self.updated, "collapsed": self.collapsed,
            "errors": [
                {"file": e.file, "row": e.row, "field": e.field, "reason": e.reason,
                 "value": e.value}
                for e in self.errors
            ],
        }  # fmt: skip
