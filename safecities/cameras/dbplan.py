"""Planner inputs from the database: register cameras, stations, hotspot cells and zones."""

from __future__ import annotations

from pathlib import Path

from safecities.errors import InputError


def inputs_from_db(radius: float, *, candidates: Path | None = None, demand: Path | None = None):
    raise InputError(
        "give both --candidates FILE and --demand FILE (planning from the database is not ready)"
    )
