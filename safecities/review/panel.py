"""Reading panels and series for reviews, and parsing the period specifications of the CLI.

Times in a panel are either numbers (years, week numbers) or dates. A period spec is written the
way the CLI takes it: `FROM-TO` (inclusive window), `T1,T2,...` (listed periods) or `T` (one); dates
may use `..` between the ends (`2024-01-01..2024-06-30`) because ISO dates contain hyphens.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safecities.errors import InputError

_DATE = r"\d{4}-\d{2}(?:-\d{2})?"
_DATE_RANGE = re.compile(rf"^({_DATE})-({_DATE})$")
_NUM = r"[-+]?\d+(?:\.\d+)?"
_NUM_RANGE = re.compile(rf"^({_NUM})-({_NUM})$")


def read_table(path: str | Path) -> pd.DataFrame:
    """CSV (comma or semicolon, optional BOM) or Parquet; a one-line InputError otherwise."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        # The separator from the header line (pandas' sniffer fails on one-column files and
        # raises csv.Error on odd ones): semicolon when it has more of them than commas.
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            header = fh.readline()
        sep = ";" if header.count(";") > header.count(",") else ","
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except (
        ValueError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        csv.Error,
        OSError,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as a table ({reason})") from None


def require_columns(df: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; "
            f"have {', '.join(map(str, df.columns))}"
        )


def normalise_times(values: pd.Series, source: str, column: str) -> pd.Series:
    """Numbers stay numbers (integers when integral, e.g. years read as 1970.0); else dates."""
    if pd.api.types.is_numeric_dtype(values):
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2
            raise InputError(f"{source}: row {row}, field {column}: empty time")
        if np.all(np.mod(values.to_numpy(dtype=float), 1) == 0):
            return values.astype("int64")
        return values.astype(float)
    parsed = pd.to_datetime(values, errors="coerce", utc=False, format="mixed")
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError(
            f"{source}: row {row + 2}, field {column}: cannot read {values.iloc[row]!r} as a time"
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def parse_time(token: str, like: pd.Series, what: str = "time") -> Any:
    """Parse one time value in the same kind as the panel's time column."""
    token = token.strip()
    if pd.api.types.is_numeric_dtype(like):
        try:
            value = float(token)
        except ValueError:
            raise InputError(f"{what}: {token!r} is not a number like the panel's times") from None
        return int(value) if value.is_integer() and like.dtype.kind == "i" else value
    try:
        return (
            pd.Timestamp(token).tz_localize(None) if pd.Timestamp(token).tz else pd.Timestamp(token)
        )
    except ValueError:
        raise InputError(f"{what}: {token!r} is not a date") from None


def parse_periods(spec: str, times: pd.Series, what: str) -> list[Any]:
    """The panel times selected by `FROM-TO`, `FROM..TO`, `T1,T2,...` or `T`."""
    spec = spec.strip()
    if not spec:
        raise InputError(f"{what}: empty period")
    available = pd.Series(pd.unique(times)).sort_values()
    lo_hi: tuple[str, str] | None = None
    if ".." in spec:
        a, _, b = spec.partition("..")
        lo_hi = (a, b)
    elif (m := _DATE_RANGE.match(spec)) or (m := _NUM_RANGE.match(spec)):
        lo_hi = (m.group(1), m.group(2))
    if lo_hi is not None:
        lo, hi = (parse_time(x, times, what) for x in lo_hi)
        if hi < lo:
            raise InputError(f"{what}: period {spec!r} ends before it starts")
        chosen = available[(available >= lo) & (available <= hi)].tolist()
    else:
        wanted = [parse_time(x, times, what) for x in spec.split(",") if x.strip()]
        missing = [w for w in wanted if not (available == w).any()]
        if missing:
            raise InputError(f"{what}: period(s) {missing} not in the panel")
        chosen = wanted
    if not chosen:
        raise InputError(f"{what}: period {spec!r} selects no time in the panel")
    return chosen


def split_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [x.strip() for x in value.split(",") if x.strip()]
