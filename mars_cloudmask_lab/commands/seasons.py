"""mars-cloudmask seasons YEAR_DIR : a model over a Mars year, compared with the published model's masks."""
import sys
from pathlib import Path

from mars_cloudmask_plugin.commands import add_model_options, model_options_from
from mars_cloudmask_plugin.errors import CloudmaskError

from . import add_clearsky_option, clearsky_from, print_report


def register(sub):
    p = sub.add_parser(
        "seasons", help="run a model on every MDGM of a season sample; cloud/valid fraction and agreement per subphase",
        description="Predicts every MDGM below YEAR_DIR (Pxx/Pxx_dayNN_zequat.jpg with Pxx_ls.txt) in memory and "
                    "reports per sol and per subphase: Ls, cloud fraction, valid fraction, and agreement (IoU, F1, "
                    "coverage) with the published model's masks in Pxx/paper_masks/. Those masks are another "
                    "model's output, not truth.")
    p.add_argument("root", type=Path, metavar="YEAR_DIR", help="season sample, e.g. ../shared/data/year")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write per-sol and per-subphase rows as CSV")
    p.add_argument("--json", type=Path, metavar="FILE", help="write per-sol and per-subphase figures as JSON")
    p.add_argument("--out-dir", type=Path, metavar="DIR", help="also write each sol's masks (tif, nc), mirroring YEAR_DIR")
    p.add_argument("--paper-dir", default="paper_masks", metavar="NAME",
                   help="folder beside each subphase's MDGMs holding the published masks (default paper_masks)")
    group = p.add_argument_group("model options")
    add_model_options(group)
    add_clearsky_option(group)
    p.set_defaults(func=run)


def run(args):
    from tqdm import tqdm
    from mars_cloudmask_plugin.archive import find_mdgms
    from mars_cloudmask_plugin.batch import plan_jobs
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.options import FORMATS
    from mars_cloudmask_plugin.pipeline import write_products
    from ..seasons import season_sol, seasons_report
    options = model_options_from(args)
    sources = find_mdgms(args.root)
    if not sources:
        raise CloudmaskError(args.root, "no MDGMs (*_zequat.jpg) below this folder")
    outputs = {job.source: job.outputs for job in plan_jobs(args.root, args.out_dir, FORMATS)} if args.out_dir else {}
    model = load_model(args.model)
    clearsky_of = clearsky_from(args)
    sols, failed = [], []
    with tqdm(sources, unit="sol", disable=None) as bar:
        for source in bar:
            bar.set_description(source.name)
            try:
                sol, result = season_sol(source, model, args.paper_dir, clearsky=clearsky_of(source), **options)
                if source in outputs:
                    write_products(result, outputs[source])
            except CloudmaskError as exc:
                failed.append(str(exc))
                bar.write(f"FAILED {exc}", file=sys.stderr)
                continue
            sols.append(sol)
    if not sols:
        raise CloudmaskError(args.root, "no sol could be predicted")
    print_report(*seasons_report(sols, model.label), args.csv, args.json)
    for message in failed:
        print(f"FAILED {message}", file=sys.stderr)
    return 1 if failed else 0
