"""mars-cloudmask batch ROOT --out-dir DIR : every MDGM of an archive folder."""
from pathlib import Path

from ..batch import failures_report, plan_jobs, run_job
from ..writers import check_writable_folder
from . import add_mask_options, mask_options


def register(sub):
    p = sub.add_parser("batch", help="cloud masks for every MDGM below an archive folder",
                       description="Walks ROOT (phase/subphase folders holding Pxx_dayNN_zequat.jpg and Pxx_ls.txt), "
                                   "mirrors its layout under DIR, skips sols whose outputs exist, goes on past bad "
                                   "files and lists them at the end (exit 1 if any failed).")
    p.add_argument("root", type=Path, metavar="ROOT", help="archive folder")
    p.add_argument("--out-dir", type=Path, required=True, metavar="DIR", help="output folder (mirrors ROOT)")
    p.add_argument("--overwrite", action="store_true", help="remake sols whose outputs exist")
    add_mask_options(p)
    p.set_defaults(func=run)


def run(args):
    from tqdm import tqdm
    options = mask_options(args)
    check_writable_folder(args.out_dir)
    jobs = plan_jobs(args.root, args.out_dir, options.formats, options.probability)
    if not jobs:
        print(f"no MDGMs (*_zequat.jpg) found below {args.root}")
        return 1
    outcomes = []
    with tqdm(jobs, unit="sol", disable=None) as bar:
        for job in bar:
            bar.set_description(job.source.name)
            outcome = run_job(job, options, overwrite=args.overwrite)
            outcomes.append(outcome)
            bar.write(outcome.summary())
    for line in failures_report(outcomes):
        print(line)
    return 1 if any(o.status == "failed" for o in outcomes) else 0
