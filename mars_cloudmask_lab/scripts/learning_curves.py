"""Validation IoU per epoch of the reference-aware runs (from their committed logs), against the
single-map model and the gradient-boosting baseline with the same reference: the figure of the
model card's "Against the targets".

    .venv/bin/python mars_cloudmask_lab/scripts/learning_curves.py [--out docs/clearsky_learning_curves.png]
"""
import argparse
import csv
from pathlib import Path

LOGS = Path(__file__).resolve().parent.parent / "recipes" / "logs"
RUNS = (  # label, [log files in order: epochs of later files continue the count], epochs not drawn
    ("from random weights (clearsky_w8.json, stopped in stage 2)",
     ["clearsky_w8_stage1.csv", "clearsky_w8_stage2_epochs1-10.csv"], 0),
    ("grown from the single-map model (clearsky_w8_grow.json, shipped)", ["clearsky_w8_grow.csv"], 0),
    ("grown, then a second stage at 1e-3 (clearsky_w8_grow2.json)",
     ["clearsky_w8_grow.csv", "clearsky_w8_grow2_stage2.csv"], 20),
)
LINES = ((0.792, "single-map U-Net 0.3.1-w8"), (0.840, "gradient boosting + reference"),
         (0.850, "the must: 0.840 + 0.01"))


def curve(files):
    ious = []
    for name in files:
        with open(LOGS / name, newline="") as f:
            ious += [float(row["val_iou"]) for row in csv.DictReader(f)]
    return list(range(1, len(ious) + 1)), ious


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/clearsky_learning_curves.png"))
    args = parser.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, files, skip in RUNS:
        epochs, ious = curve(files)
        ax.plot(epochs[skip:], ious[skip:], marker=".", label=label)
    for value, label in LINES:
        ax.axhline(value, linestyle="--", linewidth=0.8, color="grey")
        ax.text(0.5, value + 0.002, label, fontsize=8, color="dimgrey")
    ax.set(xlabel="epoch (60-80 steps of 4 patches each)", ylabel="val IoU, P01 days 15-18 (c = -4, threshold 0.5)",
           ylim=(0.55, 0.87), title="Reference-aware U-Net: validation IoU per epoch")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
