"""The Mars Dust Activity Database (MDAD; Battalio and Wang 2021, Icarus) beside our cloud masks:
its storm tables as boxes in a GeoPackage, its v1.1 dust masks as GeoTIFFs on the global grid,
both in IAU_2015:49900.

Tables (CSV, UTF-8, a BOM and whitespace around the names tolerated; the layout is told from the
header):

- MDAD v1.0: one storm instance a line with `Mars Year`, `Ls`, `Centroid latitude`, `Centroid
  longitude` (degrees east, 0..360 or -180..180) and `Area (square km)` (required, numeric), and
  usually `Sequence ID`, `Sol` and more, all kept.
- MDAD v1.1 master CSV: `subphase, sol, mem_ID, seq_ID, confidence_flag, area, swathLs,
  centroid_lon, centroid_lat` (`subphase`, `sol`, `area` in km^2, `centroid_lon` and `centroid_lat`
  required). `sol` is the day of the subphase: subphase P01 and sol 10 is the MDGM P01_day10, which
  the layer records as `sol_name` to match a box to our mask of the same MDGM. Merged member ids
  (`D01_031+032`) stay text.

Box of a storm instance, centroid (lon0, lat0) and area A on the Mars sphere (R = 3396190 m): a
rectangle between two meridians and two parallels, centred on the centroid's longitude, with
(about) equal extents north-south and east-west at the centroid: latitude half-span
d = sqrt(A) / 2 / R (radians), so lat_s, lat_n = lat0 - d, lat0 + d, then the longitude width
solved exactly for the area of that span, dlon = A / (R^2 (sin(lat_n) - sin(lat_s))). The box's
area is then A exactly (`sphere.rectangle_area_km2`), wherever it is not clipped.

Near a pole the span is clipped at +-90 degrees (the box is then no longer centred on the
centroid's latitude; `clipped` counts these) and dlon is solved for the clipped span, so the area
still holds; where that would take more than a full circle the box is clipped to dlon = 360
degrees (a ring around the pole), and such a box is smaller than the stated area. Every feature
records its box's actual area in `box_km2` beside the table's own area.

A box across the antimeridian is split there into a MultiPolygon of two parts (total area
unchanged); every feature is a MultiPolygon of 1 or 2 parts. Its parallels are densified (a
vertex every 0.25 degrees of longitude) so that a geodesic area of the polygon agrees with the
rectangle's.

Dust masks (MDAD v1.1 NetCDF): one uint8 variable with dimensions time x lon (3600) x lat (1801)
(found as the one 3-D data variable with a lon and a lat dimension; `dustmask` first if present),
the MDGM of each time step in `dayList` (a variable of strings or char arrays, or a global
attribute) named SUB_dayXX (P01_day05). Values: 0 no dust, 1-133 storm member, 134-250 split
member, 255 missing. Latitude is taken as ascending (south first) unless the file's `lat` values
say otherwise; longitudes from -180 unless its `lon` values say otherwise (0..360 is rolled).
"""
import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from . import grid
from .archive import SOL_PATTERN
from .errors import CloudmaskError
from .geopackage import atomic_geopackage, gdal_errors, mars_srs, name_mars_authority, verify_geopackage
from .sphere import rectangle_area_km2
from .writers import check_writable_folder, write_geotiff

V10, V11 = "MDAD v1.0", "MDAD v1.1"
# Required columns of each layout (all numeric but the subphase) and what identifies it.
V10_REQUIRED = ("Mars Year", "Ls", "Centroid latitude", "Centroid longitude", "Area (square km)")
V11_REQUIRED = ("subphase", "sol", "area", "centroid_lon", "centroid_lat")
NUMERIC = {V10: V10_REQUIRED, V11: V11_REQUIRED[1:]}
V10_MARKERS = V10_REQUIRED + ("Sequence ID",)
V11_MARKERS = V11_REQUIRED + ("mem_ID", "seq_ID", "confidence_flag", "swathLs")
CONFIDENCE = "confidence_flag"
# Columns that are identifiers: always text, whatever their values look like.
TEXT_COLUMNS = re.compile(r"(^|[\s_])id$|member|sequence|subphase|mission", re.IGNORECASE)
LAYER_NAME = "mdad_boxes"
DENSIFY_DEG = 0.25

MASK_VARIABLE = "dustmask"
MISSING = 255
MEMBER_MAX, SPLIT_MAX = 133, 250
MASK_VALUES = "0 no dust, 1-133 storm member, 134-250 split member, 255 missing"


# -- tables ------------------------------------------------------------------------------------

def _key(name):
    """A column name for matching: no BOM, whitespace collapsed, case folded."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Storm:
    """One storm instance of a table: its centroid, stated area and every column as read."""
    line: int
    lon: float          # -180..180
    lat: float
    area_km2: float
    values: dict        # column name (as in the header, stripped) -> text
    sol_name: str = None
    mars_year: int = None
    ls: float = None


@dataclass(frozen=True)
class Table:
    path: Path
    layout: str
    columns: tuple      # header names, stripped, in file order
    storms: tuple


def _number(path, line, column, text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        shown = "empty" if not str(text or "").strip() else f"{str(text).strip()!r} is not a number"
        raise CloudmaskError(path, f"line {line}: column {column}: {shown}")
    return value


def normalise_longitude(lon):
    """Degrees east, 0..360 or -180..180, as -180 <= lon < 180."""
    return (lon + 180.0) % 360.0 - 180.0


def read_table(path):
    """The storms of an MDAD v1.0 table or v1.1 master CSV (layout from the header): Table."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [(reader.line_num, row) for reader in [csv.reader(f)] for row in reader]
    except FileNotFoundError:
        raise CloudmaskError(path, "table not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CloudmaskError(path, f"cannot be read as a CSV table ({exc})") from None
    rows = [(n, row) for n, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise CloudmaskError(path, "is empty: no header, no storms")
    header = [cell.replace("\ufeff", "").strip() for cell in rows[0][1]]
    index = {}
    for i, name in enumerate(header):
        index.setdefault(_key(name), i)
    layout = _layout(path, header, index)
    if len(rows) == 1:
        raise CloudmaskError(path, f"holds an {layout} header but no storms")
    storms = []
    for line, row in rows[1:]:
        if len(row) > len(header):
            raise CloudmaskError(path, f"line {line}: {len(row)} values for {len(header)} columns")
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        values = dict(zip(header, cells))
        num = {name: _number(path, line, name, cells[index[_key(name)]]) for name in NUMERIC[layout]}
        if layout == V10:
            lat, lon, area = num["Centroid latitude"], num["Centroid longitude"], num["Area (square km)"]
        else:
            lat, lon, area = num["centroid_lat"], num["centroid_lon"], num["area"]
        if not -90.0 <= lat <= 90.0:
            raise CloudmaskError(path, f"line {line}: centroid latitude {lat:g} is outside [-90, 90]")
        if not -180.0 <= lon <= 360.0:
            raise CloudmaskError(path, f"line {line}: centroid longitude {lon:g} is outside [-180, 360]")
        if area <= 0:
            raise CloudmaskError(path, f"line {line}: area {area:g} km^2 is not positive")
        extra = {}
        if layout == V10:
            extra = dict(mars_year=int(num["Mars Year"]) if num["Mars Year"].is_integer() else num["Mars Year"],
                         ls=num["Ls"])
        else:
            subphase, day = cells[index[_key("subphase")]].upper(), num["sol"]
            if not re.fullmatch(r"[A-Z]\d+", subphase) or not day.is_integer() or day < 0:
                raise CloudmaskError(path, f"line {line}: subphase {subphase!r} and sol {day:g} name no MDGM "
                                           "(expected e.g. P01 and 10 for P01_day10)")
            extra = dict(sol_name=f"{subphase}_day{int(day):02d}")
        storms.append(Storm(line, normalise_longitude(lon), lat, area, values, **extra))
    return Table(path, layout, tuple(header), tuple(storms))


def _layout(path, header, index):
    """The layout of the header (V10 or V11); a CloudmaskError when neither fits or columns are missing."""
    hits = {layout: sum(_key(m) in index for m in markers)
            for layout, markers in ((V10, V10_MARKERS), (V11, V11_MARKERS))}
    if not any(hits.values()):
        raise CloudmaskError(path, f"is neither an MDAD v1.0 table nor a v1.1 master CSV: header "
                                   f"{', '.join(header) or '(empty)'} (MDAD v1.0 needs {', '.join(V10_REQUIRED)}; "
                                   f"v1.1 needs {', '.join(V11_REQUIRED)})")
    layout = V11 if hits[V11] > hits[V10] else V10
    required = V11_REQUIRED if layout == V11 else V10_REQUIRED
    missing = [name for name in required if _key(name) not in index]
    if missing:
        raise CloudmaskError(path, f"missing columns {', '.join(missing)} ({layout} needs {', '.join(required)})")
    return layout


def filter_confidence(table, min_confidence):
    """The storms of a v1.1 table whose confidence_flag is at least `min_confidence`."""
    if min_confidence is None:
        return table.storms
    if table.layout != V11:
        raise CloudmaskError(table.path, f"is an {table.layout} table, which has no {CONFIDENCE} column: "
                                         "the confidence filter needs an MDAD v1.1 master CSV")
    column = next((c for c in table.columns if _key(c) == _key(CONFIDENCE)), None)
    if column is None:
        raise CloudmaskError(table.path, f"has no {CONFIDENCE} column: the confidence filter needs it")
    return tuple(s for s in table.storms
                 if _number(table.path, s.line, column, s.values[column]) >= float(min_confidence))


# -- boxes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """A storm's box: its parts as (lon_west, lon_east, lat_south, lat_north), degrees (two parts
    when split at the antimeridian, the one from -180 first), and its actual area; `clipped` when
    its latitude span was cut at a pole."""
    parts: tuple
    area_km2: float
    clipped: bool


def storm_box(lon, lat, area_km2, radius_m=grid.MARS_RADIUS_M):
    """The box of a storm instance (see the module docstring for its shape)."""
    radius_km = radius_m / 1000.0
    half = math.degrees(math.sqrt(area_km2) / 2.0 / radius_km)
    lat_s, lat_n = lat - half, lat + half
    clipped = lat_n > 90.0 or lat_s < -90.0
    lat_s, lat_n = max(lat_s, -90.0), min(lat_n, 90.0)
    band = math.sin(math.radians(lat_n)) - math.sin(math.radians(lat_s))
    dlon = min(math.degrees(area_km2 / (radius_km ** 2 * band)), 360.0)
    lon = normalise_longitude(lon)
    if dlon >= 360.0:
        parts = ((-180.0, 180.0, lat_s, lat_n),)
    else:
        west, east = lon - dlon / 2.0, lon + dlon / 2.0
        if west < -180.0:
            parts = ((-180.0, east, lat_s, lat_n), (west + 360.0, 180.0, lat_s, lat_n))
        elif east > 180.0:
            parts = ((-180.0, east - 360.0, lat_s, lat_n), (west, 180.0, lat_s, lat_n))
        else:
            parts = ((west, east, lat_s, lat_n),)
    area = sum(rectangle_area_km2(*p, radius_m=radius_m) for p in parts)
    return Box(parts, area, clipped)


def _ring(lon_w, lon_e, lat_s, lat_n):
    """Closed ring of a lon/lat rectangle, counter-clockwise, parallels densified."""
    n = max(1, math.ceil((lon_e - lon_w) / DENSIFY_DEG))
    south = [(lon_w + (lon_e - lon_w) * i / n, lat_s) for i in range(n + 1)]
    north = [(lon_e - (lon_e - lon_w) * i / n, lat_n) for i in range(n + 1)]
    return south + north + [south[0]]


def _geometry(box):
    from osgeo import ogr
    multi = ogr.Geometry(ogr.wkbMultiPolygon)
    for part in box.parts:
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in _ring(*part):
            ring.AddPoint_2D(x, y)
        polygon = ogr.Geometry(ogr.wkbPolygon)
        polygon.AddGeometry(ring)
        multi.AddGeometry(polygon)
    return multi


# -- fields ----------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?(0|[1-9]\d*)")


def _field_kind(column, texts):
    """'integer', 'real' or 'text' for a column's values (empty values are nulls)."""
    texts = [t for t in texts if t != ""]
    if TEXT_COLUMNS.search(column) or not texts:
        return "text"
    if all(_INT.fullmatch(t) for t in texts) and all(abs(int(t)) < 2 ** 63 for t in texts):
        return "integer"
    try:
        if all(math.isfinite(float(t)) for t in texts) and not any(re.fullmatch(r"[+-]?0\d+", t) for t in texts):
            return "real"
    except ValueError:
        pass
    return "text"


def field_name(column):
    """A GeoPackage field name: lower case, runs of anything but letters and digits as one '_'
    ('Area (square km)' -> 'area_square_km', 'Mars Year' -> 'mars_year')."""
    name = re.sub(r"[^0-9a-z]+", "_", column.casefold()).strip("_") or "column"
    return f"f_{name}" if name[0].isdigit() else name


def _fields(table, storms):
    """[(field name, kind, column or None)]: every input column, then what the layer adds. In v1.0
    tables `Mars Year` and `Ls` (required) become the numeric fields `mars_year` and `ls`."""
    added = ["box_km2"] + (["sol_name"] if table.layout == V11 else [])
    numeric = {_key("Mars Year"): "mars_year", _key("Ls"): "ls"} if table.layout == V10 else {}
    taken, fields = set(added) | set(numeric.values()) | {"fid"}, []
    for column in table.columns:
        if _key(column) in numeric:
            name = numeric.pop(_key(column))
            kind = "integer" if name == "mars_year" and all(isinstance(s.mars_year, int) for s in storms) else "real"
            fields.append((name, kind, column))
            continue
        name = base = field_name(column)
        i = 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        fields.append((name, _field_kind(column, [s.values[column] for s in storms]), column))
    return fields + [(name, "real" if name == "box_km2" else "text", None) for name in added]


def _value(storm, name, kind, column, box):
    if column is None:
        return box.area_km2 if name == "box_km2" else storm.sol_name
    if storm.ls is not None and name in ("mars_year", "ls"):
        return storm.mars_year if name == "mars_year" else storm.ls
    text = storm.values[column]
    if text == "":
        return None
    return int(text) if kind == "integer" else float(text) if kind == "real" else text


# -- GeoPackage ------------------------------------------------------------------------------------

def write_boxes(output_path, table, storms):
    """The boxes of `storms` as a MultiPolygon GeoPackage layer in IAU_2015:49900, atomically."""
    from osgeo import gdal, ogr
    output_path = Path(output_path)
    fields = _fields(table, storms)
    kinds = {"integer": ogr.OFTInteger64, "real": ogr.OFTReal, "text": ogr.OFTString}
    with atomic_geopackage(output_path) as tmp, gdal_errors(output_path):
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp))
        if ds is None:
            raise CloudmaskError(output_path, f"GeoPackage cannot be created ({gdal.GetLastErrorMsg()})")
        try:
            layer = ds.CreateLayer(LAYER_NAME, mars_srs(), ogr.wkbMultiPolygon, options=["SPATIAL_INDEX=YES"])
            for name, kind, _ in fields:
                layer.CreateField(ogr.FieldDefn(name, kinds[kind]))
            layer.SetMetadataItem("MDAD_LAYOUT", table.layout)
            layer.SetMetadataItem("SOURCE_FILE", table.path.name)
            ds.StartTransaction()
            for storm in storms:
                box = storm_box(storm.lon, storm.lat, storm.area_km2)
                feature = ogr.Feature(layer.GetLayerDefn())
                for name, kind, column in fields:
                    value = _value(storm, name, kind, column, box)
                    if value is None:
                        feature.SetFieldNull(name)
                    else:
                        feature.SetField(name, value)
                feature.SetGeometry(_geometry(box))
                if layer.CreateFeature(feature) != 0:
                    raise CloudmaskError(output_path, f"feature of line {storm.line} cannot be written "
                                                      f"({gdal.GetLastErrorMsg()})")
            ds.CommitTransaction()
            name_mars_authority(ds)
        finally:
            ds = None      # noqa: F841 (closes the GeoPackage before the rename)
        verify_geopackage(tmp, len(storms), output_path)


@dataclass(frozen=True)
class BoxesResult:
    count: int          # features written
    layout: str         # "MDAD v1.0" or "MDAD v1.1"
    output: Path
    total: int = 0      # storms in the table, before the confidence filter
    clipped: int = 0    # boxes whose latitude span was clipped at a pole
    smaller: int = 0    # boxes smaller than their stated area (clipped to a full circle of longitude)


def mdad_boxes(table_path, output_path, min_confidence=None):
    """An MDAD table (v1.0 or v1.1 master CSV) -> one box per storm instance in a GeoPackage
    (layer `mdad_boxes`, IAU_2015:49900): every column of the table, `box_km2` (the box's area
    on the Mars sphere) and `sol_name` (v1.1) or `mars_year` and `ls` (v1.0). `min_confidence`
    keeps the v1.1 storms with confidence_flag >= it (refused for v1.0)."""
    output_path = Path(output_path)
    if output_path.suffix.lower() != ".gpkg":
        raise CloudmaskError(output_path, "the boxes are written as a GeoPackage: use a .gpkg name")
    check_writable_folder(output_path.parent)
    table = read_table(table_path)
    storms = filter_confidence(table, min_confidence)
    write_boxes(output_path, table, storms)
    boxes = [(storm_box(s.lon, s.lat, s.area_km2), s.area_km2) for s in storms]
    clipped = sum(box.clipped for box, _ in boxes)
    smaller = sum(box.area_km2 < stated * (1 - 1e-9) for box, stated in boxes)
    return BoxesResult(len(storms), table.layout, output_path, len(table.storms), clipped, smaller)


# -- dust masks ------------------------------------------------------------------------------------

def _sol_key(name):
    """('P01', 5) for 'P01_day05', 'p01day5', ...; None for anything else."""
    m = SOL_PATTERN.search(str(name).strip())
    return (m.group(1).upper(), int(m.group(2)[3:])) if m else None


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00 ").strip()
    return str(value).strip("\x00 ").strip()


def _day_list(ds):
    """The MDGM names of the time steps: the `dayList` variable (strings, or char arrays), else the
    global attribute of that name (a list, or one string of names)."""
    import numpy as np
    names = {k.casefold(): k for k in ds.variables}
    attrs = {k.casefold(): k for k in ds.ncattrs()}
    if "daylist" in names:
        var = ds.variables[names["daylist"]]
        var.set_auto_chartostring(False)
        values = np.asarray(var[:])
        if values.dtype.kind == "S" and values.ndim >= 2 and values.dtype.itemsize == 1:
            values = np.array([b"".join(row.tolist()) for row in values.reshape(values.shape[0], -1)])
        return [_text(v) for v in np.ravel(values)]
    if "daylist" in attrs:
        value = ds.getncattr(attrs["daylist"])
        if isinstance(value, (str, bytes)):
            return [_text(v) for v in re.split(r"[\s,;]+", _text(value)) if v]
        return [_text(v) for v in np.ravel(value)]
    return None


def _dims(var):
    """(time, lon, lat) dimension names of a 3-D variable, or None."""
    if len(var.dimensions) != 3:
        return None
    lon = [d for d in var.dimensions if d.casefold().startswith("lon")]
    lat = [d for d in var.dimensions if d.casefold().startswith("lat")]
    if len(lon) != 1 or len(lat) != 1:
        return None
    time = [d for d in var.dimensions if d not in (lon[0], lat[0])]
    return (time[0], lon[0], lat[0])


def _mask_variable(path, ds):
    """The dust mask variable: `dustmask` if it is 3-D with lon and lat, else the one such data variable."""
    candidates = [name for name, var in ds.variables.items()
                  if name not in ds.dimensions and name.casefold() != "daylist" and _dims(var)]
    preferred = [n for n in candidates if n.casefold() == MASK_VARIABLE]
    if preferred:
        return preferred[0]
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(f"{n}({', '.join(v.dimensions)})" for n, v in ds.variables.items()) or "no variables"
    problem = "several" if candidates else "no"
    raise CloudmaskError(path, f"{problem} dust mask variables (time x lon x lat) found: {found}; an MDAD v1.1 "
                               f"dust mask holds one uint8 variable of dimensions time x lon x lat")


def _coordinate(ds, dim):
    import numpy as np
    var = ds.variables.get(dim)
    if var is None or var.dimensions != (dim,):
        return None
    return np.asarray(var[:], np.float64)


def _orient(path, lon, lat):
    """(column roll, flip rows) that put the file's lon/lat on our grid (column 0 at -180, row 0
    at the north), from its coordinate values; no coordinates: lon from -180, lat ascending."""
    import numpy as np
    roll, flip = 0, True
    if lat is not None:
        ascending = bool(lat[0] < lat[-1])
        expected = grid.latitude_of_row(np.arange(grid.HEIGHT))
        if not np.allclose(lat[::-1] if ascending else lat, expected, atol=1e-3):
            raise CloudmaskError(path, f"lat runs {lat[0]:g}..{lat[-1]:g}, not the 0.1-degree grid of -90..90")
        flip = ascending
    if lon is not None:
        step = np.diff(lon)
        if not np.allclose(step, grid.PIXEL_DEG, atol=1e-3):
            raise CloudmaskError(path, f"lon runs {lon[0]:g}..{lon[-1]:g}, not ascending in 0.1-degree steps")
        offset = (lon[0] + 180.0) % 360.0 / grid.PIXEL_DEG          # columns east of -180
        if abs(offset - round(offset)) > 1e-2:
            raise CloudmaskError(path, f"lon starts at {lon[0]:g}, not on the pixel centres of our grid")
        roll = int(round(offset)) % grid.WIDTH
    return roll, flip


@dataclass(frozen=True)
class MaskResult:
    sol: str
    variable: str
    dust_fraction: float       # pixels 1..250 among those not missing
    missing_fraction: float    # pixels 255 of the globe
    output: Path
    flipped: bool = True       # the file's rows were south first


def mdad_mask(netcdf_path, sol, output_path):
    """The MDAD v1.1 dust mask of one MDGM (`sol`, e.g. 'P01_day05') as a uint8 GeoTIFF on the
    global grid (3600 x 1801, IAU_2015:49900, north row first, nodata 255): pixel for pixel on our
    cloud mask of the same MDGM. Values as stored (MASK_VALUES)."""
    import netCDF4
    import numpy as np
    path, output_path = Path(netcdf_path), Path(output_path)
    check_writable_folder(output_path.parent)
    wanted = _sol_key(sol)
    if wanted is None:
        raise CloudmaskError(path, f"{sol!r} names no MDGM (expected e.g. P01_day05)")
    sol = f"{wanted[0]}_day{wanted[1]:02d}"
    if not path.is_file():
        raise CloudmaskError(path, "dust mask NetCDF not found")
    try:
        ds = netCDF4.Dataset(path)
    except OSError as exc:
        raise CloudmaskError(path, f"cannot be read as NetCDF ({exc})") from None
    with ds:
        ds.set_auto_maskandscale(False)
        name = _mask_variable(path, ds)
        var = ds.variables[name]
        time_dim, lon_dim, lat_dim = _dims(var)
        sizes = {d: len(ds.dimensions[d]) for d in var.dimensions}
        if (sizes[lon_dim], sizes[lat_dim]) != (grid.WIDTH, grid.HEIGHT):
            raise CloudmaskError(path, f"{name} has {lon_dim} {sizes[lon_dim]} x {lat_dim} {sizes[lat_dim]}, "
                                       f"not the global grid (lon {grid.WIDTH} x lat {grid.HEIGHT})")
        days = _day_list(ds)
        if days is None:
            raise CloudmaskError(path, f"has no dayList (variable or attribute) naming the MDGM of each {time_dim}")
        if len(days) != sizes[time_dim]:
            raise CloudmaskError(path, f"dayList names {len(days)} MDGMs for {sizes[time_dim]} {time_dim} steps")
        keys = [_sol_key(d) for d in days]
        if wanted not in keys:
            shown = ", ".join(days[:5]) + (f", ... ({len(days)} in all)" if len(days) > 5 else "")
            raise CloudmaskError(path, f"no {sol} in dayList; it holds {shown or 'none'}")
        t = keys.index(wanted)
        roll, flip = _orient(path, _coordinate(ds, lon_dim), _coordinate(ds, lat_dim))
        index = tuple(t if d == time_dim else slice(None) for d in var.dimensions)
        values = np.asarray(var[index])
        if var.dimensions.index(lon_dim) < var.dimensions.index(lat_dim):
            values = values.T                                   # (lat, lon)
    if values.dtype == np.int8:                                 # byte stored signed: 255 reads -1
        values = values.view(np.uint8)
    if values.dtype.kind not in "iu" or values.min(initial=0) < 0 or values.max(initial=0) > MISSING:
        raise CloudmaskError(path, f"{name} holds {values.dtype} values, not the uint8 codes {MASK_VALUES}")
    values = values.astype(np.uint8)
    if flip:
        values = values[::-1]
    if roll:
        values = np.roll(values, roll, axis=1)
    values = np.ascontiguousarray(values)
    missing = values == MISSING
    valid = int((~missing).sum())
    dust = int(((values >= 1) & (values <= SPLIT_MAX)).sum())
    tags = {"SOURCE_FILE": path.name, "SOL": sol, "MDAD_VARIABLE": name, "MDAD_VALUES": MASK_VALUES,
            "SOURCE": "Mars Dust Activity Database v1.1 (Battalio and Wang 2021)"}
    write_geotiff(output_path, values, tags, nodata=MISSING)
    return MaskResult(sol, name, dust / valid if valid else 0.0, float(missing.mean()), output_path, flip)
