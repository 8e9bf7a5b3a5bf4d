"""MDAD (Mars Dust Activity Database, Battalio and Wang 2021): storm tables as boxes in a GeoPackage
and v1.1 dust masks as GeoTIFFs on the global grid. Every file is written here, in the documented
layouts; areas are checked on the Mars sphere independently (geodesic area with pyproj, and the
analytic area of a lon/lat rectangle)."""
import math

import numpy as np
import pytest
import rasterio

from mars_cloudmask_plugin import grid, mdad
from mars_cloudmask_plugin.errors import CloudmaskError

R_M = 3396190.0
GEOD_KWARGS = dict(a=R_M, b=R_M)

V10_HEADER = "Sequence ID,Mars Year,Sol,Ls,Centroid longitude,Centroid latitude,Area (square km),Member ID,Comment"
V10_ROWS = [
    "S0001,28,120,136.5,20.0,0.0,1000000,D01_001,equator",
    "S0002,28,121,137.0,300.0,60.0,400000,D01_002,at 60 degrees (0..360 longitude)",
    "S0003,29,5,140.25,181.0,-10.0,2000000,D01_031+032,across the antimeridian",
    "S0004,29,6,141.0,40.0,-86.0,1500000,D02_007,near the south pole",
    "S0005,29,7,141.5,-120.0,88.0,5000000,D02_008,around the north pole",
]
V11_HEADER = "subphase,sol,mem_ID,seq_ID,confidence_flag,area,swathLs,centroid_lon,centroid_lat"
V11_ROWS = [
    "P01,10,D01_031+032,S0001,3,800000,136.8,179.5,5.0",
    "P01,10,D01_033,S0001,1,300000,136.8,200.0,60.0",
    "P01,11,D02_001,S0002,2,1500000,137.2,10.0,86.0",
    "B05,3,D03_004,,2,50000,220.1,-100.0,-30.0",
]


def _write(path, header, rows, bom=False):
    text = "\n".join([header] + rows) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


@pytest.fixture
def v10_table(tmp_path):
    # whitespace around the names, and a BOM, as spreadsheets write them
    header = ", ".join(f" {name} " for name in V10_HEADER.split(","))
    return _write(tmp_path / "mdad_v1.0.csv", header, V10_ROWS, bom=True)


@pytest.fixture
def v11_table(tmp_path):
    return _write(tmp_path / "MDAD_v1.1_master.csv", V11_HEADER, V11_ROWS)


def read_layer(path):
    """[(fields, [parts as [(lon, lat), ...]])], the layer's SRS, geometry type name."""
    from osgeo import ogr
    ds = ogr.Open(str(path))
    assert ds is not None and ds.GetLayerCount() == 1
    layer = ds.GetLayer(0)
    features = []
    for feature in layer:
        geom = feature.GetGeometryRef()
        assert geom.GetGeometryName() == "MULTIPOLYGON"
        parts = [geom.GetGeometryRef(i).GetGeometryRef(0).GetPoints() for i in range(geom.GetGeometryCount())]
        assert all(geom.GetGeometryRef(i).GetGeometryCount() == 1 for i in range(geom.GetGeometryCount()))
        features.append((feature.items(), parts))
    srs = layer.GetSpatialRef().Clone()      # the layer's own goes with the dataset
    types = {d.GetName(): d.GetTypeName() for d in layer.schema}
    return features, srs, types


def analytic_km2(points):
    """Area of a lon/lat rectangle (its ring's envelope) on the Mars sphere, from first principles."""
    lons, lats = zip(*points)
    dlon = math.radians(max(lons) - min(lons))
    return R_M ** 2 * dlon * (math.sin(math.radians(max(lats))) - math.sin(math.radians(min(lats)))) / 1e6


def geodesic_km2(points):
    from pyproj import Geod
    lons, lats = zip(*points)
    area, _ = Geod(**GEOD_KWARGS).polygon_area_perimeter(lons, lats)
    return abs(area) / 1e6


def envelope(parts):
    pts = [p for part in parts for p in part]
    lons, lats = zip(*pts)
    return min(lons), max(lons), min(lats), max(lats)


def no_partial_files(folder, *expected):
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


# -- boxes from v1.0 -------------------------------------------------------------------------------

def test_v10_boxes_have_the_stated_area_on_the_mars_sphere_and_keep_every_column(v10_table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    result = mdad.mdad_boxes(v10_table, out)
    assert (result.count, result.layout, result.output) == (5, "MDAD v1.0", out)
    features, srs, types = read_layer(out)
    assert (srs.GetAuthorityName(None), srs.GetAuthorityCode(None)) == ("IAU_2015", "49900")
    assert srs.GetSemiMajor() == pytest.approx(R_M) and srs.GetInvFlattening() == 0
    assert types["mars_year"].startswith("Integer") and types["ls"] == "Real"
    assert types["member_id"] == "String" and types["sequence_id"] == "String"
    by_seq = {f["sequence_id"]: (f, parts) for f, parts in features}
    # every column kept with its value
    f, parts = by_seq["S0003"]
    assert f["member_id"] == "D01_031+032" and f["comment"] == "across the antimeridian"
    assert (f["mars_year"], f["sol"], f["ls"], f["area_square_km"]) == (29, 5, 140.25, 2000000)
    assert f["centroid_longitude"] == 181.0 and f["centroid_latitude"] == -10.0

    for seq, lat0 in (("S0001", 0.0), ("S0002", 60.0)):
        f, parts = by_seq[seq]
        assert len(parts) == 1
        stated = f["area_square_km"]
        assert analytic_km2(parts[0]) == pytest.approx(stated, rel=0.005)
        assert geodesic_km2(parts[0]) == pytest.approx(stated, rel=0.005)
        assert f["box_km2"] == pytest.approx(stated, rel=1e-9)
        lon_w, lon_e, lat_s, lat_n = envelope(parts)
        assert (lat_s + lat_n) / 2 == pytest.approx(lat0)
        assert -180 <= lon_w < lon_e <= 180
    # 300 degrees east is -60; the box is centred there
    lon_w, lon_e, _, _ = envelope(by_seq["S0002"][1])
    assert (lon_w + lon_e) / 2 == pytest.approx(-60.0)
    # equal extent north-south and east-west at the centroid (the documented shape), at the equator
    lon_w, lon_e, lat_s, lat_n = envelope(by_seq["S0001"][1])
    ns_km = math.radians(lat_n - lat_s) * R_M / 1e3
    ew_km = math.radians(lon_e - lon_w) * R_M / 1e3
    assert ns_km == pytest.approx(1000.0, rel=1e-6) and ew_km == pytest.approx(ns_km, rel=0.01)


def test_a_box_across_the_antimeridian_is_split_in_two_parts_of_the_stated_total_area(v10_table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    mdad.mdad_boxes(v10_table, out)
    features, _, _ = read_layer(out)
    f, parts = next((f, p) for f, p in features if f["sequence_id"] == "S0003")
    assert len(parts) == 2
    envelopes = sorted(envelope([p]) for p in parts)
    west_part, east_part = envelopes
    assert west_part[0] == -180.0 and east_part[1] == 180.0
    # 181 east is -179: the box is centred there, most of it east of the antimeridian
    dlon = (west_part[1] + 180.0) + (180.0 - east_part[0])
    assert east_part[0] + dlon / 2 - 360.0 == pytest.approx(-179.0)
    assert west_part[1] - west_part[0] > east_part[1] - east_part[0]
    total = sum(analytic_km2(p) for p in parts)
    assert total == pytest.approx(2000000, rel=0.005)
    assert sum(geodesic_km2(p) for p in parts) == pytest.approx(2000000, rel=0.005)
    assert f["box_km2"] == pytest.approx(2000000, rel=1e-9)


def test_a_box_at_a_pole_is_clipped_there_widened_to_keep_its_area_or_else_smaller(v10_table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    result = mdad.mdad_boxes(v10_table, out)
    assert (result.clipped, result.smaller) == (2, 1)
    features, _, _ = read_layer(out)
    by_seq = {f["sequence_id"]: (f, parts) for f, parts in features}
    # 86 south: the span stops at the pole, the longitude width grows to keep the area
    f, parts = by_seq["S0004"]
    lon_w, lon_e, lat_s, lat_n = envelope(parts)
    assert lat_s == -90.0
    # the latitude span of any box: half the side north of the centroid
    assert lat_n == pytest.approx(-86.0 + math.degrees(math.sqrt(1.5e6) / 2 / (R_M / 1e3)))
    assert 180 < lon_e - lon_w < 360 and (lon_w + lon_e) / 2 == pytest.approx(40.0)
    area = sum(analytic_km2(p) for p in parts)
    assert area == pytest.approx(1500000, rel=0.005) and f["box_km2"] == pytest.approx(area, rel=1e-6)
    # 88 north, 5 million km^2: a full ring around the pole is smaller than stated, and says so
    f, parts = by_seq["S0005"]
    assert len(parts) == 1
    lon_w, lon_e, lat_s, lat_n = envelope(parts)
    assert (lon_w, lon_e, lat_n) == (-180.0, 180.0, 90.0)
    area = analytic_km2(parts[0])
    assert area < 5000000 * 0.995 and f["box_km2"] == pytest.approx(area, rel=1e-6)


# -- boxes from v1.1 -------------------------------------------------------------------------------

def test_v11_boxes_name_their_mdgm_keep_merged_member_ids_and_split_at_the_antimeridian(v11_table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    result = mdad.mdad_boxes(v11_table, out)
    assert (result.count, result.layout) == (4, "MDAD v1.1")
    features, _, types = read_layer(out)
    assert types["mem_id"] == "String" and types["sol_name"] == "String" and types["box_km2"] == "Real"
    assert set(types) >= {"subphase", "sol", "mem_id", "seq_id", "confidence_flag", "area", "swathls",
                          "centroid_lon", "centroid_lat"}
    by_member = {f["mem_id"]: (f, parts) for f, parts in features}
    assert [by_member[m][0]["sol_name"] for m in ("D01_031+032", "D01_033", "D02_001", "D03_004")] == \
        ["P01_day10", "P01_day10", "P01_day11", "B05_day03"]
    assert by_member["D03_004"][0]["seq_id"] is None       # an empty cell stays empty
    assert by_member["D01_033"][0]["swathls"] == 136.8

    # centroid at 179.5 east: across the antimeridian
    f, parts = by_member["D01_031+032"]
    assert len(parts) == 2
    (w0, e0, s0, n0), (w1, e1, s1, n1) = sorted(envelope([p]) for p in parts)
    assert w0 == -180.0 and e1 == 180.0 and (s0, n0) == (s1, n1)
    assert sum(analytic_km2(p) for p in parts) == pytest.approx(800000, rel=0.005)
    assert sum(geodesic_km2(p) for p in parts) == pytest.approx(800000, rel=0.005)
    # the part east of the antimeridian is the box's east end: longitude width e0 + 180 past it
    dlon = (e0 + 180.0) + (180.0 - w1)
    assert (w1 + dlon / 2) == pytest.approx(179.5)

    # 200 east = -160, at 60 degrees: the stated area
    f, parts = by_member["D01_033"]
    assert len(parts) == 1 and sum(envelope(parts)[:2]) / 2 == pytest.approx(-160.0)
    assert geodesic_km2(parts[0]) == pytest.approx(300000, rel=0.005)
    assert analytic_km2(parts[0]) == pytest.approx(300000, rel=0.005)

    # 86 north: clipped at the pole
    f, parts = by_member["D02_001"]
    assert envelope(parts)[3] == 90.0 and f["box_km2"] < 1500000


def test_the_confidence_filter_keeps_storms_at_or_above_the_minimum(v11_table, tmp_path):
    result = mdad.mdad_boxes(v11_table, tmp_path / "confident.gpkg", min_confidence=2)
    assert (result.count, result.total) == (3, 4)
    features, _, _ = read_layer(tmp_path / "confident.gpkg")
    assert sorted(f["confidence_flag"] for f, _ in features) == [2, 2, 3]


def test_the_confidence_filter_is_refused_for_a_v10_table(v10_table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    with pytest.raises(CloudmaskError) as info:
        mdad.mdad_boxes(v10_table, out, min_confidence=1)
    message = str(info.value)
    assert message.startswith(f"{v10_table}: ") and "v1.1" in message and "\n" not in message
    assert not out.exists()


def test_storm_box_has_the_area_everywhere_it_is_not_clipped():
    from pyproj import Geod
    geod = Geod(**GEOD_KWARGS)
    for lat in (-75.0, -60.0, -30.0, 0.0, 15.0, 45.0, 60.0, 70.0):
        for area in (1e3, 5e4, 1e6, 5e6):
            box = mdad.storm_box(33.0, lat, area)
            if box.clipped:
                continue
            assert box.area_km2 == pytest.approx(area, rel=1e-9)
            (lon_w, lon_e, lat_s, lat_n), = box.parts
            ring = mdad._ring(lon_w, lon_e, lat_s, lat_n)
            assert abs(geod.polygon_area_perimeter(*zip(*ring))[0]) / 1e6 == pytest.approx(area, rel=0.005)


def test_longitudes_are_normalised_to_minus_180_180():
    assert [mdad.normalise_longitude(x) for x in (0, 90, 180, 270, 359.9, 360, -180, -90.5)] == \
        pytest.approx([0, 90, -180, -90, -0.1, 0, -180, -90.5])


# -- bad tables ------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, rows, expected", [
    ("Sequence ID,Mars Year,Sol,Ls,Centroid longitude", ["S1,28,1,100,20"],
     "missing columns Centroid latitude, Area (square km) (MDAD v1.0 needs"),
    ("subphase,sol,mem_ID,area,centroid_lon", ["P01,1,D01_001,1000,20"],
     "missing columns centroid_lat (MDAD v1.1 needs"),
    (V11_HEADER, [V11_ROWS[0], "P01,11,D01_002,S0002,2,1000,137,20.0,north"],
     "line 3: column centroid_lat: 'north' is not a number"),
    (V10_HEADER, ["S1,28,1,100,20,,1000,D1,x"], "line 2: column Centroid latitude: empty"),
    (V11_HEADER, [], "holds an MDAD v1.1 header but no storms"),
    ("name,value", ["a,1"], "is neither an MDAD v1.0 table nor a v1.1 master CSV"),
    (V11_HEADER, ["P01,10,D01_031,S0001,3,800000,136.8,179.5,95.0"], "line 2: centroid latitude 95 is outside"),
])
def test_a_bad_table_is_one_line_naming_the_file_and_writes_nothing(tmp_path, header, rows, expected):
    table = _write(tmp_path / "table.csv", header, rows)
    out = tmp_path / "boxes.gpkg"
    with pytest.raises(CloudmaskError) as info:
        mdad.mdad_boxes(table, out)
    message = str(info.value)
    assert message.startswith(f"{table}: ") and "\n" not in message
    assert expected in message, message
    no_partial_files(tmp_path, "table.csv")


def test_an_empty_file_and_a_missing_file_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("\ufeff\n \n")
    with pytest.raises(CloudmaskError, match=r"empty\.csv: is empty"):
        mdad.mdad_boxes(empty, tmp_path / "b.gpkg")
    with pytest.raises(CloudmaskError, match=r"nothere\.csv: table not found"):
        mdad.mdad_boxes(tmp_path / "nothere.csv", tmp_path / "b.gpkg")
    no_partial_files(tmp_path, "empty.csv")


def test_the_output_must_be_a_geopackage(v10_table, tmp_path):
    with pytest.raises(CloudmaskError, match=r"boxes\.shp: .*\.gpkg"):
        mdad.mdad_boxes(v10_table, tmp_path / "boxes.shp")


def test_a_failure_while_writing_leaves_nothing_under_the_final_name(v10_table, tmp_path, monkeypatch):
    out = tmp_path / "boxes.gpkg"

    def broken(*args, **kwargs):
        raise CloudmaskError(out, "disk full (simulated)")
    monkeypatch.setattr(mdad, "_geometry", broken)
    with pytest.raises(CloudmaskError, match="simulated"):
        mdad.mdad_boxes(v10_table, out)
    no_partial_files(tmp_path, v10_table.name)


# -- dust masks ------------------------------------------------------------------------------------

DAYS = ["P01_day01", "P01_day05", "P01_day06"]
MARKER_LON, MARKER_LAT = 45.3, 30.2             # our grid: column 2253, row 598
MARKER_COL, MARKER_ROW = 2253, 598


def write_dust_netcdf(path, days=DAYS, lon_size=grid.WIDTH, lat_size=grid.HEIGHT, day_list="chars",
                      coordinates=True, lon_0_360=False, variable="dust_mask_MDAD", lat_descending=False):
    """An MDAD v1.1 dust mask: uint8 <variable>(time, lon, lat), lat ascending; marker 7 at
    (MARKER_LON, MARKER_LAT) in P01_day05, 140 (a split member) beside it, the first row (south)
    missing, and the value 3 in every pixel of P01_day06."""
    import netCDF4
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", len(days))
        ds.createDimension("lon", lon_size)
        ds.createDimension("lat", lat_size)
        lons = -180.0 + 0.1 * np.arange(lon_size) if lon_size == grid.WIDTH else np.linspace(-180, 179.5, lon_size)
        if lon_0_360:
            lons = 0.1 * np.arange(lon_size)
        lats = -90.0 + 0.1 * np.arange(lat_size) if lat_size == grid.HEIGHT else np.linspace(-90, 90, lat_size)
        if lat_descending:
            lats = lats[::-1]
        if coordinates:
            ds.createVariable("lon", "f4", ("lon",))[:] = lons
            ds.createVariable("lat", "f4", ("lat",))[:] = lats
        if day_list == "chars":
            ds.createDimension("nchar", 9)
            var = ds.createVariable("dayList", "S1", ("time", "nchar"))
            var[:] = netCDF4.stringtochar(np.array(days, "S9"))
        elif day_list == "strings":
            var = ds.createVariable("dayList", str, ("time",))
            for i, d in enumerate(days):
                var[i] = d
        else:
            ds.dayList = " ".join(days)
        mask = ds.createVariable(variable, "u1", ("time", "lon", "lat"), zlib=True, complevel=1)
        data = np.zeros((len(days), lon_size, lat_size), np.uint8)
        if lon_size == grid.WIDTH and lat_size == grid.HEIGHT:
            i_lon = int(np.argmin(np.abs(((lons - MARKER_LON + 180) % 360) - 180)))
            i_lat = int(np.argmin(np.abs(lats - MARKER_LAT)))
            data[1, i_lon, i_lat] = 7
            data[1, (i_lon + 1) % lon_size, i_lat] = 140
            data[1, :, int(np.argmin(lats))] = 255
        data[2] = 3
        mask[:] = data
    return path


@pytest.mark.parametrize("options", [dict(day_list="chars"), dict(day_list="strings"),
                                     dict(day_list="attribute", coordinates=False),
                                     dict(lon_0_360=True), dict(lat_descending=True)],
                         ids=["char-array", "strings", "attribute-no-coords", "lon-0-360", "lat-descending"])
def test_the_dust_mask_of_a_sol_lies_north_up_on_the_global_grid(tmp_path, options):
    nc = write_dust_netcdf(tmp_path / "mdad_P01.nc", **options)
    out = tmp_path / "dust.tif"
    result = mdad.mdad_mask(nc, "P01_day05", out)
    assert result.sol == "P01_day05" and result.variable == "dust_mask_MDAD" and result.output == out
    with rasterio.open(out) as src:
        values, tags = src.read(1), src.tags()
        assert (src.width, src.height, src.dtypes[0], src.nodata) == (3600, 1801, "uint8", 255)
        assert tuple(src.transform) [:6] == pytest.approx(tuple(grid.affine_transform())[:6])
        assert src.crs.to_epsg() is None and "Mars" in src.crs.to_wkt()
    assert tags["SOL"] == "P01_day05" and tags["SOURCE_FILE"] == "mdad_P01.nc"
    assert np.argwhere(values == 7).tolist() == [[MARKER_ROW, MARKER_COL]]
    assert np.argwhere(values == 140).tolist() == [[MARKER_ROW, MARKER_COL + 1]]
    assert grid.longitude_of_column(MARKER_COL) == pytest.approx(MARKER_LON)
    assert grid.latitude_of_row(MARKER_ROW) == pytest.approx(MARKER_LAT)
    if options.get("lat_descending"):       # the south row came first in the data; the flip follows lat
        assert (values[-1] == 255).all() and result.flipped is False
    else:
        assert (values[-1] == 255).all() and result.flipped is True
    assert (values[:-1] != 255).all()
    assert result.missing_fraction == pytest.approx(1 / 1801)
    assert result.dust_fraction == pytest.approx(2 / (3600 * 1800))


def test_the_dust_mask_lies_pixel_for_pixel_on_our_cloud_mask(tmp_path):
    from mars_cloudmask_plugin.writers import write_geotiff
    nc = write_dust_netcdf(tmp_path / "mdad.nc")
    dust = mdad.mdad_mask(nc, "p01day6", tmp_path / "dust.tif").output
    cloud = write_geotiff(tmp_path / "P01_day06_cloudmask.tif", np.zeros((1801, 3600), np.int16))
    with rasterio.open(dust) as a, rasterio.open(cloud) as b:
        assert (a.width, a.height, a.transform, a.crs) == (b.width, b.height, b.transform, b.crs)
        assert (a.read(1) == 3).all()
        assert a.tags()["SOL"] == "P01_day06"


def test_an_unknown_sol_lists_some_available_ones_and_writes_nothing(tmp_path):
    days = [f"P01_day{d:02d}" for d in range(1, 9)]
    nc = write_dust_netcdf(tmp_path / "mdad.nc", days=days)
    out = tmp_path / "dust.tif"
    with pytest.raises(CloudmaskError) as info:
        mdad.mdad_mask(nc, "P02_day05", out)
    message = str(info.value)
    assert message.startswith(f"{nc}: no P02_day05 in dayList") and "P01_day01, P01_day02" in message
    assert "(8 in all)" in message and "\n" not in message
    no_partial_files(tmp_path, "mdad.nc")
    with pytest.raises(CloudmaskError, match="names no MDGM"):
        mdad.mdad_mask(nc, "yesterday", out)


def test_a_netcdf_on_another_grid_is_refused_naming_the_file(tmp_path):
    nc = write_dust_netcdf(tmp_path / "coarse.nc", lon_size=720, lat_size=361)
    with pytest.raises(CloudmaskError) as info:
        mdad.mdad_mask(nc, "P01_day05", tmp_path / "dust.tif")
    message = str(info.value)
    assert message.startswith(f"{nc}: ") and "lon 720 x lat 361" in message and "lon 3600 x lat 1801" in message
    no_partial_files(tmp_path, "coarse.nc")


def test_a_netcdf_without_a_dust_mask_variable_says_what_it_found(tmp_path):
    import netCDF4
    nc = tmp_path / "other.nc"
    with netCDF4.Dataset(nc, "w") as ds:
        ds.createDimension("latitude", 1801)
        ds.createDimension("longitude", 3600)
        ds.createVariable("cloudmask", "f4", ("latitude", "longitude"))
    with pytest.raises(CloudmaskError, match=r"other\.nc: no dust mask variables .* found: cloudmask\(latitude, "
                                             r"longitude\)"):
        mdad.mdad_mask(nc, "P01_day05", tmp_path / "dust.tif")
    not_netcdf = tmp_path / "not.nc"
    not_netcdf.write_text("hello")
    with pytest.raises(CloudmaskError, match=r"not\.nc: cannot be read as NetCDF"):
        mdad.mdad_mask(not_netcdf, "P01_day05", tmp_path / "dust.tif")
    no_partial_files(tmp_path, "other.nc", "not.nc")


# -- the command line --------------------------------------------------------------------------------

def test_cli_mdad_boxes_prints_one_summary_line(cli, v11_table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    rc, stdout, stderr = cli("mdad-boxes", v11_table, "--out", out, "--min-confidence", "2")
    assert rc == 0, stderr
    assert stdout.strip().splitlines() == [f"{v11_table.name}: 3 of 4 MDAD v1.1 storm boxes, 1 clipped at a pole "
                                           f"-> {out}"]
    assert len(read_layer(out)[0]) == 3


def test_cli_mdad_mask_prints_one_summary_line(cli, tmp_path):
    nc = write_dust_netcdf(tmp_path / "mdad.nc")
    out = tmp_path / "dust.tif"
    rc, stdout, stderr = cli("mdad-mask", nc, "--sol", "P01_day05", "--out", out)
    assert rc == 0, stderr
    lines = stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("P01_day05: dust ") and lines[0].endswith(f"-> {out}")
    assert out.is_file()


def test_cli_errors_are_one_line_and_exit_1(cli, tmp_path, v10_table):
    bad = _write(tmp_path / "bad.csv", "Sequence ID,Mars Year,Ls", ["S1,28,100"])
    rc, stdout, stderr = cli("mdad-boxes", bad, "--out", tmp_path / "b.gpkg")
    assert rc == 1 and stdout == ""
    assert stderr.strip().splitlines() == [f"mars-cloudmask: error: {bad}: missing columns Centroid latitude, "
                                           "Centroid longitude, Area (square km) (MDAD v1.0 needs Mars Year, Ls, "
                                           "Centroid latitude, Centroid longitude, Area (square km))"]
    rc, _, stderr = cli("mdad-boxes", v10_table, "--out", tmp_path / "b.gpkg", "--min-confidence", "1")
    assert rc == 1 and stderr.startswith(f"mars-cloudmask: error: {v10_table}: ")
    nc = write_dust_netcdf(tmp_path / "mdad.nc")
    rc, _, stderr = cli("mdad-mask", nc, "--sol", "P09_day01", "--out", tmp_path / "d.tif")
    assert rc == 1 and stderr.startswith(f"mars-cloudmask: error: {nc}: no P09_day01 in dayList")
    assert not (tmp_path / "b.gpkg").exists() and not (tmp_path / "d.tif").exists()
