"""Would averaging the probabilities of several models help? The mean of the cached probabilities of
P01 days 01-18 (each folder made by smoothing_check.py for one model), alone and box-averaged over
3 px; the threshold with the best pooled IoU on days 01-14, and the IoU it gives on days 15-18.

    .venv/bin/python mars_cloudmask_lab/scripts/ensemble_check.py runs/probs_a runs/probs_b [...]

Reads only the cache folders; prints one line per variant.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from mars_cloudmask_lab.scripts.smoothing_check import confusions_of_days, print_choice, read_sol, smoothed

THRESHOLDS = np.round(np.arange(0.30, 0.71, 0.05), 2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("caches", type=Path, nargs="+", help="probability folders of smoothing_check.py, one per model")
    args = ap.parse_args(argv)
    first, others = args.caches[0], args.caches[1:]

    def mean_of_models(sol, day):
        probs = [sol["prob"]] + [read_sol(cache, day)["prob"] for cache in others]
        valid = np.logical_and.reduce([p >= 0 for p in probs])
        return np.where(valid, np.mean(probs, axis=0), -999.0).astype(np.float32)

    for label, box in (("mean of the models", 1), ("mean of the models, 3 px box", 3)):
        train, val = confusions_of_days(first, THRESHOLDS, lambda sol, day: smoothed(mean_of_models(sol, day), box))
        print_choice(f"{label} ({len(args.caches)})", train, val, THRESHOLDS)


if __name__ == "__main__":
    sys.exit(main())
