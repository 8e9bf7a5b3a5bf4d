"""The clear-sky reference map: per pixel, a low percentile over many sols of the colours that tell
cloud from surface (blue/red and blue), where the pixel has data, and how many sols had data there.

Why: the reference masks were labelled by comparing each map's blue/red with a reference ratio map
(Wang and Gonzalez Abad 2021). Water-ice cloud only ever raises blue and blue/red, so a low
percentile over a subphase's sols is the surface as it looks without cloud; a map alone cannot
tell bright frost from cloud, the difference to that reference can.

Memory stays bounded whatever the number of sols: each MDGM is read once into a stack on disk
(3 bytes per pixel per sol), then the statistic is taken block by block of rows.

GeoTIFF layout (float32, nodata -999 on the statistic bands where fewer than `min_sols` sols had
data): bands 1-3 red, green, blue (0-255: the clear-sky colour map of Mars, which QGIS shows in
true colour), band 4 blue/red (the percentile of the ratio, not the ratio of percentiles), band 5
the number of sols with data. Tags name the sols, their Ls range, the statistic and the bands.
"""
import math
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .archive import find_sol, sol_name
from .errors import Cancelled, CloudmaskError
from .mdgm import has_data, read_mdgm
from .options import DEFAULT_MIN_SOLS, DEFAULT_PERCENTILE
from .raster import open_on_grid, read_error
from .writers import check_writable_folder, write_geotiff

# DEFAULT_PERCENTILE, the 20th: chosen on the validation sols of P01 (days 15-18) with the
# gradient-boosting baseline (docs/clearsky.md); low, so a pixel cloudy on many sols still shows its surface.
BANDS = ("red", "green", "blue", "blue_red", "sols")
FORMAT = "mars-cloudmask-clearsky/1"
MAX_LS_GAP = 30.0       # degrees of Ls between a target sol and the reference's sols before it is refused
BLOCK_ROWS = 64


def percentile_with_missing(stack, q):
    """The q-th percentile along axis 0 of a float stack whose missing values are NaN, with numpy's
    linear interpolation (np.nanpercentile's result), and the count of values per pixel. NaN where
    a pixel has no value. Sorting puts NaN last, so the k-th valid value is at index k."""
    ordered = np.sort(stack, axis=0)
    count = np.sum(~np.isnan(stack), axis=0)
    position = (np.maximum(count, 1) - 1) * (q / 100.0)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    below = np.take_along_axis(ordered, low[None], 0)[0]
    above = np.take_along_axis(ordered, high[None], 0)[0]
    value = below + (above - below) * (position - low).astype(np.float32)
    value[count == 0] = np.nan
    return value, count


@dataclass(frozen=True)
class ClearSkyInfo:
    """What a reference file says about itself (its tags)."""
    path: Path
    sols: tuple
    ls_min: float
    ls_max: float
    percentile: float
    min_sols: int
    left_out: tuple = ()      # MDGMs of the folder that could not be read (batch runs go on without them)

    @property
    def label(self):
        """How a mask's tags name the reference it was made with."""
        return f"{self.path.name} ({len(self.sols)} sols, Ls {self.ls_min:g}-{self.ls_max:g}, p{self.percentile:g})"

    def ls_gap(self, ls):
        """Degrees of Ls from `ls` to the nearest end of the reference's Ls range (0 inside it)."""
        if ls is None or math.isnan(ls):
            return 0.0
        if _in_ls_range(ls, self.ls_min, self.ls_max):
            return 0.0
        return min(_ls_distance(ls, self.ls_min), _ls_distance(ls, self.ls_max))


def _ls_distance(a, b):
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _in_ls_range(ls, low, high):
    """Ls ranges may wrap through 0 (a subphase that spans Ls 350-5 is stored as 350..5)."""
    return low <= ls <= high if low <= high else ls >= low or ls <= high


def ls_range(values):
    """(low, high) of a set of Ls values as the shortest arc that holds them all (may wrap past 360)."""
    values = sorted(float(v) % 360.0 for v in values)
    if len(values) == 1:
        return values[0], values[0]
    gaps = [(values[(i + 1) % len(values)] - v) % 360.0 for i, v in enumerate(values)]
    widest = int(np.argmax(gaps))
    return values[(widest + 1) % len(values)], values[widest]


def build_clearsky(mdgm_paths, output, percentile=DEFAULT_PERCENTILE, min_sols=DEFAULT_MIN_SOLS,
                   progress=None, cancel=None, skip_bad=False):
    """MDGM files (or archive folders: every MDGM below them) -> the clear-sky reference GeoTIFF at
    `output` (see the module's docstring); returns its ClearSkyInfo. Every MDGM needs its Ls (the
    archive's Pxx_ls.txt). With `skip_bad` (batch runs) an MDGM that cannot be read or has no Ls is
    left out instead of failing the build."""
    from .archive import find_mdgms
    paths = set()
    for path in map(Path, mdgm_paths):
        found = find_mdgms(path) if path.is_dir() else [path]
        if not found:
            raise CloudmaskError(path, "no MDGMs (*_zequat.jpg) in this folder or below")
        paths.update(found)
    paths = sorted(paths, key=sol_name)
    left_out = ()
    if skip_bad:
        left_out = tuple(sol_name(p) for p in paths if not _readable(p))
        paths = [p for p in paths if sol_name(p) not in left_out]
    if not paths:
        raise CloudmaskError(Path(output), "a clear-sky reference needs at least one readable MDGM")
    if not 0.0 <= float(percentile) <= 100.0:
        raise CloudmaskError(None, f"percentile {percentile:g} is outside [0, 100]")
    if int(min_sols) < 1:
        raise CloudmaskError(None, f"minimum sols {min_sols} must be at least 1")
    output = Path(output)
    check_writable_folder(output.parent)
    sols = [find_sol(p) for p in paths]        # before any reading: a missing Ls fails at once
    names = [s.name for s in sols]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise CloudmaskError(paths[0].parent, f"sol {twice[0]} is given twice")
    steps = len(paths) + grid.HEIGHT / BLOCK_ROWS
    done = [0]

    def tick():
        done[0] += 1
        if progress is not None:
            progress(min(done[0] / steps, 1.0))
        if cancel is not None and cancel():
            raise Cancelled()

    with tempfile.TemporaryDirectory(prefix=".clearsky-", dir=output.parent) as scratch:
        # The colour of every sol on disk (0 where no data), 3 bytes per pixel per sol, read back by
        # blocks of rows with plain reads (no memory map, whose pages would count as the process's).
        stack = [Path(scratch) / f"{i}.rgb" for i in range(len(paths))]
        for path, raw in zip(paths, stack):
            rgb = read_mdgm(path).rgb
            np.where(has_data(rgb)[..., None], rgb, 0).astype(np.uint8).tofile(raw)
            del rgb
            tick()
        bands = np.full((grid.HEIGHT, grid.WIDTH, len(BANDS)), np.float32(grid.NODATA), np.float32)

        def block(row0):
            n = min(BLOCK_ROWS, grid.HEIGHT - row0)
            rows = np.stack([np.fromfile(raw, np.uint8, n * grid.WIDTH * 3, offset=row0 * grid.WIDTH * 3)
                             .reshape(n, grid.WIDTH, 3) for raw in stack])
            missing = rows[..., 2] == 0                  # has_data needs blue >= 30, so 0 is never data
            channels = [rows[..., c].astype(np.float32) for c in range(3)]
            channels.append(channels[2] / np.maximum(channels[0], 1))
            out = bands[row0:row0 + BLOCK_ROWS]
            for band, values in enumerate(channels):
                values[missing] = np.nan
                value, count = percentile_with_missing(values, percentile)
                out[..., band] = np.where(count >= min_sols, value, grid.NODATA)
            out[..., len(channels)] = count

        with ThreadPoolExecutor(2) as pool:    # np.sort releases the GIL: the blocks run side by side
            for _ in pool.map(block, range(0, grid.HEIGHT, BLOCK_ROWS)):
                tick()
    low, high = ls_range([s.ls for s in sols])
    tags = {"FORMAT": FORMAT, "SOLS": ",".join(names), "N_SOLS": len(names), "LS_MIN": f"{low:g}",
            "LS_MAX": f"{high:g}", "STATISTIC": f"percentile {float(percentile):g}", "PERCENTILE": f"{float(percentile):g}",
            "MIN_SOLS": int(min_sols), "BANDS": ",".join(BANDS), "LEFT_OUT": ",".join(left_out),
            "MARS_YEARS": ",".join(sorted({str(s.mars_year) for s in sols if s.mars_year is not None}))}
    write_geotiff(output, bands, tags, descriptions=tuple(f"{band}, percentile {percentile:g}" for band in
                                                          ("red", "green", "blue", "blue/red")) + ("sols with data",))
    return ClearSkyInfo(output, tuple(names), low, high, float(percentile), int(min_sols), left_out)


def _readable(path):
    try:
        find_sol(path)
        read_mdgm(path)
    except CloudmaskError:
        return False
    return True


def read_clearsky_info(path):
    """The ClearSkyInfo of a reference file, checked: our format, on the global grid."""
    from rasterio.errors import RasterioIOError
    path = Path(path)
    if not path.exists():
        raise CloudmaskError(path, "clear-sky reference not found")
    try:
        with open_on_grid(path, "clear-sky reference") as src:
            tags = src.tags()
            count = src.count
    except RasterioIOError as exc:
        raise read_error(path, exc, "clear-sky reference") from None
    if tags.get("FORMAT") != FORMAT or count != len(BANDS):
        raise CloudmaskError(path, "is not a clear-sky reference (make one with mars-cloudmask reference)")
    try:
        return ClearSkyInfo(path, tuple(tags["SOLS"].split(",")), float(tags["LS_MIN"]), float(tags["LS_MAX"]),
                            float(tags["PERCENTILE"]), int(tags["MIN_SOLS"]),
                            tuple(n for n in tags.get("LEFT_OUT", "").split(",") if n))
    except (KeyError, ValueError):
        raise CloudmaskError(path, "clear-sky reference tags are incomplete (SOLS, LS_MIN, LS_MAX, PERCENTILE, "
                                   "MIN_SOLS)") from None


@dataclass
class ClearSky:
    """A reference loaded for prediction: blue/red and blue on the global grid, NaN where missing."""
    info: ClearSkyInfo
    blue_red: np.ndarray
    blue: np.ndarray


def read_clearsky(path):
    """Load a reference file for prediction (see read_clearsky_info for the checks)."""
    import rasterio
    info = read_clearsky_info(path)
    with rasterio.open(info.path) as src:
        ratio, blue = src.read(BANDS.index("blue_red") + 1), src.read(BANDS.index("blue") + 1)
    ratio[ratio == grid.NODATA] = np.nan
    blue[blue == grid.NODATA] = np.nan
    return ClearSky(info, ratio, blue)


def check_season(info, sol):
    """Refuse a reference made from sols of another season than the target's (MAX_LS_GAP)."""
    gap = info.ls_gap(sol.ls)
    if gap > MAX_LS_GAP:
        raise CloudmaskError(info.path, f"was made from sols at Ls {info.ls_min:g}-{info.ls_max:g}, {gap:.0f} degrees "
                                        f"of Ls from {sol.name} (Ls {sol.ls:g}); use a reference of that sol's "
                                        f"season (more than {MAX_LS_GAP:g} degrees apart is refused)")


def folder_clearsky(folder, cache_dir, percentile=DEFAULT_PERCENTILE, min_sols=DEFAULT_MIN_SOLS, progress=None,
                    cancel=None, skip_bad=False):
    """The reference of one archive folder (a subphase: every MDGM in it), cached in `cache_dir` as
    <folder>_clearsky.tif: reused while it was made from exactly these sols with this statistic,
    rebuilt otherwise (or when it cannot be read). Returns its ClearSkyInfo. The file is named after
    the folder's subphase (P01_clearsky.tif) when its sols share one, else after the folder."""
    from .archive import select_mdgms, subphase_of
    folder = Path(folder)
    paths = select_mdgms(folder)
    names = tuple(sorted(sol_name(p) for p in paths))
    subphases = {subphase_of(n) for n in names}
    cached = Path(cache_dir) / f"{subphases.pop() if len(subphases) == 1 else folder.name}_clearsky.tif"
    if cached.exists():
        try:
            info = read_clearsky_info(cached)
        except CloudmaskError:
            info = None
        made_from = tuple(sorted(info.sols + (info.left_out if skip_bad else ()))) if info else ()
        if info and made_from == names and info.percentile == float(percentile) and info.min_sols == int(min_sols):
            return info
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    return build_clearsky(paths, cached, percentile, min_sols, progress, cancel, skip_bad)
