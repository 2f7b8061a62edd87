"""Safe files in and out, for every capability: YAML without alias bombs, JSON without NaN or
unbounded nesting, spreadsheets read within limits, and CSV/Excel cells that cannot run as
formulas.

Why one module: the same attack (a 332-byte YAML "billion laughs", a 4.9 KB .xlsx declaring a
16,384-column sheet, a cell `=HYPERLINK(...)` opened in Excel) reaches the protocol validator, the
camera importer, the review plan and every report we write. Each call site calls these helpers
instead of `yaml.safe_load`, `json.loads`, `openpyxl.load_workbook` or a bare `csv.writer`.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

# -- formula injection (OWASP "CSV Injection") --------------------------------------------------

#: A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets (tab and
#: carriage return too: OWASP lists them because some spreadsheet programs strip them first).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet shows it as text: a string starting with = + - @ (or tab / CR)
    gets a leading single quote (OWASP). Numbers, dates and None pass unchanged, so a negative
    number stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of one CSV/Excel row through `safe_cell`."""
    return [safe_cell(v) for v in row]


def safe_frame(df: Any) -> Any:
    """A copy of a pandas DataFrame whose text cells (and column names) pass `safe_cell`; call it
    just before `to_csv` / `to_excel`."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


# -- YAML -------------------------------------------------------------------------------------


class UnsafeYAML(yaml.YAMLError):
    """A YAML document we refuse to expand (aliases, nesting deeper than MAX_DEPTH)."""


#: Deeper than any protocol, mapping or plan we read; PyYAML recurses once per level.
MAX_DEPTH = 100


class _NoAliases:
    """Loader mixin refusing aliases (`*name`): alias expansion turns a few hundred bytes into
    gigabytes ("billion laughs"). No document we read needs them. Nesting is bounded too."""

    _depth = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            raise UnsafeYAML(f"YAML aliases (*name) are not allowed (line {mark.line + 1})")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise UnsafeYAML(f"YAML nested deeper than {MAX_DEPTH} (line {mark.line + 1})")
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class SafeLoader(_NoAliases, yaml.SafeLoader):
    """`yaml.SafeLoader` without aliases and with bounded nesting."""


def no_aliases(loader: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """A subclass of a custom SafeLoader (e.g. one keeping dates as strings) that refuses
    aliases and deep nesting like `SafeLoader`."""
    return type(f"NoAlias{loader.__name__}", (_NoAliases, loader), {})


def load_yaml(text: str | bytes, loader: type[yaml.SafeLoader] = SafeLoader) -> Any:
    """Parse YAML from a user; raises `yaml.YAMLError` (UnsafeYAML for aliases or nesting)."""
    if not issubclass(loader, _NoAliases):
        loader = no_aliases(loader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise UnsafeYAML(f"YAML nested deeper than {MAX_DEPTH}") from None


# -- JSON -------------------------------------------------------------------------------------


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: Any) -> str:
    """YAML that `load_yaml` reads back: repeated values written out in full, never as aliases
    (PyYAML's safe_dump writes `&id001`/`*id001` for a list or mapping used twice)."""
    return yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)


class UnsafeJSON(ValueError):
    """JSON we refuse: NaN/Infinity, nesting deeper than the parser's stack."""


def _no_constant(name: str) -> Any:
    raise UnsafeJSON(f"{name} is not a JSON number")


def load_json(text: str | bytes) -> Any:
    """`json.loads` that refuses NaN / Infinity and turns a nesting bomb into an error (the
    standard parser raises RecursionError, which is not a ValueError)."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise UnsafeJSON("JSON nested too deeply") from None


class BadGeoJSON(ValueError):
    """Not a FeatureCollection whose features, properties and geometries are objects."""


def feature_collection(text: str | bytes) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection, each checked to be an object whose
    `properties` and `geometry` are objects or null (feature numbers from 1 in the message).
    Raises ValueError: json.JSONDecodeError, UnsafeJSON (NaN, nesting) or BadGeoJSON."""
    doc = load_json(text)
    if not isinstance(doc, dict) or doc.get("type", "FeatureCollection") != "FeatureCollection":
        raise BadGeoJSON("not a GeoJSON FeatureCollection")
    feats = doc.get("features")
    if not isinstance(feats, list):
        raise BadGeoJSON("'features' is not a list")
    for i, f in enumerate(feats, start=1):
        if not isinstance(f, dict):
            raise BadGeoJSON(f"feature {i}: not an object")
        for key in ("properties", "geometry"):
            if f.get(key) is not None and not isinstance(f[key], dict):
                raise BadGeoJSON(f"feature {i}: {key} is not an object")
    return feats


def finite(value: Any) -> bool:
    """True unless value is a float NaN or infinity."""
    return not (isinstance(value, float) and not math.isfinite(value))


# -- spreadsheets -----------------------------------------------------------------------------

#: Limits for one uploaded workbook: rows and columns of the first sheet (declared and actual),
#: and the total uncompressed size of the .xlsx zip (a zip bomb is checked before openpyxl
#: expands anything). A municipal camera inventory has a few thousand rows and < 50 columns.
XLSX_MAX_ROWS = 200_000
XLSX_MAX_COLUMNS = 200
XLSX_MAX_EXPANDED = 200 * 1024 * 1024


class SpreadsheetTooLarge(ValueError):
    pass


def xlsx_rows(
    path: str | Path,
    *,
    max_rows: int = XLSX_MAX_ROWS,
    max_columns: int = XLSX_MAX_COLUMNS,
    max_expanded: int = XLSX_MAX_EXPANDED,
) -> Iterator[list[Any]]:
    """Rows of the first sheet of an .xlsx file as lists of values, within limits.

    Raises SpreadsheetTooLarge naming the limit when the zip would expand beyond `max_expanded`
    bytes, when the sheet declares more rows or columns than allowed, or when it actually holds
    more; other openpyxl / zip errors propagate (the caller names the file). openpyxl's read-only
    mode pads every row to the *declared* width, so a 5 KB file declaring A1:XFD100000 would
    allocate gigabytes: the declared dimension is checked, then ignored (`reset_dimensions`).
    """
    from openpyxl import load_workbook

    p = Path(path)
    with zipfile.ZipFile(p) as zf:
        expanded = sum(i.file_size for i in zf.infolist())
    if expanded > max_expanded:
        raise SpreadsheetTooLarge(
            f"expands to {expanded // 2**20} MB (limit {max_expanded // 2**20} MB)"
        )
    wb = load_workbook(p, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        declared_rows, declared_cols = ws.max_row or 0, ws.max_column or 0
        if declared_rows > max_rows or declared_cols > max_columns:
            raise SpreadsheetTooLarge(
                f"the first sheet declares {declared_rows} rows x {declared_cols} columns "
                f"(limit {max_rows} x {max_columns})"
            )
        ws.reset_dimensions()  # iterate the cells really present, not the declared box
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if n > max_rows:
                raise SpreadsheetTooLarge(f"more than {max_rows} rows")
            vals = list(row)
            while vals and vals[-1] is None:
                vals.pop()
            if len(vals) > max_columns:
                raise SpreadsheetTooLarge(f"row {n}: more than {max_columns} columns")
            yield vals
    finally:
        wb.close()


def parquet_frame(
    path: str | Path,
    *,
    max_rows: int | None = None,
    max_columns: int | None = None,
    max_expanded: int | None = None,
) -> Any:
    """A Parquet file as a pandas DataFrame, within the limits used for workbooks (default:
    XLSX_MAX_ROWS, XLSX_MAX_COLUMNS, XLSX_MAX_EXPANDED).

    Raises SpreadsheetTooLarge before any data page is read when the footer declares more rows
    or columns, or a larger uncompressed size, than allowed. Dictionary-encoded text is stored
    once and repeated per row when decoded (a 1 MB value on 1,000 rows is 1 GB), so text columns
    are first read as dictionaries and their decoded size bounded by rows x the longest value
    before anything is expanded. Other pyarrow errors propagate (the caller names the file).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    max_rows = max_rows or XLSX_MAX_ROWS
    max_columns = max_columns or XLSX_MAX_COLUMNS
    max_expanded = max_expanded or XLSX_MAX_EXPANDED
    with pq.ParquetFile(path) as pf:  # reads the footer (metadata) only
        md = pf.metadata
        if md.num_rows > max_rows or md.num_columns > max_columns:
            raise SpreadsheetTooLarge(
                f"the file declares {md.num_rows} rows x {md.num_columns} columns "
                f"(limit {max_rows} x {max_columns})"
            )
        declared = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
        if declared > max_expanded:
            raise SpreadsheetTooLarge(
                f"declares {declared // 2**20} MB uncompressed (limit {max_expanded // 2**20} MB)"
            )
        text = [f.name for f in pf.schema_arrow
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]  # fmt: skip
    with pq.ParquetFile(path, read_dictionary=text) as pf:
        table = pf.read()
    if table.num_rows > max_rows:  # the footer lied about its row count
        raise SpreadsheetTooLarge(f"more than {max_rows} rows")
    expanded = 0
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            for chunk in col.chunks:
                longest = pc.max(pc.binary_length(chunk.dictionary)).as_py() or 0
                expanded += len(chunk) * longest
        else:
            expanded += col.nbytes
    if expanded > max_expanded:
        raise SpreadsheetTooLarge(
            f"expands to {expanded // 2**20} MB (limit {max_expanded // 2**20} MB)"
        )
    decoded = pa.schema(
        [f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
         for f in table.schema]
    )  # fmt: skip
    return table.cast(decoded).to_pandas()


# -- text ----------------------------------------------------------------------------------


def text_lines(text: str) -> Iterator[str]:
    """The lines of `text` with their endings, one at a time, for `csv.reader` (CSV uploads of
    incidents and cameras): io.StringIO would copy the whole
    text at 4 bytes a character (176 MB for a 44 MB file). Old Mac files (lone CR) still go
    through StringIO, whose universal newlines split them."""
    if "\n" not in text and "\r" in text:
        yield from io.StringIO(text, newline="")
        return
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


# -- file names -------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
MAX_NAME = 120


def upload_name(filename: str | None, default: str = "upload.csv") -> str:
    """A plain file name for an uploaded file: no folders, no control characters, `..` replaced
    by the default, at most 120 characters (the suffix kept, since it picks the format)."""
    raw = (filename or "").replace("\\", "/").split("/")[-1]
    name = _UNSAFE_NAME.sub("_", raw).strip()
    if name in ("", ".", ".."):
        return default
    if len(name) > MAX_NAME:
        suffix = Path(name).suffix[:16]
        name = name[: MAX_NAME - len(suffix)] + suffix
    return name
