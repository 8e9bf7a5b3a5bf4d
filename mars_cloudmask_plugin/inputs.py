"""The network's input channels: which ones exist, how the engine builds them, and how the model
scales them. A model's metadata lists its channels by name ("inputs"); the engine builds exactly
those, so a model trained on other inputs needs no change here beyond a new name.

Every channel is a per-pixel function of the map, its latitude and the clear-sky reference, so a
valid-padding U-Net stays translation-equivariant and seamless tiling stays exact.
"""
import numpy as np

from .bounds import subsolar_latitude
from .errors import CloudmaskError

# name -> the factor the model's first layer multiplies it by (the model normalises its own inputs)
CHANNELS = {
    "red": 1 / 255.0, "green": 1 / 255.0, "blue": 1 / 255.0,   # the MDGM, 0..255
    "latitude": 1 / 90.0,                                        # degrees
    # Latitude measured from the subsolar latitude of the sol's season (degrees): illumination, and
    # so colour, follows it through the year, where latitude alone ties what is learnt to the season
    # the labels come from (P01, Ls 132-140).
    "latitude_from_subsolar": 1 / 90.0,
    # The sol's season as a point on a circle, sin and cos of its Ls (the same over the whole map):
    # with it a colour head can learn what P01's labels teach at P01's Ls (132-140) and what the
    # other seasons' consensus labels teach at theirs, instead of one compromise for every season.
    "season_sin": 1.0, "season_cos": 1.0,
    "blue_red": 1.0,                                             # the map's blue / red
    "clearsky_blue_red": 1.0,                                    # the clear-sky reference's blue / red
    "clearsky_blue": 1 / 255.0,                                  # the clear-sky reference's blue
    # How much bluer the map is than its clear sky: the labellers' test, given to the network directly.
    # Scaled so that cloud sits near 1 (P01: blue excess clear 6 +- 10, cloud 38 +- 25 DN; blue/red
    # excess clear 0.07, cloud 0.25, clipped to +-1 because a dark red makes the raw ratio explode).
    "blue_excess": 1 / 50.0,
    "blue_red_excess": 4.0,
}
CLEARSKY_CHANNELS = ("clearsky_blue_red", "clearsky_blue", "blue_excess", "blue_red_excess")
RGB = ("red", "green", "blue")
# The names older model files use for their inputs.
LEGACY_INPUTS = {"rgb": RGB, "rgb+latitude": RGB + ("latitude",)}
CLEARSKY_INPUTS = RGB + ("latitude", "blue_red", "clearsky_blue_red", "clearsky_blue")
EXCESS_INPUTS = RGB + ("latitude", "clearsky_blue_red", "clearsky_blue", "blue_excess", "blue_red_excess")
# ... and the latitude from the subsolar latitude (clearsky_w8_solar_grown.json: its colour head sees that instead of latitude).
SEASONAL_INPUTS = RGB + ("latitude", "latitude_from_subsolar") + CLEARSKY_CHANNELS
BLUE_RED_EXCESS_LIMIT = 1.0


def channel_names(inputs, path=None):
    """The channel names of a model's "inputs" metadata (a list of names, or a legacy alias)."""
    if isinstance(inputs, str):
        if inputs not in LEGACY_INPUTS:
            raise CloudmaskError(path, f"model metadata inputs = {inputs!r}; known: {', '.join(LEGACY_INPUTS)} "
                                       "or a list of channel names")
        return LEGACY_INPUTS[inputs]
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise CloudmaskError(path, f"model metadata inputs = {inputs!r} is not a list of channel names")
    unknown = [name for name in inputs if name not in CHANNELS]
    if unknown:
        raise CloudmaskError(path, f"model metadata names unknown input channels {', '.join(map(str, unknown))}; "
                                   f"known: {', '.join(CHANNELS)}")
    return tuple(inputs)


def needs_clearsky(names):
    return any(name in CLEARSKY_CHANNELS for name in names)


SEASON_CHANNELS = ("latitude_from_subsolar", "season_sin", "season_cos")


def needs_ls(names):
    """The seasonal channels come from the sol's solar longitude (Ls)."""
    return any(name in SEASON_CHANNELS for name in names)


def scales(names):
    return [CHANNELS[name] for name in names]


def build_channels(names, rgb, latitude, clearsky=None, ls=None):
    """(rows, cols, len(names)) float32 from padded arrays: `rgb` (rows, cols, 3), `latitude` per row
    (degrees) and `clearsky` [blue/red, blue] (NaN where the reference has too few sols: there the
    map's own value stands in, so that pixel looks like its reference: excess 0); the sol's `ls`
    (degrees) for the seasonal channels."""
    if needs_clearsky(names) and clearsky is None:
        raise CloudmaskError(None, "this model needs a clear-sky reference")
    if needs_ls(names) and ls is None:
        seasonal = ", ".join(name for name in names if name in SEASON_CHANNELS)
        raise CloudmaskError(None, f"this model needs the sol's solar longitude (Ls) for its {seasonal} input")
    out = np.empty(rgb.shape[:2] + (len(names),), np.float32)
    ratio = None
    for i, name in enumerate(names):
        if name in RGB:
            out[..., i] = rgb[..., RGB.index(name)]
        elif name == "latitude":
            out[..., i] = latitude[:, None]
        elif name == "latitude_from_subsolar":
            out[..., i] = (latitude - np.float32(subsolar_latitude(ls)))[:, None]
        elif name in ("season_sin", "season_cos"):
            out[..., i] = (np.sin if name == "season_sin" else np.cos)(np.radians(ls))
        elif name in ("blue_red", "clearsky_blue_red", "blue_red_excess"):
            if ratio is None:
                ratio = rgb[..., 2].astype(np.float32) / np.maximum(rgb[..., 0], 1).astype(np.float32)
            if name == "blue_red":
                out[..., i] = ratio
            elif name == "clearsky_blue_red":
                out[..., i] = _filled(clearsky[0], ratio)
            else:
                excess = ratio - _filled(clearsky[0], ratio)
                out[..., i] = np.clip(excess, -BLUE_RED_EXCESS_LIMIT, BLUE_RED_EXCESS_LIMIT)
        elif name == "clearsky_blue":
            out[..., i] = _filled(clearsky[1], rgb[..., 2])
        elif name == "blue_excess":
            blue = rgb[..., 2].astype(np.float32)
            out[..., i] = blue - _filled(clearsky[1], blue)
    return out


def _filled(reference, own):
    return np.where(np.isnan(reference), own, reference).astype(np.float32)
