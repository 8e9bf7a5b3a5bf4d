"""Single steps of the chain with plain inputs and outputs, for front ends that expose the chain
one stretch at a time (the QGIS Processing algorithms `polarcrop`, `cloudprobability` and
`postfilter`): a prediction area from explicit latitude bounds, the probability over a given area,
the cropped map, and reading a single-band product back from disk.

Every function here composes the engine's own functions; none changes a result. In particular
`probability_in_area` over `prediction_area(rgb, ls, buffer)` equals `pipeline.probability_for`.
"""
from pathlib import Path

import numpy as np

from . import grid
from .crop import Area, prediction_area, usable_columns
from .errors import CloudmaskError
from .mdgm import Sol, find_sol, sol_name
from .pipeline import probability_in_area  # noqa: F401  (the cloudprobability step)
from .writers import write_geotiff


def area_between(rgb, lat_north, lat_south, path=None):
    """The prediction area between explicit latitudes (degrees), less the black edge columns:
    what `crop.prediction_area` does with bounds that do not come from Ls."""
    lat_north, lat_south = float(lat_north), float(lat_south)
    for name, value in (("north", lat_north), ("south", lat_south)):
        if not -90.0 <= value <= 90.0:
            raise CloudmaskError(path, f"{name} bound {value:g} is outside [-90, 90] degrees")
    if lat_north <= lat_south:
        raise CloudmaskError(path, f"north bound {lat_north:g} is not north of south bound {lat_south:g}")
    row0, row1 = grid.rows_between(lat_north, lat_south)
    if row1 <= row0:
        raise CloudmaskError(path, f"no pixel centre lies between latitudes {lat_south:g} and {lat_north:g}")
    cols = usable_columns(rgb[row0:row1])
    if cols is None:
        raise CloudmaskError(path, f"holds no image data between latitudes {lat_south:.2f} and {lat_north:.2f}")
    return Area(row0, row1, cols[0], cols[1], lat_north, lat_south)


def resolve_area(mdgm, ls=None, buffer=3.0, lat_north=None, lat_south=None):
    """(Area, Sol) for one MDGM: explicit bounds when both are given, else the polar bounds of Ls
    (from `ls`, else the archive's *_ls.txt). With explicit bounds Ls is optional (Sol.ls None)."""
    explicit = lat_north is not None or lat_south is not None
    if explicit and (lat_north is None or lat_south is None):
        raise CloudmaskError(mdgm.path, "give both latitude bounds (north and south), or neither")
    try:
        sol = find_sol(mdgm.path, ls)
    except CloudmaskError:
        if not explicit:
            raise
        sol = Sol(sol_name(mdgm.path), None, None)
    if explicit:
        return area_between(mdgm.rgb, lat_north, lat_south, mdgm.path), sol
    return prediction_area(mdgm.rgb, sol.ls, buffer, mdgm.path), sol


def crop_to_area(rgb, area, fill=0):
    """The map with every pixel outside the area set to `fill` (still on the global grid)."""
    out = np.full_like(rgb, fill)
    out[area.slices] = rgb[area.slices]
    return out


def write_rgb_geotiff(path, rgb, tags=None, nodata=0):
    """A 3-band uint8 GeoTIFF on the global grid (Mars CRS, tiled, DEFLATE), written atomically."""
    rgb = np.asarray(rgb)
    if rgb.shape != (grid.HEIGHT, grid.WIDTH, 3) or rgb.dtype != np.uint8:
        raise ValueError(f"array {rgb.shape} {rgb.dtype} is not an RGB map on the global grid")
    return write_geotiff(path, rgb, tags, nodata=nodata)


def read_global_band(path, what="raster"):
    """(array, tags) of band 1 of a single-band raster on the global grid, e.g. a probability raster
    written by the `cloudprobability` step. Nodata pixels read as grid.NODATA."""
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        raise CloudmaskError(path, f"{what} not found")
    try:
        with rasterio.open(path) as src:
            if (src.width, src.height) != (grid.WIDTH, grid.HEIGHT):
                raise CloudmaskError(path, f"{what} is {src.width} x {src.height} pixels; expected the global grid "
                                           f"{grid.WIDTH} x {grid.HEIGHT}")
            if not src.transform.almost_equals(grid.affine_transform(), precision=1e-6):
                raise CloudmaskError(path, f"{what} is not on the 0.1-degree global grid (transform "
                                           f"{tuple(src.transform)[:6]})")
            if src.count != 1:
                raise CloudmaskError(path, f"{what} has {src.count} bands; expected 1")
            array = src.read(1, masked=True)
            tags = src.tags()
    except RasterioIOError as exc:
        raise CloudmaskError(path, f"{what} cannot be read ({str(exc).strip().splitlines()[0]})") from None
    values = np.ma.filled(array.astype(np.float32), np.float32(grid.NODATA))
    return values, tags
