"""Sets of cloud masks for the analyses: find them (files, or folder trees such as a batch output),
tell each one's sol, Mars year and Ls from its own tags, filter by Mars year, Ls range and
subphase, and read them one at a time (the analyses stream: memory does not grow with the number
of masks).

Masks are ours (`*_cloudmask.tif`, `*_cloudmask.nc`, tags LS / MARS_YEAR / SOL) or NetCDF in the
reference layout (`cloudmask_P02_day05.ncdf`: the reference masks, the published model's masks),
whose Ls and Mars year come from the archive's `Pxx_ls.txt` beside them or one folder up.
"""
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .archive import find_sol_in_tables, sol_in_name, subphase_of
from .errors import Cancelled, CloudmaskError
from .raster import NETCDF_SUFFIXES, mask_tags, read_mask

OUR_MASK_PATTERNS = ("*_cloudmask.tif", "*_cloudmask.nc")
REFERENCE_MASK_PATTERNS = ("cloudmask_*.ncdf", "cloudmask_*.nc")
READ_THREADS = 2           # GDAL releases the GIL while decompressing: two GeoTIFF reads overlap


@dataclass(frozen=True)
class MaskInfo:
    """One mask file and the sol it belongs to."""
    path: Path
    sol: str
    mars_year: int = None
    ls: float = None

    @property
    def subphase(self):
        return subphase_of(self.sol)

    @property
    def season(self):
        """Ls counted on across Mars years (MY * 360 + Ls), so a season sample never wraps back."""
        return (self.mars_year or 0) * 360.0 + self.ls


def _number(value, cast, path, what):
    try:
        number = cast(float(value))
    except (TypeError, ValueError):
        raise CloudmaskError(path, f"its {what} tag {value!r} is not a number") from None
    return number


def mask_info(path):
    """The MaskInfo of a mask file from its tags, else from the archive's Ls table near it."""
    path = Path(path)
    if not path.is_file():
        raise CloudmaskError(path, "mask file not found")
    tags = mask_tags(path)
    sol = tags.get("sol") or sol_in_name(tags.get("source_file", "")) or sol_in_name(path.name)
    if not sol:
        raise CloudmaskError(path, "cannot tell its sol: no SOL tag, and neither SOURCE_FILE nor the file name "
                                   "holds one like P01_day15; is it one of our cloud masks?")
    ls, year = tags.get("ls"), tags.get("mars_year")
    if ls in (None, "", "nan") or year in (None, ""):
        table_year, table_ls = find_sol_in_tables(sol, (path.parent, path.parent.parent))
        ls = table_ls if ls in (None, "", "nan") else ls
        year = table_year if year in (None, "") else year
    return MaskInfo(path, str(sol), None if year in (None, "") else _number(year, int, path, "MARS_YEAR"),
                    None if ls in (None, "") else _number(ls, float, path, "LS"))


def find_masks(inputs):
    """Mask files from `inputs` (files, or folders searched recursively), sorted. Where a folder holds
    both our GeoTIFF and NetCDF of one sol, only the GeoTIFF counts (the same mask twice would
    count the sol twice)."""
    found = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            ours = {p for pattern in OUR_MASK_PATTERNS for p in item.rglob(pattern)}
            ours = {p for p in ours if not (p.suffix == ".nc" and p.with_suffix(".tif") in ours)}
            found += sorted(ours | {p for pattern in REFERENCE_MASK_PATTERNS for p in item.rglob(pattern)})
        elif item.is_file():
            found.append(item)
        else:
            raise CloudmaskError(item, "mask file or folder not found")
    return found


def _in_ls_range(ls, ls_range):
    low, high = ls_range
    return low <= ls <= high if low <= high else (ls >= low or ls <= high)   # 350-10 wraps through 0


def select_masks(inputs, mars_years=None, ls_range=None, subphases=None, need_season=False):
    """MaskInfo of every mask in `inputs` that passes the filters, sorted by season (Mars year, Ls).
    `ls_range` (low, high) in degrees wraps through 0 when low > high. A mask whose Ls or Mars year
    is unknown passes no Ls or year filter; with `need_season` it is an error. No mask left: an error
    that says what was searched and filtered."""
    paths = find_masks(inputs)
    infos = [mask_info(p) for p in paths]
    years = None if mars_years is None else {int(y) for y in mars_years}
    phases = None if subphases is None else {s.upper() for s in subphases}
    kept = [m for m in infos
            if (years is None or m.mars_year in years)
            and (ls_range is None or (m.ls is not None and _in_ls_range(m.ls, ls_range)))
            and (phases is None or m.subphase in phases)]
    if need_season:
        for m in kept:
            if m.ls is None or m.mars_year is None:
                raise CloudmaskError(m.path, "no Ls or Mars year: no LS / MARS_YEAR tags and no line for "
                                             f"{m.sol} in a Pxx_ls.txt beside it or one folder up")
    if not kept:
        searched = ", ".join(str(p) for p in inputs) or "(nothing given)"
        filters = [f"Mars years {sorted(years)}" if years else "", f"Ls {ls_range[0]:g}-{ls_range[1]:g}" if ls_range
                   else "", f"subphases {sorted(phases)}" if phases else ""]
        why = f" pass {', '.join(f for f in filters if f)}" if any(filters) and infos else " found"
        raise CloudmaskError(None, f"no cloud masks{why} in {searched} ({len(infos)} masks seen)")
    return sorted(kept, key=lambda m: (m.mars_year or 0, m.ls if m.ls is not None else math.inf, m.sol))


def stream_masks(infos, progress=None, cancel=None):
    """(MaskInfo, Int16 mask 1/0/-999) one at a time, in order, reading GeoTIFFs ahead on
    READ_THREADS threads; at most READ_THREADS + 1 masks are in memory whatever their number.
    NetCDF masks are read in the calling thread: HDF5 (Debian's build) is not thread-safe and
    prints its error stack from any thread netCDF4 did not set up."""
    with ThreadPoolExecutor(READ_THREADS) as pool:
        pending = []
        for i, info in enumerate(infos):
            netcdf = info.path.suffix.lower() in NETCDF_SUFFIXES
            pending.append((info, _Now(info.path) if netcdf else pool.submit(read_mask, info.path)))
            if len(pending) > READ_THREADS:
                yield _take(pending, i - READ_THREADS, len(infos), progress, cancel)
        done = len(infos) - len(pending)
        while pending:
            yield _take(pending, done, len(infos), progress, cancel)
            done += 1


class _Now:
    """A stand-in future that reads its mask in the thread that asks for the result."""

    def __init__(self, path):
        self.path = path

    def result(self):
        return read_mask(self.path)

    def cancel(self):
        return True


def _take(pending, index, total, progress, cancel):
    if cancel is not None and cancel():
        for _, future in pending:
            future.cancel()
        raise Cancelled()
    info, future = pending.pop(0)
    mask = future.result().mask
    if progress is not None:
        progress((index + 1) / total)
    return info, mask


def parse_ls_range(text):
    """(low, high) from '90-180' or '350-10' (wraps through 0); None for None or ''."""
    if text in (None, ""):
        return None
    try:
        low, high = (float(part) for part in str(text).split("-", 1) if part.strip() != "")
    except ValueError:
        raise CloudmaskError(None, f"Ls range {text!r}: give LOW-HIGH in degrees, e.g. 90-180 or 350-10") from None
    for value in (low, high):
        if not 0 <= value <= 360:
            raise CloudmaskError(None, f"Ls range {text!r}: {value:g} is outside [0, 360] degrees")
    return low, high
