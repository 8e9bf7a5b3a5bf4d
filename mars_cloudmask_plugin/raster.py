"""Reading rasters on the global grid: the one grid check, the one read-error formatter, single-band
products (probability rasters) and our cloud masks (GeoTIFF or NetCDF, also the reference masks and
the published model's masks) read back with their tags.

Every failure is a CloudmaskError naming the file and the problem in one line.
"""
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .archive import sol_in_name
from .bounds import check_ls
from .errors import CloudmaskError

NETCDF_SUFFIXES = (".nc", ".ncdf", ".nc4", ".cdf")
GEOTIFF_SUFFIXES = (".tif", ".tiff")
FILE_METHOD = "masks"        # the method name of mask files that do not name their model
# Debian's HDF5 is not built thread-safe: one NetCDF read at a time in a process (GeoTIFF reads overlap).
NETCDF_LOCK = threading.Lock()


def first_line(exc):
    """The first line of an exception's message (GDAL and netCDF errors run over several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_error(path, exc, what="raster"):
    """The one message for a raster that cannot be opened or read."""
    return CloudmaskError(path, f"{what} cannot be read ({first_line(exc)})")


@contextmanager
def open_on_grid(path, what="raster"):
    """A rasterio dataset opened for reading and checked by check_global_grid. Rasterio's warning that
    a file has no georeferencing is silenced here: the grid check says so in its one-line error."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        src = rasterio.open(path)
    with src:
        check_global_grid(path, src, what)
        yield src


def check_global_grid(path, src, what="raster", georeferencing_optional=False):
    """`src` (an open rasterio dataset) must be 3600 x 1801 pixels on the 0.1-degree global grid.

    With `georeferencing_optional` a raster without any georeferencing passes (the distributed
    MDGM JPEGs carry none: the grid is assigned by the reader)."""
    if (src.width, src.height) != (grid.WIDTH, grid.HEIGHT):
        hint = ""
        if src.width > grid.WIDTH:
            hint = (" (a finer map: resample it first, e.g. gdalwarp -tr 0.1 0.1 -te -180.05 -90.05"
                    " 179.95 90.05 -r average IN OUT.tif)")
        raise CloudmaskError(path, f"{what} is {src.width} x {src.height} pixels; {_article(what)} on the "
                                   f"0.1-degree global grid is {grid.WIDTH} x {grid.HEIGHT}{hint}")
    unreferenced = src.crs is None and src.transform.is_identity
    if georeferencing_optional and unreferenced:
        return
    if unreferenced:
        raise CloudmaskError(path, f"{what} has no georeferencing; expected a raster on the 0.1-degree "
                                   f"global grid in {grid.CRS_AUTHID}, origin ({grid.WEST_EDGE}, {grid.NORTH_EDGE})")
    if not src.transform.almost_equals(grid.affine_transform(), precision=1e-6):
        raise CloudmaskError(path, f"{what} is georeferenced on another grid (transform {tuple(src.transform)[:6]});"
                                   f" expected origin ({grid.WEST_EDGE}, {grid.NORTH_EDGE}) and 0.1-degree pixels")


def _article(what):
    return f"an {what}" if what[:1].lower() in "aeiou" or what.startswith("MDGM") else f"a {what}"


def read_global_band(path, what="raster"):
    """(float32 values, tags) of band 1 of a single-band raster on the global grid, e.g. a
    probability raster written by the `cloudprobability` step. Nodata pixels read as grid.NODATA."""
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        raise CloudmaskError(path, f"{what} not found")
    try:
        with open_on_grid(path, what) as src:
            if src.count != 1:
                raise CloudmaskError(path, f"{what} has {src.count} bands; expected 1")
            array = src.read(1, masked=True)
            tags = src.tags()
    except RasterioIOError as exc:
        raise read_error(path, exc, what) from None
    return np.ma.filled(array.astype(np.float32), np.float32(grid.NODATA)), tags


# -- cloud masks ---------------------------------------------------------------------------------

def binary_mask(values, path=None, nodata=grid.NODATA):
    """Int16 1 cloud / 0 clear / -999 ignore from a stored mask: `nodata`, NaN and negative values
    are ignored, values > 0 are cloud (reference masks store a brightness 1..255 there).
    Fractional values mean a probability raster, not a mask: a CloudmaskError says so."""
    values = np.asarray(values)
    ignore = ~np.isfinite(values) | (values < 0)
    if nodata is not None:
        ignore |= values == nodata
    kept = values[~ignore]
    if values.dtype.kind == "f" and np.any(kept != np.round(kept)):
        raise CloudmaskError(path, "holds fractional values: a probability raster, not a 1/0/-999 cloud mask")
    out = (values > 0).astype(np.int16)
    out[ignore] = grid.NODATA
    return out


def read_netcdf_values(path):
    """(values, attributes) of a cloud-mask NetCDF as stored (float32; the reference masks keep a
    brightness number 1..255 for cloud), on the global grid, north row first: files that store
    latitude ascending (all of these do) are flipped."""
    import netCDF4
    path = Path(path)
    try:
        with NETCDF_LOCK, netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            values = np.asarray(ds.variables["cloudmask"][:], np.float32)
            lat = np.asarray(ds.variables["latitude"][:], np.float64)
            attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
    except (OSError, KeyError, RuntimeError) as exc:   # RuntimeError: HDF5 on a damaged file
        raise CloudmaskError(path, f"is not a readable cloud-mask NetCDF with 'cloudmask' and 'latitude' "
                                   f"({first_line(exc)})") from None
    if values.shape != (grid.HEIGHT, grid.WIDTH):
        raise CloudmaskError(path, f"cloudmask is {values.shape}, not on the {grid.HEIGHT} x {grid.WIDTH} grid")
    if lat[0] < lat[-1]:
        values = values[::-1]
    return values, attrs


def read_netcdf_mask(path):
    """(mask, attributes) of a cloud-mask NetCDF (reference masks, the paper's masks, ours): the
    mask as Int16 on the global grid, north row first (1 cloud, 0 clear, -999 ignore)."""
    values, attrs = read_netcdf_values(path)
    return binary_mask(values, path), attrs


def read_reference(path):
    """A reference mask as Int16 on the global grid, north row first: 1 cloud (value > 0),
    0 clear, -999 ignore. Reference files store latitude ascending, so rows are flipped."""
    return read_netcdf_mask(path)[0]


def read_geotiff_mask(path):
    """(mask, tags) of a single-band GeoTIFF mask on the global grid."""
    from rasterio.errors import RasterioIOError
    try:
        with open_on_grid(path, "mask") as src:
            if src.count != 1:
                raise CloudmaskError(path, f"mask has {src.count} bands; a mask is one band")
            values, nodata, tags = src.read(1), src.nodata, src.tags()
    except RasterioIOError as exc:
        raise read_error(path, exc, "GeoTIFF mask") from None
    return binary_mask(values, path, grid.NODATA if nodata is None else nodata), tags


def mask_tags(path, check_grid=False):
    """The tags (GeoTIFF) or global attributes (NetCDF) of a cloud mask, keys lower case, without
    reading its pixels; with `check_grid` the mask must lie on the global grid."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GEOTIFF_SUFFIXES + NETCDF_SUFFIXES:
        raise CloudmaskError(path, "is not a GeoTIFF (.tif) or NetCDF (.nc, .ncdf) cloud mask")
    try:
        if suffix in GEOTIFF_SUFFIXES:
            import rasterio
            with rasterio.open(path) as src:
                if check_grid:
                    check_global_grid(path, src, "mask")
                return {k.lower(): v for k, v in src.tags().items()}
        import netCDF4
        with NETCDF_LOCK, netCDF4.Dataset(path) as ds:
            shape = ds.variables["cloudmask"].shape if check_grid else None
            if check_grid and shape != (grid.HEIGHT, grid.WIDTH):
                raise CloudmaskError(path, f"cloudmask is {shape}, not on the {grid.HEIGHT} x {grid.WIDTH} grid")
            return {k.lower(): ds.getncattr(k) for k in ds.ncattrs()}
    except CloudmaskError:
        raise
    except Exception as exc:  # noqa: BLE001  rasterio, netCDF4 and HDF5 raise many kinds
        raise read_error(path, exc, "mask") from None


@dataclass
class StoredMask:
    """A cloud mask read from a file, on the global grid, north row first (1/0/-999)."""
    path: Path
    sol: str
    mask: np.ndarray
    method: str
    ls: float = None
    tags: dict = None          # the file's tags or attributes, keys lower case


def read_mask(path):
    """Read a GeoTIFF or NetCDF mask and tell its sol: the SOL tag or attribute, else the sol in
    SOURCE_FILE, else the sol in the file name."""
    path = Path(path)
    if not path.is_file():
        raise CloudmaskError(path, "mask file not found")
    suffix = path.suffix.lower()
    if suffix in GEOTIFF_SUFFIXES:
        mask, meta = read_geotiff_mask(path)
    elif suffix in NETCDF_SUFFIXES:
        mask, meta = read_netcdf_mask(path)
    else:
        raise CloudmaskError(path, "is not a GeoTIFF (.tif) or NetCDF (.nc, .ncdf) cloud mask")
    meta = {k.lower(): v for k, v in meta.items()}
    sol = meta.get("sol") or sol_in_name(meta.get("source_file", "")) or sol_in_name(path.name)
    if not sol:
        raise CloudmaskError(path, "cannot tell its sol: no SOL tag or attribute, and neither SOURCE_FILE "
                                   "nor the file name holds one like P01_day15")
    ls = meta.get("ls")
    unknown = ls in (None, "") or str(ls).lower() == "nan"     # NaN: made between explicit bounds, no Ls
    return StoredMask(path, str(sol), mask, str(meta.get("model") or FILE_METHOD),
                      None if unknown else check_ls(ls, path), meta)
