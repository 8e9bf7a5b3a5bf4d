"""Cloud cover in polygons: each polygon of a layer (MDAD storm boxes, or any) scored against a cloud
mask, areas on the Mars sphere: cloud_fraction (of the valid area), valid_fraction (of the polygon),
cloud_km2, valid_km2. Pixels count when their centre lies inside the polygon.

Which mask: when the layer has a sol (`sol_name` like P01_day10, or `subphase` + `sol` day number),
each polygon is scored against the mask of its own sol; with Mars year + Ls fields (MDAD v1.0:
`Mars Year`, `Ls`), against the mask of that Mars year with the nearest Ls within a tolerance; else
every polygon against the one mask given. Polygons without a matching mask keep empty fields.
"""
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grid
from .archive import sol_in_name
from .errors import Cancelled, CloudmaskError
from .geopackage import atomic_geopackage, gdal_errors, mars_srs, name_mars_authority, verify_geopackage
from .masks import select_masks
from .raster import read_mask
from .sphere import row_pixel_areas_km2
from .writers import check_writable_folder

DEFAULT_LS_TOLERANCE = 1.0
COVER_FIELDS = ("mask_sol", "cloud_fraction", "valid_fraction", "cloud_km2", "valid_km2")


def _to_mars_geographic(layer, path):
    """A transform from the layer's CRS to IAU_2015:49900 (None when it is already there); a layer
    without a CRS is taken as Mars lon/lat; one on another body is refused."""
    from osgeo import osr
    source = layer.GetSpatialRef()
    if source is None:
        return None
    axis = source.GetSemiMajor()
    if abs(axis - grid.MARS_RADIUS_M) > 1000:
        raise CloudmaskError(path, f"is in a CRS on a body of radius {axis:.0f} m, not Mars "
                                   f"({grid.MARS_RADIUS_M:.0f} m): reproject it to {grid.CRS_AUTHID}")
    target = mars_srs()
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    if source.IsSame(target):
        return None
    return osr.CoordinateTransformation(source, target)


class _Masks:
    """The masks polygons are scored against, read on demand and a few kept (MDAD boxes of one sol
    come together)."""

    def __init__(self, infos, keep=4):
        self.by_sol = {m.sol: m for m in infos}
        self.by_year = {}
        for m in infos:
            if m.ls is not None:
                self.by_year.setdefault(m.mars_year, []).append(m)
        self.cache, self.keep = OrderedDict(), keep

    def nearest(self, year, ls, tolerance):
        candidates = [m for m in self.by_year.get(year, []) if abs(m.ls - ls) <= tolerance]
        return min(candidates, key=lambda m: abs(m.ls - ls)) if candidates else None

    def array(self, info):
        if info.path not in self.cache:
            self.cache[info.path] = read_mask(info.path).mask
            while len(self.cache) > self.keep:
                self.cache.popitem(last=False)
        return self.cache[info.path]


def _field_lookup(defn):
    """Lower-case, space-free field name -> index."""
    return {defn.GetFieldDefn(i).GetName().lower().replace(" ", "_"): i for i in range(defn.GetFieldCount())}


def _matcher(defn, masks, single, tolerance):
    """A function feature -> MaskInfo (or None), by the layer's fields (see the module doc)."""
    fields = _field_lookup(defn)
    if "sol_name" in fields:
        return "sol_name", lambda f: masks.by_sol.get(sol_in_name(f.GetField(fields["sol_name"]) or "") or "")
    if "subphase" in fields and "sol" in fields:
        def by_day(f):
            subphase, day = f.GetField(fields["subphase"]), f.GetField(fields["sol"])
            if subphase is None or day is None:
                return None
            return masks.by_sol.get(f"{str(subphase).strip().upper()}_day{int(float(day)):02d}")
        return "subphase and sol", by_day
    if "mars_year" in fields and "ls" in fields:
        def by_season(f):
            year, ls = f.GetField(fields["mars_year"]), f.GetField(fields["ls"])
            if year is None or ls is None:
                return None
            return masks.nearest(int(float(year)), float(ls), tolerance)
        return f"Mars year and nearest Ls within {tolerance:g} deg", by_season
    if single is None:
        raise CloudmaskError(None, "the layer names no sol (fields sol_name, subphase + sol, or Mars year + Ls): "
                                   "give exactly one mask to score every polygon against")
    return "the one mask given", lambda f: single


def _pixel_window(envelope, shift=0.0):
    """(row0, row1, col0, col1) of the grid pixels whose centres, moved by `shift` degrees of
    longitude, may fall in a lon/lat envelope (west, east, south, north)."""
    west, east, south, north = envelope
    west, east = west - shift, east - shift
    col0 = max(0, int(np.floor((west + 180.0) / grid.PIXEL_DEG)))
    col1 = min(grid.WIDTH, int(np.ceil((east + 180.0) / grid.PIXEL_DEG)) + 1)
    row0 = max(0, int(np.floor((90.0 - north) / grid.PIXEL_DEG)))
    row1 = min(grid.HEIGHT, int(np.ceil((90.0 - south) / grid.PIXEL_DEG)) + 1)
    return row0, row1, col0, col1


def _inside(geometry, shift=0.0):
    """(row0, col0, bool array) of the pixels whose centres, at longitude + `shift`, lie inside
    `geometry` (Mars lon/lat). Shifts of -360 and +360 find polygons given in 0..360 east or
    reaching across the antimeridian."""
    from osgeo import gdal, ogr
    row0, row1, col0, col1 = _pixel_window(geometry.GetEnvelope(), shift)
    if row1 <= row0 or col1 <= col0:
        return row0, col0, np.zeros((0, 0), bool)
    target = gdal.GetDriverByName("MEM").Create("", col1 - col0, row1 - row0, 1, gdal.GDT_Byte)
    gt = grid.geotransform()
    target.SetGeoTransform((gt[0] + col0 * gt[1] + shift, gt[1], 0.0, gt[3] + row0 * gt[5], 0.0, gt[5]))
    source = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = source.CreateLayer("one", mars_srs(), ogr.wkbMultiPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(geometry)
    layer.CreateFeature(feature)
    gdal.RasterizeLayer(target, [1], layer, burn_values=[1])
    return row0, col0, target.ReadAsArray().astype(bool)


def cover(mask, geometry, areas):
    """(cloud km^2, valid km^2, polygon km^2 by pixel centres) of one polygon on one mask."""
    cloud = valid = total = 0.0
    for shift in (-360.0, 0.0, 360.0):
        row0, col0, inside = _inside(geometry, shift)
        if inside.size == 0 or not inside.any():
            continue
        window = mask[row0:row0 + inside.shape[0], col0:col0 + inside.shape[1]]
        row_areas = areas[row0:row0 + inside.shape[0]][:, None]
        total += float((inside * row_areas).sum())
        valid += float((((window != grid.NODATA) & inside) * row_areas).sum())
        cloud += float((((window == 1) & inside) * row_areas).sum())
    return cloud, valid, total


@dataclass(frozen=True)
class PolygonsResult:
    output: Path
    features: int
    matched: int
    matching: str


def cloud_in_polygons(layer_path, mask_inputs, output, ls_tolerance=DEFAULT_LS_TOLERANCE, layer_name=None,
                      progress=None, cancel=None):
    """The polygon layer at `layer_path` with the cover fields added, written as a GeoPackage."""
    from osgeo import gdal, ogr
    layer_path, output = Path(layer_path), Path(output)
    if output.suffix.lower() != ".gpkg":
        raise CloudmaskError(output, "the output layer is a GeoPackage: use a .gpkg name")
    check_writable_folder(output.parent)
    with gdal_errors(layer_path, "cannot be read as a vector layer"):
        source = ogr.Open(str(layer_path))
    if source is None:
        raise CloudmaskError(layer_path, "cannot be read as a vector layer")
    layer = source.GetLayerByName(layer_name) if layer_name else source.GetLayer(0)
    if layer is None:
        raise CloudmaskError(layer_path, f"has no layer {layer_name!r}")
    if ogr.GT_Flatten(layer.GetGeomType()) not in (ogr.wkbPolygon, ogr.wkbMultiPolygon, ogr.wkbUnknown):
        raise CloudmaskError(layer_path, "is not a polygon layer")
    infos = select_masks(mask_inputs)
    masks = _Masks(infos)
    matching, match = _matcher(layer.GetLayerDefn(), masks, infos[0] if len(infos) == 1 else None, ls_tolerance)
    transform = _to_mars_geographic(layer, layer_path)
    areas = row_pixel_areas_km2()
    total, matched = layer.GetFeatureCount(), 0
    with atomic_geopackage(output) as tmp, gdal_errors(output):
        target = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp))
        if target is None:
            raise CloudmaskError(output, f"GeoPackage cannot be created ({gdal.GetLastErrorMsg()})")
        out = target.CreateLayer(layer.GetName() or "polygons", layer.GetSpatialRef(), layer.GetGeomType())
        defn = layer.GetLayerDefn()
        for i in range(defn.GetFieldCount()):
            out.CreateField(defn.GetFieldDefn(i))
        out.CreateField(ogr.FieldDefn("mask_sol", ogr.OFTString))
        for name in COVER_FIELDS[1:]:
            out.CreateField(ogr.FieldDefn(name, ogr.OFTReal))
        out.StartTransaction()
        for n, feature in enumerate(layer):
            if cancel is not None and cancel():
                raise Cancelled()
            result = ogr.Feature(out.GetLayerDefn())
            result.SetFrom(feature)
            info, geometry = match(feature), feature.GetGeometryRef()
            if info is not None and geometry is not None:
                mars = geometry.Clone()
                if transform is not None:
                    mars.Transform(transform)
                cloud, valid, area = cover(masks.array(info), mars, areas)
                result.SetField("mask_sol", info.sol)
                result.SetField("cloud_km2", cloud)
                result.SetField("valid_km2", valid)
                if area:
                    result.SetField("valid_fraction", valid / area)
                if valid:
                    result.SetField("cloud_fraction", cloud / valid)
                matched += 1
            if out.CreateFeature(result) != 0:
                raise CloudmaskError(output, f"feature {n + 1} cannot be written ({gdal.GetLastErrorMsg()})")
            if progress is not None and total:
                progress((n + 1) / total)
        out.CommitTransaction()
        name_mars_authority(target)
        target = None  # noqa: F841  closes (and completes) the GeoPackage before the rename
        verify_geopackage(tmp, total, output)
    return PolygonsResult(output, total, matched, matching)
