"""mars-cloudmask ensemble : join trained models into one model file (the mean of their probabilities)."""
from pathlib import Path

from ..ensemble import make_ensemble


def register(sub):
    p = sub.add_parser("ensemble", help="join trained models into one model file (the mean of their probabilities)",
                       description="The members must take the same inputs and come from the same training and "
                                   "validation sols. The ensemble's threshold is chosen on those training sols "
                                   "(run-dir/threshold.csv) and its validation figures stored in the file, as "
                                   "train does.")
    p.add_argument("models", type=Path, nargs="+", metavar="MODEL", help="trained .keras files (two or more)")
    p.add_argument("--out", type=Path, required=True, help="the ensemble's .keras file")
    p.add_argument("--run-dir", type=Path, required=True, help="folder for threshold.csv and the clear-sky cache")
    p.add_argument("--name", default="mars_cloudmask_ensemble", help="model name stored in the file")
    p.add_argument("--version", default="unversioned", help="version stored in the file")
    p.set_defaults(func=run)


def run(args):
    make_ensemble(args.models, args.out, args.run_dir, args.name, args.version)
