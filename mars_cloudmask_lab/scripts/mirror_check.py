"""Would test-time mirroring help? A model's probability on P01 days 15-18 (buffer -4, the whole
area in one tile) alone, and averaged with its prediction on the east-west mirrored map (and
mirrored reference), mirrored back; pooled IoU of both at thresholds around the model's own.

    .venv/bin/python mars_cloudmask_lab/scripts/mirror_check.py runs/mars_cloudmask_unet_0.3.1-w8.keras
    .venv/bin/python mars_cloudmask_lab/scripts/mirror_check.py runs/clearsky_0114/final.keras --clearsky P01_clearsky.tif

A mirrored globe is still a map on the same grid (the east-west wrap stays continuous), so the
average is exact under tiling too; it would double the work per MDGM. Reads ../shared/data/P01;
prints one line per sol and the pooled line; writes nothing.
"""
import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from mars_cloudmask_lab.evaluate import load_sol
from mars_cloudmask_lab.metrics import Confusion, confusions_by_threshold
from mars_cloudmask_plugin.archive import find_sol, mdgm_path_for
from mars_cloudmask_plugin.mdgm import Mdgm

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "P01"
VAL_DAYS = [f"P01_day{day}" for day in range(15, 19)]
OFFSETS = (-0.1, -0.05, 0.0, 0.05, 0.1)


def mirrored(array):
    return np.ascontiguousarray(array[:, ::-1])


def global_prob(mdgm, model, clearsky):
    from mars_cloudmask_plugin.pipeline import probability_for
    from mars_cloudmask_plugin.postfilter import global_probability
    prob, area, _ = probability_for(mdgm, find_sol(mdgm.path).ls, model, buffer=-4, tile_size=None, clearsky=clearsky)
    return global_probability(prob, area, mdgm.rgb)


def with_mirror(mdgm, model, clearsky):
    """(plain, averaged with the mirrored run) global probabilities; -999 stays -999."""
    plain = global_prob(mdgm, model, clearsky)
    flipped_sky = None if clearsky is None else dataclasses.replace(
        clearsky, blue_red=mirrored(clearsky.blue_red), blue=mirrored(clearsky.blue))
    back = mirrored(global_prob(Mdgm(mdgm.path, mirrored(mdgm.rgb)), model, flipped_sky))
    return plain, np.where((plain >= 0) & (back >= 0), (plain + back) / 2, plain)


def main(argv=None):
    from mars_cloudmask_plugin.clearsky import read_clearsky
    from mars_cloudmask_plugin.model import load_model
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--clearsky", help="the reference file a reference-aware model needs")
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    model = load_model(args.model)
    clearsky = read_clearsky(args.clearsky) if args.clearsky else None
    thresholds = tuple(round(model.threshold + d, 2) for d in OFFSETS)
    pooled = {"plain": [Confusion() for _ in thresholds], "mirrored": [Confusion() for _ in thresholds]}
    for name in VAL_DAYS:
        sol, mdgm = load_sol(name, args.data / "cloudmask", mdgm_path_for(name, args.data / "mdgm", "the mirror check"))
        for kind, prob in zip(pooled, with_mirror(mdgm, model, clearsky)):
            sol_totals = confusions_by_threshold(prob, sol.reference, sol.data, thresholds)
            pooled[kind] = [a + b for a, b in zip(pooled[kind], sol_totals)]
            print(f"{name} {kind:8s} " + "  ".join(f"{t}: {c.metrics()['iou']:.4f}"
                                                  for t, c in zip(thresholds, sol_totals)), flush=True)
    for kind, totals in pooled.items():
        print(f"pooled  {kind:8s} " + "  ".join(f"{t}: {c.metrics()['iou']:.4f}" for t, c in zip(thresholds, totals)))
    print(f"{model.label}: threshold {model.threshold}")


if __name__ == "__main__":
    sys.exit(main())
