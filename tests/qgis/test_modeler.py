"""The shipped graphical model (modeler/cloudmask_chain.model3) chains polarcrop -> cloudprobability
-> postfilter; run in QGIS it must give the `cloudmask` algorithm's mask pixel for pixel."""
import numpy as np
import pytest


@pytest.fixture
def chain_model(plugin, repo_root):
    from qgis.core import QgsProcessingModelAlgorithm
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(repo_root / "modeler" / "cloudmask_chain.model3"))
    return model


def test_model_chains_polarcrop_cloudprobability_postfilter(chain_model):
    children = {c.childId(): c for c in chain_model.childAlgorithms().values()}
    assert {cid: c.algorithmId() for cid, c in children.items()} == {
        "polarcrop": "marscloudmask:polarcrop", "cloudprobability": "marscloudmask:cloudprobability",
        "postfilter": "marscloudmask:postfilter"}
    assert all(c.algorithm() is not None for c in children.values())     # resolved in the registry
    assert chain_model.dependsOnChildAlgorithms("postfilter") == {"polarcrop", "cloudprobability"}
    bounds = children["cloudprobability"].parameterSources()["LAT_NORTH"][0]
    assert (bounds.outputChildId(), bounds.outputName()) == ("polarcrop", "LAT_NORTH")
    assert [d.name() for d in chain_model.destinationParameterDefinitions()] == ["postfilter:Cloud mask"]


def test_model_mask_equals_cloudmask_algorithm_pixel_for_pixel_and_loads_styled(
        chain_model, run_alg, project, archive, tiny_model_path, tmp_path, read_band, assert_global_grid):
    import processing
    from qgis.core import QgsProcessingContext
    params = {"mdgm": str(archive), "model": str(tiny_model_path), "buffer": 3.0, "tiling": 0,
              "postfilter:Cloud mask": str(tmp_path / "chain.tif")}
    ok, message = chain_model.checkParameterValues(params, QgsProcessingContext())
    assert ok, message
    result = processing.runAndLoadResults(chain_model, params)
    assert result["postfilter:Cloud mask"] == str(tmp_path / "chain.tif")
    direct = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path),
                                   "OUTPUT": str(tmp_path / "direct.tif")})
    assert_global_grid(tmp_path / "chain.tif")
    chained, tags, _, _ = read_band(tmp_path / "chain.tif")
    one_step = read_band(direct["OUTPUT"])[0]
    assert (chained == 1).any() and (chained == 0).any() and (chained == -999).any()
    np.testing.assert_array_equal(chained, one_step)
    assert tags["LS"] == "136.5" and tags["MODEL"] == "tiny-random test"
    # the model's output is loaded like the algorithm's: Mars CRS and the cloud / clear / invalid legend
    [layer] = project.mapLayers().values()
    assert layer.source() == str(tmp_path / "chain.tif") and layer.crs().authid() == "IAU_2015:49900"
    assert [c.label for c in layer.renderer().classes()] == ["cloud", "clear", "invalid"]
    del layer
