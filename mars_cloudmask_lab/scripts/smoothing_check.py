"""Would smoothing the probability before the threshold help? A model's probability on P01 days
01-18 (cached as .npz), then for each box mean (1 = none, 3, 5, 7 px, over valid pixels only) the
threshold with the best pooled IoU on days 01-14 and the IoU it gives on days 15-18.

    .venv/bin/python mars_cloudmask_lab/scripts/smoothing_check.py --model models/mars_cloudmask_unet_clearsky.keras \\
        --clearsky runs/clearsky_cache/P01_clearsky.tif --cache runs/probs_clearsky

Reads ../shared/data/P01; prints one line per box; writes only the --cache folder.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from mars_cloudmask_lab.metrics import Confusion, confusions_by_threshold
from mars_cloudmask_lab.train import best_threshold_index

DATA = Path("../shared/data/P01")
BOXES = (1, 3, 5, 7)
THRESHOLDS = np.round(np.arange(0.30, 0.66, 0.05), 2)
TRAIN_DAYS, VAL_DAYS = range(1, 15), range(15, 19)


def main(argv=None):
    cache = probabilities_from_command_line(__doc__, argv)
    for box in BOXES:
        train, val = confusions_of_days(cache, THRESHOLDS, lambda sol, _day: smoothed(sol["prob"], box))
        print_choice(f"box {box} px", train, val, THRESHOLDS)


def print_choice(label, train, val, thresholds):
    """The threshold with the best pooled IoU on the training days, and what it scores on the validation days."""
    best = best_threshold_index(train)
    metrics = val[best].metrics()
    print(f"{label}: threshold {thresholds[best]} (training IoU {train[best].metrics()['iou']:.4f}) -> "
          f"validation IoU {metrics['iou']:.4f}, F1 {metrics['f1']:.4f}", flush=True)


def probabilities_from_command_line(doc, argv):
    """Parse --model, --clearsky and --cache, cache the model's probabilities there; returns the folder."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--clearsky", type=Path, help="the reference file a reference-aware model needs")
    ap.add_argument("--cache", type=Path, required=True, help="folder for the probabilities (reused when present)")
    args = ap.parse_args(argv)
    cache_probabilities(args.model, args.clearsky, args.cache)
    return args.cache


def read_sol(cache, day):
    """A cached sol: its probability, reference mask and data mask (dict of arrays)."""
    with np.load(cache / f"P01_day{day:02d}.npz") as z:
        return dict(z)


def confusions_of_days(cache, thresholds, probability):
    """Pooled Confusions per threshold of `probability(sol, day)` over the training days and the validation days."""
    train = [Confusion() for _ in thresholds]
    val = [Confusion() for _ in thresholds]
    for day in (*TRAIN_DAYS, *VAL_DAYS):
        sol = read_sol(cache, day)
        by_threshold = confusions_by_threshold(probability(sol, day), sol["reference"], sol["data"], thresholds)
        totals = train if day in TRAIN_DAYS else val
        totals[:] = [total + c for total, c in zip(totals, by_threshold)]
    return train, val


def cache_probabilities(model_path, clearsky_path, cache):
    from mars_cloudmask_lab.evaluate import probability_on_sol
    from mars_cloudmask_plugin.clearsky import read_clearsky
    from mars_cloudmask_plugin.model import load_model
    cache.mkdir(parents=True, exist_ok=True)
    model, clearsky = None, None
    for day in (*TRAIN_DAYS, *VAL_DAYS):
        target = cache / f"P01_day{day:02d}.npz"
        if target.exists():
            continue
        if model is None:
            model = load_model(model_path)
            clearsky = read_clearsky(clearsky_path) if clearsky_path else None
        sol, prob = probability_on_sol(DATA / "mdgm" / f"P01_day{day:02d}_zequat.jpg", DATA / "cloudmask", model,
                                       buffer=-4, clearsky=clearsky)
        np.savez_compressed(target, prob=prob, reference=sol.reference, data=sol.data)


def smoothed(prob, box):
    """The box mean of the probability over valid pixels (prob >= 0; -999 stays, scored as clear); longitude wraps."""
    if box == 1:
        return prob
    valid = prob >= 0
    mode = ("nearest", "wrap")
    total = ndimage.uniform_filter(np.where(valid, prob, 0).astype(np.float32), box, mode=mode)
    share = ndimage.uniform_filter(valid.astype(np.float32), box, mode=mode)
    return np.where(valid, total / np.maximum(share, 1e-6), prob)


if __name__ == "__main__":
    sys.exit(main())
