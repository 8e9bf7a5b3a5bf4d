"""The latitude x Ls diagram (Mengwall and Guzewich 2022, figure 6): zonal-mean cloud frequency on
latitude bins x Ls bins, each cell the cloud share of the valid pixels pooled over the sols whose Ls
falls in the bin, pixels weighted by their area on the Mars sphere (cos latitude) when a latitude
bin spans several rows. Ls runs on across Mars years (MY 28 Ls 350 is followed by MY 29 Ls 0, never
wrapped back), so a season sample reads left to right. Optional longitude window (e.g. Tharsis).

Products: CF-1.8 NetCDF, CSV and a PNG figure (matplotlib); the QGIS algorithm adds an HTML report.
"""
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, grid
from .errors import CloudmaskError
from .masks import parse_ls_range, select_masks, stream_masks
from .report import write_csv
from .sphere import row_pixel_areas_km2
from .writers import atomic_output, check_writable_folder

DEFAULT_LAT_BIN = 1.0
DEFAULT_LS_BIN = 5.0


@dataclass
class Climatology:
    lat_edges: np.ndarray          # (nlat + 1,) degrees, south to north
    season_edges: np.ndarray       # (nls + 1,) Mars year * 360 + Ls
    cloud_fraction: np.ndarray     # (nlat, nls) float64, NaN where no valid pixel
    valid_pixels: np.ndarray       # (nlat, nls) int64 valid pixels pooled over the sols of the bin
    sols: np.ndarray               # (nls,) int number of sols in each Ls bin
    mars_years: tuple
    lon_window: tuple = None

    @property
    def n_sols(self):
        return int(self.sols.sum())

    def rows(self):
        """One dict per cell (CSV)."""
        out = []
        for j in range(len(self.season_edges) - 1):
            start, end = self.season_edges[j], self.season_edges[j + 1]
            year = int(start // 360)
            for i in range(len(self.lat_edges) - 1):
                value = self.cloud_fraction[i, j]
                out.append({"mars_year": year, "ls_start": round(start - 360 * year, 6),
                            "ls_end": round(end - 360 * year, 6), "lat_south": round(self.lat_edges[i], 6),
                            "lat_north": round(self.lat_edges[i + 1], 6),
                            "cloud_fraction": "" if math.isnan(value) else round(float(value), 6),
                            "valid_pixels": int(self.valid_pixels[i, j]), "sols": int(self.sols[j])})
        return out


def _columns(lon_window):
    """Column index of the pixels whose centre lies in the longitude window (west, east); it may
    cross the antimeridian (west > east)."""
    if lon_window is None:
        return slice(None)
    columns = grid.columns_between(*lon_window)
    if columns.size == 0:
        raise CloudmaskError(None, "longitude window %g to %g holds no pixel centre" % lon_window)
    return columns


def zonal_climatology(masks, lat_bin=DEFAULT_LAT_BIN, ls_bin=DEFAULT_LS_BIN, lon_window=None, progress=None,
                      cancel=None):
    """The Climatology of `masks` (MaskInfo with Ls and Mars year), one mask in memory at a time."""
    if not 0 < lat_bin <= 180 or not 0 < ls_bin <= 360:
        raise CloudmaskError(None, f"bins {lat_bin:g} x {ls_bin:g} degrees: latitude bin in (0, 180], Ls bin in (0, 360]")
    columns = _columns(lon_window)
    lat = grid.latitude_of_row(np.arange(grid.HEIGHT))
    lat_edges = -90.0 + lat_bin * np.arange(int(math.ceil(180.0 / lat_bin - 1e-9)) + 1)
    lat_edges = np.minimum(lat_edges, 90.0)          # the last bin may be narrower, never past the pole
    lat_index = np.clip(np.searchsorted(lat_edges, lat, side="right") - 1, 0, len(lat_edges) - 2)
    seasons = np.array([m.season for m in masks])
    first = ls_bin * math.floor(seasons.min() / ls_bin)
    season_edges = np.arange(first, seasons.max() + ls_bin, ls_bin)
    if season_edges[-1] <= seasons.max():
        season_edges = np.append(season_edges, season_edges[-1] + ls_bin)
    nlat, nls = len(lat_edges) - 1, len(season_edges) - 1
    weights = row_pixel_areas_km2()                 # per row: cos(latitude) on the sphere
    cloud_w, valid_w = np.zeros((nlat, nls)), np.zeros((nlat, nls))
    valid_n = np.zeros((nlat, nls), np.int64)
    sols = np.zeros(nls, np.int64)
    for info, mask in stream_masks(masks, progress, cancel):
        window = mask[:, columns]
        valid_rows = (window != grid.NODATA).sum(axis=1)
        cloud_rows = (window == 1).sum(axis=1)
        j = min(int((info.season - first) // ls_bin), nls - 1)
        sols[j] += 1
        valid_w[:, j] += np.bincount(lat_index, valid_rows * weights, nlat)
        cloud_w[:, j] += np.bincount(lat_index, cloud_rows * weights, nlat)
        valid_n[:, j] += np.bincount(lat_index, valid_rows, nlat).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(valid_w > 0, cloud_w / valid_w, np.nan)
    years = tuple(sorted({m.mars_year for m in masks}))
    return Climatology(lat_edges, season_edges, fraction, valid_n, sols, years, lon_window)


def write_climatology_netcdf(path, clim):
    """CF-1.8 NetCDF: cloud_fraction(latitude, season), valid_pixels, sols(season); `season` is
    Mars year * 360 + Ls at the bin centre (also given as mars_year and ls variables)."""
    import netCDF4

    from .raster import NETCDF_LOCK
    from .writers import write_error
    lat_c = (clim.lat_edges[:-1] + clim.lat_edges[1:]) / 2
    season_c = (clim.season_edges[:-1] + clim.season_edges[1:]) / 2
    with atomic_output(path) as tmp:
        try:
            _write_climatology(tmp, clim, lat_c, season_c)
            with NETCDF_LOCK, netCDF4.Dataset(tmp) as ds:     # read back before it takes its name
                ds.set_auto_mask(False)
                stored = ds.variables["valid_pixels"][:]
            if not np.array_equal(stored, clim.valid_pixels):
                raise CloudmaskError(path, "written file does not read back as written; nothing kept")
        except (OSError, RuntimeError) as exc:
            raise write_error(path, exc) from None
    return Path(path)


def _write_climatology(tmp, clim, lat_c, season_c):
    import netCDF4

    from .raster import NETCDF_LOCK
    with NETCDF_LOCK, netCDF4.Dataset(tmp, "w", format="NETCDF4_CLASSIC") as ds:
        ds.Conventions = "CF-1.8"
        ds.title = "Zonal-mean water-ice cloud frequency, latitude x Ls (MARCI cloud masks)"
        ds.source = f"mars-cloudmask {__version__}"
        ds.mars_years = ",".join(map(str, clim.mars_years))
        ds.number_of_sols = clim.n_sols
        ds.longitude_window = "all" if clim.lon_window is None else "%g to %g" % clim.lon_window
        ds.weighting = "pixel areas on the Mars sphere (R = 3396190 m), i.e. cos(latitude)"
        ds.createDimension("latitude", len(lat_c))
        ds.createDimension("season", len(season_c))
        ds.createDimension("bounds", 2)
        lat = ds.createVariable("latitude", "f8", ("latitude",))
        lat.standard_name, lat.units, lat.bounds = "latitude", "degrees_north", "latitude_bounds"
        lat[:] = lat_c
        ds.createVariable("latitude_bounds", "f8", ("latitude", "bounds"))[:] = np.stack(
            [clim.lat_edges[:-1], clim.lat_edges[1:]], axis=1)
        season = ds.createVariable("season", "f8", ("season",))
        season.long_name = "solar longitude counted on across Mars years: Mars year * 360 + Ls"
        season.units = "degrees"
        season.bounds = "season_bounds"
        season[:] = season_c
        ds.createVariable("season_bounds", "f8", ("season", "bounds"))[:] = np.stack(
            [clim.season_edges[:-1], clim.season_edges[1:]], axis=1)
        year = ds.createVariable("mars_year", "i4", ("season",))
        year[:] = (season_c // 360).astype(int)
        ls = ds.createVariable("ls", "f8", ("season",))
        ls.long_name, ls.units = "solar longitude at the bin centre", "degrees"
        ls[:] = season_c % 360
        frac = ds.createVariable("cloud_fraction", "f4", ("latitude", "season"), fill_value=np.float32(grid.NODATA))
        frac.long_name = "cloud share of the valid pixels, area-weighted, pooled over the sols of the bin"
        frac.units = "1"
        frac[:] = np.where(np.isnan(clim.cloud_fraction), grid.NODATA, clim.cloud_fraction).astype(np.float32)
        valid = ds.createVariable("valid_pixels", "i4", ("latitude", "season"))
        valid.long_name = "valid pixels pooled over the sols of the bin"
        valid[:] = clim.valid_pixels
        sols = ds.createVariable("sols", "i4", ("season",))
        sols.long_name = "number of sols in the Ls bin"
        sols[:] = clim.sols


def parse_lon_window(text):
    """(west, east) from 'WEST,EAST' degrees (-180..180, WEST > EAST crosses the antimeridian)."""
    if text in (None, ""):
        return None
    try:
        west, east = (float(v) for v in str(text).split(","))
    except ValueError:
        raise CloudmaskError(None, f"longitude window {text!r}: give WEST,EAST in degrees, e.g. -135,-90") from None
    for value in (west, east):
        if not -180 <= value <= 180:
            raise CloudmaskError(None, f"longitude window {text!r}: {value:g} is outside [-180, 180]")
    return west, east


@dataclass(frozen=True)
class ClimatologyOutput:
    climatology: Climatology
    netcdf: Path = None
    csv: Path = None
    figure: Path = None
    report: Path = None


def zonal_products(inputs, netcdf=None, csv=None, figure=None, report=None, lat_bin=DEFAULT_LAT_BIN,
                   ls_bin=DEFAULT_LS_BIN, lon_window=None, mars_years=None, ls_range=None, subphases=None,
                   progress=None, cancel=None):
    """Masks (files or folders) -> the latitude x Ls diagram written as NetCDF, CSV, PNG figure and
    HTML report (each where a path is given; at least one)."""
    outputs = [p for p in (netcdf, csv, figure, report) if p]
    if not outputs:
        raise CloudmaskError(None, "nothing to write: give a NetCDF, CSV, figure or report path")
    for path in outputs:
        check_writable_folder(Path(path).parent)
    if report and not figure:
        figure = Path(report).with_suffix(".png")
    lon_window = parse_lon_window(lon_window) if isinstance(lon_window, str) else lon_window
    if lon_window is not None and None in lon_window:
        raise CloudmaskError(None, "longitude window: give both the west and the east longitude, or neither")
    masks = select_masks(inputs, mars_years, parse_ls_range(ls_range) if isinstance(ls_range, str) else ls_range,
                         subphases, need_season=True)
    clim = zonal_climatology(masks, lat_bin, ls_bin, lon_window, progress, cancel)
    if netcdf:
        write_climatology_netcdf(netcdf, clim)
    if csv:
        write_csv(csv, clim.rows())
    if figure:
        from .figures import latitude_ls_figure
        latitude_ls_figure(figure, clim)
    if report:
        from .figures import html_report
        html_report(report, figure, f"Latitude x Ls cloud frequency, Mars years {'-'.join(map(str, clim.mars_years))}",
                    [f"{clim.n_sols} sols, bins {lat_bin:g} deg latitude x {ls_bin:g} deg Ls",
                     "longitude window: " + ("all" if lon_window is None else "%g to %g" % lon_window)])
    return ClimatologyOutput(clim, *(Path(p) if p else None for p in (netcdf, csv, figure, report)))
