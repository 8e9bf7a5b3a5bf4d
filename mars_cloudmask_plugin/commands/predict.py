"""mars-cloudmask predict MDGM... : masks for the given files."""
import sys
from pathlib import Path

from ..batch import Job, Outcome, failures_report, run_job
from ..errors import CloudmaskError
from ..pipeline import output_paths
from ..writers import check_replaceable, check_writable_folder
from . import add_mask_options, mask_options_from, tile_progress


def register(sub):
    p = sub.add_parser("predict", help="cloud masks for one or more MDGMs",
                       description="Writes DIR/<stem>_cloudmask.tif and DIR/<stem>_cloudmask.nc for each MDGM "
                                   "(plus <stem>_probability.tif with --probability).")
    p.add_argument("mdgm", nargs="+", type=Path, metavar="MDGM", help="MDGM JPEG(s), 3600 x 1801 RGB")
    p.add_argument("--out-dir", type=Path, default=Path("."), metavar="DIR", help="output folder (default: here)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace outputs that exist (never read-only ones); without it they are an error")
    add_mask_options(p)
    p.set_defaults(func=run)


def run(args):
    options = mask_options_from(args)
    check_writable_folder(args.out_dir)
    outcomes = []
    for source in args.mdgm:
        job = Job(source, output_paths(args.out_dir, source.stem, options.formats, options.probability))
        try:
            check_replaceable(job.outputs.values(), args.overwrite)
        except CloudmaskError as exc:
            outcomes.append(Outcome(source, "failed", str(exc)))
            print(f"mars-cloudmask: error: {exc}", file=sys.stderr)
            continue
        outcome = run_job(job, options, progress=tile_progress(source.name), overwrite=True)
        outcomes.append(outcome)
        if outcome.status == "done":
            print(f"{outcome.summary()} -> {', '.join(str(p) for p in job.outputs.values())}")
        else:
            print(f"mars-cloudmask: error: {outcome.message}", file=sys.stderr)
    if len(outcomes) > 1:
        print("\n".join(failures_report(outcomes)))
    return 1 if any(o.status == "failed" for o in outcomes) else 0
