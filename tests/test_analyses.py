"""The analyses of masks on synthetic masks whose answers are worked out by hand here: cloud
frequency, the latitude x Ls diagram, the per-sol time series in km^2 on the Mars sphere, cloud
cover in polygons; the CLI commands; bad input; and one run on the real season sample."""
import csv
import math

import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.writers import write_geotiff, write_netcdf

N = grid.NODATA
R_KM = grid.MARS_RADIUS_M / 1000


def blank():
    return np.full((grid.HEIGHT, grid.WIDTH), N, np.int16)


def row(lat):
    return int(round((90 - lat) * 10))


def col(lon):
    return int(round((lon + 180) * 10))


def write_mask(folder, sol, mask, ls, year=28, suffix="tif"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sol}_zequat_cloudmask.{suffix}"
    tags = {"SOL": sol, "LS": f"{ls:g}", "MARS_YEAR": year, "SOURCE_FILE": f"{sol}_zequat.jpg"}
    if suffix == "tif":
        return write_geotiff(path, mask, tags)
    return write_netcdf(path, mask, {k.lower(): v for k, v in tags.items()})


@pytest.fixture(scope="module")
def three_sols(tmp_path_factory):
    """P02_day01 (Ls 144): pixel A cloud, B clear; P02_day05 (Ls 146): A clear, B cloud;
    P03_day01 (Ls 152): A invalid, B cloud. Everything else invalid."""
    root = tmp_path_factory.mktemp("masks")
    a, b = (row(10.0), col(20.0)), (row(-30.0), col(-100.0))
    values = {"P02_day01": (1, 0, 144.0), "P02_day05": (0, 1, 146.0), "P03_day01": (N, 1, 152.0)}
    for sol, (va, vb, ls) in values.items():
        mask = blank()
        mask[a], mask[b] = va, vb
        write_mask(root / sol[:3], sol, mask, ls)
    return root, a, b


def read_bands(path):
    import rasterio
    with rasterio.open(path) as src:
        return src.read(), src.descriptions, src.tags(), src.crs.to_string(), src.transform


# -- cloud frequency --------------------------------------------------------------------------

def test_frequency_is_cloud_sols_over_valid_sols_ignoring_invalid_pixels(three_sols, tmp_path):
    from mars_cloudmask_plugin.frequency import cloud_frequency
    root, a, b = three_sols
    [out] = cloud_frequency([root], tmp_path / "f.tif")
    bands, names, tags, crs, transform = read_bands(out.path)
    assert names == ("cloud frequency", "valid sols", "cloud sols") and out.sols == 3
    assert bands[:, a[0], a[1]].tolist() == [0.5, 2, 1]          # cloud once of two valid sols
    assert bands[:, b[0], b[1]].tolist() == pytest.approx([2 / 3, 3, 2])
    assert bands[0, 0, 0] == N and bands[1, 0, 0] == 0           # never valid: nodata, count 0
    assert tags["SOLS"] == "3" and tags["MARS_YEARS"] == "28" and tags["LS_MIN"] == "144"
    assert transform.to_gdal() == grid.geotransform() and bands.shape == (3, grid.HEIGHT, grid.WIDTH)


def test_frequency_minimum_valid_sols_filters_and_groups(three_sols, tmp_path):
    from mars_cloudmask_plugin.frequency import cloud_frequency
    root, a, b = three_sols
    [out] = cloud_frequency([root], tmp_path / "f.tif", min_valid=3)
    bands = read_bands(out.path)[0]
    assert bands[0, a[0], a[1]] == N and bands[1, a[0], a[1]] == 2   # 2 valid sols < 3: no frequency
    assert bands[0, b[0], b[1]] == pytest.approx(2 / 3)
    groups = cloud_frequency([root], tmp_path / "g.tif", group_by="subphase")
    assert [(g.group, g.path.name, g.sols) for g in groups] == [("P02", "g_P02.tif", 2), ("P03", "g_P03.tif", 1)]
    assert read_bands(groups[1].path)[0][:, b[0], b[1]].tolist() == [1.0, 1, 1]
    by_ls = cloud_frequency([root], tmp_path / "l.tif", group_by="ls:5")
    assert [(g.group, g.sols) for g in by_ls] == [("Ls140-145", 1), ("Ls145-150", 1), ("Ls150-155", 1)]
    filtered = cloud_frequency([root], tmp_path / "p.tif", ls_range="145-160", subphases=["P02"])
    assert [g.sols for g in filtered] == [1]


def test_frequency_counts_a_sol_once_when_both_its_geotiff_and_netcdf_are_in_the_folder(tmp_path):
    from mars_cloudmask_plugin.frequency import cloud_frequency
    mask = blank()
    mask[row(0), col(0)] = 1
    write_mask(tmp_path / "out", "P04_day01", mask, 160.0)
    write_mask(tmp_path / "out", "P04_day01", mask, 160.0, suffix="nc")
    [out] = cloud_frequency([tmp_path / "out"], tmp_path / "f.nc")
    assert out.sols == 1
    import netCDF4
    with netCDF4.Dataset(out.path) as ds:
        assert set(ds.variables) >= {"cloud_frequency", "valid_sols", "cloud_sols", "mars_crs"}
        assert ds.variables["mars_crs"].semi_major_axis == grid.MARS_RADIUS_M
        freq = ds.variables["cloud_frequency"][:][::-1]           # stored latitude ascending
    assert freq[row(0), col(0)] == 1.0


# -- latitude x Ls ----------------------------------------------------------------------------

def test_zonal_cell_is_the_area_weighted_cloud_share_of_its_rows(tmp_path):
    """Bin 60-61 N: the row at 60.0 N all cloud, the row at 60.9 N all clear: the share is the
    cloudy row's area over both, cos(60) / (cos(60) + cos(60.9)), not one half."""
    from mars_cloudmask_plugin.climatology import zonal_climatology
    from mars_cloudmask_plugin.masks import select_masks
    mask = blank()
    mask[row(60.0)] = 1
    mask[row(60.9)] = 0
    mask[row(-20.0), :1800] = 1                                     # west half cloud, east half invalid
    write_mask(tmp_path, "P05_day01", mask, 190.0)
    clim = zonal_climatology(select_masks([tmp_path]), lat_bin=1.0, ls_bin=5.0)
    i60 = int(np.searchsorted(clim.lat_edges, 60.0))
    expected = math.cos(math.radians(60.0)) / (math.cos(math.radians(60.0)) + math.cos(math.radians(60.9)))
    assert clim.cloud_fraction[i60, 0] == pytest.approx(expected, rel=1e-9)
    assert clim.valid_pixels[i60, 0] == 2 * 3600
    i20 = int(np.searchsorted(clim.lat_edges, -20.0))
    assert clim.cloud_fraction[i20, 0] == 1.0 and clim.valid_pixels[i20, 0] == 1800
    assert math.isnan(clim.cloud_fraction[0, 0])                     # no valid pixel: empty, not 0
    east = zonal_climatology(select_masks([tmp_path]), lon_window=(0.0, 180.0))
    assert math.isnan(east.cloud_fraction[i20, 0])                   # the cloudy half is west of 0


def test_zonal_ls_runs_on_across_mars_years_and_writes_netcdf_csv_figure_and_report(tmp_path):
    from mars_cloudmask_plugin.climatology import zonal_products
    for sol, ls, year, value in (("P21_day01", 352.0, 28, 1), ("P21_day15", 358.0, 28, 0), ("P22_day01", 2.0, 29, 1)):
        mask = blank()
        mask[row(0.0)] = value
        write_mask(tmp_path / "m", sol, mask, ls, year)
    out = tmp_path / "o"
    result = zonal_products([tmp_path / "m"], out / "z.nc", out / "z.csv", out / "z.png", out / "z.html", ls_bin=10)
    clim = result.climatology
    assert clim.mars_years == (28, 29) and clim.sols.tolist() == [2, 1] and clim.n_sols == 3
    assert clim.season_edges.tolist() == [28 * 360 + 350, 28 * 360 + 360, 28 * 360 + 370]
    rows = list(csv.DictReader(open(out / "z.csv")))
    equator = [r for r in rows if r["lat_south"] == "0.0"]
    assert [(r["mars_year"], r["ls_start"], r["ls_end"], r["cloud_fraction"], r["sols"]) for r in equator] == [
        ("28", "350.0", "360.0", "0.5", "2"), ("29", "0.0", "10.0", "1.0", "1")]
    import netCDF4
    with netCDF4.Dataset(out / "z.nc") as ds:
        assert ds.variables["mars_year"][:].tolist() == [28, 29] and ds.number_of_sols == 3
        assert ds.variables["cloud_fraction"].shape == (180, 2)
    assert (out / "z.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "z.png" in (out / "z.html").read_text() and "<img" in (out / "z.html").read_text()


# -- time series ------------------------------------------------------------------------------

def test_series_areas_are_exact_on_the_mars_sphere(tmp_path):
    from mars_cloudmask_plugin.series import series_products
    mask = blank()
    mask[row(19.9):row(10.0) + 1] = 1                               # band 10-20 N all cloud
    mask[row(-0.1):row(-10.0) + 1, :1800] = 0                       # band -10-0, west half clear
    write_mask(tmp_path / "m", "P06_day01", mask, 200.0)
    result = series_products([tmp_path / "m"], tmp_path / "s.csv", tmp_path / "s.png", band=10,
                             box="-180,-0.05,-9.95,-0.05")
    rows = {r["region"]: r for r in result.rows}
    band = rows["lat +10 to +20"]
    exact = R_KM ** 2 * 2 * math.pi * (math.sin(math.radians(19.95)) - math.sin(math.radians(9.95)))
    assert band["cloud_km2"] == pytest.approx(exact, rel=1e-6) and band["cloud_fraction"] == 1.0
    assert band["valid_fraction"] == pytest.approx(1.0)
    south = rows["lat -10 to +0"]
    assert south["cloud_fraction"] == 0.0 and south["valid_fraction"] == pytest.approx(0.5)
    box = rows["box -180,-0.05,-9.95,-0.05"]
    assert box["valid_fraction"] == pytest.approx(1.0) and box["valid_km2"] == pytest.approx(exact_box(), rel=1e-6)
    lines = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert len(lines) == 19 and lines[0]["sol"] == "P06_day01" and lines[0]["ls"] == "200.0"
    assert (tmp_path / "s.png").stat().st_size > 1000


def exact_box():
    """Pixel centres lon -180..-0.1, lat -9.9..-0.1: edges lon -180.05..-0.05, lat -9.95..-0.05."""
    return R_KM ** 2 * math.radians(180.0) * (math.sin(math.radians(-0.05)) - math.sin(math.radians(-9.95)))


# -- cloud in polygons ------------------------------------------------------------------------

def write_polygons(path, boxes, fields):
    from osgeo import ogr, osr
    ogr.UseExceptions()
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.mars_crs_wkt())
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("boxes", srs, ogr.wkbPolygon)
    for name, kind in fields:
        layer.CreateField(ogr.FieldDefn(name, kind))
    for (w, e, s, n), values in boxes:
        feature = ogr.Feature(layer.GetLayerDefn())
        for (name, _), value in zip(fields, values):
            feature.SetField(name, value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON (({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"))
        layer.CreateFeature(feature)
    ds = None
    return path


def read_features(path):
    from osgeo import ogr
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    out = [{k: f.GetField(k) for k in f.keys()} for f in layer]
    return out, layer.GetSpatialRef().GetSemiMajor()


def test_polygons_are_scored_against_the_mask_of_their_own_sol(tmp_path):
    from osgeo import ogr
    from mars_cloudmask_plugin.polygons import cloud_in_polygons
    cloudy, clear = blank(), blank()
    cloudy[row(10.0):row(0.1) + 1, col(0.1):col(10.0) + 1] = 1      # the box's pixels, all cloud
    clear[row(10.0):row(5.1) + 1, col(0.1):col(10.0) + 1] = 0       # north half clear, south half invalid
    write_mask(tmp_path / "m", "P07_day01", cloudy, 210.0)
    write_mask(tmp_path / "m", "P07_day02", clear, 211.0)
    box = (0.05, 10.05, 0.05, 10.05)
    layer = write_polygons(tmp_path / "boxes.gpkg", [(box, ["P07_day01", "a"]), (box, ["P07_day02", "b"]),
                                                     (box, ["P09_day09", "c"])],
                           [("sol_name", ogr.OFTString), ("storm", ogr.OFTString)])
    result = cloud_in_polygons(layer, [tmp_path / "m"], tmp_path / "out.gpkg")
    assert (result.features, result.matched, result.matching) == (3, 2, "sol_name")
    features, radius = read_features(tmp_path / "out.gpkg")
    area = R_KM ** 2 * math.radians(10.0) * (math.sin(math.radians(10.05)) - math.sin(math.radians(0.05)))
    first, second, third = features
    assert radius == grid.MARS_RADIUS_M and first["storm"] == "a"
    assert first["cloud_fraction"] == 1.0 and first["valid_fraction"] == pytest.approx(1.0)
    assert first["cloud_km2"] == pytest.approx(area, rel=1e-9) and first["mask_sol"] == "P07_day01"
    north = R_KM ** 2 * math.radians(10.0) * (math.sin(math.radians(10.05)) - math.sin(math.radians(5.05)))
    assert second["cloud_fraction"] == 0.0 and second["valid_km2"] == pytest.approx(north, rel=1e-9)
    assert third["mask_sol"] is None and third["cloud_km2"] is None  # no mask of that sol: left empty


def test_polygons_match_mars_year_and_nearest_ls_within_the_tolerance(tmp_path):
    from osgeo import ogr
    from mars_cloudmask_plugin.polygons import cloud_in_polygons
    mask = blank()
    mask[row(10.0):row(0.1) + 1, col(0.1):col(10.0) + 1] = 1
    write_mask(tmp_path / "m", "P07_day01", mask, 210.0, year=28)
    box = (0.05, 10.05, 0.05, 10.05)
    layer = write_polygons(tmp_path / "v10.gpkg", [(box, [28, 210.4]), (box, [28, 213.0]), (box, [29, 210.0])],
                           [("Mars Year", ogr.OFTInteger), ("Ls", ogr.OFTReal)])
    result = cloud_in_polygons(layer, [tmp_path / "m"], tmp_path / "out.gpkg", ls_tolerance=1.0)
    assert result.matched == 1 and "nearest Ls" in result.matching
    features, _ = read_features(tmp_path / "out.gpkg")
    assert [f["mask_sol"] for f in features] == ["P07_day01", None, None]


# -- CLI and bad input ------------------------------------------------------------------------

def test_cli_analyses_write_their_products(three_sols, tmp_path, cli):
    root = three_sols[0]
    rc, out, err = cli("frequency", "--root", root, "--out", tmp_path / "f.tif", "--group-by", "subphase")
    assert rc == 0, err
    assert "f_P02.tif: cloud frequency of 2 sols (P02)" in out and (tmp_path / "f_P03.tif").is_file()
    rc, out, err = cli("zonal", root, "--out", tmp_path / "z.nc", "--csv", tmp_path / "z.csv",
                       "--figure", tmp_path / "z.png", "--lon-window=-135,-90")
    assert rc == 0, err
    assert "latitude x Ls of 3 sols (Mars years 28)" in out and (tmp_path / "z.png").is_file()
    rc, out, err = cli("series", root, "--out", tmp_path / "s.csv", "--box", "10,30,0,20", "--no-bands")
    assert rc == 0, err
    assert "3 sols, 3 rows" in out


@pytest.mark.parametrize("case, problem", [
    ("not_ours", "cannot tell its sol"),
    ("other_grid", "mask is 10 x 10 pixels"),
    ("empty", "no cloud masks found"),
    ("filtered_out", "no cloud masks pass Mars years [30]"),
])
def test_bad_mask_sets_give_one_line_errors_naming_the_file_and_no_output(three_sols, tmp_path, cli, case, problem):
    import rasterio
    folder = tmp_path / case
    folder.mkdir()
    inputs = [folder]
    if case == "not_ours":
        bad = write_geotiff(folder / "something.tif", blank())
        inputs = [bad]
    elif case == "other_grid":
        bad = folder / "P01_day01_zequat_cloudmask.tif"
        with rasterio.open(bad, "w", driver="GTiff", width=10, height=10, count=1, dtype="int16") as dst:
            dst.write(np.zeros((1, 10, 10), np.int16))
    elif case == "filtered_out":
        inputs = [three_sols[0], "--mars-year", "30"]
    rc, out, err = cli("frequency", *inputs, "--out", tmp_path / "o" / "f.tif")
    assert rc == 1 and len(err.strip().splitlines()) == 1 and problem in err, err
    if case in ("not_ours", "other_grid"):
        assert str(bad) in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


# -- real data --------------------------------------------------------------------------------

def test_frequency_and_zonal_on_the_published_masks_of_two_subphases(shared_data, tmp_path):
    """The season sample's published masks (another model's output: a plausibility check, not
    accuracy): P02 and P03, 8 sols each, aphelion season (Ls 143-157)."""
    from mars_cloudmask_plugin.climatology import zonal_products
    from mars_cloudmask_plugin.frequency import cloud_frequency
    year = shared_data / "year"
    maps = cloud_frequency([year / "P02", year / "P03"], tmp_path / "f.tif", group_by="subphase")
    assert [(m.group, m.sols) for m in maps] == [("P02", 8), ("P03", 8)]
    bands = read_bands(maps[0].path)[0]
    valid = bands[1] > 0
    assert bands[1].max() == 8 and 0.3 < valid.mean() < 0.9
    assert 0.02 < float(bands[0][valid].mean()) < 0.5
    result = zonal_products([year / "P02", year / "P03"], tmp_path / "z.nc", figure=tmp_path / "z.png")
    clim = result.climatology
    assert clim.n_sols == 16 and clim.mars_years == (28,)
    tropics = clim.cloud_fraction[(clim.lat_edges[:-1] >= -10) & (clim.lat_edges[:-1] < 30)]
    assert np.nanmean(tropics) > np.nanmean(clim.cloud_fraction[(clim.lat_edges[:-1] >= -40)
                                                                & (clim.lat_edges[:-1] < -20)])


def test_polygons_in_0_to_360_longitudes_or_across_the_antimeridian_are_scored_whole(tmp_path):
    from osgeo import ogr
    from mars_cloudmask_plugin.polygons import cloud_in_polygons
    mask = blank()
    mask[row(10.0):row(0.1) + 1, :] = 1                              # a cloudy belt all round the planet
    write_mask(tmp_path / "m", "P07_day01", mask, 210.0)
    east = (200.05, 210.05, 0.05, 10.05)                              # = -159.95 .. -149.95
    across = (175.05, 185.05, 0.05, 10.05)                            # 175 E .. 175 W
    plain = (-159.95, -149.95, 0.05, 10.05)
    layer = write_polygons(tmp_path / "b.gpkg", [(east, ["a"]), (across, ["b"]), (plain, ["c"])],
                           [("storm", ogr.OFTString)])
    cloud_in_polygons(layer, [tmp_path / "m" / "P07_day01_zequat_cloudmask.tif"], tmp_path / "o.gpkg")
    features, _ = read_features(tmp_path / "o.gpkg")
    area = R_KM ** 2 * math.radians(10.0) * (math.sin(math.radians(10.05)) - math.sin(math.radians(0.05)))
    for feature in features:
        assert feature["cloud_km2"] == pytest.approx(area, rel=1e-6), feature["storm"]
        assert feature["cloud_fraction"] == 1.0


def test_latitude_bins_and_bands_never_run_past_the_poles_nor_drop_a_row(tmp_path):
    from mars_cloudmask_plugin.climatology import zonal_climatology
    from mars_cloudmask_plugin.masks import select_masks
    from mars_cloudmask_plugin.series import latitude_bands
    assert sum(len(r.rows) for r in latitude_bands(0.1)) == grid.HEIGHT
    assert sum(len(r.rows) for r in latitude_bands(7)) == grid.HEIGHT
    mask = blank()
    mask[:] = 0
    write_mask(tmp_path, "P08_day01", mask, 220.0)
    for width in (7.0, 100.0, 0.3):
        clim = zonal_climatology(select_masks([tmp_path]), lat_bin=width)
        edges = clim.lat_edges
        assert edges[0] == -90.0 and edges[-1] == 90.0 and (np.diff(edges) > 0).all(), width
        assert clim.valid_pixels.sum() == grid.HEIGHT * grid.WIDTH                # every row in one bin
