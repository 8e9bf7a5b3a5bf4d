"""Compare colour heads on one set of sampled pixels: the features of a trained reference-aware
model's network (its U-Net, inputs and box means) are drawn once, then each head variant is fitted
on them (train.fit_head_on_pixels), its threshold chosen on the training sols and scored on the
validation sols, as `train` does for one head.

    .venv/bin/python mars_cloudmask_lab/scripts/head_sweep.py --model runs/clearsky/final.keras \\
        --config mars_cloudmask_lab/recipes/clearsky_w8.json --cache /tmp/head_pixels.npz \\
        --variant '{"units": [128, 64]}' --variant '{"units": [256, 128], "head_dropout": 0.1}'

A variant overrides the recipe's last stage (units of the head; head_epochs, head_dropout,
head_weight_decay, learning_rate). Prints one line per variant; writes only the --cache file.
"""
import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="a model with a colour head (its U-Net and boxes are used)")
    ap.add_argument("--config", type=Path, required=True, help="the recipe (its last stage: the head's fit)")
    ap.add_argument("--cache", type=Path, help="keep the sampled pixels here (.npz) and reuse them")
    ap.add_argument("--variant", action="append", default=[], help="JSON overrides of the head's fit; repeatable")
    ap.add_argument("--clearsky-cache", type=Path, default=Path("runs/head_sweep_clearsky"),
                    help="folder of the clear-sky references (built there when absent)")
    args = ap.parse_args(argv)

    from mars_cloudmask_lab.commands.train import read_recipe
    from mars_cloudmask_lab.train import (TrainConfig, clearsky_source, head_training_pixels, load_training_sol,
                                          load_weak_sol, stage_configs)
    from mars_cloudmask_plugin.unet import margin as unet_margin
    recipe = TrainConfig(**read_recipe(args.config))
    stage = (stage_configs(recipe) or [recipe])[-1]
    margin = unet_margin(stage.depth)
    clearsky_of = clearsky_source(stage, args.clearsky_cache)
    from mars_cloudmask_plugin.model import load_model
    base = load_model(args.model)
    if args.cache and args.cache.exists():
        data = np.load(args.cache)
        x, y = data["x"], data["y"]
    else:
        sols = [load_training_sol(stage, name, margin, clearsky_of) for name in stage.train_days]
        weak = [load_weak_sol(stage, m, f, margin, clearsky_of) for m, f in stage.weak_sols]
        x, y = head_training_pixels(base.keras_model, sols, stage, margin, weak)
        del sols, weak
        if args.cache:
            np.savez(args.cache, x=x, y=y)
    print(f"{len(y):,} pixels, {x.shape[1]} features, {y.mean():.1%} cloud")
    for text in args.variant or ["{}"]:
        print(score_variant(base, stage, json.loads(text), x, y, clearsky_of), flush=True)


def score_variant(base, stage, overrides, x, y, clearsky_of):
    """One line: the variant, its threshold and training-sol IoU, and its validation figures."""
    from mars_cloudmask_lab.train import (TrainConfig, THRESHOLDS, best_threshold_index, evaluate_sols,
                                          fit_head_on_pixels, threshold_sweep, transfer_weights)
    from mars_cloudmask_plugin.model import CloudModel
    from mars_cloudmask_plugin.unet import build_unet
    from mars_cloudmask_plugin.archive import mdgm_path_for
    units = overrides.pop("units", stage.colour_head["units"])
    config = TrainConfig(**{**asdict(stage), **overrides, "colour_head": {**stage.colour_head, "units": units}})
    model = build_unet(config.width, config.depth, name=config.name, inputs=config.inputs, colour_head=config.colour_head)
    transfer_weights(base, model, tuple(config.inputs))
    started = time.time()
    loss = fit_head_on_pixels(model, x, y, config, log=lambda line: None)
    seconds = time.time() - started
    cloud_model = CloudModel(model, dict(base.metadata), base.path)
    totals = threshold_sweep(cloud_model, config, config.train_days, clearsky_of)
    best = best_threshold_index(totals)
    threshold, training_iou = THRESHOLDS[best], totals[best].metrics()["iou"]
    cloud_model.metadata["threshold"] = threshold
    val_paths = [mdgm_path_for(name, config.mdgm_dir, "a validation sol") for name in config.val_days]
    per_sol, pooled = evaluate_sols(cloud_model, val_paths, config.reference_dir, config.buffer, clearsky_of=clearsky_of)
    m = pooled.metrics()
    sols = " / ".join(f"{c.metrics()['iou']:.3f}" for c in per_sol.values())
    return (f"{json.dumps({'units': units, **overrides})}: loss {loss:.4f} in {seconds:.0f} s; threshold "
            f"{threshold} (training IoU {training_iou:.4f}); val IoU {m['iou']:.4f} F1 {m['f1']:.4f} ({sols})")


if __name__ == "__main__":
    sys.exit(main())
