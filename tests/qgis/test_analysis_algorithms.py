"""The analysis algorithms (cloudfrequency, zonalclimatology, cloudseries, cloudinpolygons) in a
real headless QGIS: processing.run gives the engine's products, outputs load styled on Mars, a
chain from MDAD boxes to their cloud cover, one run through qgis_process, and bad input stops with
a QgsProcessingException naming the file."""
import csv
import gc
import json
import os
import subprocess

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException

N = -999


def write_mask(folder, sol, cloud_rows, ls, year=28):
    """A mask with cloud in `cloud_rows`, clear in the 20 rows below them, invalid elsewhere."""
    from mars_cloudmask_plugin import grid
    from mars_cloudmask_plugin.writers import write_geotiff
    mask = np.full((grid.HEIGHT, grid.WIDTH), N, np.int16)
    mask[cloud_rows] = 1
    mask[cloud_rows.stop:cloud_rows.stop + 20] = 0
    folder.mkdir(parents=True, exist_ok=True)
    return write_geotiff(folder / f"{sol}_zequat_cloudmask.tif", mask,
                         {"SOL": sol, "LS": f"{ls:g}", "MARS_YEAR": year, "SOURCE_FILE": f"{sol}_zequat.jpg"})


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    root = tmp_path_factory.mktemp("masks")
    write_mask(root / "P01", "P01_day10", slice(800, 820), 136.5)
    write_mask(root / "P01", "P01_day11", slice(800, 810), 137.0)
    write_mask(root / "P02", "P02_day01", slice(850, 860), 143.7)
    return root


def test_cloudfrequency_groups_by_subphase_and_loads_every_map_styled_on_mars(plugin, project, masks, tmp_path):
    import processing
    result = processing.runAndLoadResults("marscloudmask:cloudfrequency", {
        "FOLDER": str(masks), "GROUP_BY": 1, "OUTPUT": str(tmp_path / "freq.tif")})
    assert result["SOLS"] == 3
    files = result["OUTPUT_FILES"].splitlines()
    assert [os.path.basename(f) for f in files] == ["freq_P01.tif", "freq_P02.tif"]
    with rasterio.open(files[0]) as src:
        freq, valid = src.read(1), src.read(2)
    assert freq[805, 0] == 1.0 and freq[815, 0] == 0.5 and valid[815, 0] == 2
    layers = {layer.source(): layer for layer in project.mapLayers().values()}
    assert set(layers) == set(files)                       # the unwritten pattern name is not loaded
    for layer in layers.values():
        assert layer.crs().authid() == "IAU_2015:49900"
        assert layer.renderer().type() == "singlebandpseudocolor"
    del layers
    gc.collect()


def test_zonalclimatology_writes_netcdf_csv_figure_and_an_html_report(run_alg, masks, tmp_path):
    result = run_alg("zonalclimatology", {"INPUT": [str(masks / "P01" / "P01_day10_zequat_cloudmask.tif")],
                                          "FOLDER": str(masks / "P02"), "LS_BIN": 10.0,
                                          "OUTPUT": str(tmp_path / "z.nc"), "OUTPUT_CSV": str(tmp_path / "z.csv"),
                                          "OUTPUT_FIGURE": str(tmp_path / "z.png"),
                                          "OUTPUT_HTML": str(tmp_path / "z.html")})
    assert result["SOLS"] == 2 and result["OUTPUT_HTML"] == str(tmp_path / "z.html")
    assert "z.png" in (tmp_path / "z.html").read_text()
    rows = [r for r in csv.DictReader(open(tmp_path / "z.csv")) if r["cloud_fraction"]]
    assert {(r["ls_start"], r["sols"]) for r in rows} == {("130.0", "1"), ("140.0", "1")}


def test_cloudseries_and_a_box_report_km2_per_sol(run_alg, masks, tmp_path):
    result = run_alg("cloudseries", {"FOLDER": str(masks), "BANDS": False, "BOX": "-180,179.95,-10,10",
                                     "OUTPUT": str(tmp_path / "s.csv"), "OUTPUT_FIGURE": str(tmp_path / "s.png")})
    assert result["ROWS"] == 3 and (tmp_path / "s.png").is_file()
    rows = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert [r["sol"] for r in rows] == ["P01_day10", "P01_day11", "P02_day01"]
    assert all(float(r["cloud_km2"]) > 0 for r in rows)


def test_mdad_boxes_chain_into_cloud_in_polygons_each_on_its_own_sol(run_alg, masks, tmp_path):
    from qgis.core import QgsVectorLayer
    table = tmp_path / "MDAD_v1.1.csv"
    table.write_text("subphase,sol,mem_ID,seq_ID,confidence_flag,area,swathLs,centroid_lon,centroid_lat\n"
                     "P01,10,D01_001,S1,3,500000,136.5,0.0,9.0\nP02,1,D02_001,S2,3,500000,143.7,50.0,4.0\n")
    boxes = run_alg("mdadboxes", {"INPUT": str(table), "OUTPUT": str(tmp_path / "boxes.gpkg")})["OUTPUT"]
    result = run_alg("cloudinpolygons", {"INPUT": boxes, "FOLDER": str(masks), "OUTPUT": str(tmp_path / "c.gpkg")})
    assert result["MATCHED"] == 2
    layer = QgsVectorLayer(str(tmp_path / "c.gpkg"), "c", "ogr")
    try:
        assert layer.crs().authid() == "IAU_2015:49900"
        features = {f["mem_id"]: f for f in layer.getFeatures()}
        assert features["D01_001"]["mask_sol"] == "P01_day10" and features["D02_001"]["mask_sol"] == "P02_day01"
        assert 0 < features["D01_001"]["cloud_fraction"] <= 1 and features["D01_001"]["cloud_km2"] > 0
    finally:
        del layer
        gc.collect()


@pytest.mark.parametrize("algorithm", ["cloudfrequency", "zonalclimatology", "cloudseries"])
def test_a_file_that_is_not_a_mask_stops_naming_it(run_alg, tmp_path, algorithm):
    bad = tmp_path / "notes.tif"
    with rasterio.open(bad, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8") as dst:
        dst.write(np.zeros((1, 10, 10), np.uint8))
    out = {"cloudfrequency": "f.tif", "zonalclimatology": "z.nc", "cloudseries": "s.csv"}[algorithm]
    with pytest.raises(QgsProcessingException, match=str(bad)):
        run_alg(algorithm, {"INPUT": [str(bad)], "OUTPUT": str(tmp_path / out)})
    assert not (tmp_path / out).exists()


def test_analyses_without_masks_say_so(run_alg, tmp_path):
    with pytest.raises(QgsProcessingException, match="Give cloud masks, a folder of masks, or both"):
        run_alg("cloudfrequency", {"OUTPUT": str(tmp_path / "f.tif")})


def test_qgis_process_runs_cloudfrequency(repo_root, masks, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_PLUGINPATH", "QGIS_CUSTOM_CONFIG_PATH")}
    env["HOME"] = str(tmp_path / "home")
    proc = subprocess.run(["bash", str(repo_root / "scripts" / "qgis_process.sh"), "--json", "run",
                           "marscloudmask:cloudfrequency", "--", f"FOLDER={masks}", "MIN_VALID=2",
                           f"OUTPUT={tmp_path / 'f.tif'}"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads(proc.stdout[proc.stdout.index("{"):])["results"]
    assert results["SOLS"] == 3
    with rasterio.open(tmp_path / "f.tif") as src:
        freq = src.read(1)
    assert freq[815, 0] == 0.5 and freq[855, 0] == N            # valid on one sol only: below MIN_VALID
