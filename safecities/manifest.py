"""Run manifests: every figure-producing command says how its figures were made.

A manifest holds the command and its parameters, the random seed, package and solver versions,
solver status/limits/gap where a solver ran, and a SHA-256 of each input, so that the same inputs
and seed can be shown to give the same output.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import safecities

_TRACKED = (
    "numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj", "scikit-learn", "statsmodels",
    "esda", "libpysal", "ortools", "highspy", "sqlalchemy",
)  # fmt: skip


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_versions() -> dict[str, str]:
    out = {"safecities": safecities.__version__, "python": platform.python_version()}
    for name in _TRACKED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


@dataclass
class RunManifest:
    command: str
    parameters: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # name -> sha256
    solver: dict[str, Any] | None = None  # name, status, time limit, objective, bound, gap
    versions: dict[str, str] = field(default_factory=package_versions)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def add_input_file(self, name: str, path: str | Path) -> None:
        self.inputs[name] = sha256_file(path)

    def add_input_bytes(self, name: str, data: bytes) -> None:
        self.inputs[name] = sha256_bytes(data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
