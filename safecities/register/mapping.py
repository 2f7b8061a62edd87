"""Column mappings: how an input layout maps onto the standard incident columns.

The built-in mapping reads our standard columns `id,occurred_at,lat,lon,kind,injured,killed`
(optional: `lines_closed,disruption_minutes,summary,source`). A small YAML file describes any other
layout; see safecities/register/mappings/nypd.yaml for the NYPD open-data layout:

    source: nypd                      # default source name for idempotent re-imports
    timezone: America/New_York        # local time zone of naive timestamps
    bounds: none                      # or brussels (default), belgium, [x0,y0,x1,y1]
    one_row_per_victim: true          # rows sharing an id are one incident (counts are summed)
    columns:
      id: INCIDENT_KEY
      date: OCCUR_DATE                # either occurred_at, or date (+ time)
      time: OCCUR_TIME
      lat: Latitude
      lon: Longitude
    formats: {date: "%m/%d/%Y", time: "%H:%M:%S"}
    constants: {kind: shooting}
    killed_flag: {column: STATISTICAL_MURDER_FLAG, true: ["true", "1", "y"]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from safecities.errors import InputError
from safecities.safeio import load_yaml

STANDARD_FIELDS = (
    "id", "occurred_at", "date", "time", "lat", "lon", "kind", "injured", "killed",
    "lines_closed", "disruption_minutes", "summary", "source",
)  # fmt: skip


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=lambda: {f: f for f in STANDARD_FIELDS})
    formats: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    killed_flag: dict[str, Any] | None = None
    timezone: str = "Europe/Brussels"
    bounds: str | list[float] = "brussels"
    one_row_per_victim: bool = False
    source: str | None = None
    name: str = "standard"

    def column(self, fld: str) -> str | None:
        return self.columns.get(fld)


def builtin(name: str) -> Path:
    return Path(str(resources.files("safecities.register") / "mappings" / f"{name}.yaml"))


def load_mapping(path: str | Path | None) -> Mapping:
    """Load a YAML mapping file; `None` gives the standard layout; `nypd` a built-in one."""
    if path is None:
        return Mapping()
    p = Path(path)
    if not p.exists() and builtin(str(path)).exists():
        p = builtin(str(path))
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: mapping file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML mapping: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise InputError(f"{path}: mapping must be a YAML mapping with a 'columns' section")
    unknown = set(data["columns"]) - set(STANDARD_FIELDS)
    if unknown:
        raise InputError(f"{path}: columns: unknown target field(s) {sorted(unknown)}")
    allowed = {"columns", "formats", "constants", "killed_flag", "timezone", "bounds",
               "one_row_per_victim", "source"}  # fmt: skip
    extra = set(data) - allowed
    if extra:
        raise InputError(f"{path}: unknown key(s) {sorted(extra)}")
    return Mapping(
        columns={k: str(v) for k, v in data["columns"].items()},
        formats=dict(data.get("formats") or {}),
        constants=dict(data.get("constants") or {}),
        killed_flag=data.get("killed_flag"),
        timezone=str(data.get("timezone", "Europe/Brussels")),
        bounds=data.get("bounds", "brussels"),
        one_row_per_victim=bool(data.get("one_row_per_victim", False)),
        source=data.get("source"),
        name=p.stem,
    )
