"""CLI subcommands; the shared option groups live here."""
from ..bounds import DEFAULT_BUFFER
from ..errors import CloudmaskError
from ..pipeline import FORMATS, MaskOptions
from ..tiling import MODES


def add_mask_options(parser):
    """Options shared by `predict` and `batch`."""
    g = parser.add_argument_group("mask options")
    g.add_argument("--ls", type=float, metavar="DEG",
                   help="solar longitude in degrees [0, 360]; default: the sol's line in the Pxx_ls.txt beside the MDGM")
    add_model_options(g)
    g.add_argument("--probability", action="store_true", help="also write <stem>_probability.tif (float32)")
    g.add_argument("--formats", default=",".join(FORMATS), metavar="LIST",
                   help="comma-separated mask formats among tif, nc (default tif,nc)")


def add_model_options(group, model_help="a .keras model file (default: the shipped model)"):
    """How a model predicts one MDGM: shared by `predict`, `batch`, `evaluate --model` and `seasons`."""
    group.add_argument("--buffer", type=float, default=DEFAULT_BUFFER, metavar="C",
                       help=f"degrees taken off each polar bound (default {DEFAULT_BUFFER:g})")
    group.add_argument("--tiling", choices=MODES, default="seamless",
                       help="seamless: one prediction per pixel on a 16-px-aligned grid (default); "
                            "blend: the paper's 50%% overlap with spline weights")
    group.add_argument("--tile-size", default="auto", metavar="PX",
                       help="U-Net input tile side, 16k+124 (e.g. 668); 'auto' (default) = measured fastest within "
                            "~1.5 GB: full-height strips in seamless mode (the whole area when it fits), the "
                            "model's tile in blend mode; 'model' = the model's tile; 'whole' = the whole "
                            "prediction area in one pass (seamless only)")
    group.add_argument("--model", metavar="PATH", help=model_help)
    group.add_argument("--threshold", type=float, metavar="T", help="cloud if probability >= T (default: the model's)")


def model_options(args):
    """Checked values of add_model_options' flags: {buffer, tiling, tile_size, threshold}, as the
    keyword arguments of pipeline.make_cloudmask (tile_size None = the whole area in one pass)."""
    tile = parse_tile_size(args.tile_size)
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise CloudmaskError(None, f"--threshold {args.threshold:g}: must be between 0 and 1")
    return {"buffer": args.buffer, "tiling": args.tiling, "tile_size": tile,
            "threshold": args.threshold}


def parse_tile_size(text, flag="--tile-size"):
    """'auto', 'model', None for 'whole', or a number of pixels."""
    if text in ("auto", "model"):
        return text
    if text == "whole":
        return None
    try:
        return int(text)
    except ValueError:
        raise CloudmaskError(None, f"{flag} {text!r}: a number of pixels, 'auto', 'model' or 'whole'") from None


def mask_options(args):
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not (formats or args.probability):
        raise CloudmaskError(None, f"--formats {args.formats!r}: choose among {', '.join(FORMATS)}")
    model = model_options(args)
    if args.ls is not None:
        from ..bounds import check_ls
        check_ls(args.ls)
    return MaskOptions(ls=args.ls, model_path=args.model, formats=formats, probability=args.probability, **model)


def tile_progress(label):
    """A tqdm bar over one MDGM's tiles (off when stderr is not a terminal), as a progress callback."""
    from tqdm import tqdm
    bar = tqdm(total=100, desc=label, unit="%", leave=False, disable=None, bar_format="{desc} {bar} {percentage:3.0f}%")

    def progress(fraction):
        bar.update(round(100 * fraction) - bar.n)
        if fraction >= 1:
            bar.close()
    return progress


def print_report(table, rows, data, csv_path=None, json_path=None):
    """Print a markdown table on stdout (so it pastes as it is); write its rows as CSV and `data` as
    JSON where asked, saying so on stderr."""
    import sys
    from ..report import write_csv, write_json
    print(table)
    if csv_path:
        print(f"wrote {write_csv(csv_path, rows)}", file=sys.stderr)
    if json_path:
        print(f"wrote {write_json(json_path, data)}", file=sys.stderr)
