"""The MDAD algorithms (mdadboxes, mdadmask) through processing.run in a real headless QGIS: the
same result as the engine, the boxes' layer on the Mars CRS, the dust mask on the global grid, and
a bad table stopping with a QgsProcessingException that names the file."""
import gc

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException, QgsVectorLayer

V11_HEADER = "subphase,sol,mem_ID,seq_ID,confidence_flag,area,swathLs,centroid_lon,centroid_lat"
V11_ROWS = ["P01,10,D01_031+032,S0001,3,800000,136.8,179.5,5.0",
            "P01,10,D01_033,S0001,1,300000,136.8,200.0,60.0",
            "P01,11,D02_001,S0002,2,1500000,137.2,10.0,86.0"]


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "MDAD_v1.1_master.csv"
    path.write_text("\n".join([V11_HEADER] + V11_ROWS) + "\n")
    return path


def test_mdadboxes_writes_a_geopackage_layer_on_the_mars_crs(run_alg, table, tmp_path):
    out = tmp_path / "boxes.gpkg"
    result = run_alg("mdadboxes", {"INPUT": str(table), "OUTPUT": str(out)})
    assert result["OUTPUT"] == str(out) and result["COUNT"] == 3
    layer = QgsVectorLayer(str(out), "boxes", "ogr")
    try:
        assert layer.isValid()
        assert layer.crs().authid() == "IAU_2015:49900"
        assert layer.featureCount() == 3
        names = layer.fields().names()
        assert {"mem_id", "confidence_flag", "box_km2", "sol_name"} <= set(names)
        members = sorted(f["mem_id"] for f in layer.getFeatures())
        assert members == ["D01_031+032", "D01_033", "D02_001"]
        split = next(f for f in layer.getFeatures() if f["mem_id"] == "D01_031+032")
        assert split.geometry().constGet().numGeometries() == 2
        assert split["sol_name"] == "P01_day10"
    finally:
        del layer
        gc.collect()


def test_mdadboxes_filters_on_confidence_as_the_engine_does(run_alg, table, tmp_path):
    from mars_cloudmask_plugin import mdad
    engine = mdad.mdad_boxes(table, tmp_path / "engine.gpkg", min_confidence=2)
    result = run_alg("mdadboxes", {"INPUT": str(table), "MIN_CONFIDENCE": 2, "OUTPUT": "TEMPORARY_OUTPUT"})
    assert result["COUNT"] == engine.count == 2
    assert result["OUTPUT"].endswith(".gpkg")
    layer = QgsVectorLayer(result["OUTPUT"], "boxes", "ogr")
    try:
        assert layer.featureCount() == 2 and layer.crs().authid() == "IAU_2015:49900"
    finally:
        del layer
        gc.collect()


def test_mdadboxes_refuses_a_bad_table_naming_the_file(run_alg, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("subphase,sol,mem_ID,area,centroid_lon\nP01,1,D01_001,1000,20\n")
    out = tmp_path / "boxes.gpkg"
    with pytest.raises(QgsProcessingException, match=r"bad\.csv: missing columns centroid_lat"):
        run_alg("mdadboxes", {"INPUT": str(bad), "OUTPUT": str(out)})
    assert not out.exists()


def _dust_netcdf(path):
    import netCDF4
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", 2)
        ds.createDimension("lon", 3600)
        ds.createDimension("lat", 1801)
        ds.createDimension("nchar", 9)
        ds.createVariable("lat", "f4", ("lat",))[:] = -90 + 0.1 * np.arange(1801)
        ds.createVariable("lon", "f4", ("lon",))[:] = -180 + 0.1 * np.arange(3600)
        ds.createVariable("dayList", "S1", ("time", "nchar"))[:] = netCDF4.stringtochar(
            np.array(["P01_day04", "P01_day05"], "S9"))
        var = ds.createVariable("dustmask", "u1", ("time", "lon", "lat"), zlib=True)
        data = np.zeros((2, 3600, 1801), np.uint8)
        data[1, 2253, 1202] = 9              # lon 45.3, lat 30.2
        var[:] = data
    return path


def test_mdadmask_writes_the_sol_on_the_global_grid(run_alg, tmp_path, assert_global_grid):
    nc = _dust_netcdf(tmp_path / "mdad.nc")
    out = tmp_path / "dust.tif"
    result = run_alg("mdadmask", {"INPUT": str(nc), "SOL": "P01_day05", "OUTPUT": str(out)})
    assert result["OUTPUT"] == str(out)
    assert result["MISSING_FRACTION"] == 0.0 and result["DUST_FRACTION"] == pytest.approx(1 / (3600 * 1801))
    assert_global_grid(out)
    with rasterio.open(out) as src:
        values = src.read(1)
        assert src.nodata == 255 and src.tags()["SOL"] == "P01_day05"
    assert np.argwhere(values == 9).tolist() == [[598, 2253]]


def test_mdadmask_refuses_an_unknown_sol_naming_the_file(run_alg, tmp_path):
    nc = _dust_netcdf(tmp_path / "mdad.nc")
    with pytest.raises(QgsProcessingException, match=r"mdad\.nc: no P02_day01 in dayList; it holds P01_day04"):
        run_alg("mdadmask", {"INPUT": str(nc), "SOL": "P02_day01", "OUTPUT": str(tmp_path / "dust.tif")})
    assert not (tmp_path / "dust.tif").exists()
