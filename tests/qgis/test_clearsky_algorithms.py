"""The clear-sky reference in a real headless QGIS: the clearskyreference algorithm, cloudmask with
a reference, and the batch algorithm with one reference per folder."""
import gc

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException


@pytest.fixture(scope="module")
def subphase(tmp_path_factory, synthetic_map, jpeg_writer):
    folder = tmp_path_factory.mktemp("archive") / "P03"
    for day in (1, 2, 3):
        jpeg_writer(folder / f"P03_day0{day}_zequat.jpg", synthetic_map(seed=day))
        with open(folder / "P03_ls.txt", "a") as table:
            table.write(f"P03_day0{day}       28       {150 + day:.3f}\n")
    return folder


def test_clearskyreference_writes_the_reference_and_loads_it_in_true_colour_on_mars(plugin, project, subphase,
                                                                                  tmp_path):
    import processing
    result = processing.runAndLoadResults("marscloudmask:clearskyreference", {
        "INPUT": str(subphase), "OUTPUT": str(tmp_path / "P03_clearsky.tif")})
    assert result["SOLS"] == 3
    with rasterio.open(result["OUTPUT"]) as src:
        assert src.count == 5 and src.tags()["SOLS"] == "P03_day01,P03_day02,P03_day03"
    layers = list(project.mapLayers().values())
    assert [layer.name() for layer in layers] == ["Clear-sky reference (3 sols, Ls 151-153)"]
    assert layers[0].crs().authid() == "IAU_2015:49900" and layers[0].renderer().type() == "multibandcolor"
    assert layers[0].renderer().redContrastEnhancement().maximumValue() == 255
    del layers
    gc.collect()


def test_clearskyreference_without_mdgms_says_what_to_choose(run_alg, tmp_path):
    with pytest.raises(QgsProcessingException, match="No MDGMs"):
        run_alg("clearskyreference", {"OUTPUT": str(tmp_path / "r.tif")})


def test_cloudmask_takes_a_reference_and_refuses_a_file_that_is_not_one(run_alg, subphase, tmp_path,
                                                                        tiny_clearsky_model_path):
    reference = run_alg("clearskyreference", {"INPUT": str(subphase), "OUTPUT": str(tmp_path / "ref.tif")})["OUTPUT"]
    params = {"INPUT": str(subphase / "P03_day02_zequat.jpg"), "MODEL": str(tiny_clearsky_model_path),
              "TILE_SIZE": 316, "OUTPUT": str(tmp_path / "mask.tif")}
    result = run_alg("cloudmask", dict(params, REFERENCE=reference))
    with rasterio.open(result["OUTPUT"]) as src:
        assert src.tags()["REFERENCE"].startswith("ref.tif (3 sols")
        assert set(np.unique(src.read(1))) <= {-999, 0, 1}
    with pytest.raises(QgsProcessingException, match=r"mask\.tif: is not a clear-sky reference"):
        run_alg("cloudmask", dict(params, REFERENCE=result["OUTPUT"], OUTPUT=str(tmp_path / "mask2.tif")))
    with pytest.raises(QgsProcessingException, match="needs a clear-sky reference"):
        run_alg("cloudmask", dict(params, OUTPUT=str(tmp_path / "mask3.tif")))


def test_batchcloudmask_makes_one_reference_per_folder(run_alg, subphase, tmp_path, tiny_clearsky_model_path):
    out = tmp_path / "masks"
    result = run_alg("batchcloudmask", {"INPUT": str(subphase.parent), "OUTPUT": str(out), "FORMATS": [0],
                                        "REFERENCE_PER_FOLDER": True, "MODEL": str(tiny_clearsky_model_path),
                                        "TILE_SIZE": 0})
    assert result["DONE"] == 3 and result["FAILED"] == 0
    assert (out / "P03" / "P03_clearsky.tif").is_file()
    with rasterio.open(out / "P03" / "P03_day01_zequat_cloudmask.tif") as src:
        assert src.tags()["REFERENCE"] == "P03_clearsky.tif (3 sols, Ls 151-153, p20)"


def test_cloudprobability_takes_a_reference_for_the_reference_aware_model(run_alg, subphase, tmp_path,
                                                                          tiny_clearsky_model_path):
    reference = run_alg("clearskyreference", {"INPUT": str(subphase), "OUTPUT": str(tmp_path / "ref.tif")})["OUTPUT"]
    result = run_alg("cloudprobability", {"INPUT": str(subphase / "P03_day02_zequat.jpg"), "REFERENCE": reference,
                                          "MODEL": str(tiny_clearsky_model_path), "TILE_SIZE": 316,
                                          "OUTPUT": str(tmp_path / "prob.tif")})
    with rasterio.open(result["OUTPUT"]) as src:
        assert src.tags()["REFERENCE"].startswith("ref.tif (3 sols")
        assert src.read(1).max() <= 1.0
