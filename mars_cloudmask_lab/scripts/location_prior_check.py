"""Is what is left of a model's error tied to places? A per-pixel correction learnt from the training
labels: the mean of (label - probability) at each pixel over the training days, box-averaged, added
times alpha to the probability. For each box and alpha the threshold with the best pooled IoU on days
01-14 (each training day corrected by the other 13 days' map, so no day sees its own labels), and the
IoU it gives on days 15-18 (corrected by the 14 days' map); then the best box and alpha on days 01-14;
then, by how often the labels of days 01-14 show cloud at a pixel, the mean of label - probability there
on days 15-18 (pixels with at least 5 labelled training sols).

    .venv/bin/python mars_cloudmask_lab/scripts/location_prior_check.py runs/probs_X

A lab check, not a product: the correction is P01's cloud climatology (Ls 132-140, Mars year 28) as
the labellers drew it, so masks made with it would carry that season's clouds into every measurement
of cloud frequency. The model learnt days 01-14, so its residuals there are smaller than on unseen
sols: the map is an underestimate. Reads only the cache folder (smoothing_check.py); prints a table.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from mars_cloudmask_lab.metrics import Confusion, confusions_by_threshold
from mars_cloudmask_lab.scripts.smoothing_check import TRAIN_DAYS, VAL_DAYS, print_choice, read_sol
from mars_cloudmask_lab.train import best_threshold_index
from mars_cloudmask_plugin import grid

BOXES = (1, 5, 15)
ALPHAS = (0.0, 1.0, 2.0, 3.0, 4.0)
THRESHOLDS = np.round(np.arange(0.30, 0.71, 0.05), 2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path, help="a probability folder of smoothing_check.py")
    args = ap.parse_args(argv)
    sols = {day: read_sol(args.cache, day) for day in (*TRAIN_DAYS, *VAL_DAYS)}
    results = {}
    for box in BOXES:
        maps = correction_maps(sols, box)
        for alpha in ALPHAS:
            results[box, alpha] = corrected_confusions(sols, maps, alpha)
            print_choice(f"box {box} px, alpha {alpha}", *results[box, alpha], THRESHOLDS)
    box, alpha = max(results, key=lambda key: results[key][0][best_threshold_index(results[key][0])].metrics()["iou"])
    print_choice(f"chosen on days 01-14: box {box} px, alpha {alpha}", *results[box, alpha], THRESHOLDS)
    for (low, high), (pixels, mean) in residual_by_recurrence(sols).items():
        print(f"cloud on {low:.1%}-{high:.1%} of the training sols: {pixels:,} px, "
              f"validation label - probability {mean:+.4f}")


RECURRENCE_BANDS = ((0.0, 0.001), (0.001, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0))


def residual_by_recurrence(sols, min_sols=5):
    """{(low, high): (pixels, mean of label - probability on the validation days)} by the share of the
    training days whose label is cloud at the pixel (pixels labelled on at least `min_sols` of them)."""
    scored = {day: residual(sols[day])[1] > 0 for day in TRAIN_DAYS}
    labelled = sum(scored.values())
    cloud = sum((sols[day]["reference"] == 1) & scored[day] for day in TRAIN_DAYS)
    share = cloud / np.maximum(labelled, 1)
    total, count = (sum(parts) for parts in zip(*(residual(sols[day]) for day in VAL_DAYS)))
    out = {}
    for low, high in RECURRENCE_BANDS:
        band = (labelled >= min_sols) & (share >= low) & ((share < high) if high < 1 else (share <= 1))
        out[low, high] = int(band.sum()), float(total[band].sum() / max(count[band].sum(), 1))
    return out


def correction_maps(sols, box):
    """The correction map of each day: for a training day the other training days' map (its own labels
    never correct it), for a validation day all the training days'."""
    residuals = {day: residual(sols[day]) for day in TRAIN_DAYS}
    total = tuple(sum(parts) for parts in zip(*residuals.values()))
    maps = {day: correction_map(total[0] - residuals[day][0], total[1] - residuals[day][1], box) for day in TRAIN_DAYS}
    val_map = correction_map(*total, box)
    return maps | {day: val_map for day in VAL_DAYS}


def corrected_confusions(sols, maps, alpha):
    """Pooled Confusions per threshold over the training and the validation days of the probability
    plus alpha times each day's correction map (correction_maps)."""
    return tuple(confusions(((sols[day], maps[day]) for day in days), alpha) for days in (TRAIN_DAYS, VAL_DAYS))


def residual(sol):
    """(sum, count) per pixel of label - probability where the sol is scored."""
    scored = (sol["reference"] != grid.NODATA) & sol["data"] & (sol["prob"] >= 0)
    return np.where(scored, sol["reference"] - sol["prob"], 0.0), scored.astype(np.float64)


def correction_map(total, count, box):
    """The box mean of the residual over pixels with any scored sol; longitude wraps."""
    from scipy import ndimage
    mode = ("nearest", "wrap")
    return (ndimage.uniform_filter(total, box, mode=mode) /
            np.maximum(ndimage.uniform_filter(count, box, mode=mode), 1e-9)).astype(np.float32)


def confusions(sols_and_maps, alpha):
    totals = [Confusion() for _ in THRESHOLDS]
    for sol, correction in sols_and_maps:
        prob = np.where(sol["prob"] >= 0, sol["prob"] + alpha * correction, sol["prob"])
        by_threshold = confusions_by_threshold(prob, sol["reference"], sol["data"], THRESHOLDS)
        totals = [total + c for total, c in zip(totals, by_threshold)]
    return totals


if __name__ == "__main__":
    sys.exit(main())
