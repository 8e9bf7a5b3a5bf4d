"""mars-cloudmask train : train (or resume) a U-Net from MDGMs and reference masks."""
import json
import shutil
from dataclasses import asdict, fields
from pathlib import Path

from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.archive import day_names

from ..train import TrainConfig, train


def register(sub):
    p = sub.add_parser("train", help="train or resume a U-Net on MDGMs + reference masks",
                       description="Reproducible training: the config (seed included) is saved in the run folder "
                                   "with a per-epoch log of loss and validation metrics; --resume continues from "
                                   "the last epoch's checkpoint.")
    p.add_argument("--config", type=Path, help="JSON config (e.g. mars_cloudmask_lab/recipes/unet_w16.json); flags override it")
    p.add_argument("--run-dir", type=Path, required=True, help="folder for config.json, log.csv and checkpoints")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --run-dir from its last checkpoint (with --config: that recipe, e.g. one "
                        "that gained a stage; finished stages are kept)")
    p.add_argument("--export", type=Path, metavar="PATH", help="copy the final model here (e.g. models/...keras)")
    p.add_argument("--mdgm-dir", help="folder of Pxx_dayNN_zequat.jpg and Pxx_ls.txt")
    p.add_argument("--reference-dir", help="folder of cloudmask_PxxdayNN.ncdf reference masks")
    p.add_argument("--prefix", default="P01", help="subphase of the day numbers below (default P01)")
    p.add_argument("--train-days", help="training days, e.g. 01-14")
    p.add_argument("--val-days", help="validation days, e.g. 15-18 (never trained on); '' for none (the final "
                                      "run on every labelled day)")
    for name in ("width", "patch", "batch", "steps_per_epoch", "epochs", "seed"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--loss", choices=("bce", "dice", "bce+dice"))
    p.add_argument("--version", dest="model_version", help="version string stored in the model file")
    p.add_argument("--name", dest="model_name", help="model name stored in the model file")
    p.set_defaults(func=run)


def read_recipe(path):
    """A recipe's settings: its JSON, on top of the file its "extends" names (relative to it), if any,
    with its "more_stages" after the stages it inherits.
    Relative data folders are kept as written (they are relative to where train runs)."""
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CloudmaskError(path, f"recipe cannot be read ({exc})") from None
    base = values.pop("extends", None)
    inherited = read_recipe(path.parent / base) if base else {}
    # "more_stages": stages run after the inherited ones (a model built on another's stages)
    more = values.pop("more_stages", [])
    if more:
        values["stages"] = list(values.get("stages", inherited.get("stages", []))) + list(more)
    # "members": an ensemble; each member is the recipe it names (relative to this file) with its overrides
    if "members" in values:
        values["members"] = [_member_settings(path, member) for member in values["members"]]
    return {**inherited, **values}


def _member_settings(ensemble_path, member):
    if not isinstance(member, dict) or "recipe" not in member:
        raise CloudmaskError(ensemble_path, f"an ensemble member must name its recipe ({{\"recipe\": FILE, ...}}), "
                                            f"not {member!r}")
    overrides = {k: v for k, v in member.items() if k != "recipe"}
    settings = {**read_recipe(ensemble_path.parent / member["recipe"]), **overrides}
    settings.pop("members", None)
    return settings


def config_from_args(args):
    values = read_recipe(args.config) if args.config else {}
    for key in ("mdgm_dir", "reference_dir", "width", "patch", "batch", "steps_per_epoch", "epochs", "seed",
                "learning_rate", "loss"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    if args.train_days:
        values["train_days"] = day_names(args.prefix, args.train_days)
    if args.val_days is not None:
        values["val_days"] = day_names(args.prefix, args.val_days) if args.val_days else []
    if args.model_version:
        values["version"] = args.model_version
    if args.model_name:
        values["name"] = args.model_name
    values.setdefault("val_days", [])
    missing = [f.name for f in fields(TrainConfig) if f.name in ("mdgm_dir", "reference_dir", "train_days")
               and f.name not in values]
    if missing:
        raise CloudmaskError(args.config, f"training needs {', '.join(missing)} (flags or --config)")
    return TrainConfig(**values)


def run(args):
    if args.resume and (args.run_dir / "config.json").exists() and not args.config:
        config = TrainConfig(**json.loads((args.run_dir / "config.json").read_text()))
    else:
        # --resume with --config: the recipe as it is now (a staged recipe that gained a stage goes on
        # from its finished stages, which are kept)
        config = config_from_args(args)
    print(json.dumps(asdict(config)))
    final = train(config, args.run_dir, resume=args.resume)
    if args.export:
        args.export.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, args.export)
        print(f"exported {args.export}")
