"""The chain one stretch at a time, for front ends that expose its steps (the QGIS Processing
algorithms `polarcrop`, `cloudprobability` and `postfilter`, chained in the graphical model).
Each step is one function: file paths and plain values in, files written and a small result out.

Every function here composes the engine's own functions; none changes a result. In particular
`probability_raster` with the bounds of `crop_to_polar_bounds`, then `postfilter_raster`, gives
the mask of `pipeline.make_products`.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .archive import Sol, find_sol, sol_name
from .bounds import DEFAULT_BUFFER
from .crop import Area, prediction_area, usable_columns
from .errors import CloudmaskError
from .mdgm import read_mdgm
from .options import MaskOptions
from .pipeline import load_clearsky_for, model_path_for, probability_in_area, provenance_tags
from .postfilter import DEFAULT_THRESHOLD, fractions, global_probability, mask_from_probability
from .raster import read_global_band
from .writers import check_writable_folder, write_geotiff


def area_between(rgb, lat_north, lat_south, path=None, ls=None):
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
    return Area(row0, row1, cols[0], cols[1], lat_north, lat_south, ls)


def resolve_area(mdgm, ls=None, buffer=DEFAULT_BUFFER, lat_north=None, lat_south=None):
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
        return area_between(mdgm.rgb, lat_north, lat_south, mdgm.path, sol.ls), sol
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


# -- the steps ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CropResult:
    sol: Sol
    area: Area
    output: Path = None


def crop_to_polar_bounds(source, output=None, ls=None, buffer=DEFAULT_BUFFER):
    """The prediction area of an MDGM (polar bounds of its Ls, less the black edge columns) and,
    when `output` is given, the MDGM cropped to it as an RGB GeoTIFF on the global grid."""
    if output:
        check_writable_folder(Path(output).parent)
    mdgm = read_mdgm(source)
    area, sol = resolve_area(mdgm, ls, buffer)
    if output:
        tags = {"LS": f"{sol.ls:g}", "MARS_YEAR": sol.mars_year, "SOL": sol.name, "SOURCE_FILE": mdgm.path.name,
                "LAT_NORTH": f"{area.lat_north:.3f}", "LAT_SOUTH": f"{area.lat_south:.3f}"}
        write_rgb_geotiff(output, crop_to_area(mdgm.rgb, area), tags)
    return CropResult(sol, area, Path(output) if output else None)


@dataclass(frozen=True)
class ProbabilityResult:
    sol: Sol
    area: Area
    layout: object
    model_label: str
    threshold: float          # the model's own, recorded for the post-filter
    output: Path


def probability_raster(source, output, options=MaskOptions(), lat_north=None, lat_south=None,
                       progress=None, cancel=None):
    """The tiled U-Net's cloud probability of an MDGM, as a float32 GeoTIFF on the global grid with
    the run's provenance in its tags (the model's threshold among them). The area is the polar
    bounds of Ls (`options.ls`, else the archive's table) or the explicit latitude bounds. With
    `options.reference` the reference-aware model runs (as in make_products)."""
    from .model import load_model
    check_writable_folder(Path(output).parent)
    mdgm = read_mdgm(source)
    area, sol = resolve_area(mdgm, options.ls, options.buffer, lat_north, lat_south)
    clearsky = load_clearsky_for(options, sol)
    model = load_model(model_path_for(options))
    prob, layout = probability_in_area(mdgm, area, model, options.tiling, options.tile_size, progress, cancel,
                                       clearsky=clearsky)
    explicit = lat_north is not None or lat_south is not None
    tags = provenance_tags(mdgm.path, sol, area, layout, model.label, model.threshold,
                           None if explicit else options.buffer, None if clearsky is None else clearsky.info.label)
    write_geotiff(output, global_probability(prob, area, mdgm.rgb), tags)
    return ProbabilityResult(sol, area, layout, model.label, model.threshold, Path(output))


@dataclass(frozen=True)
class PostfilterResult:
    threshold: float
    cloud_fraction: float
    valid_fraction: float
    output: Path
    warning: str = ""          # e.g. the probability was made from another MDGM


def postfilter_raster(probability_path, source, output, threshold=None):
    """A probability raster (from `probability_raster`) and its MDGM -> the Int16 cloud mask GeoTIFF.
    `threshold` None: the one recorded in the raster (tag THRESHOLD), else DEFAULT_THRESHOLD."""
    check_writable_folder(Path(output).parent)
    probability, tags = read_global_band(probability_path, "probability raster")
    mdgm = read_mdgm(source)
    made_from = tags.get("SOURCE_FILE")
    warning = (f"{probability_path}: was made from {made_from}, not from {mdgm.path.name}"
               if made_from and made_from != mdgm.path.name else "")
    if threshold is None:
        threshold = float(tags.get("THRESHOLD", DEFAULT_THRESHOLD))
    mask = mask_from_probability(probability, mdgm.rgb, threshold)
    write_geotiff(output, mask, dict(tags, THRESHOLD=f"{threshold:g}", SOURCE_FILE=mdgm.path.name))
    return PostfilterResult(threshold, *fractions(mask), Path(output), warning)


def georeference_mdgm(source, output):
    """The MDGM as a layer on the global grid in IAU_2015:49900: a VRT (a few hundred bytes that
    point at the JPEG, so keep them where they are) or a GeoTIFF copy (`.tif`). The distributed
    JPEG carries no georeferencing; the input file is never changed."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".vrt", ".tif", ".tiff"):
        raise CloudmaskError(output, "the georeferenced MDGM is a VRT (.vrt) or a GeoTIFF (.tif)")
    check_writable_folder(output.parent)
    mdgm = read_mdgm(source)
    sol = sol_name(mdgm.path)
    if suffix != ".vrt":
        write_rgb_geotiff(output, mdgm.rgb, {"SOL": sol, "SOURCE_FILE": mdgm.path.name})
        return output
    from .writers import atomic_output, mdgm_vrt_to
    with atomic_output(output) as tmp:
        mdgm_vrt_to(tmp, mdgm.path, sol, final=output)
    return output
