"""Spatial units for hotspot work: square cells in metres (clipped to a boundary) or H3 cells.

Square cells are anchored to the projection's origin (every corner is a multiple of the cell
size) and named by size and lower-left corner, `150mE648000N664050` (like the INSPIRE grid
names; easting then northing, metres of the grid's `crs`: EPSG:3812 in Belgium, elsewhere the
UTM zone of the data, stated in `describe()`), so the same place has the same id in every run,
data set and stored plan. H3 ids are global already; polygon units keep their own ids.

Both grids offer the same small interface, so every method is written once:
`n_cells`, `cell_ids`, `cell_area`, `locate(x, y)`, `centroids()`, `counts(x, y, w)`,
`gaussian_mass(x, y, w, sigma, cutoff)`, `kernel_sum(x, y, w, kernel, cutoff)`,
`neighbours()` (queen contiguity as libpysal weights) and `to_geodataframe()` (WGS84 polygons).

Kernels are applied by binning points to cells and convolving (separable erf kernels for the
Gaussian, FFT for other kernels), so a surface costs a few milliseconds whatever the number of
events; the error is below one cell width.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import shapely
from scipy import ndimage, signal, special
from scipy.spatial import cKDTree

from safecities.geo import to_metres, to_wgs84


def _gauss_1d(cell: float, sigma: float, cutoff: float) -> np.ndarray:
    """Mass of N(0, sigma^2) falling in each cell offset (point at a cell centre)."""
    r = max(int(np.ceil(cutoff / cell)), 0)
    k = np.arange(-r, r + 1, dtype=float)
    s = max(sigma, 1e-9) * np.sqrt(2.0)
    return 0.5 * (special.erf((k + 0.5) * cell / s) - special.erf((k - 0.5) * cell / s))


class Grid:
    """Square cells of `cell_size` metres over a raster (ny, nx) whose lower-left corner is
    (x0, y0) in `crs`; `mask` marks the active cells (those meeting the study area)."""

    kind = "square"

    def __init__(
        self, x0: float, y0: float, cell_size: float, nx: int, ny: int, mask: np.ndarray, crs: str
    ) -> None:
        self.x0, self.y0, self.cell_size = float(x0), float(y0), float(cell_size)
        self.nx, self.ny, self.crs = int(nx), int(ny), crs
        self.mask = np.asarray(mask, bool).reshape(ny, nx)
        self.flat = np.flatnonzero(self.mask.ravel())  # active cell -> raster flat index
        self._lookup = np.full(nx * ny, -1, dtype=np.int64)
        self._lookup[self.flat] = np.arange(len(self.flat))

    # -- construction --------------------------------------------------------------------
    @classmethod
    def covering(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        cell_size: float,
        crs: str,
        boundary: Any = None,
        buffer_m: float = 500.0,
    ) -> Grid:
        """Cells meeting `boundary` (shapely geometry in metres), or, without one, cells whose
        centre lies within `buffer_m` of some event (the study area is where events happen)."""
        if cell_size <= 0:
            raise ValueError("cell size must be positive")
        if boundary is not None:
            bx0, by0, bx1, by1 = boundary.bounds
        else:
            if len(x) == 0:
                raise ValueError("no events to lay a grid over")
            bx0, by0 = float(np.min(x)) - buffer_m, float(np.min(y)) - buffer_m
            bx1, by1 = float(np.max(x)) + buffer_m, float(np.max(y)) + buffer_m
        x0 = np.floor(bx0 / cell_size) * cell_size
        y0 = np.floor(by0 / cell_size) * cell_size
        nx = int(np.ceil((bx1 - x0) / cell_size)) or 1
        ny = int(np.ceil((by1 - y0) / cell_size)) or 1
        if nx * ny > 25_000_000:
            raise ValueError(f"grid of {nx}x{ny} cells is too large; use larger cells")
        if boundary is not None:
            cols, rows = np.meshgrid(np.arange(nx), np.arange(ny))
            boxes = shapely.box(
                x0 + cols * cell_size,
                y0 + rows * cell_size,
                x0 + (cols + 1) * cell_size,
                y0 + (rows + 1) * cell_size,
            )
            shapely.prepare(boundary)
            mask = shapely.intersects(boundary, boxes) & ~shapely.touches(boundary, boxes)
        else:
            cx = x0 + (np.arange(nx) + 0.5) * cell_size
            cy = y0 + (np.arange(ny) + 0.5) * cell_size
            gx, gy = np.meshgrid(cx, cy)
            d, _ = cKDTree(np.column_stack([x, y])).query(
                np.column_stack([gx.ravel(), gy.ravel()]), distance_upper_bound=buffer_m
            )
            mask = np.isfinite(d).reshape(ny, nx)
        return cls(x0, y0, cell_size, nx, ny, mask, crs)

    @classmethod
    def from_wgs84(
        cls,
        lon: np.ndarray,
        lat: np.ndarray,
        cell_size: float,
        crs: str,
        boundary_wgs84: Any = None,
        buffer_m: float = 500.0,
    ) -> Grid:
        x, y = to_metres(lon, lat, crs)
        boundary = None
        if boundary_wgs84 is not None:
            boundary = shapely.transform(
                boundary_wgs84, lambda c: np.column_stack(to_metres(c[:, 0], c[:, 1], crs))
            )
        return cls.covering(np.asarray(x), np.asarray(y), cell_size, crs, boundary, buffer_m)

    # -- basic facts ---------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return len(self.flat)

    @property
    def cell_area(self) -> float:
        return self.cell_size**2

    @cached_property
    def cell_ids(self) -> list[str]:
        """Global ids `{size}mE{x}N{y}`: the cell's lower-left corner in metres of `crs`."""
        rows, cols = np.divmod(self.flat, self.nx)
        xs = np.rint(self.x0 + cols * self.cell_size).astype(np.int64).tolist()
        ys = np.rint(self.y0 + rows * self.cell_size).astype(np.int64).tolist()
        size = f"{self.cell_size:g}m"
        return [f"{size}E{x}N{y}" for x, y in zip(xs, ys, strict=True)]

    #: How the study area was built (set by `hotspots.service.build_grid`; shown in `describe`).
    study_area: dict[str, Any] | None = None

    def __deepcopy__(self, memo: dict) -> Any:
        """A grid is never changed after it is built: `sklearn.clone` (which deep-copies every
        parameter) shares it instead of copying the arrays (and H3's module) per fold."""
        return self

    def describe(self) -> dict[str, Any]:
        return self._with_study_area(
            {
                "kind": self.kind,
                "cell_size_m": self.cell_size,
                "n_cells": self.n_cells,
                "area_km2": round(self.n_cells * self.cell_area / 1e6, 3),
                "crs": self.crs,
                "id_scheme": f"{self.cell_size:g}m" + "E{x}N{y}: lower-left corner in metres",
            }
        )

    def _with_study_area(self, d: dict[str, Any]) -> dict[str, Any]:
        if self.study_area is not None:
            d["study_area"] = {"km2": d["area_km2"], "n_cells": d["n_cells"], **self.study_area}
        return d

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.divmod(self.flat, self.nx)
        return (
            self.x0 + (cols + 0.5) * self.cell_size,
            self.y0 + (rows + 0.5) * self.cell_size,
        )

    # -- points to cells -----------------------------------------------------------------
    def _raster_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        col = np.floor((np.asarray(x, float) - self.x0) / self.cell_size).astype(np.int64)
        row = np.floor((np.asarray(y, float) - self.y0) / self.cell_size).astype(np.int64)
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(ok, row * self.nx + col, -1)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Active cell index of each point, -1 outside the study area."""
        flat = self._raster_index(x, y)
        return np.where(flat >= 0, self._lookup[np.maximum(flat, 0)], -1)

    def counts(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        idx = self.locate(x, y)
        ok = idx >= 0
        ww = None if w is None else np.asarray(w, float)[ok]
        return np.bincount(idx[ok], weights=ww, minlength=self.n_cells).astype(float)

    def _padded_hist(self, x, y, w, pad: int) -> np.ndarray:
        col = np.floor((np.asarray(x, float) - self.x0) / self.cell_size).astype(np.int64) + pad
        row = np.floor((np.asarray(y, float) - self.y0) / self.cell_size).astype(np.int64) + pad
        nx, ny = self.nx + 2 * pad, self.ny + 2 * pad
        ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        ww = np.ones(ok.sum()) if w is None else np.asarray(w, float)[ok]
        return np.bincount(row[ok] * nx + col[ok], weights=ww, minlength=nx * ny).reshape(ny, nx)

    def _active(self, raster: np.ndarray, pad: int) -> np.ndarray:
        inner = raster[pad : pad + self.ny, pad : pad + self.nx]
        return inner.ravel()[self.flat]

    # -- kernels -------------------------------------------------------------------------
    def gaussian_mass(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, sigma: float, cutoff: float
    ) -> np.ndarray:
        """Sum over points of w * (mass of an isotropic Gaussian(sigma) in each cell)."""
        k = _gauss_1d(self.cell_size, sigma, cutoff)
        pad = len(k) // 2
        h = self._padded_hist(x, y, w, pad)
        if pad:
            h = ndimage.convolve1d(h, k, axis=0, mode="constant")
            h = ndimage.convolve1d(h, k, axis=1, mode="constant")
        else:
            h = h * k[0] ** 2
        return self._active(h, pad)

    def kernel_sum(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, kernel: Any, cutoff: float
    ) -> np.ndarray:
        """Sum over points of w * kernel(distance between cell centres), distances <= cutoff."""
        r = max(int(np.floor(cutoff / self.cell_size)), 0)
        off = np.arange(-r, r + 1) * self.cell_size
        d = np.hypot(*np.meshgrid(off, off))
        kr = np.where(d <= cutoff + 1e-9, kernel(d), 0.0)
        h = self._padded_hist(x, y, w, r)
        if 0 < r <= 7:  # small kernels: direct convolution beats FFT
            h = ndimage.convolve(h, kr, mode="constant")
        elif r:
            h = signal.oaconvolve(h, kr, mode="same")
            h[np.abs(h) < 1e-12] = 0.0
        else:
            h = h * kr[0, 0]
        return self._active(h, r)

    # -- neighbours and geometry ---------------------------------------------------------
    def neighbours(self):
        """Queen contiguity between active cells (libpysal W, ids 0..n-1)."""
        from libpysal.weights import W

        rows, cols = np.divmod(self.flat, self.nx)
        focal, nb = [], []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == 0 and dc == 0:
                    continue
                r2, c2 = rows + dr, cols + dc
                ok = (r2 >= 0) & (r2 < self.ny) & (c2 >= 0) & (c2 < self.nx)
                j = np.full(len(rows), -1)
                j[ok] = self._lookup[r2[ok] * self.nx + c2[ok]]
                good = j >= 0
                focal.append(np.flatnonzero(good))
                nb.append(j[good])
        return _w_from_pairs(self.n_cells, np.concatenate(focal), np.concatenate(nb), W)

    def polygons(self) -> np.ndarray:
        rows, cols = np.divmod(self.flat, self.nx)
        s = self.cell_size
        return shapely.box(
            self.x0 + cols * s,
            self.y0 + rows * s,
            self.x0 + (cols + 1) * s,
            self.y0 + (rows + 1) * s,
        )

    def to_geodataframe(self):
        import geopandas as gpd

        polys = shapely.transform(
            self.polygons(), lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1], self.crs))
        )
        return gpd.GeoDataFrame({"cell_id": self.cell_ids}, geometry=polys, crs="EPSG:4326")


def _w_from_pairs(n: int, focal: np.ndarray, nb: np.ndarray, W: Any):
    order = np.lexsort((nb, focal))
    focal, nb = focal[order], nb[order]
    starts = np.searchsorted(focal, np.arange(n + 1))
    neighbours = {i: nb[starts[i] : starts[i + 1]].tolist() for i in range(n)}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return W(neighbours, silence_warnings=True)


class H3Grid:
    """H3 hexagons at `resolution` covering a boundary (or the events, with a buffer)."""

    kind = "h3"

    def __init__(self, cells: list[str], resolution: int, crs: str) -> None:
        import h3

        self.h3, self.resolution, self.crs = h3, int(resolution), crs
        self._cells = sorted(set(cells))
        self._index = {c: i for i, c in enumerate(self._cells)}
        lat, lon = np.array([h3.cell_to_latlng(c) for c in self._cells]).reshape(-1, 2).T
        cx, cy = to_metres(lon, lat, crs)
        self._cx, self._cy = np.asarray(cx), np.asarray(cy)
        if len(self._cells) > 1:  # lattice spacing measured in the metric CRS
            d, _ = cKDTree(np.column_stack([self._cx, self._cy])).query(
                np.column_stack([self._cx, self._cy]), k=2
            )
            area = np.sqrt(3.0) / 2.0 * float(np.median(d[:, 1])) ** 2
        else:
            area = h3.average_hexagon_area(self.resolution, unit="m^2")
        self.cell_size = float(np.sqrt(area))

    @classmethod
    def from_wgs84(
        cls,
        lon: np.ndarray,
        lat: np.ndarray,
        resolution: int,
        crs: str,
        boundary_wgs84: Any = None,
        buffer_m: float = 500.0,
    ) -> H3Grid:
        import h3

        if boundary_wgs84 is not None:
            cells = list(h3.geo_to_cells(boundary_wgs84, resolution))
        else:
            edge = h3.average_hexagon_edge_length(resolution, unit="m")
            k = max(int(np.ceil(buffer_m / (edge * np.sqrt(3)))), 0)
            seed = {h3.latlng_to_cell(a, o, resolution) for a, o in zip(lat, lon, strict=True)}
            cells = set()
            for c in seed:
                cells.update(h3.grid_disk(c, k))
        return cls(list(cells), resolution, crs)

    @property
    def n_cells(self) -> int:
        return len(self._cells)

    @property
    def cell_area(self) -> float:
        return self.cell_size**2

    @property
    def cell_ids(self) -> list[str]:
        return self._cells

    #: How the study area was built (set by `hotspots.service.build_grid`; shown in `describe`).
    study_area: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        return self._with_study_area(
            {
                "kind": self.kind,
                "h3_resolution": self.resolution,
                "cell_size_m": round(self.cell_size, 1),
                "n_cells": self.n_cells,
                "area_km2": round(self.n_cells * self.cell_area / 1e6, 3),
                "crs": self.crs,
                "id_scheme": "H3 index (global)",
            }
        )

    _with_study_area = Grid._with_study_area
    __deepcopy__ = Grid.__deepcopy__

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        return self._cx, self._cy

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(x, y, self.crs)
        lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
        r = self.resolution
        return np.array(
            [
                self._index.get(self.h3.latlng_to_cell(a, o, r), -1)
                for a, o in zip(lat, lon, strict=True)
            ],
            dtype=np.int64,
        )

    def counts(self, x, y, w=None) -> np.ndarray:
        idx = self.locate(x, y)
        ok = idx >= 0
        ww = None if w is None else np.asarray(w, float)[ok]
        return np.bincount(idx[ok], weights=ww, minlength=self.n_cells).astype(float)

    def _spread(self, x, y, w, weight_of_distance, cutoff, normalise=False) -> np.ndarray:
        """Spread the cell totals over cells within `cutoff`; with `normalise` each source
        cell's weights sum to one (a discrete kernel on the hexagonal lattice)."""
        c = self.counts(x, y, w)
        tree = cKDTree(np.column_stack([self._cx, self._cy]))
        d = tree.sparse_distance_matrix(tree, cutoff, output_type="coo_matrix")
        off = d.row != d.col  # scipy may or may not store the zero diagonal: set it once
        rows = np.concatenate([d.row[off], np.arange(self.n_cells)])
        cols = np.concatenate([d.col[off], np.arange(self.n_cells)])
        dist = np.concatenate([d.data[off], np.zeros(self.n_cells)])
        vals = weight_of_distance(dist)
        if normalise:
            vals = vals / np.bincount(cols, weights=vals, minlength=self.n_cells)[cols]
        return np.bincount(rows, weights=vals * c[cols], minlength=self.n_cells)

    def gaussian_mass(self, x, y, w, sigma, cutoff) -> np.ndarray:
        s2 = max(sigma, 1e-9) ** 2
        return self._spread(x, y, w, lambda d: np.exp(-(d**2) / (2 * s2)), cutoff, True)

    def kernel_sum(self, x, y, w, kernel, cutoff) -> np.ndarray:
        return self._spread(x, y, w, kernel, cutoff)

    def neighbours(self):
        from libpysal.weights import W

        focal, nb = [], []
        for i, c in enumerate(self._cells):
            for d in self.h3.grid_ring(c, 1):
                j = self._index.get(d)
                if j is not None:
                    focal.append(i)
                    nb.append(j)
        return _w_from_pairs(self.n_cells, np.array(focal, int), np.array(nb, int), W)

    def to_geodataframe(self):
        import geopandas as gpd

        polys = [
            shapely.Polygon([(lo, la) for la, lo in self.h3.cell_to_boundary(c)])
            for c in self._cells
        ]
        return gpd.GeoDataFrame({"cell_id": self._cells}, geometry=polys, crs="EPSG:4326")


class PolygonUnits(H3Grid):
    """Given polygons as the spatial units (station buffers, named zones, street-segment
    buffers): same interface as the grids. Kernels spread between unit centroids (normalised
    per source unit); an event belongs to the first unit containing it, -1 if none."""

    kind = "polygons"

    def __init__(self, ids: list[str], polygons_wgs84: list[Any], crs: str) -> None:
        if len(ids) == 0:
            raise ValueError("no units")
        self._cells = [str(i) for i in ids]
        self._index = {c: i for i, c in enumerate(self._cells)}
        self.crs, self.resolution = crs, None
        self._polys_wgs84 = np.asarray(polygons_wgs84, dtype=object)
        self._polys = shapely.transform(
            self._polys_wgs84, lambda c: np.column_stack(to_metres(c[:, 0], c[:, 1], crs))
        )
        cent = shapely.centroid(self._polys)
        self._cx, self._cy = shapely.get_x(cent), shapely.get_y(cent)
        self._areas = shapely.area(self._polys)
        self.cell_size = float(np.sqrt(np.mean(self._areas)))
        self._tree = shapely.STRtree(self._polys)

    @classmethod
    def from_geodataframe(cls, gdf: Any, crs: str, id_column: str = "id") -> PolygonUnits:
        g = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
        ids = g[id_column] if id_column in g.columns else range(1, len(g) + 1)
        return cls(list(ids), list(g.geometry), crs)

    #: How the study area was built (set by `hotspots.service.build_grid`; shown in `describe`).
    study_area: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        return self._with_study_area(
            {
                "kind": self.kind,
                "n_cells": self.n_cells,
                "cell_size_m": round(self.cell_size, 1),
                "area_km2": round(float(self._areas.sum()) / 1e6, 3),
                "crs": self.crs,
                "id_scheme": "the units' own ids",
            }
        )

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        out = np.full(len(pts), -1, dtype=np.int64)
        if len(pts) == 0:
            return out
        pi, ui = self._tree.query(pts, predicate="within")
        order = np.lexsort((ui, pi))  # first unit (lowest index) per point
        pi, ui = pi[order], ui[order]
        first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
        out[pi[first]] = ui[first]
        return out

    def neighbours(self):
        from libpysal.weights import W

        a, b = self._tree.query(self._polys, predicate="intersects")
        keep = a != b
        return _w_from_pairs(self.n_cells, a[keep], b[keep], W)

    def to_geodataframe(self):
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"cell_id": self._cells}, geometry=list(self._polys_wgs84), crs="EPSG:4326"
        )
