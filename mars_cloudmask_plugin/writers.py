"""GeoTIFF and CF-1.8 NetCDF writers. Every file is written under a temporary name in the target
folder, reopened and verified (grid, CRS, dtype, the data read back), and only then renamed, so a
file under its final name is always complete and readable; a crash, a cancel, a signal or a full
disk leaves nothing under it. `atomic_outputs` does the same for several files at once: a sol's
products appear together or not at all."""
import contextlib
import errno
import os
import tempfile
from pathlib import Path

import numpy as np

from . import grid
from .errors import CloudmaskError


def check_writable_folder(folder):
    """Create `folder` if needed and make sure files can be written there (fail before the work)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CloudmaskError(folder, f"output folder cannot be created ({exc.strerror})") from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise CloudmaskError(folder, "output folder is not writable")
    return folder


PARTIAL_SUFFIX = ".partial"


def check_replaceable(paths, overwrite=False):
    """Outputs are never replaced unasked (as GDAL and `batch` do): an existing one is an error
    unless `overwrite`, and a read-only one is never replaced, even then."""
    for path in map(Path, paths):
        if not os.path.lexists(path):
            continue
        if not overwrite:
            raise CloudmaskError(path, "exists; pass --overwrite to replace it")
        if path.is_dir():
            raise CloudmaskError(path, "is a folder; not replaced")
        if not os.access(path, os.W_OK):
            raise CloudmaskError(path, "is read-only; not replaced (make it writable to replace it)")


def partial_name_prefix(path):
    """Temporary files of `path` are named .<name>.<random>.partial beside it."""
    return f".{Path(path).name}."


def _temporary_beside(path):
    path = Path(path)
    check_writable_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=partial_name_prefix(path), suffix=PARTIAL_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    return Path(tmp)


def write_error(path, exc):
    """The one-line error of a failed write: a full disk says so, whatever layer noticed it."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOSPC or "No space left" in text or _disk_nearly_full(Path(path).parent):
        return CloudmaskError(path, "no space left on device")
    if code == errno.EISDIR or Path(path).is_dir():
        return CloudmaskError(path, "is a folder; not replaced (move it away to write this output)")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return CloudmaskError(path, f"cannot be written ({os.strerror(code)})")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return CloudmaskError(path, f"cannot be written ({first})")


def _disk_nearly_full(folder, margin=1 << 20):
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < margin


@contextlib.contextmanager
def atomic_outputs(paths):
    """Yield {key: temporary path} beside each of `paths` ({key: final path}); when the block
    succeeds, rename them all; when anything fails (or is interrupted), remove every temporary file
    and any final file this call already renamed, so the files appear together or not at all."""
    temps = {}
    renamed = []
    try:
        for key, path in paths.items():
            temps[key] = _temporary_beside(path)
        yield temps
        mode = 0o666 & ~_umask()        # mkstemp makes 0600; outputs follow the umask like any file
        for key, path in paths.items():
            os.chmod(temps[key], mode)
            os.replace(temps[key], path)
            renamed.append(Path(path))
    except BaseException as exc:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
        for path in renamed:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        if isinstance(exc, OSError):
            failed = next((p for k, p in paths.items() if k not in temps or Path(p) not in renamed), None)
            raise write_error(failed or next(iter(paths.values())), exc) from None
        raise


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside `path`; rename it to `path` only if the block succeeds."""
    with atomic_outputs({"file": path}) as temps:
        yield temps["file"]


def _read_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()      # read once at import: setting it later would race other threads (QGIS)


def _umask():
    return _UMASK


def write_geotiff(path, array, tags=None, nodata=grid.NODATA, descriptions=None):
    """A GeoTIFF on the global grid: Mars CRS, tiled, DEFLATE-compressed. `array` is (rows, cols) for
    one band or (rows, cols, bands), e.g. an RGB map; `descriptions` names the bands. Verified
    before it takes its name."""
    with atomic_output(path) as tmp:
        geotiff_to(tmp, array, tags, nodata, descriptions, final=path)
    return Path(path)


def geotiff_to(tmp, array, tags=None, nodata=grid.NODATA, descriptions=None, final=None):
    """Write and verify a GeoTIFF at the temporary path `tmp` (see write_geotiff); errors name `final`."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.errors import RasterioError

    final = final or tmp
    array = np.asarray(array)
    if array.shape[:2] != (grid.HEIGHT, grid.WIDTH):
        raise ValueError(f"array {array.shape} is not on the global grid")
    bands = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    extra = {"photometric": "RGB"} if bands.shape[0] == 3 and array.dtype == np.uint8 else {}
    profile = dict(driver="GTiff", width=grid.WIDTH, height=grid.HEIGHT, count=bands.shape[0], dtype=array.dtype.name,
                   crs=CRS.from_wkt(grid.mars_crs_wkt()), transform=grid.affine_transform(), nodata=nodata,
                   tiled=True, blockxsize=256, blockysize=256, compress="deflate",
                   predictor=_predictor(array), **extra)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(bands)
            dst.update_tags(**{k: str(v) for k, v in (tags or {}).items() if v is not None})
            for band, description in enumerate(descriptions or (), start=1):
                dst.set_band_description(band, description)
    except (OSError, RasterioError) as exc:
        raise write_error(final, exc) from None
    verify_geotiff(tmp, bands, final)


def verify_geotiff(tmp, bands, final):
    """Reopen the written file: the grid, the CRS, the dtype and every pixel must be as written
    (GDAL may only print an error on a full disk and leave a truncated file)."""
    import rasterio
    from rasterio.errors import RasterioError
    try:
        with rasterio.open(tmp) as src:
            same = ((src.width, src.height, src.count) == (grid.WIDTH, grid.HEIGHT, bands.shape[0])
                    and src.dtypes[0] == bands.dtype.name and src.crs is not None
                    and src.transform.almost_equals(grid.affine_transform())
                    and np.array_equal(src.read(), bands, equal_nan=bands.dtype.kind == "f"))
    except (OSError, RasterioError) as exc:
        raise _unreadable(final, exc) from None
    if not same:
        raise _unreadable(final, None)


def _unreadable(final, exc):
    if _disk_nearly_full(Path(final).parent):
        return CloudmaskError(final, "no space left on device")
    detail = f" ({str(exc).strip().splitlines()[0]})" if exc is not None and str(exc).strip() else ""
    return CloudmaskError(final, f"written file does not read back as written{detail}; nothing kept")


def _predictor(array):
    """TIFF predictor: differencing helps probabilities (3) and images (2), not a 1/0/-999 mask,
    which without it is a quarter smaller and faster to write."""
    if array.dtype.kind == "f":
        return 3
    return 2 if array.ndim == 3 else 1


def write_netcdf(path, mask, attrs=None):
    """CF-1.8 NetCDF with `cloudmask(latitude, longitude)`, float32 and latitude ascending (south row
    first) as in the reference masks, and a grid mapping that puts it on the Mars sphere. zlib
    level 1: 40% less time than level 4 for files of about 0.3 MB instead of 0.2 MB."""
    with atomic_output(path) as tmp:
        netcdf_mask_to(tmp, mask, attrs, final=path)
    return Path(path)


def netcdf_mask_to(tmp, mask, attrs=None, final=None):
    """Write and verify the mask NetCDF at the temporary path `tmp` (see write_netcdf)."""
    mask_attrs = {"long_name": "water-ice cloud mask", "flag_values": np.array([0, 1], np.float32),
                  "flag_meanings": "clear cloud",
                  "comment": "1 cloud, 0 clear, -999 invalid (no data, JPEG bleed, missing band) or outside the "
                             "polar bounds"}
    netcdf_grids_to(tmp, {"cloudmask": (mask, mask_attrs)}, attrs,
                    "Water-ice cloud mask from an MRO MARCI Mars Daily Global Map", final=final)


def write_netcdf_grids(path, variables, attrs=None, title=""):
    """CF-1.8 NetCDF of float32 fields on the global grid (north row first in memory, written latitude
    ascending as in the reference masks), each `name: (array, attributes)`, fill value -999, on the
    Mars sphere (grid mapping `mars_crs`), written atomically and verified."""
    with atomic_output(path) as tmp:
        netcdf_grids_to(tmp, variables, attrs, title, final=path)
    return Path(path)


def netcdf_grids_to(tmp, variables, attrs=None, title="", final=None):
    """Write and verify write_netcdf_grids' file at the temporary path `tmp`; errors name `final`."""
    import netCDF4

    from .raster import NETCDF_LOCK
    final = final or tmp
    try:
        with NETCDF_LOCK, netCDF4.Dataset(tmp, "w", format="NETCDF4_CLASSIC") as ds:
            ds.Conventions = "CF-1.8"
            ds.title = title
            for key, value in (attrs or {}).items():
                if value is not None:
                    setattr(ds, key, value if isinstance(value, (int, float)) else str(value))
            ds.createDimension("latitude", grid.HEIGHT)
            ds.createDimension("longitude", grid.WIDTH)
            lat = ds.createVariable("latitude", "f4", ("latitude",))
            lat.standard_name, lat.long_name, lat.units = "latitude", "planetocentric latitude", "degrees_north"
            lat[:] = grid.latitude_of_row(np.arange(grid.HEIGHT))[::-1]
            lon = ds.createVariable("longitude", "f4", ("longitude",))
            lon.standard_name, lon.long_name, lon.units = "longitude", "east longitude", "degrees_east"
            lon[:] = grid.longitude_of_column(np.arange(grid.WIDTH))
            add_mars_grid_mapping(ds)
            for name, (array, var_attrs) in variables.items():
                var = ds.createVariable(name, "f4", ("latitude", "longitude"), zlib=True, complevel=1,
                                        fill_value=np.float32(grid.NODATA))
                for key, value in var_attrs.items():
                    setattr(var, key, value)
                var.grid_mapping = "mars_crs"
                var[:] = np.asarray(array)[::-1].astype(np.float32)
    except (OSError, RuntimeError) as exc:      # netCDF4 reports HDF5 failures as RuntimeError
        raise write_error(final, exc) from None
    verify_netcdf(tmp, variables, final)


def verify_netcdf(tmp, variables, final):
    """Reopen the written NetCDF: each variable on the grid with the values written."""
    import netCDF4

    from .raster import NETCDF_LOCK
    try:
        with NETCDF_LOCK, netCDF4.Dataset(tmp) as ds:
            ds.set_auto_mask(False)
            for name, (array, _) in variables.items():
                stored = ds.variables[name][:]
                expected = np.asarray(array)[::-1].astype(np.float32)
                if stored.shape != expected.shape or not np.array_equal(stored, expected, equal_nan=True):
                    raise _unreadable(final, None)
    except (OSError, RuntimeError, KeyError) as exc:
        raise _unreadable(final, exc) from None


def add_mars_grid_mapping(ds):
    """The CF grid-mapping variable `mars_crs` declaring the Mars sphere (GDAL and QGIS read it)."""
    crs = ds.createVariable("mars_crs", "i4")
    crs.grid_mapping_name = "latitude_longitude"
    crs.semi_major_axis = grid.MARS_RADIUS_M
    crs.inverse_flattening = 0.0
    crs.reference_ellipsoid_name = "Mars (2015) - Sphere"
    crs.crs_wkt = grid.mars_crs_wkt()
    return crs


def mdgm_vrt_to(tmp, source, sol, final=None):
    """At the temporary path `tmp`, a VRT that puts the MDGM JPEG `source` (absolute path, never
    changed) on the global grid in IAU_2015:49900; errors name `final`."""
    from osgeo import gdal

    from .geopackage import gdal_errors
    final = final or tmp
    west, north = grid.WEST_EDGE, grid.NORTH_EDGE
    bounds = [west, north, west + grid.WIDTH * grid.PIXEL_DEG, north - grid.HEIGHT * grid.PIXEL_DEG]
    with gdal_errors(final, "cannot write the VRT"):
        ds = gdal.Translate(str(tmp), str(Path(source).resolve()), format="VRT", outputSRS=grid.mars_crs_wkt(),
                            outputBounds=bounds, noData=0)
        if ds is None:
            raise CloudmaskError(final, f"cannot write the VRT ({gdal.GetLastErrorMsg()})")
        ds.SetGeoTransform(grid.geotransform())     # exact, not rounded from the bounds
        ds.SetMetadataItem("SOL", sol)
        ds = None  # noqa: F841  (written on close)
    # GDAL 3.6 writes the authority as IAU; under that name PROJ (and so QGIS) finds no CRS and the
    # layer comes up as a custom CRS with no transform to IAU_2015:49900: name it as PROJ does.
    text = Path(tmp).read_text()
    Path(tmp).write_text(text.replace('AUTHORITY["IAU","49900"]', 'AUTHORITY["IAU_2015","49900"]'))
