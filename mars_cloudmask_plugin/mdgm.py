"""Reading an MDGM (its sol and solar longitude come from the archive module).

An MDGM is the distributed 3600 x 1801 RGB JPEG (no georeferencing: the global grid is assigned
here), or any GDAL-readable 3-band 8-bit raster already on that grid.
"""
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .errors import CloudmaskError
from .raster import check_global_grid, first_line

# Published rule (Mengwall and Guzewich 2022): a pixel has data when blue >= 30 and no band is 0;
# blue < 30 catches JPEG bleed into black no-data areas, a zero band a missing filter.
MIN_BLUE = 30


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
            raise CloudmaskError(path, f"cannot be read as an image ({first_line(exc)})") from None
    if not (has_data(rgb[::8, ::8]).any() or has_data(rgb).any()):  # the sparse look settles almost every map
        raise CloudmaskError(path, "holds no image data (every pixel is black or near black)")
    return Mdgm(path, rgb)


def _check_layout(path, src):
    if src.count != 3:
        kind = {1: "grayscale (1 band)", 4: "4-band (RGBA?)"}.get(src.count, f"{src.count}-band")
        raise CloudmaskError(path, f"is {kind}; an MDGM has 3 bands (red, green, blue)")
    if src.dtypes[0] != "uint8":
        raise CloudmaskError(path, f"has {src.dtypes[0]} pixels; an MDGM has 8-bit (uint8) bands")
    check_global_grid(path, src, "MDGM", georeferencing_optional=True)
