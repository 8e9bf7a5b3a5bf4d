"""Reading an MDGM and its solar longitude.

An MDGM is the distributed 3600 x 1801 RGB JPEG (no georeferencing: the global grid is assigned
here), or any GDAL-readable 3-band 8-bit raster already on that grid.
"""
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .bounds import check_ls
from .errors import CloudmaskError

# Published rule (Mengwall and Guzewich 2022): a pixel has data when blue >= 30 and no band is 0;
# blue < 30 catches JPEG bleed into black no-data areas, a zero band a missing filter.
MIN_BLUE = 30

_SOL_NAME = re.compile(r"^(P\d+|[A-Z]\d+)_(day\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Sol:
    """Identity and season of one MDGM."""
    name: str             # e.g. "P01_day10"
    ls: float             # solar longitude, degrees
    mars_year: int | None


@dataclass
class Mdgm:
    """An MDGM on the global grid: `rgb` is (1801, 3600, 3) uint8, row 0 = 90 N, column 0 = 180 W."""
    path: Path
    rgb: np.ndarray


def has_data(rgb):
    """True where a pixel carries usable colour (see MIN_BLUE)."""
    # Band by band: about 8x faster than np.all over the interleaved last axis, and it runs
    # several times per map.
    data = rgb[..., 2] >= MIN_BLUE
    data &= rgb[..., 0] > 0
    data &= rgb[..., 1] > 0
    return data


def read_mdgm(path):
    """Read an MDGM and check it is a 3-band 8-bit map on the 0.1-degree global grid."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = Path(path)
    if not path.exists():
        raise CloudmaskError(path, "file not found")
    if path.is_dir():
        raise CloudmaskError(path, "is a folder, not an MDGM image")
    # A truncated JPEG is only a libjpeg warning by default: make it an error instead of
    # silently predicting on grey filler.
    with rasterio.Env(GDAL_ERROR_ON_LIBJPEG_WARNING="TRUE"), warnings.catch_warnings():
        # The distributed JPEG has no georeferencing by design: the grid is assigned here.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            with rasterio.open(path) as src:
                _check_layout(path, src)
                # Read straight into a pixel-interleaved array (GDAL honours the view's strides):
                # a third of the time of a band-by-band read and a transpose.
                rgb = np.empty((grid.HEIGHT, grid.WIDTH, 3), np.uint8)
                src.read([1, 2, 3], out=rgb.transpose(2, 0, 1))
        except RasterioIOError as exc:
            raise CloudmaskError(path, f"cannot be read as an image ({_first_line(exc)})") from None
    if not (has_data(rgb[::8, ::8]).any() or has_data(rgb).any()):  # the sparse look settles almost every map
        raise CloudmaskError(path, "holds no image data (every pixel is black or near black)")
    return Mdgm(path, rgb)


def _check_layout(path, src):
    if src.count != 3:
        kind = {1: "grayscale (1 band)", 4: "4-band (RGBA?)"}.get(src.count, f"{src.count}-band")
        raise CloudmaskError(path, f"is {kind}; an MDGM has 3 bands (red, green, blue)")
    if src.dtypes[0] != "uint8":
        raise CloudmaskError(path, f"has {src.dtypes[0]} pixels; an MDGM has 8-bit (uint8) bands")
    if (src.width, src.height) != (grid.WIDTH, grid.HEIGHT):
        hint = ""
        if src.width > grid.WIDTH:
            hint = (" (a finer map: resample it first, e.g. gdalwarp -tr 0.1 0.1 -te -180.05 -90.05"
                    " 179.95 90.05 -r average IN OUT.tif)")
        raise CloudmaskError(path, f"is {src.width} x {src.height} pixels; an MDGM on the 0.1-degree "
                                   f"global grid is {grid.WIDTH} x {grid.HEIGHT}{hint}")
    if src.crs is not None or not src.transform.is_identity:
        expected = grid.affine_transform()
        if not src.transform.almost_equals(expected, precision=1e-6):
            raise CloudmaskError(path, f"is georeferenced on another grid (transform {tuple(src.transform)[:6]});"
                                       f" expected origin ({grid.WEST_EDGE}, {grid.NORTH_EDGE}) and 0.1-degree pixels")


def _first_line(exc):
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def sol_name(path):
    """'P01_day10' from '.../P01_day10_zequat.jpg'; the file stem when it does not follow the archive."""
    stem = Path(path).stem
    m = _SOL_NAME.match(stem)
    return f"{m.group(1).upper()}_{m.group(2).lower()}" if m else stem


def read_ls_table(table_path):
    """Rows of an archive `Pxx_ls.txt` (name, Mars year, Ls) as {name: (mars_year, ls)}."""
    table = {}
    for line in Path(table_path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            try:
                table[parts[0]] = (int(parts[1]), float(parts[2]))
            except ValueError:
                continue
    return table


def find_sol(path, ls=None):
    """The Sol of an MDGM: Ls from the `*_ls.txt` beside it, or `ls` when given (it wins).

    Without either, a CloudmaskError says how to pass Ls.
    """
    path = Path(path)
    name = sol_name(path)
    year, table_ls = _lookup_ls_table(path.parent, name)
    if ls is not None:
        return Sol(name, check_ls(ls, path), year)
    if table_ls is None:
        raise CloudmaskError(path, f"no solar longitude: no '{name}' line in a *_ls.txt beside it;"
                                   " add that line, or pass Ls with --ls DEG (predict, batch) or the Ls parameter (QGIS)")
    return Sol(name, check_ls(table_ls, path), year)


def _lookup_ls_table(folder, name):
    for table_path in sorted(folder.glob("*_ls.txt")):
        row = read_ls_table(table_path).get(name)
        if row:
            return row
    return None, None
