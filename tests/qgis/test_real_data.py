"""Every algorithm on real MARCI maps with the shipped model, in QGIS: the sample MDGM the repository
carries, and (where ../shared/data exists) an archive of real sols in batch mode. The QGIS results
must be the engine's, pixel for pixel, and look like a Mars cloud mask (valid share of the globe and
cloud share of the valid pixels in the ranges measured on the reference masks)."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def shipped_engine_mask(shipped_model, archive):
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    return make_cloudmask(archive, load_model(shipped_model))


def _plausible(mask):
    valid = mask != -999
    cloud = (mask == 1).sum() / valid.sum()
    assert 0.45 < valid.mean() < 0.7            # reference masks: 55-63 % of each map valid
    assert 0.02 < cloud < 0.45                  # reference: 12-19 % of valid pixels cloud (P01)


def test_cloudmask_with_the_shipped_model_on_the_real_sample(run_alg, archive, shipped_model, shipped_engine_mask,
                                                             tmp_path, read_band, assert_global_grid):
    result = run_alg("cloudmask", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "mask.tif"),
                                   "OUTPUT_NETCDF": str(tmp_path / "mask.nc"),
                                   "OUTPUT_PROBABILITY": str(tmp_path / "prob.tif")})   # default model
    assert_global_grid(result["OUTPUT"])
    mask, tags, _, _ = read_band(result["OUTPUT"])
    np.testing.assert_array_equal(mask, shipped_engine_mask.mask)
    assert tags["MODEL"] == shipped_engine_mask.model_label
    _plausible(mask)


def test_step_algorithms_chain_to_the_shipped_cloudmask_on_the_real_sample(run_alg, archive, shipped_model,
                                                                           shipped_engine_mask, tmp_path, read_band):
    crop = run_alg("polarcrop", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "area.tif")})
    prob = run_alg("cloudprobability", {"INPUT": str(archive), "LAT_NORTH": crop["LAT_NORTH"],
                                        "LAT_SOUTH": crop["LAT_SOUTH"], "OUTPUT": str(tmp_path / "prob.tif")})
    mask = run_alg("postfilter", {"PROBABILITY": prob["OUTPUT"], "INPUT": str(archive),
                                  "OUTPUT": str(tmp_path / "mask.tif")})
    np.testing.assert_array_equal(read_band(prob["OUTPUT"])[0], shipped_engine_mask.probability)
    np.testing.assert_array_equal(read_band(mask["OUTPUT"])[0], shipped_engine_mask.mask)


def test_graphical_model_with_the_shipped_model_equals_cloudmask(plugin, repo_root, archive, shipped_model,
                                                                 shipped_engine_mask, tmp_path, read_band):
    import processing
    from qgis.core import QgsProcessingModelAlgorithm
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(repo_root / "modeler" / "cloudmask_chain.model3"))
    processing.run(model, {"mdgm": str(archive), "postfilter:Cloud mask": str(tmp_path / "chain.tif")})
    np.testing.assert_array_equal(read_band(tmp_path / "chain.tif")[0], shipped_engine_mask.mask)


def test_batchcloudmask_with_the_shipped_model_on_real_sols(run_alg, shared_data, shipped_model, tmp_path,
                                                            read_band, assert_global_grid):
    """Two real P01 sols and two sols of another season, linked into an archive layout."""
    archive = tmp_path / "archive"
    picks = {"P01": (shared_data / "P01" / "mdgm", ("P01_day01", "P01_day14")),
             "P12": (shared_data / "year" / "P12", ("P12_day05", "P12_day15"))}
    sources = []
    for phase, (folder, days) in picks.items():
        target = archive / phase
        target.mkdir(parents=True)
        (target / f"{phase}_ls.txt").write_text((folder / f"{phase}_ls.txt").read_text())
        for day in days:
            (target / f"{day}_zequat.jpg").symlink_to(folder / f"{day}_zequat.jpg")
            sources.append(target / f"{day}_zequat.jpg")
    result = run_alg("batchcloudmask", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "masks"), "FORMATS": [0]})
    assert (result["DONE"], result["FAILED"]) == (len(sources), 0)
    for source in sources:
        path = tmp_path / "masks" / source.parent.name / f"{source.stem}_cloudmask.tif"
        assert_global_grid(path)
        mask, tags, _, _ = read_band(path)
        assert tags["SOURCE_FILE"] == source.name
        assert ((mask == 1) | (mask == 0) | (mask == -999)).all() and (mask == 1).any()
