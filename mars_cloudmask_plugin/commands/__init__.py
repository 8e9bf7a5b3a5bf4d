"""CLI subcommands; the shared option groups, built from the one declaration in options.py."""
from ..options import MASK_OPTIONS, MODEL, MODEL_OPTIONS, mask_options, model_options


def _add(group, spec, help_text=None):
    text = help_text or spec.cli_help or spec.help
    if spec.kind == "flag":
        group.add_argument(spec.flag, action="store_true", help=text)
        return
    kwargs = {"dest": spec.dest, "metavar": spec.metavar, "help": text}
    if spec.kind == "number":
        kwargs["type"] = float
    if spec.kind == "choice":
        kwargs.update(choices=spec.choices, metavar=None)
    default = ",".join(spec.default) if spec.kind == "formats" else spec.default
    group.add_argument(spec.flag, default=default, **kwargs)


def add_mask_options(parser):
    """Options shared by `predict` and `batch`."""
    group = parser.add_argument_group("mask options")
    for spec in MASK_OPTIONS:
        _add(group, spec)


def add_model_options(group, model_help=None):
    """How a model predicts one MDGM: shared by `predict`, `batch`, `evaluate --model` and `seasons`."""
    for spec in MODEL_OPTIONS:
        _add(group, spec, model_help if spec is MODEL else None)


def model_options_from(args):
    """Checked {buffer, tiling, tile_size, threshold} from add_model_options' flags: the keyword
    arguments of pipeline.make_cloudmask (tile_size None = the whole area in one pass)."""
    return model_options(args.buffer, args.tiling, args.tile_size, args.threshold)


def mask_options_from(args):
    """Checked MaskOptions from add_mask_options' flags."""
    return mask_options(ls=args.ls, model=args.model, formats=args.formats, probability=args.probability,
                        reference=args.reference, buffer=args.buffer, tiling=args.tiling, tile_size=args.tile_size,
                        threshold=args.threshold)


def tile_progress(label):
    """A tqdm bar over one MDGM's tiles (off when stderr is not a terminal), as a progress callback."""
    from tqdm import tqdm
    bar = tqdm(total=100, desc=label, unit="%", leave=False, disable=None, bar_format="{desc} {bar} {percentage:3.0f}%")

    def progress(fraction):
        bar.update(round(100 * fraction) - bar.n)
        if fraction >= 1:
            bar.close()
    return progress
