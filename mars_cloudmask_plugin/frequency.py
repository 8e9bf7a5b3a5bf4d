"""Cloud frequency per pixel over a set of masks (Mengwall and Guzewich 2022, figure 7): cloud sols /
valid sols, invalid (-999) pixels ignored, one map for the whole set or one per group (subphase,
or Ls bin). Masks are streamed: memory does not depend on their number.

Output: a GeoTIFF on the global grid in IAU_2015:49900 with three float32 bands, *cloud frequency*
(nodata -999 where fewer than `min_valid` sols are valid), *valid sols* and *cloud sols*; or the
same three fields as CF-1.8 NetCDF (`.nc`).
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, grid
from .errors import CloudmaskError
from .masks import parse_ls_range, select_masks, stream_masks
from .writers import check_writable_folder, write_geotiff, write_netcdf_grids

BANDS = ("cloud frequency", "valid sols", "cloud sols")
GROUPINGS = ("none", "subphase", "ls:WIDTH")


@dataclass
class FrequencyMap:
    """Counts over a set of masks; `frequency` is float32 with -999 where too few sols are valid."""
    valid: np.ndarray              # uint16 sols with a valid pixel
    cloud: np.ndarray              # uint16 sols with cloud
    sols: list = field(default_factory=list)
    min_valid: int = 1

    @property
    def frequency(self):
        out = np.full(self.valid.shape, grid.NODATA, np.float32)
        enough = self.valid >= max(1, self.min_valid)
        out[enough] = self.cloud[enough] / self.valid[enough]
        return out

    def tags(self, group=None):
        years = sorted({m.mars_year for m in self.sols if m.mars_year is not None})
        ls = [m.ls for m in self.sols if m.ls is not None]
        return {"SOLS": len(self.sols), "FIRST_SOL": self.sols[0].sol, "LAST_SOL": self.sols[-1].sol,
                "MARS_YEARS": ",".join(map(str, years)), "LS_MIN": f"{min(ls):g}" if ls else None,
                "LS_MAX": f"{max(ls):g}" if ls else None, "MIN_VALID_SOLS": self.min_valid, "GROUP": group,
                "SOFTWARE": f"mars-cloudmask {__version__}"}


def accumulate(masks, min_valid=1, progress=None, cancel=None):
    """A FrequencyMap of `masks` (MaskInfo list), reading one mask at a time."""
    valid = np.zeros((grid.HEIGHT, grid.WIDTH), np.uint16)
    cloud = np.zeros_like(valid)
    for info, mask in stream_masks(masks, progress, cancel):
        valid += mask != grid.NODATA
        cloud += mask == 1
    return FrequencyMap(valid, cloud, list(masks), int(min_valid))


def group_key(info, group_by):
    """The group of a mask: None (all), its subphase, or its Ls bin 'Ls090-095' for 'ls:5'."""
    if group_by in (None, "", "none"):
        return None
    if group_by == "subphase":
        return info.subphase
    width = ls_bin_width(group_by)
    if info.ls is None:
        raise CloudmaskError(info.path, "no Ls (no LS tag and no Pxx_ls.txt line): cannot group it by Ls")
    start = width * int(info.ls // width)
    return f"Ls{start:05.1f}-{start + width:05.1f}".replace(".0", "")


def ls_bin_width(group_by):
    try:
        kind, width = group_by.split(":")
        width = float(width)
        assert kind == "ls" and 0 < width <= 360
    except (ValueError, AssertionError):
        raise CloudmaskError(None, f"group by {group_by!r}: give none, subphase or ls:WIDTH (degrees, e.g. ls:30)") \
            from None
    return width


def output_for_group(output, group):
    """OUT.tif for the whole set; OUT_P02.tif, OUT_Ls090-120.tif ... for groups."""
    output = Path(output)
    return output if group is None else output.with_name(f"{output.stem}_{group}{output.suffix}")


def write_frequency(path, fmap, group=None):
    """The map as a 3-band GeoTIFF, or CF NetCDF when `path` ends in .nc."""
    path = Path(path)
    arrays = (fmap.frequency, fmap.valid.astype(np.float32), fmap.cloud.astype(np.float32))
    tags = fmap.tags(group)
    if path.suffix.lower() == ".nc":
        names = ("cloud_frequency", "valid_sols", "cloud_sols")
        longs = ("cloud frequency: cloud sols / valid sols", "number of sols with a valid pixel",
                 "number of sols with cloud")
        variables = {name: (array, {"long_name": long, "units": "1"})
                     for name, array, long in zip(names, arrays, longs)}
        return write_netcdf_grids(path, variables, {k.lower(): v for k, v in tags.items()},
                                  "Water-ice cloud frequency from MARCI cloud masks")
    return write_geotiff(path, np.stack(arrays, axis=-1), tags, descriptions=BANDS)


@dataclass(frozen=True)
class FrequencyOutput:
    group: str
    path: Path
    sols: int


def cloud_frequency(inputs, output, group_by=None, min_valid=1, mars_years=None, ls_range=None, subphases=None,
                    figures=False, progress=None, cancel=None):
    """Masks (files or folders) -> cloud frequency map(s) written to `output` (.tif or .nc; with
    `group_by` one file per group beside it; with `figures` a PNG of each map beside it too).
    Returns a FrequencyOutput per map written."""
    output = Path(output)
    if output.suffix.lower() not in (".tif", ".tiff", ".nc"):
        raise CloudmaskError(output, "the frequency map is a GeoTIFF (.tif) or NetCDF (.nc) file")
    if int(min_valid) < 1:
        raise CloudmaskError(None, f"minimum valid sols {min_valid}: must be 1 or more")
    check_writable_folder(output.parent)
    if group_by not in (None, "", "none", "subphase"):
        ls_bin_width(group_by)
    masks = select_masks(inputs, mars_years, parse_ls_range(ls_range) if isinstance(ls_range, str) else ls_range,
                         subphases)
    groups = OrderedDict()
    for info in masks:
        groups.setdefault(group_key(info, group_by), []).append(info)
    written, done = [], 0
    for group, members in groups.items():
        start = done / len(masks)

        def part(fraction, start=start, share=len(members) / len(masks)):
            if progress is not None:
                progress(start + share * fraction)
        fmap = accumulate(members, min_valid, part, cancel)
        done += len(members)
        path = write_frequency(output_for_group(output, group), fmap, group)
        if figures:
            from .figures import frequency_figure
            frequency_figure(path.with_suffix(".png"), fmap.frequency, _figure_title(fmap, group))
        written.append(FrequencyOutput(group, path, len(members)))
    return written


def _figure_title(fmap, group):
    tags = fmap.tags(group)
    season = f"Mars year {tags['MARS_YEARS']}, Ls {tags['LS_MIN']}-{tags['LS_MAX']}" if tags["LS_MIN"] else ""
    return f"Water-ice cloud frequency{' ' + group if group else ''}: {len(fmap.sols)} sols, {season}"
