"""From area probabilities to global products: threshold, then -999 wherever the answer cannot be
trusted (no data, JPEG bleed, a missing band, outside the polar bounds or the trimmed columns)."""
import numpy as np

from . import grid
from .mdgm import has_data
from .options import DEFAULT_THRESHOLD


def global_mask(prob_area, area, rgb, threshold=DEFAULT_THRESHOLD):
    """Int16 mask on the full 1801 x 3600 grid: 1 cloud, 0 clear, -999 invalid or outside."""
    mask = np.full((grid.HEIGHT, grid.WIDTH), grid.NODATA, np.int16)
    rows, cols = area.slices
    cloud = (prob_area >= threshold).astype(np.int16)
    mask[rows, cols] = np.where(has_data(rgb[rows, cols]), cloud, grid.NODATA)
    return mask


def global_probability(prob_area, area, rgb):
    """Float32 probability on the full grid, -999 where the mask is -999."""
    out = np.full((grid.HEIGHT, grid.WIDTH), grid.NODATA, np.float32)
    rows, cols = area.slices
    out[rows, cols] = np.where(has_data(rgb[rows, cols]), prob_area, grid.NODATA)
    return out


def mask_from_probability(probability, rgb, threshold=DEFAULT_THRESHOLD):
    """Int16 mask from a global probability raster (-999 kept) and its MDGM: the post-filter step
    on its own, as the QGIS `postfilter` algorithm exposes it."""
    valid = (probability != grid.NODATA) & np.isfinite(probability) & has_data(rgb)
    return np.where(valid, (probability >= threshold).astype(np.int16), grid.NODATA).astype(np.int16)


def fractions(mask):
    """(cloud fraction of valid pixels, valid fraction of the globe) of an Int16 mask."""
    valid = mask != grid.NODATA
    n_valid = int(valid.sum())
    cloud = float((mask == 1).sum()) / n_valid if n_valid else 0.0
    return cloud, n_valid / mask.size
