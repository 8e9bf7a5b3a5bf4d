"""mars-cloudmask batch ROOT --out-dir DIR [--workers N | --scheduler ADDRESS] : every MDGM of an archive folder."""
from pathlib import Path

from ..parallel import run_batch
from ..errors import CloudmaskError
from . import add_mask_options, mask_options_from


def register(sub):
    p = sub.add_parser("batch", help="cloud masks for every MDGM below an archive folder",
                       description="Walks ROOT (phase/subphase folders holding Pxx_dayNN_zequat.jpg and Pxx_ls.txt), "
                                   "mirrors its layout under DIR, skips sols whose outputs exist, goes on past bad "
                                   "files and lists them at the end (exit 1 if any failed). Serial by default; "
                                   "--workers N or --scheduler ADDRESS runs the sols on Dask.")
    p.add_argument("root", type=Path, metavar="ROOT", help="archive folder")
    p.add_argument("--out-dir", type=Path, required=True, metavar="DIR", help="output folder (mirrors ROOT)")
    p.add_argument("--overwrite", action="store_true", help="remake sols whose outputs exist")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=0, metavar="N",
                   help="run on a local Dask cluster of N worker processes (1 sol at a time each, "
                        "TensorFlow threads = cores / N); default: serial in this process")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a running Dask cluster, e.g. tcp://host:8786 (workers need the same paths "
                        "to ROOT, DIR and the model)")
    add_mask_options(p)
    p.set_defaults(func=run)


def run(args):
    from tqdm import tqdm
    if args.workers < 0:
        raise CloudmaskError(None, f"--workers {args.workers}: must be 1 or more")
    options = mask_options_from(args)
    with tqdm(unit="sol", disable=None) as bar:
        def on_outcome(outcome):
            bar.update()
            bar.write(outcome.summary())
        report = run_batch(args.root, args.out_dir, options, args.overwrite, args.workers, args.scheduler,
                           on_outcome)
        if report.cancelled:
            bar.write(f"interrupted after {len(report.outcomes)} of {report.total} sols; "
                      "run the same command again to resume (finished sols are skipped)")
            for line in report.lines():
                bar.write(line)
            raise report.cancelled
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0
