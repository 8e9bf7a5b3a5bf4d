"""Writing GeoPackage layers on Mars with GDAL/OGR: atomically (a file under its final name is
always complete), in IAU_2015:49900 under a name QGIS recognises, GDAL errors as one-line errors."""
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from . import grid
from .errors import CloudmaskError
from .writers import check_writable_folder, write_error


@contextlib.contextmanager
def atomic_geopackage(path):
    """Yield a temporary path (same name, in a hidden folder beside `path`: the GeoPackage driver
    wants its .gpkg extension); move it to `path` only if the block succeeds."""
    path = Path(path)
    check_writable_folder(path.parent)
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        tmp = folder / path.name
        yield tmp
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise write_error(path, exc) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def verify_geopackage(tmp, features, final):
    """Reopen the written GeoPackage: it must hold one layer with `features` features (a full disk
    can leave a file GDAL only complained about)."""
    from osgeo import ogr
    with gdal_errors(final, "written GeoPackage does not read back"):
        ds = ogr.Open(str(tmp))
        count = ds.GetLayer(0).GetFeatureCount() if ds is not None and ds.GetLayerCount() else -1
        ds = None  # noqa: F841
    if count != features:
        raise CloudmaskError(final, f"written GeoPackage does not read back ({count} of {features} features); "
                                    "nothing kept")


def mars_srs():
    """The OGR spatial reference of IAU_2015:49900, coordinates in longitude, latitude order."""
    from osgeo import osr
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.mars_crs_wkt())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def name_mars_authority(ds):
    """GDAL 3.6 writes the GeoPackage's CRS definition as WKT1, whose AUTHORITY["IAU","49900"] drops
    the 2015 of IAU_2015:49900, so readers (QGIS) find no such CRS and show a custom one. Name it
    IAU_2015 as the table's `organization` column already does (a no-op where GDAL wrote it so)."""
    ds.ExecuteSQL("UPDATE gpkg_spatial_ref_sys SET definition = replace(definition, "
                  "'AUTHORITY[\"IAU\",\"49900\"]', 'AUTHORITY[\"IAU_2015\",\"49900\"]') "
                  "WHERE organization = 'IAU_2015' AND organization_coordsys_id = 49900")


@contextlib.contextmanager
def gdal_errors(path, what="GeoPackage cannot be written"):
    """GDAL's errors stay quiet inside the block; one raised as an exception (a host such as QGIS may
    have set gdal.UseExceptions) becomes a one-line CloudmaskError naming `path`."""
    from osgeo import gdal
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        yield
    except RuntimeError as exc:
        raise CloudmaskError(path, f"{what} ({exc})") from None
    finally:
        gdal.PopErrorHandler()
