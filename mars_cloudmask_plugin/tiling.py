"""Tiling a padded prediction area through a valid-padding U-Net and stitching the outputs.

"seamless" (default): tiles on a grid aligned to 2^depth (16) pixels. A valid-padding U-Net is
translation-equivariant for such shifts, so overlapping tiles agree exactly and one prediction
per pixel is enough: the result equals one forward pass over the whole area. A tile size of
None runs the whole area as one tile.

"blend" (the paper's): tiles at about 50% overlap, the last flush with the far edge, each output
weighted by a squared-spline window centred on its tile; every pixel keeps the prediction of
greatest weight.
"""
import math
from dataclasses import dataclass

import numpy as np

from .errors import Cancelled, CloudmaskError
from .options import MODES
from .unet import is_valid_input_size, valid_input_size


@dataclass(frozen=True)
class TileLayout:
    mode: str
    tile: tuple          # input (rows, cols)
    margin: int
    area_shape: tuple    # (rows, cols) of the prediction area
    offsets: tuple       # (row, col) of each tile's output in area coordinates

    @property
    def out(self):
        return self.tile[0] - 2 * self.margin, self.tile[1] - 2 * self.margin

    @property
    def padded_shape(self):
        return (max(o[0] for o in self.offsets) + self.tile[0],
                max(o[1] for o in self.offsets) + self.tile[1])

    @property
    def pad_after(self):
        """Rows and columns of padding needed after the area (south, east)."""
        ph, pw = self.padded_shape
        return ph - self.margin - self.area_shape[0], pw - self.margin - self.area_shape[1]

    @property
    def pixels_evaluated(self):
        """Network output pixels computed, over all tiles."""
        return len(self.offsets) * self.out[0] * self.out[1]


def plan_tiles(area_shape, mode="seamless", tile_size=668, margin=92, depth=4):
    """Where the tiles go. `tile_size` is the input side (16k + 124), a (rows, cols) pair of such
    sides, or None for one whole-area tile."""
    if mode not in MODES:
        raise CloudmaskError(None, f"tiling mode {mode!r} is not one of {', '.join(MODES)}")
    if tile_size is None:
        if mode != "seamless":
            raise CloudmaskError(None, "a whole-area tile (no tile size) needs tiling mode 'seamless'")
        tile = whole_area_tile(area_shape, margin, depth)
        return TileLayout(mode, tile, margin, tuple(area_shape), ((0, 0),))
    tile = tuple(tile_size) if isinstance(tile_size, (tuple, list)) else (tile_size, tile_size)
    for side in tile:
        if not is_valid_input_size(side, depth):
            raise CloudmaskError(None, f"tile size {side} is not a valid U-Net input; use 16k + 124 "
                                       f"pixels, e.g. {valid_input_size(side, depth)}")
    axis_offsets = _seamless_offsets if mode == "seamless" else _blend_offsets
    rows = axis_offsets(area_shape[0], tile[0] - 2 * margin, 2 ** depth)
    cols = axis_offsets(area_shape[1], tile[1] - 2 * margin, 2 ** depth)
    offsets = tuple((r, c) for r in rows for c in cols)
    return TileLayout(mode, tile, margin, tuple(area_shape), offsets)


def whole_area_tile(area_shape, margin=92, depth=4):
    """The input (rows, cols) of one tile covering the whole area."""
    return tuple(valid_input_size(n + 2 * margin, depth) for n in area_shape)


def strip_tile(area_shape, budget, margin=92, depth=4):
    """Full-height seamless strips, as few as keep a tile near `budget` input pixels: None (the
    whole area as one tile) when it fits, else the (rows, cols) tile of k strips that cover the
    area with the least overhang. Each strip beyond the first costs only 2 x margin more columns."""
    rows, cols = whole_area_tile(area_shape, margin, depth)
    strips = math.ceil(rows * cols / budget)
    if strips <= 1:
        return None
    align, width = 2 ** depth, area_shape[1]
    out = math.ceil(width / strips)
    while (strips - 1) * (out - out % align) + out < width:   # k strides of a 16-aligned step reach the edge
        out += 1
    return rows, valid_input_size(out + 2 * margin, depth)


def _seamless_offsets(n, out, align):
    stride = out - out % align
    if stride <= 0:
        raise CloudmaskError(None, f"tile output {out} px is smaller than the {align}-pixel alignment")
    offsets = [0]
    while offsets[-1] + out < n:
        offsets.append(offsets[-1] + stride)
    return offsets


def _blend_offsets(n, out, align):
    if n <= out:
        return [0]
    count = 1 + math.ceil((n - out) / (out / 2))
    return sorted({int(round(v)) for v in np.linspace(0, n - out, count)})


def spline_window(size):
    """Squared-spline weights along one axis: 0 at the edges, 1 at the centre, smooth between."""
    d = np.minimum(np.arange(size) + 0.5, size - np.arange(size) - 0.5) / (size / 2.0)
    return np.where(d < 0.5, 2 * d ** 2, 1 - 2 * (1 - d) ** 2).astype(np.float32)


def run_tiles(predict, padded, layout, data_mask=None, progress=None, cancel=None):
    """Cloud probability over the area (float32, area shape).

    predict: maps a (1, rows, cols, 3) float32 batch to (1, rows - 2m, cols - 2m) probabilities.
    data_mask: area-shaped bool; tiles whose output holds no data are skipped (probability 0).
    progress(fraction) is called after each tile; cancel() returning True stops before the next.
    """
    if padded.shape[:2] != layout.padded_shape:
        raise ValueError(f"padded array {padded.shape[:2]} does not match layout {layout.padded_shape}")
    h, w = layout.area_shape
    oh, ow = layout.out
    th, tw = layout.tile
    prob = np.zeros((h, w), np.float32)
    best = np.full((h, w), -1.0, np.float32) if layout.mode == "blend" else None
    weight = np.outer(spline_window(oh), spline_window(ow)) if best is not None else None
    for i, (r, c) in enumerate(layout.offsets):
        if cancel is not None and cancel():
            raise Cancelled()
        rh, rw = min(oh, h - r), min(ow, w - c)   # part of this tile's output inside the area
        if data_mask is None or data_mask[r:r + rh, c:c + rw].any():
            tile = padded[r:r + th, c:c + tw].astype(np.float32)[None]
            out = np.asarray(predict(tile), np.float32).reshape(oh, ow)[:rh, :rw]
            if best is None:
                prob[r:r + rh, c:c + rw] = out
            else:
                wgt = weight[:rh, :rw]
                take = wgt > best[r:r + rh, c:c + rw]
                prob[r:r + rh, c:c + rw][take] = out[take]
                best[r:r + rh, c:c + rw][take] = wgt[take]
        if progress is not None:
            progress((i + 1) / len(layout.offsets))
    return prob
