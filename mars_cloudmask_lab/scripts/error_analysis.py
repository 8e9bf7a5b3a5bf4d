"""Where a model's errors lie on the validation sols: distance of false positives and negatives to
the nearest reference cloud edge, IoU under a shifted prediction, IoU by threshold, and IoU by
latitude band next to a blue-brightness threshold fitted on the same pixels.

    .venv/bin/python mars_cloudmask_lab/scripts/error_analysis.py [--model PATH] [--days 15-18] [--buffer -4]

Reads ../shared/data/P01; prints tables; writes nothing.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from mars_cloudmask_lab.evaluate import probability_on_sol
from mars_cloudmask_plugin.archive import select_mdgms
from mars_cloudmask_plugin.grid import NODATA, rows_between
from mars_cloudmask_plugin.mdgm import read_mdgm
from mars_cloudmask_lab.metrics import Confusion, confusion, confusions_by_threshold
from mars_cloudmask_plugin.archive import reference_path_for
from mars_cloudmask_plugin.raster import read_netcdf_values
from mars_cloudmask_plugin.postfilter import mask_from_probability
from mars_cloudmask_plugin.model import load_model

EDGE_DISTANCES = (1, 2, 3, 5, 10, 20)
SHIFTS = (-2, -1, 0, 1, 2)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
LATITUDE_BANDS = tuple((south, south + 10) for south in range(-50, 80, 10))
BLUE_LEVELS = tuple(range(60, 141, 2))


def band_mask(shape, south, north):
    """Rows of the global grid from `north` down to, not including, `south` (that row is the next band's)."""
    inside = np.zeros(shape, bool)
    top, bottom = rows_between(north, south)
    inside[top:bottom - 1] = True
    return inside


def edge_shares(probability, reference, data, threshold):
    """Share of false positives and of false negatives within d px of a reference cloud edge."""
    scored = (reference != NODATA) & data
    truth, pred = reference == 1, probability >= threshold
    fp, fn = scored & pred & ~truth, scored & ~pred & truth
    to_edge = np.where(truth, ndimage.distance_transform_edt(truth), ndimage.distance_transform_edt(~truth))
    return [(fp & (to_edge <= d)).sum() / max(fp.sum(), 1) for d in EDGE_DISTANCES], \
           [(fn & (to_edge <= d)).sum() / max(fn.sum(), 1) for d in EDGE_DISTANCES]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model")
    ap.add_argument("--days", default="15-18")
    ap.add_argument("--buffer", type=float, default=-4.0)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data" / "P01")
    args = ap.parse_args(argv)
    model = load_model(args.model)
    shifted = {(dy, dx): Confusion() for dy in SHIFTS for dx in SHIFTS}
    by_threshold = [Confusion() for _ in THRESHOLDS]
    by_band = {band: Confusion() for band in LATITUDE_BANDS}
    blue_by_band = {band: [Confusion() for _ in BLUE_LEVELS] for band in LATITUDE_BANDS}
    brightness = []
    print(f"{model.label}, buffer {args.buffer:g}, threshold {model.threshold:g}")
    print("sol          share of FP / FN within d px of a reference edge, d = " + " ".join(map(str, EDGE_DISTANCES)))
    for path in select_mdgms(args.data / "mdgm", args.days):
        sol, prob = probability_on_sol(path, args.data / "cloudmask", model, args.buffer, tile_size=None)
        ref, data = sol.reference, sol.data
        fp, fn = edge_shares(prob, ref, data, model.threshold)
        print(f"{path.name[:9]}    FP {' '.join(f'{x:.2f}' for x in fp)}   FN {' '.join(f'{x:.2f}' for x in fn)}")
        rgb = read_mdgm(path).rgb
        for (dy, dx) in shifted:
            moved = np.roll(prob, (dy, dx), axis=(0, 1))
            shifted[dy, dx] += confusion(mask_from_probability(moved, rgb, model.threshold), ref, data)
        by_threshold = [a + b for a, b in zip(by_threshold, confusions_by_threshold(prob, ref, data, THRESHOLDS))]
        blue = rgb[..., 2].astype(np.float32)
        values = read_netcdf_values(reference_path_for(sol.name, args.data / "cloudmask"))[0]
        cloud = (ref == 1) & data
        brightness.append((sol.name, np.corrcoef(values[cloud], blue[cloud])[0, 1], np.median(values[cloud] - blue[cloud])))
        mask = mask_from_probability(prob, rgb, model.threshold)
        for band in LATITUDE_BANDS:
            inside = data & band_mask(ref.shape, *band)
            by_band[band] += confusion(mask, ref, inside)
            levels = confusions_by_threshold(blue / 255, ref, inside, [b / 255 for b in BLUE_LEVELS])
            blue_by_band[band] = [a + b for a, b in zip(blue_by_band[band], levels)]
    print("pooled IoU with the prediction shifted by (rows down, columns east):")
    print("       " + " ".join(f"{dx:+6d}" for dx in SHIFTS))
    for dy in SHIFTS:
        print(f"{dy:+6d} " + " ".join(f"{shifted[dy, dx].metrics()['iou']:6.3f}" for dx in SHIFTS))
    print("pooled IoU by threshold: " + ", ".join(f"{t:g}: {c.metrics()['iou']:.3f}" for t, c in zip(THRESHOLDS, by_threshold)))
    print("reference cloud values vs the MDGM's blue band on cloud pixels: " + ", ".join(
        f"{name} r = {r:.3f} (median difference {d:+.0f})" for name, r, d in brightness))
    print_bands(by_band, blue_by_band)


def print_bands(by_band, blue_by_band):
    """Model IoU per latitude band, its share of all errors, and the best single blue threshold there
    (fitted on these very pixels: a ceiling for 'the labels are blue brightness above a threshold')."""
    errors = sum(c.fp + c.fn for c in by_band.values())
    print("by latitude band (pooled over the sols): model IoU, FP, FN, share of all errors; "
          "best blue > b threshold fitted on the same pixels")
    print("band          cloud px  model IoU      FP      FN  error share  blue IoU  at b")
    for band, c in by_band.items():
        if not c.tp + c.fn:
            continue
        best_iou, best_level = max((cb.metrics()["iou"], level) for cb, level in zip(blue_by_band[band], BLUE_LEVELS))
        print(f"{band[0]:+4d}..{band[1]:+4d}  {c.tp + c.fn:9d}  {c.metrics()['iou']:9.3f}  {c.fp:6d}  {c.fn:6d}"
              f"  {(c.fp + c.fn) / errors:11.1%}  {best_iou:8.3f}  {best_level:4d}")


if __name__ == "__main__":
    sys.exit(main())
