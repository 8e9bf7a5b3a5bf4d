"""mars-cloudmask reference MDGM... | --root DIR --out FILE.tif : the clear-sky reference map of a set of sols."""
from pathlib import Path

from ..clearsky import build_clearsky
from ..options import DEFAULT_MIN_SOLS, DEFAULT_PERCENTILE
from ..errors import CloudmaskError
from . import tile_progress


def register(sub):
    p = sub.add_parser("reference", help="clear-sky reference map (per-pixel low percentile of blue/red and blue)",
                       description="Per pixel, over the given MDGMs where the pixel has data: a low percentile of "
                                   "blue/red and of blue (the surface as it looks without cloud), and the number of "
                                   "sols used; a GeoTIFF on the global grid whose tags name the sols, their Ls range "
                                   "and the statistic. The reference-aware model takes it (predict --reference). "
                                   "Use the sols of one season (a subphase); 8 or more make a clean reference.")
    p.add_argument("mdgm", nargs="*", type=Path, metavar="MDGM", help="MDGM JPEGs (each with its Pxx_ls.txt)")
    p.add_argument("--root", type=Path, metavar="DIR", help="every MDGM below this archive folder instead")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.tif", help="the reference GeoTIFF")
    p.add_argument("--percentile", type=float, default=DEFAULT_PERCENTILE,
                   help=f"the per-pixel statistic (default {DEFAULT_PERCENTILE:g}: low, so cloud rarely enters)")
    p.add_argument("--min-sols", type=int, default=DEFAULT_MIN_SOLS,
                   help=f"nodata where fewer sols have data (default {DEFAULT_MIN_SOLS})")
    p.add_argument("--overwrite", action="store_true", help="replace FILE.tif if it exists")
    p.set_defaults(func=run)


def run(args):
    if bool(args.mdgm) == bool(args.root):
        raise CloudmaskError(None, "give MDGM files or --root DIR (one of them)")
    if args.out.suffix.lower() not in (".tif", ".tiff"):
        raise CloudmaskError(args.out, "the reference is a GeoTIFF: use a .tif name")
    if args.out.exists() and not args.overwrite:
        raise CloudmaskError(args.out, "exists (use --overwrite to replace it)")
    if args.root and not args.root.is_dir():
        raise CloudmaskError(args.root, "archive folder not found")
    info = build_clearsky([args.root] if args.root else args.mdgm, args.out, args.percentile, args.min_sols, progress=tile_progress(args.out.name))
    print(f"{info.path}: {len(info.sols)} sols ({info.sols[0]} .. {info.sols[-1]}), Ls {info.ls_min:g}-{info.ls_max:g}, "
          f"percentile {info.percentile:g}, nodata below {info.min_sols} sols")
    return 0
