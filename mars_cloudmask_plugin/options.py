"""The mask options a user chooses, declared once.

The CLI (`commands.add_mask_options`), the QGIS algorithms (`processing/parameters.py`) and the
graphical-model builder (`scripts/build_model.py`) take each option's key, default, range, choices
and help from `MASK_OPTIONS`, and `mask_options()` checks the values whichever front end gave them,
so both front ends accept the same values and refuse the rest with the same message.
"""
from dataclasses import dataclass

from .bounds import DEFAULT_BUFFER, check_ls
from .errors import CloudmaskError

# Plain Python only (no numpy): the QGIS toolbox builds its parameters from here before it knows
# whether the engine's libraries import.
FORMATS = ("tif", "nc")
MODES = ("seamless", "blend")           # tiling modes: tiling.py implements them
DEFAULT_THRESHOLD = 0.5                 # when neither the user nor the model names one (the paper's)
DEFAULT_TILING = MODES[0]
DEFAULT_TILE_SIZE = "auto"
BUFFER_RANGE = (-30.0, 30.0)   # any Ls keeps latitudes between the bounds for c in this range
TILE_SIZE_WORDS = ("auto", "live", "model", "whole")
QGIS_TILE_SIZE = "live"
DEFAULT_PERCENTILE = 20.0   # the clear-sky reference's per-pixel statistic (clearsky.py says why)
DEFAULT_MIN_SOLS = 3        # fewer sols with data: no reference at that pixel
AUTO_REFERENCE = "auto"     # batch: one clear-sky reference per archive folder     # QGIS's default: strips whose progress moves (the CLI keeps "auto", the fastest)


@dataclass(frozen=True)
class OptionSpec:
    """One user-facing option. `key` is the QGIS parameter key; `key.lower()` the CLI dest and
    MaskOptions field (but MODEL -> model_path)."""
    key: str
    flag: str
    label: str
    help: str
    kind: str                   # "number", "tile_size", "choice", "file", "formats", "flag"
    default: object = None
    minimum: float = None
    maximum: float = None
    choices: tuple = ()
    choice_labels: tuple = ()
    metavar: str = None
    cli_help: str = None        # where the command line spells the option differently
    advanced: bool = False
    file_filter: str = None     # "file" options: the QGIS file dialog's filter (default: model files)

    @property
    def dest(self):
        return self.key.lower()


LS = OptionSpec(
    "LS", "--ls", "Solar longitude Ls (degrees)",
    "Solar longitude of the sol, 0 to 360 degrees. Leave empty to read it from the archive's Pxx_ls.txt "
    "beside the MDGM; a value given here wins over the file.",
    "number", None, 0.0, 360.0, metavar="DEG",
    cli_help="solar longitude in degrees [0, 360]; default: the sol's line in the Pxx_ls.txt beside the MDGM")
BUFFER = OptionSpec(
    "BUFFER", "--buffer", "Polar-bound buffer c (degrees)",
    f"Degrees taken off both polar bounds (the paper's c, default {DEFAULT_BUFFER:g}, from {BUFFER_RANGE[0]:g} "
    f"to {BUFFER_RANGE[1]:g}): the larger, the further the mask stays from the polar hood and the seasonal cap; "
    "a negative value widens the bounds.",
    "number", DEFAULT_BUFFER, *BUFFER_RANGE, metavar="C",
    cli_help=f"degrees taken off each polar bound (default {DEFAULT_BUFFER:g}, "
             f"{BUFFER_RANGE[0]:g} to {BUFFER_RANGE[1]:g})")
TILING = OptionSpec(
    "TILING", "--tiling", "Tiling",
    "seamless: tiles on a 16-pixel grid; a valid-padding U-Net gives exactly the same result as one pass over "
    "the whole area, at a quarter of the paper's compute or less. blend: the paper's ~50% overlapping tiles "
    "weighted by a squared-spline window.",
    "choice", DEFAULT_TILING, choices=MODES,
    choice_labels=("seamless: one prediction per pixel, exact (default)", "blend: the paper's overlapping tiles"),
    cli_help="seamless: one prediction per pixel on a 16-px-aligned grid (default); "
             "blend: the paper's 50%% overlap with spline weights")
TILE_SIZE = OptionSpec(
    "TILE_SIZE", "--tile-size", "Tile size (input pixels)",
    "Side of the square network input, 16k + 124 pixels (e.g. 668). Empty: seamless runs in three or more "
    "full-height strips, so progress moves and Cancel stops within a run, for about 10% more work than the "
    "fewest tiles; blend uses the model's own tile. 0: the whole prediction area in one pass. Seamless tiling "
    "gives the same mask for every tile size; smaller tiles use less memory.",
    "tile_size", DEFAULT_TILE_SIZE, minimum=0, metavar="PX", advanced=True,
    cli_help="U-Net input tile side, 16k+124 (e.g. 668); 'auto' (default) = measured fastest within ~1.5 GB: "
             "full-height strips in seamless mode (the whole area when it fits), the model's tile in blend "
             "mode; 'live' = at least three strips, as QGIS runs it (progress moves); 'model' = the model's "
             "tile; 'whole' = the whole prediction area in one pass (seamless only)")
MODEL = OptionSpec(
    "MODEL", "--model", "Model file",
    "A Mars Cloudmask .keras model (with its metadata). Empty: the model shipped with the plugin "
    "(models/mars_cloudmask_unet.keras).",
    "file", None, metavar="PATH", cli_help="a .keras model file (default: the shipped model)")
REFERENCE = OptionSpec(
    "REFERENCE", "--reference", "Clear-sky reference",
    "A clear-sky reference map of the sol's season (\"Clear-sky reference from MDGMs\", or mars-cloudmask "
    "reference), for the reference-aware model, which tells frost and bright ground from cloud better. Empty: "
    "the single-map model. A reference made more than 30 degrees of Ls from the sol is refused.",
    "file", None, metavar="FILE", file_filter="Clear-sky reference GeoTIFF (*.tif *.tiff)",
    cli_help="clear-sky reference GeoTIFF (mars-cloudmask reference) for the reference-aware model "
             "(the default model then); batch takes 'auto': one reference per archive folder from all its "
             "sols, cached beside its masks; default: none, the single-map model")
THRESHOLD = OptionSpec(
    "THRESHOLD", "--threshold", "Probability threshold",
    "Probability at or above which a pixel is cloud, strictly between 0 and 1. Empty: the model's own.",
    "number", None, 0.0, 1.0, metavar="T", cli_help="cloud if probability >= T (default: the model's)")
FORMATS_OPTION = OptionSpec(
    "FORMATS", "--formats", "Mask formats", "GeoTIFF (Int16, nodata -999) and/or CF-1.8 NetCDF.",
    "formats", FORMATS, choices=FORMATS, choice_labels=("GeoTIFF", "NetCDF"), metavar="LIST",
    cli_help="comma-separated mask formats among tif, nc (default tif,nc)")
PROBABILITY = OptionSpec(
    "PROBABILITY", "--probability", "Also write the cloud probability",
    "Adds a float32 MDGM-name_probability.tif (e.g. P01_day10_zequat_probability.tif) beside each mask.", "flag", False,
    cli_help="also write <stem>_probability.tif (float32)")

MODEL_OPTIONS = (BUFFER, TILING, TILE_SIZE, MODEL, THRESHOLD)     # how a model predicts one MDGM
MASK_OPTIONS = (LS,) + MODEL_OPTIONS + (REFERENCE, PROBABILITY, FORMATS_OPTION)


@dataclass(frozen=True)
class MaskOptions:
    """Everything a user can choose for one mask, shared by the CLI, batch runs and QGIS."""
    ls: float = None
    buffer: float = DEFAULT_BUFFER
    tiling: str = DEFAULT_TILING
    tile_size: object = DEFAULT_TILE_SIZE   # "auto" (pipeline.resolve_tile_size), input side (16k + 124), "model", or None (whole)
    threshold: float = None                 # None: the model's own
    model_path: str = None                  # None: the shipped model (the reference-aware one with a reference)
    reference: str = None                   # clear-sky reference file; None: none
    formats: tuple = FORMATS
    probability: bool = False


def parse_tile_size(value, flag=TILE_SIZE.flag):
    """'auto', 'model', None for the whole area ('whole' or 0), or a number of pixels."""
    if value is None or value in ("auto", "live", "model"):
        return "auto" if value is None else value
    if value == "whole":
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise CloudmaskError(None, f"{flag} {value!r}: a number of pixels, 'auto', 'model' or 'whole'") from None
    if size == 0:
        return None
    from .unet import is_valid_input_size, valid_input_size
    if not is_valid_input_size(size):
        above = valid_input_size(size)
        below = above - 16 if is_valid_input_size(above - 16) else None
        sizes = " or ".join(str(s) for s in (below, above) if s)
        raise CloudmaskError(None, f"{flag} {size}: the U-Net takes tiles of 16k + 124 pixels (at least "
                                   f"{valid_input_size(1)}); the nearest are {sizes}")
    return size


def check_threshold(threshold, flag=THRESHOLD.flag):
    if threshold is not None and not 0.0 < float(threshold) < 1.0:
        raise CloudmaskError(None, f"{flag} {float(threshold):g}: must be between 0 and 1")
    return None if threshold is None else float(threshold)


def check_buffer(buffer, flag=BUFFER.flag):
    low, high = BUFFER_RANGE
    if not low <= float(buffer) <= high:
        raise CloudmaskError(None, f"{flag} {float(buffer):g}: must be between {low:g} and {high:g} degrees")
    return float(buffer)


def parse_formats(formats, probability=False):
    """('tif', 'nc') from 'tif,nc' or a sequence; at least one product must be asked for."""
    text = formats if isinstance(formats, str) else ",".join(formats)
    chosen = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not (chosen or probability):
        raise CloudmaskError(None, f"{FORMATS_OPTION.flag} {text!r}: choose among {', '.join(FORMATS)}")
    return chosen


def model_options(buffer=DEFAULT_BUFFER, tiling=DEFAULT_TILING, tile_size=DEFAULT_TILE_SIZE, threshold=None):
    """Checked keyword arguments of pipeline.make_cloudmask: {buffer, tiling, tile_size, threshold}."""
    if tiling not in MODES:
        raise CloudmaskError(None, f"{TILING.flag} {tiling!r}: choose among {', '.join(MODES)}")
    tile = parse_tile_size(tile_size)
    if tile is None and tiling != "seamless":
        raise CloudmaskError(None, f"{TILE_SIZE.flag} whole (or 0) goes with seamless tiling only; blend needs "
                                   "tiles (e.g. 668, or auto)")
    return {"buffer": check_buffer(buffer), "tiling": tiling, "tile_size": tile,
            "threshold": check_threshold(threshold)}


def mask_options(ls=None, model=None, formats=FORMATS, probability=False, reference=None, **model_kwargs):
    """Checked MaskOptions from the values a front end read (CLI flags or QGIS parameters)."""
    if ls is not None:
        ls = check_ls(ls)
    return MaskOptions(ls=ls, model_path=model or None, formats=parse_formats(formats, probability),
                       probability=bool(probability), reference=reference or None, **model_options(**model_kwargs))
