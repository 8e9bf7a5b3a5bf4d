"""From the global map to the prediction area, and the area padded for a valid-padding U-Net."""
from dataclasses import dataclass

import numpy as np

from . import grid
from .bounds import polar_bounds
from .errors import CloudmaskError
from .mdgm import MIN_BLUE


@dataclass(frozen=True)
class Area:
    """The prediction area: rows [row0, row1) and columns [col0, col1) of the global grid."""
    row0: int
    row1: int
    col0: int
    col1: int
    lat_north: float
    lat_south: float
    ls: float = None            # the sol's solar longitude, where known (channels that depend on season)

    @property
    def shape(self):
        return self.row1 - self.row0, self.col1 - self.col0

    @property
    def slices(self):
        return slice(self.row0, self.row1), slice(self.col0, self.col1)


def usable_columns(rgb_rows):
    """[first, last + 1) of the columns holding any pixel with all bands >= 30 (published rule);
    trims the thin black columns at the map's west and east edges."""
    usable = ((rgb_rows[..., 0] >= MIN_BLUE) & (rgb_rows[..., 1] >= MIN_BLUE) & (rgb_rows[..., 2] >= MIN_BLUE)).any(axis=0)
    cols = np.flatnonzero(usable)
    if cols.size == 0:
        return None
    return int(cols[0]), int(cols[-1]) + 1


def prediction_area(rgb, ls, buffer=3.0, path=None):
    """Polar-bounded rows of the map, less the black columns at its west and east edges."""
    lat_north, lat_south = polar_bounds(ls, buffer)
    if lat_north <= lat_south:
        raise CloudmaskError(path, f"buffer {buffer:g} leaves no latitudes between the polar bounds")
    row0, row1 = grid.rows_between(lat_north, lat_south)
    cols = usable_columns(rgb[row0:row1])
    if cols is None:
        raise CloudmaskError(path, f"holds no image data between latitudes {lat_south:.2f} and {lat_north:.2f}")
    return Area(row0, row1, cols[0], cols[1], lat_north, lat_south, ls)


def pad_area(rgb, area, before, after_rows, after_cols, latitude=False, channels=None, clearsky=None):
    """The area padded by `before` pixels on the north and west sides and by `after_*` on the south
    and east sides: the network's input.

    East/west padding wraps around the globe (columns from the area's opposite edge, so the
    trimmed black columns never enter); north/south padding takes the image rows beyond the
    bounds, mirrored only past the poles. `channels` (names of inputs.CHANNELS; default RGB, plus
    latitude with `latitude`): RGB alone stays in its own dtype; otherwise exactly those channels,
    float32, latitude in degrees per row (a mirrored row keeps the latitude of the row it copies),
    the clear-sky ones from `clearsky` (a clearsky.ClearSky), padded the same way; the seasonal ones
    from the area's Ls.
    """
    from .inputs import LEGACY_INPUTS, RGB, build_channels
    rows, cols = padding_index(area, before, after_rows, after_cols)
    channels = tuple(channels or LEGACY_INPUTS["rgb+latitude" if latitude else "rgb"])
    if channels == RGB:
        return take_padded(rgb, rows, cols)
    return build_channels(channels, take_padded(rgb, rows, cols), grid.latitude_of_row(rows).astype(np.float32),
                          None if clearsky is None else [take_padded(band, rows, cols)
                                                         for band in (clearsky.blue_red, clearsky.blue)],
                          area.ls)


def padding_index(area, before, after_rows, after_cols):
    """(rows, cols) of the global grid that make up the padded area, in order (see pad_area)."""
    h, w = area.shape
    rows = np.arange(area.row0 - before, area.row1 + after_rows)
    last = grid.HEIGHT - 1
    rows = np.abs(rows)                                   # mirror past the north pole
    rows = np.where(rows > last, 2 * last - rows, rows)   # mirror past the south pole
    if rows.min() < 0:
        raise CloudmaskError(None, "padding larger than the globe")
    cols = area.col0 + np.arange(-before, w + after_cols) % w
    return rows, cols


def take_padded(array, rows, cols):
    """array[rows][:, cols] for a global-grid array (2-D or with bands), copying column runs."""
    padded = np.empty((rows.size, cols.size) + array.shape[2:], array.dtype)
    source = array[rows]
    for start, stop in _runs(cols):   # the wrapped columns are a few contiguous runs: copy slices
        padded[:, start:stop] = source[:, cols[start]:cols[start] + stop - start]
    return padded


def _runs(index):
    """[start, stop) of each run of consecutive values in an integer index array."""
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(index) != 1) + 1, [index.size]])
    return zip(bounds[:-1], bounds[1:])
