"""Validation IoU of the reference-aware runs (from their committed logs), against the single-map
model and the gradient-boosting baseline with the same reference: per epoch of the runs trained on
patches (left), the single-map stages by training step, the CPU recipe against twice its steps on a
GPU (middle), and per colour-head fit on sampled pixels (right; the figures stored in the model
files, copied into HEAD_FITS): the figure of the model card's "Against the targets".

    .venv/bin/python mars_cloudmask_lab/scripts/learning_curves.py [--out docs/clearsky_learning_curves.png]
"""
import argparse
import csv
from pathlib import Path

LOGS = Path(__file__).resolve().parent.parent / "recipes" / "logs"
RUNS = (  # label, [log files in order: epochs of later files continue the count], epochs not drawn
    ("0.4.0 inputs from random weights (0.4.0's clearsky_w8.json, stopped in stage 2)",
     ["clearsky_w8_stage1.csv", "clearsky_w8_stage2_epochs1-10.csv"], 0),
    ("0.4.0: raw inputs grown from the single-map model (clearsky_w8_grow.json)", ["clearsky_w8_grow.csv"], 0),
    ("grown, then a second stage at 1e-3 (clearsky_w8_grow2.json)",
     ["clearsky_w8_grow.csv", "clearsky_w8_grow2_stage2.csv"], 20),
    ("clearsky_w8.json from random weights: its single-map stages 1-3",
     ["clearsky_w8_0114_stage1.csv", "clearsky_w8_0114_stage2.csv", "clearsky_w8_0114_stage3.csv"], 0),
    ("the same, run again (0.6.0-w8's run, runs/clearsky_0114)",
     ["clearsky_w8_060_0114_stage1.csv", "clearsky_w8_060_0114_stage2.csv", "clearsky_w8_060_0114_stage3.csv"], 0),
    ("grown with the excess inputs (clearsky_w8_excess.json, stopped)", ["clearsky_w8_excess_epochs1-5.csv"], 0),
    ("grown, a fresh colour head trained on patches (clearsky_w8_head.json, stopped)",
     ["clearsky_w8_head_joint_epochs1-5.csv"], 0),
    ("the fitted colour head (0.5.0-w8), then all of it on patches at 1e-4 (stopped)",
     ["clearsky_w8_joint_epochs1-6.csv"], 0),
)
# the single-map stages 1-3 by step: label, [(log file, steps per epoch of its stage), ...]
SINGLE_MAP_RUNS = (
    ("base_w8.json, CPU, first run", [("clearsky_w8_0114_stage1.csv", 80), ("clearsky_w8_0114_stage2.csv", 60),
                                      ("clearsky_w8_0114_stage3.csv", 60)]),
    ("base_w8.json, CPU, 0.6.0-w8's run", [("clearsky_w8_060_0114_stage1.csv", 80),
                                           ("clearsky_w8_060_0114_stage2.csv", 60),
                                           ("clearsky_w8_060_0114_stage3.csv", 60)]),
    ("base_w8.json, CPU, single_w8.json's one command (runs/single_0114)",
     [("single_w8_0114_run4_stage1.csv", 80), ("single_w8_0114_run4_stage2.csv", 60),
      ("single_w8_0114_run4_stage3.csv", 60)]),
    ("base_w8_long.json (2x steps), H200", [("single_w8_long_0114_gpu_stage1.csv", 320),
                                            ("single_w8_long_0114_gpu_stage2.csv", 240),
                                            ("single_w8_long_0114_gpu_stage3.csv", 240)]),
    ("the same at width 16, H200 (stopped)", [("single_w16_long_0114_gpu_stage1.csv", 320),
                                              ("single_w16_long_0114_gpu_stage2.csv", 240),
                                              ("single_w16_long_0114_gpu_stage3.csv", 240)]),
)
# (label, pooled val IoU at the chosen threshold) of the colour heads fitted on sampled pixels on top
# of a single-map U-Net: runs/<name>/final.keras metadata "validation" (model card, Recipe)
HEAD_FITS = (("32-16 units\n1.6M px", 0.8079), ("64-32\n3.2M px", 0.8235), ("128-64\n6.4M px", 0.8377),
             ("128-64\n+91 px box\n9.6M px\n(0.5.0-w8)", 0.8433),
             ("the same\nwhole recipe\nfrom random\nweights", 0.8418),
             ("no latitude\nin the head\n(on 0.3.1-w8)", 0.823),
             ("no latitude,\nwhole recipe\nfrom random\n(0.6.0-w8)", 0.8307),
             ("latitude and\nconsensus\nlabels, whole\nrecipe (0.7.0-w8)", 0.8375),
             ("the same,\nrun again\n(runs/consensus_fresh_0114)", 0.8411),
             ("the same,\nweak and\nconsensus in\n40% of patches\n(0.8.0-w8)", 0.8342),
             ("the same,\nthe head sees\nthe season\n(0.9.0-w8)", 0.8415))
LINES = ((0.792, "single-map U-Net 0.3.1-w8"), (0.840, "gradient boosting + reference"),
         (0.850, "the must: 0.840 + 0.01"))


def curve(files):
    ious = []
    for name in files:
        with open(LOGS / name, newline="") as f:
            ious += [float(row["val_iou"]) for row in csv.DictReader(f)]
    return list(range(1, len(ious) + 1)), ious


def curve_by_step(stages):
    steps, ious, done = [], [], 0
    for name, per_epoch in stages:
        with open(LOGS / name, newline="") as f:
            for row in csv.DictReader(f):
                done += per_epoch
                steps.append(done)
                ious.append(float(row["val_iou"]))
    return steps, ious


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/clearsky_learning_curves.png"))
    args = parser.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, single, heads) = plt.subplots(1, 3, figsize=(22, 6.6), gridspec_kw={"width_ratios": [2.2, 1.6, 1.7]},
                                            sharey=True)
    for label, files, skip in RUNS:
        epochs, ious = curve(files)
        ax.plot(epochs[skip:], ious[skip:], marker=".", label=label)
    for label, stages in SINGLE_MAP_RUNS:
        single.plot(*curve_by_step(stages), marker=".", label=label)
    single.set(xlabel="training steps (4 patches each)", title="Single-map stages 1-3 by step (threshold 0.5)")
    single.legend(fontsize=7, loc="lower right")
    heads.plot(range(len(HEAD_FITS)), [iou for _, iou in HEAD_FITS], marker="o", color="black")
    # one line per label, slanted: ten multi-line labels side by side overlap
    heads.set_xticks(range(len(HEAD_FITS)), [label.replace("\n", " ") for label, _ in HEAD_FITS], fontsize=7,
                     rotation=40, ha="right", rotation_mode="anchor")
    for x, (_, iou) in enumerate(HEAD_FITS):
        heads.annotate(f"{iou:.3f}", (x, iou), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    heads.set(title="Colour head fitted on sampled pixels", xlim=(-0.5, len(HEAD_FITS) - 0.5))
    for axis in (ax, single, heads):
        for value, label in LINES:
            axis.axhline(value, linestyle="--", linewidth=0.8, color="grey")
            axis.text(axis.get_xlim()[0] + 0.1, value + 0.002, label, fontsize=8, color="dimgrey")
    ax.set(xlabel="epoch (60-80 steps of 4 patches each)", ylabel="val IoU, P01 days 15-18 (c = -4)",
           ylim=(0.55, 0.87), title="Trained on patches (threshold 0.5)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
