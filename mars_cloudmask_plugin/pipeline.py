"""The whole chain for one MDGM, one engine function per arrow of the data flow:

MDGM file -> read_mdgm + find_sol -> prediction_area -> pad_area -> plan_tiles/run_tiles
-> global_mask (threshold + post-filter) -> writers.
"""
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from . import __version__
from .archive import find_sol
from .bounds import DEFAULT_BUFFER
from .crop import pad_area, prediction_area
from .mdgm import Mdgm, has_data, read_mdgm
from .errors import CloudmaskError
from .inputs import needs_ls
from .options import AUTO_REFERENCE, DEFAULT_TILE_SIZE, DEFAULT_TILING, FORMATS, MaskOptions
from .postfilter import fractions, global_mask, global_probability
from .tiling import plan_tiles, run_tiles, strip_tile, whole_area_tile
from .writers import atomic_outputs, check_writable_folder, geotiff_to, mdgm_vrt_to, netcdf_mask_to


@dataclass
class MaskResult:
    source: Path
    sol: object
    area: object
    layout: object
    model_label: str
    threshold: float
    mask: np.ndarray                 # Int16, global grid, 1/0/-999
    prob_area: np.ndarray = field(repr=False)   # float32 probability over `area`
    rgb: np.ndarray = field(repr=False)         # the MDGM, for the post-filter
    seconds: dict = field(default_factory=dict)
    buffer: float = None
    reference: str = None            # label of the clear-sky reference used (clearsky.ClearSkyInfo.label)

    @cached_property
    def probability(self):
        """Float32 probability on the global grid, -999 where the mask is -999; built on first use,
        as most runs write only the mask."""
        return global_probability(self.prob_area, self.area, self.rgb)

    @property
    def fractions(self):
        return fractions(self.mask)

    def tags(self):
        return provenance_tags(self.source, self.sol, self.area, self.layout, self.model_label, self.threshold,
                               self.buffer, self.reference)


def provenance_tags(source, sol, area, layout, model_label, threshold, buffer=None, reference=None):
    """Provenance written into every output of a model run (mask, NetCDF, probability); a batch
    resumes a sol only when these match what it asks for (resume.py)."""
    ls = float("nan") if sol.ls is None else sol.ls
    return {"LS": f"{ls:g}", "MARS_YEAR": sol.mars_year, "SOL": sol.name,
            "SOURCE_FILE": Path(source).name, "MODEL": model_label, "THRESHOLD": f"{threshold:g}",
            "REFERENCE": reference or "none",
            "BUFFER": None if buffer is None else f"{float(buffer):g}",
            "TILING_MODE": layout.mode, "TILE_SIZE": "x".join(map(str, layout.tile)),
            "LAT_NORTH": f"{area.lat_north:.3f}", "LAT_SOUTH": f"{area.lat_south:.3f}",
            "SOFTWARE": f"mars-cloudmask {__version__}"}


class _Stopwatch:
    def __init__(self):
        self.seconds, self._t = {}, time.perf_counter()

    def lap(self, stage):
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._t
        self._t = now


# "auto" tiles (seamless): at most this many input pixels x network width per tile. Chosen from
# `mars-cloudmask benchmark --sweep` (docs/benchmark.md): a whole prediction area at width 16
# (about 1276 x 3788 px) peaks near 2.5 GB, two full-height strips at about 1.5 GB for ~5% more FLOPs.
AUTO_TILE_BUDGET = 40e6
LIVE_STRIPS = 3      # QGIS: progress at a third, two thirds, the end; about 10% more work (benchmark --live)


HEAD_CHANNELS_PER_WIDTH = 8   # a colour head's full-resolution channels that cost as much memory as one unit of width


def memory_width(model):
    """The network's memory per input pixel in units of a plain U-Net's width: the width, plus a
    colour head's features and units, which all live at full resolution (measured with
    `mars-cloudmask benchmark`: the 0.5.0-w8 head model takes 7.6 GB on a whole area, 3.6x the
    plain width-8 U-Net's 2.1 GB; 8 + 240 / 8 = 38 keeps its tiles near the plain model's memory)."""
    from .unet import head_channels
    width = int(model.metadata.get("width", 16))
    keras_model = getattr(model, "keras_model", None)
    return width + (head_channels(keras_model) / HEAD_CHANNELS_PER_WIDTH if keras_model is not None else 0)


def resolve_tile_size(tile_size, tiling, model, area_shape):
    """The tile plan_tiles gets. "auto", the default: seamless runs the fewest full-height strips
    whose tile stays within AUTO_TILE_BUDGET (the whole area as one tile when it fits); blend keeps
    the model's own tile (the paper's 668 px). "live" (QGIS's default): as "auto", but at least
    LIVE_STRIPS strips, so progress moves and Cancel takes effect within a run (each strip beyond
    the first costs 2 x margin more columns: about 5% of a global area). "model": the model's tile;
    an int, a (rows, cols) pair or None (whole area) is used as given."""
    if tile_size in ("auto", "live"):
        if tiling != "seamless":
            return model.tile_size
        budget = AUTO_TILE_BUDGET / memory_width(model)
        if tile_size == "live":
            rows, cols = whole_area_tile(area_shape, model.margin, model.depth)
            budget = min(budget, rows * cols / LIVE_STRIPS)
        return strip_tile(area_shape, budget, model.margin, model.depth)
    return model.tile_size if tile_size == "model" else tile_size


def probability_for(mdgm, ls, model, buffer=DEFAULT_BUFFER, tiling=DEFAULT_TILING, tile_size=DEFAULT_TILE_SIZE,
                    progress=None, cancel=None, watch=None, clearsky=None):
    """Cloud probability over the prediction area: (probability of the area, area, layout)."""
    watch = watch or _Stopwatch()
    area = prediction_area(mdgm.rgb, ls, buffer, mdgm.path)
    watch.lap("bounds and crop")
    prob, layout = probability_in_area(mdgm, area, model, tiling, tile_size, progress, cancel, watch, clearsky)
    return prob, area, layout


def check_model_inputs(model, clearsky, mdgm_path=None, ls=None):
    """A reference-aware model needs a clear-sky reference; a single-map model takes none; a model
    with a seasonal input needs the sol's Ls."""
    if needs_ls(model.channels) and ls is None:
        raise CloudmaskError(mdgm_path, f"model {model.label} needs the sol's solar longitude: give --ls "
                                        "(Solar longitude in QGIS) or keep the subphase's Pxx_ls.txt beside the MDGM")
    if model.needs_clearsky and clearsky is None:
        raise CloudmaskError(model.path, f"model {model.label} needs a clear-sky reference of the sol's season "
                                         "(make one with mars-cloudmask reference or Clear-sky reference from MDGMs)")
    if clearsky is not None and not model.needs_clearsky:
        raise CloudmaskError(model.path, f"model {model.label} does not use a clear-sky reference; leave the "
                                         "model empty for the reference-aware default, or drop the reference")


def probability_in_area(mdgm, area, model, tiling=DEFAULT_TILING, tile_size=DEFAULT_TILE_SIZE, progress=None, cancel=None,
                        watch=None, clearsky=None):
    """Cloud probability over `area` of the MDGM: (probability of the area, tile layout)."""
    watch = watch or _Stopwatch()
    check_model_inputs(model, clearsky, mdgm.path, area.ls)
    layout = plan_tiles(area.shape, tiling, resolve_tile_size(tile_size, tiling, model, area.shape), model.margin,
                        model.depth)
    padded = pad_area(mdgm.rgb, area, model.margin, *layout.pad_after, channels=model.channels, clearsky=clearsky)
    data = has_data(mdgm.rgb[area.slices])
    watch.lap("pad")
    inference = [0.0]

    def timed_predict(batch):
        t = time.perf_counter()
        out = model.predict(batch)
        inference[0] += time.perf_counter() - t
        return out

    prob = run_tiles(timed_predict, padded, layout, data, progress, cancel)
    watch.lap("stitch")
    watch.seconds["inference"] = inference[0]
    watch.seconds["stitch"] -= inference[0]
    return prob, layout


def make_cloudmask(mdgm, model, ls=None, buffer=DEFAULT_BUFFER, tiling=DEFAULT_TILING, tile_size=DEFAULT_TILE_SIZE,
                   threshold=None, progress=None, cancel=None, clearsky=None):
    """Read (unless given an Mdgm), predict and post-filter one MDGM; nothing is written.
    `clearsky` (a clearsky.ClearSky) feeds a reference-aware model; its season is checked here."""
    watch = _Stopwatch()
    if not isinstance(mdgm, Mdgm):
        mdgm = read_mdgm(mdgm)
    sol = find_sol(mdgm.path, ls)
    if clearsky is not None:
        from .clearsky import check_season
        check_season(clearsky.info, sol)
    watch.lap("read")
    prob, area, layout = probability_for(mdgm, sol.ls, model, buffer, tiling, tile_size, progress, cancel, watch,
                                         clearsky)
    threshold = model.threshold if threshold is None else float(threshold)
    mask = global_mask(prob, area, mdgm.rgb, threshold)
    watch.lap("post-filter")
    return MaskResult(mdgm.path, sol, area, layout, model.label, threshold, mask, prob, mdgm.rgb, watch.seconds,
                      buffer, None if clearsky is None else clearsky.info.label)


def output_paths(out_dir, stem, formats=FORMATS, probability=False, mdgm=False):
    """The products of one MDGM by kind; `mdgm` adds the MDGM itself as a georeferenced VRT."""
    out_dir = Path(out_dir)
    paths = {}
    if "tif" in formats:
        paths["tif"] = out_dir / f"{stem}_cloudmask.tif"
    if "nc" in formats:
        paths["nc"] = out_dir / f"{stem}_cloudmask.nc"
    if probability:
        paths["probability"] = out_dir / f"{stem}_probability.tif"
    if mdgm:
        paths["mdgm"] = out_dir / f"{stem}_mdgm.vrt"
    return paths


def write_products(result, paths):
    """Write the products named in `paths` (from output_paths): each verified under a temporary
    name, then all renamed together, so a sol's products appear together or not at all."""
    t = time.perf_counter()
    tags = result.tags()
    with atomic_outputs(paths) as temps:
        if "tif" in paths:
            geotiff_to(temps["tif"], result.mask, tags, final=paths["tif"])
        if "nc" in paths:
            netcdf_mask_to(temps["nc"], result.mask, {k.lower(): v for k, v in tags.items()}, final=paths["nc"])
        if "probability" in paths:
            geotiff_to(temps["probability"], result.probability, tags, final=paths["probability"])
        if "mdgm" in paths:
            mdgm_vrt_to(temps["mdgm"], result.source, result.sol.name, final=paths["mdgm"])
    result.seconds["write"] = time.perf_counter() - t
    return list(paths.values())


def model_path_for(options):
    """The model a run uses: the one asked for, else the shipped reference-aware model when a
    clear-sky reference is given, else the shipped single-map model."""
    from .model import DEFAULT_CLEARSKY_MODEL, DEFAULT_MODEL
    if options.model_path:
        return options.model_path
    return DEFAULT_CLEARSKY_MODEL if options.reference else DEFAULT_MODEL


def load_clearsky_for(options, sol):
    """The clear-sky reference of `options` checked against the sol's season, or None."""
    if not options.reference:
        return None
    from .clearsky import check_season, read_clearsky_info, read_clearsky
    if options.reference == AUTO_REFERENCE:
        raise CloudmaskError(None, "--reference auto goes with batch (one reference per archive folder); "
                                   "give one sol a reference file")
    check_season(read_clearsky_info(options.reference), sol)    # before reading the bands
    return read_clearsky(options.reference)


def make_products(source, paths, options=MaskOptions(), model=None, progress=None, cancel=None):
    """One MDGM file in, its products (`paths` from output_paths) written: the whole chain as the
    `cloudmask` algorithm, `predict` and every batch sol run it. Inputs that cannot work fail
    before the model loads (output folders, the MDGM, its Ls); the MaskResult says what was made."""
    from .model import load_model
    for path in paths.values():
        check_writable_folder(Path(path).parent)
    mdgm = read_mdgm(source)
    sol = find_sol(mdgm.path, options.ls)
    clearsky = load_clearsky_for(options, sol)
    model = model or load_model(model_path_for(options))
    result = make_cloudmask(mdgm, model, options.ls, options.buffer, options.tiling, options.tile_size,
                            options.threshold, progress, cancel, clearsky)
    write_products(result, paths)
    return result
