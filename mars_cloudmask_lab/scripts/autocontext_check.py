"""Would a second stage that sees the neighbourhood of the model's own probability help (auto-context)?
A model's probability on P01 days 01-18 (cached by smoothing_check), then a gradient-boosting stage on
each pixel's probability and its box means over 3, 9, 27 and 81 px, fitted on pixels of days 01-14;
the threshold of each with the best pooled IoU on days 01-14, and the IoU it gives on days 15-18.

    .venv/bin/python mars_cloudmask_lab/scripts/autocontext_check.py --model M [--clearsky P01_clearsky.tif] --cache DIR

The model learnt days 01-14, so its probability there is surer than on unseen sols: the second stage
learns from that, which favours no gain. Reads ../shared/data/P01; prints two lines; writes only --cache.
"""
import sys

import numpy as np

from mars_cloudmask_lab.scripts.smoothing_check import (TRAIN_DAYS, confusions_of_days, print_choice,
                                                        probabilities_from_command_line, read_sol, smoothed)

BOXES = (3, 9, 27, 81)
THRESHOLDS = np.round(np.arange(0.30, 0.71, 0.05), 2)
PIXELS_PER_SOL = 150_000


def main(argv=None):
    cache = probabilities_from_command_line(__doc__, argv)
    stage = fit_second_stage([read_sol(cache, day) for day in TRAIN_DAYS], np.random.default_rng(0))
    for label, probability in (("the model's probability", lambda sol, _day: sol["prob"]),
                               ("second stage on its neighbourhood", lambda sol, _day: second_stage(stage, sol["prob"]))):
        print_choice(label, *confusions_of_days(cache, THRESHOLDS, probability), THRESHOLDS)


def features(prob):
    """Per pixel: the probability and its box means (valid pixels only), as columns."""
    return np.stack([prob] + [smoothed(prob, box) for box in BOXES], axis=-1)


def fit_second_stage(train_sols, rng):
    from sklearn.ensemble import HistGradientBoostingClassifier
    x, y = [], []
    for sol in train_sols:
        scored = np.flatnonzero(((sol["reference"] >= 0) & sol["data"] & (sol["prob"] >= 0)).ravel())
        pick = rng.choice(scored, min(PIXELS_PER_SOL, scored.size), replace=False)
        x.append(features(sol["prob"]).reshape(-1, 1 + len(BOXES))[pick])
        y.append(sol["reference"].ravel()[pick] > 0)
    return HistGradientBoostingClassifier(max_iter=200, max_leaf_nodes=31, random_state=0).fit(
        np.concatenate(x), np.concatenate(y))


def second_stage(stage, prob):
    valid = prob >= 0
    out = np.full(prob.shape, -999.0, np.float32)
    out[valid] = stage.predict_proba(features(prob)[valid])[:, 1]
    return out


if __name__ == "__main__":
    sys.exit(main())
