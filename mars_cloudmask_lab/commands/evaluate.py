"""mars-cloudmask evaluate : score cloud masks (files, or a model run in memory) against reference masks."""
from pathlib import Path

from mars_cloudmask_plugin.commands import add_model_options, model_options_from
from mars_cloudmask_plugin.errors import CloudmaskError

from ..evaluate import SCORING
from . import add_clearsky_option, clearsky_from, print_report


def register(sub):
    p = sub.add_parser(
        "evaluate", help="score cloud masks against reference masks (accuracy, precision, recall, F1, IoU, coverage)",
        description=f"Scores each sol and all sols pooled on {SCORING}. Either give mask files (PRED: our GeoTIFF or "
                    "NetCDF masks, or any NetCDF in the reference layout such as the published model's masks), or "
                    "--model to predict the MDGMs of --mdgm-dir in memory. --baseline adds the naive blue/red "
                    "threshold (b/r > 0.8 inside the same polar bounds) for the same sols; on its own it scores "
                    "the baseline alone on the MDGMs of --mdgm-dir.",
        epilog="example: mars-cloudmask evaluate --model models/mars_cloudmask_unet.keras "
               "--reference ../shared/data/P01/cloudmask --days 15-18 --baseline")
    p.add_argument("predictions", nargs="*", type=Path, metavar="PRED",
                   help="mask files (.tif, .nc, .ncdf); the sol comes from their SOL tag or attribute, else their name")
    p.add_argument("--reference", type=Path, required=True, metavar="DIR",
                   help="folder of reference masks (cloudmask_P01day15.ncdf or cloudmask_P01_day15.ncdf)")
    p.add_argument("--mdgm-dir", type=Path, metavar="DIR",
                   help="folder of the sols' MDGMs (which pixels have data; Ls from its Pxx_ls.txt); "
                        "default: DIR/../mdgm, the archive layout of ../shared/data/P01")
    p.add_argument("--baseline", action="store_true", help="also score the blue/red threshold baseline")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write per-sol and pooled rows as CSV")
    p.add_argument("--json", type=Path, metavar="FILE", help="write per-sol and pooled figures as JSON")
    g = p.add_argument_group("predicting in memory", "--model predicts the MDGMs of --mdgm-dir instead of scoring "
                             "PRED files; --buffer also sets the baseline's polar bounds")
    add_model_options(g, model_help="a .keras model: predict the MDGMs of --mdgm-dir in memory and score them")
    g.add_argument("--days", metavar="SPEC", help="without PRED: only these days of --mdgm-dir, e.g. 15-18 or 1,3,5-7")
    add_clearsky_option(g)
    p.set_defaults(func=run)


def run(args):
    from mars_cloudmask_plugin.archive import select_mdgms

    from ..evaluate import default_mdgm_dir, evaluate_files, evaluate_mdgms
    if not args.reference.is_dir():
        raise CloudmaskError(args.reference, "reference folder not found")
    if args.predictions and (args.model or args.days):
        raise CloudmaskError(None, "give either PRED files, or --model/--days to predict the MDGMs in memory; not both")
    if not (args.predictions or args.model or args.baseline):
        raise CloudmaskError(None, "nothing to score: give PRED mask files, --model to predict the MDGMs, "
                                   "or --baseline for the blue/red baseline alone")
    if args.threshold is not None and not args.model:
        raise CloudmaskError(None, "--threshold goes with --model (PRED files are scored as they are)")
    options = model_options_from(args)
    context = {"reference": str(args.reference), "baseline": args.baseline, "buffer": args.buffer}
    if args.predictions:
        evaluation = evaluate_files(args.predictions, args.reference, args.mdgm_dir, args.baseline, args.buffer)
    else:
        from tqdm import tqdm
        paths = select_mdgms(args.mdgm_dir or default_mdgm_dir(args.reference), args.days)
        model = None
        if args.model:
            from mars_cloudmask_plugin.model import load_model
            model = load_model(args.model)
            context.update(options, model=model.label, model_file=str(args.model))
        context["clearsky"] = str(args.clearsky) if args.clearsky else None
        evaluation = evaluate_mdgms(tqdm(paths, unit="sol", disable=None), args.reference, model,
                                    args.baseline, clearsky_of=clearsky_from(args), **options)
    print_report(evaluation.table(), evaluation.rows(), evaluation.as_json(**context), args.csv, args.json)
