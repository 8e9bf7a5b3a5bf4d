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
    g.add_argument("--buffer", type=float, default=DEFAULT_BUFFER, metavar="C",
                   help=f"degrees taken off each polar bound (default {DEFAULT_BUFFER:g})")
    g.add_argument("--tiling", choices=MODES, default="seamless",
                   help="seamless: one prediction per pixel on a 16-px-aligned grid (default); "
                        "blend: the paper's 50%% overlap with spline weights")
    g.add_argument("--tile-size", default="model", metavar="PX",
                   help="U-Net input tile side, 16k+124 (e.g. 668); 'model' = the model's default; "
                        "'whole' = the whole prediction area in one pass (seamless only)")
    g.add_argument("--model", metavar="PATH", help="a .keras model file (default: the shipped model)")
    g.add_argument("--threshold", type=float, metavar="T", help="cloud if probability >= T (default: the model's)")
    g.add_argument("--probability", action="store_true", help="also write <stem>_probability.tif (float32)")
    g.add_argument("--formats", default=",".join(FORMATS), metavar="LIST",
                   help="comma-separated mask formats among tif, nc (default tif,nc)")


def mask_options(args):
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not (formats or args.probability):
        raise CloudmaskError(None, f"--formats {args.formats!r}: choose among {', '.join(FORMATS)}")
    tile = args.tile_size
    if tile not in ("model", "whole"):
        try:
            tile = int(tile)
        except ValueError:
            raise CloudmaskError(None, f"--tile-size {tile!r}: a number of pixels, 'model' or 'whole'") from None
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise CloudmaskError(None, f"--threshold {args.threshold:g}: must be between 0 and 1")
    if args.ls is not None:
        from ..bounds import check_ls
        check_ls(args.ls)
    return MaskOptions(ls=args.ls, buffer=args.buffer, tiling=args.tiling,
                       tile_size=None if tile == "whole" else tile, threshold=args.threshold,
                       model_path=args.model, formats=formats, probability=args.probability)


def tile_progress(label):
    """A tqdm bar over one MDGM's tiles (off when stderr is not a terminal), as a progress callback."""
    from tqdm import tqdm
    bar = tqdm(total=100, desc=label, unit="%", leave=False, disable=None, bar_format="{desc} {bar} {percentage:3.0f}%")

    def progress(fraction):
        bar.update(round(100 * fraction) - bar.n)
        if fraction >= 1:
            bar.close()
    return progress
