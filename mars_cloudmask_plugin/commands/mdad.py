"""mars-cloudmask mdad-boxes TABLE.csv --out FILE.gpkg / mdad-mask FILE.nc --sol SOL --out FILE.tif:
the Mars Dust Activity Database (Battalio and Wang 2021) beside the cloud masks."""
from pathlib import Path

from .. import mdad


def register(sub):
    p = sub.add_parser("mdad-boxes", help="MDAD storm table -> GeoPackage of storm boxes",
                       description="One box per storm instance of an MDAD v1.0 table or v1.1 master CSV, centred on "
                                   "its centroid with its stated area on the Mars sphere, in a GeoPackage layer "
                                   "(IAU_2015:49900) keeping every column of the table.")
    p.add_argument("table", type=Path, metavar="TABLE.csv", help="MDAD v1.0 table or v1.1 master CSV")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.gpkg", help="GeoPackage to write")
    p.add_argument("--min-confidence", type=float, default=None, metavar="N",
                   help="keep only storms with confidence_flag >= N (MDAD v1.1 tables only)")
    p.set_defaults(func=run_boxes)

    p = sub.add_parser("mdad-mask", help="MDAD v1.1 dust mask of one MDGM -> GeoTIFF on the global grid",
                       description="The dust mask of one MDGM from an MDAD v1.1 NetCDF as a uint8 GeoTIFF on the "
                                   "global grid (IAU_2015:49900), pixel for pixel on the cloud mask of the same "
                                   f"MDGM: {mdad.MASK_VALUES}.")
    p.add_argument("netcdf", type=Path, metavar="FILE.nc", help="MDAD v1.1 dust mask NetCDF")
    p.add_argument("--sol", required=True, metavar="SOL", help="the MDGM, e.g. P01_day05")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.tif", help="GeoTIFF to write")
    p.set_defaults(func=run_mask)


def run_boxes(args):
    result = mdad.mdad_boxes(args.table, args.out, args.min_confidence)
    kept = f" of {result.total}" if result.count != result.total else ""
    clipped = f", {result.clipped} clipped at a pole" if result.clipped else ""
    clipped += f", {result.smaller} smaller than stated (a full circle of longitude)" if result.smaller else ""
    print(f"{args.table.name}: {result.count}{kept} {result.layout} storm boxes{clipped} -> {result.output}")
    return 0


def run_mask(args):
    result = mdad.mdad_mask(args.netcdf, args.sol, args.out)
    print(f"{result.sol}: dust {100 * result.dust_fraction:.2f}% of observed pixels, missing "
          f"{100 * result.missing_fraction:.1f}% of the globe -> {result.output}")
    return 0
