"""The analyses of masks: `frequency`, `zonal`, `series` and `cloud-in-polygons`."""
from pathlib import Path

from ..climatology import DEFAULT_LAT_BIN, DEFAULT_LS_BIN
from ..polygons import DEFAULT_LS_TOLERANCE
from ..series import DEFAULT_BAND


def _add_mask_selection(p):
    p.add_argument("masks", nargs="*", type=Path, metavar="MASK",
                   help="cloud masks (.tif, .nc, .ncdf) or folders holding them (searched recursively)")
    p.add_argument("--root", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder of masks, e.g. a batch output (may be repeated)")
    g = p.add_argument_group("which masks", "filters read from each mask's own tags (LS, MARS_YEAR, SOL), else "
                             "from the archive's Pxx_ls.txt beside it or one folder up")
    g.add_argument("--mars-year", type=int, action="append", metavar="MY", help="only this Mars year (repeatable)")
    g.add_argument("--ls-range", metavar="LOW-HIGH", help="only sols with Ls in this range, e.g. 90-180 or 350-10")
    g.add_argument("--subphase", action="append", metavar="Pxx", help="only this subphase (repeatable)")


def _selection(args):
    return {"mars_years": args.mars_year, "ls_range": args.ls_range, "subphases": args.subphase}


def _inputs(args):
    return list(args.masks) + list(args.root)


def register(sub):
    p = sub.add_parser("frequency", help="cloud frequency map of a set of masks (cloud sols / valid sols)",
                       description="Per pixel: cloud sols / valid sols over the masks (invalid pixels ignored) -> "
                                   "a 3-band GeoTIFF (cloud frequency, valid sols, cloud sols) on the global grid, "
                                   "or NetCDF with --out FILE.nc; --group-by writes one map per group.")
    _add_mask_selection(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="output .tif or .nc")
    p.add_argument("--group-by", default="none", metavar="GROUP",
                   help="none (default), subphase, or ls:WIDTH (Ls bins of WIDTH degrees): one map per group, "
                        "named FILE_<group>.tif")
    p.add_argument("--min-valid", type=int, default=1, metavar="N",
                   help="nodata where fewer than N sols are valid (default 1)")
    p.add_argument("--figures", action="store_true", help="also draw each map as a PNG beside it")
    p.set_defaults(func=run_frequency)

    p = sub.add_parser("zonal", help="latitude x Ls diagram of zonal-mean cloud frequency",
                       description="Cloud share of valid pixels per latitude bin and Ls bin, pooled over the sols "
                                   "of each bin, area-weighted on the Mars sphere; Ls runs on across Mars years.")
    _add_mask_selection(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE.nc", help="CF NetCDF output")
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write the cells as CSV")
    p.add_argument("--figure", type=Path, metavar="FILE.png", help="also draw the diagram")
    p.add_argument("--lat-bin", type=float, default=DEFAULT_LAT_BIN, metavar="DEG",
                   help=f"latitude bin (default {DEFAULT_LAT_BIN:g})")
    p.add_argument("--ls-bin", type=float, default=DEFAULT_LS_BIN, metavar="DEG", help=f"Ls bin (default {DEFAULT_LS_BIN:g})")
    p.add_argument("--lon-window", metavar="WEST,EAST", help="only these longitudes, e.g. --lon-window=-135,-90 (Tharsis; the = keeps a leading minus a value)")
    p.set_defaults(func=run_zonal)

    p = sub.add_parser("series", help="cloud area per sol in latitude bands and/or a box (CSV, plot)",
                       description="Per sol and region: cloud and valid area (km^2 on the Mars sphere), cloud "
                                   "fraction of the valid area, valid fraction of the region.")
    _add_mask_selection(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="CSV output")
    p.add_argument("--figure", type=Path, metavar="FILE.png", help="also plot cloud fraction against Ls")
    p.add_argument("--band", type=float, default=DEFAULT_BAND, metavar="DEG",
                   help=f"latitude band width (default {DEFAULT_BAND:g})")
    p.add_argument("--box", metavar="W,E,S,N", help="also (or, with --no-bands, only) this lon/lat box, e.g. --box=-135,-90,-10,30")
    p.add_argument("--no-bands", action="store_true", help="no latitude bands (the box only)")
    p.set_defaults(func=run_series)

    p = sub.add_parser("cloud-in-polygons", help="cloud cover inside each polygon of a layer (e.g. MDAD boxes)",
                       description="Adds mask_sol, cloud_fraction, valid_fraction, cloud_km2, valid_km2 to every "
                                   "polygon: scored against the mask of its own sol (fields sol_name, subphase + "
                                   "sol, or Mars year + Ls) or against the one mask given.")
    p.add_argument("layer", type=Path, metavar="LAYER", help="polygon layer (GeoPackage, shapefile ...)")
    _add_mask_selection(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE.gpkg", help="GeoPackage output")
    p.add_argument("--ls-tolerance", type=float, default=DEFAULT_LS_TOLERANCE, metavar="DEG",
                   help=f"Mars year + Ls matching: nearest mask within this many degrees (default {DEFAULT_LS_TOLERANCE:g})")
    p.set_defaults(func=run_polygons)


def run_frequency(args):
    from ..frequency import cloud_frequency
    for out in cloud_frequency(_inputs(args), args.out, args.group_by, args.min_valid, figures=args.figures,
                               **_selection(args)):
        print(f"{out.path}: cloud frequency of {out.sols} sols" + (f" ({out.group})" if out.group else ""))
    return 0


def run_zonal(args):
    from ..climatology import zonal_products
    result = zonal_products(_inputs(args), args.out, args.csv, args.figure, None, args.lat_bin, args.ls_bin,
                            args.lon_window, **_selection(args))
    clim = result.climatology
    written = ", ".join(str(p) for p in (result.netcdf, result.csv, result.figure) if p)
    print(f"latitude x Ls of {clim.n_sols} sols (Mars years {', '.join(map(str, clim.mars_years))}) -> {written}")
    return 0


def run_series(args):
    from ..series import series_products
    result = series_products(_inputs(args), args.out, args.figure, args.band, args.box, not args.no_bands,
                             **_selection(args))
    sols = len({r["sol"] for r in result.rows})
    print(f"{sols} sols, {len(result.rows)} rows -> {result.csv}" + (f", {result.figure}" if result.figure else ""))
    return 0


def run_polygons(args):
    from ..polygons import cloud_in_polygons
    result = cloud_in_polygons(args.layer, _inputs(args), args.out, args.ls_tolerance)
    print(f"{result.matched} of {result.features} polygons scored (by {result.matching}) -> {result.output}")
    return 0
