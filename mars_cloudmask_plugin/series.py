"""Cloud cover per sol: cloud and valid area in km^2 on the Mars sphere (exact pixel areas, R =
3396190 m), cloud fraction (of the valid area) and valid fraction (of the region's area), in
latitude bands and/or a lon/lat box -> CSV rows (sol, Mars year, Ls, region, ...) and a PNG plot."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .errors import CloudmaskError
from .masks import parse_ls_range, select_masks, stream_masks
from .report import write_csv
from .sphere import row_pixel_areas_km2
from .writers import check_writable_folder

DEFAULT_BAND = 10.0


@dataclass(frozen=True)
class Region:
    name: str
    rows: np.ndarray          # row indices of the global grid
    columns: object           # column index array or slice(None)


def latitude_bands(width=DEFAULT_BAND):
    """Regions of `width`-degree latitude bands from the south pole (pixel centres in [south, north),
    the north pole row in the last band)."""
    if not 0 < width <= 180:
        raise CloudmaskError(None, f"latitude band {width:g}: must be in (0, 180] degrees")
    lat = grid.latitude_of_row(np.arange(grid.HEIGHT))
    count = int(np.ceil(180.0 / width - 1e-9))
    # Each row in exactly one band (a tolerance for centres that fall on an edge up to rounding).
    band_of_row = np.minimum(np.floor((lat + 90.0) / width + 1e-9).astype(int), count - 1)
    regions = []
    for k in range(count):
        south, north = -90.0 + k * width, min(-90.0 + (k + 1) * width, 90.0)
        regions.append(Region(f"lat {south:+g} to {north:+g}", np.flatnonzero(band_of_row == k), slice(None)))
    return regions


def box_region(box):
    """The pixels whose centres lie in (west, east, south, north) degrees; west > east crosses the
    antimeridian."""
    west, east, south, north = box
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
        raise CloudmaskError(None, f"box {box}: give WEST,EAST,SOUTH,NORTH in degrees with SOUTH < NORTH")
    lat = grid.latitude_of_row(np.arange(grid.HEIGHT))
    rows = np.flatnonzero((lat >= south) & (lat <= north))
    cols = grid.columns_between(west, east)
    if rows.size == 0 or cols.size == 0:
        raise CloudmaskError(None, f"box {box} holds no pixel centre")
    return Region(f"box {west:g},{east:g},{south:g},{north:g}", rows, cols)


def parse_box(text):
    if text in (None, ""):
        return None
    try:
        values = tuple(float(v) for v in str(text).split(","))
        assert len(values) == 4
    except (ValueError, AssertionError):
        raise CloudmaskError(None, f"box {text!r}: give WEST,EAST,SOUTH,NORTH in degrees, e.g. -135,-90,-10,30") \
            from None
    return values


def region_cover(mask, region, areas):
    """(cloud km^2, valid km^2, region km^2) of one mask in one region."""
    window = mask[region.rows][:, region.columns]
    row_areas = areas[region.rows]
    cloud = float(((window == 1).sum(axis=1) * row_areas).sum())
    valid = float(((window != grid.NODATA).sum(axis=1) * row_areas).sum())
    return cloud, valid, float(window.shape[1] * row_areas.sum())


def cloud_series(masks, regions, progress=None, cancel=None):
    """Rows (dicts) of cover per sol and region, in season order."""
    areas = row_pixel_areas_km2()
    rows = []
    for info, mask in stream_masks(masks, progress, cancel):
        for region in regions:
            cloud, valid, total = region_cover(mask, region, areas)
            rows.append({"sol": info.sol, "mars_year": info.mars_year, "ls": info.ls,
                         "season": info.season if info.ls is not None else None, "region": region.name,
                         "cloud_km2": round(cloud, 3), "valid_km2": round(valid, 3), "region_km2": round(total, 3),
                         "cloud_fraction": round(cloud / valid, 6) if valid else "",
                         "valid_fraction": round(valid / total, 6), "file": str(info.path)})
    return rows


@dataclass(frozen=True)
class SeriesOutput:
    rows: list
    csv: Path
    figure: Path = None


def series_products(inputs, csv, figure=None, band=DEFAULT_BAND, box=None, bands=True, mars_years=None,
                    ls_range=None, subphases=None, progress=None, cancel=None):
    """Masks (files or folders) -> the per-sol cover CSV (and PNG plot) in latitude bands of `band`
    degrees (unless `bands` is False) and/or the box WEST,EAST,SOUTH,NORTH."""
    for path in (csv, figure):
        if path:
            check_writable_folder(Path(path).parent)
    box = parse_box(box) if isinstance(box, str) else box
    regions = (latitude_bands(band) if bands else []) + ([box_region(box)] if box else [])
    if not regions:
        raise CloudmaskError(None, "no region: keep the latitude bands or give a box")
    masks = select_masks(inputs, mars_years, parse_ls_range(ls_range) if isinstance(ls_range, str) else ls_range,
                         subphases, need_season=figure is not None)
    rows = cloud_series(masks, regions, progress, cancel)
    write_csv(csv, [{k: v for k, v in row.items() if k != "season"} for row in rows])
    if figure:
        from .figures import series_figure
        series_figure(figure, rows)
    return SeriesOutput(rows, Path(csv), Path(figure) if figure else None)
