"""The shipped models on real MDGMs: the README's main command on the sample, and P01 day 15 (from
../shared/data) scored against its reference mask as the figures stored in each model and its card
state (the shipped files are trained on all 18 labelled days: these are fits; the card's validation
figures come from the recipe's run on days 01-14, which `train` reproduces)."""

import numpy as np
import pytest
import rasterio

from mars_cloudmask_plugin.model import DEFAULT_CLEARSKY_MODEL, DEFAULT_MODEL, FASTER_CLEARSKY_MODEL, read_metadata


@pytest.fixture(scope="module")
def shipped_model():
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"the shipped model {DEFAULT_MODEL} is missing from the repository")
    return DEFAULT_MODEL


def assert_on_mars_global_grid(src):
    from pyproj import CRS
    assert (src.width, src.height) == (3600, 1801)
    assert src.transform.almost_equals(rasterio.Affine(0.1, 0, -180.05, 0, -0.1, 90.05))
    crs = CRS.from_wkt(src.crs.to_wkt())
    # the same CRS as IAU_2015:49900 (QGIS's identification of it: tests/qgis)
    assert crs.equals(CRS("IAU_2015:49900"), ignore_axis_order=True)


def test_main_command_masks_the_sample_with_the_shipped_model(cli, sample_mdgm, shipped_model, tmp_path):
    rc, stdout, stderr = cli("predict", sample_mdgm, "--out-dir", tmp_path)
    assert rc == 0, stderr
    with rasterio.open(tmp_path / "P01_day10_zequat_cloudmask.tif") as src:
        assert_on_mars_global_grid(src)
        mask = src.read(1)
        assert src.tags()["MODEL"].startswith(read_metadata(shipped_model)["name"])
    assert set(np.unique(mask)) == {-999, 0, 1}
    cloud = (mask == 1).sum() / (mask != -999).sum()
    assert 0.05 < cloud < 0.35          # the aphelion cloud belt: a real mask, not all or nothing
    with rasterio.open(f"NETCDF:{tmp_path / 'P01_day10_zequat_cloudmask.nc'}:cloudmask") as src:
        assert_on_mars_global_grid(src)
        np.testing.assert_array_equal(src.read(1), mask)


def score_day15(model_path, shared_data, buffer, clearsky=None):
    """IoU, F1 and coverage of a model on P01 day 15 against its reference mask."""
    from mars_cloudmask_plugin.mdgm import has_data, read_mdgm
    from mars_cloudmask_lab.metrics import confusion
    from mars_cloudmask_plugin.raster import read_reference
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    path = shared_data / "P01" / "mdgm" / "P01_day15_zequat.jpg"
    result = make_cloudmask(path, load_model(model_path), buffer=buffer, clearsky=clearsky)
    ref = read_reference(shared_data / "P01" / "cloudmask" / "cloudmask_P01day15.ncdf")
    return confusion(result.mask, ref, has_data(read_mdgm(path).rgb)).metrics()


def assert_card_states_the_models_figures(meta):
    """The card names the model and states the figures stored in it: its fit on the 18 sols it was
    trained on (the validation figures are those of the recipe's run on days 01-14, in the card)."""
    from mars_cloudmask_plugin.model import MODELS_DIR
    card = (MODELS_DIR / "README.md").read_text()
    assert f"{meta['name']} {meta['version']}" in card
    fit = meta["training_fit"]
    assert fit["days"] == [f"P01_day{d:02d}" for d in range(1, 19)] and "not a validation" in fit["note"]
    assert f"{fit['pooled']['iou']:.3f}" in card and f"{fit['per_sol']['P01_day15']['iou']:.3f}" in card
    assert f"| threshold | {meta['threshold']:g}" in card
    assert f"{meta['parameters']:,}" in card


def test_shipped_model_scores_day15_as_the_fit_stored_in_it_and_its_card_states(shared_data, shipped_model):
    meta = read_metadata(shipped_model)
    assert meta["training_days"] == [f"P01_day{d:02d}" for d in range(1, 19)]   # the final run: all 18 days
    m = score_day15(shipped_model, shared_data, meta["training_fit"]["buffer"])
    stated = meta["training_fit"]["per_sol"]["P01_day15"]
    assert m["iou"] == pytest.approx(stated["iou"], abs=0.01)
    assert m["f1"] == pytest.approx(stated["f1"], abs=0.01)
    assert m["coverage"] >= 0.99
    assert_card_states_the_models_figures(meta)


@pytest.mark.parametrize("path", [DEFAULT_CLEARSKY_MODEL, FASTER_CLEARSKY_MODEL], ids=lambda p: p.name)
def test_shipped_reference_models_score_day15_as_the_fit_stored_in_them_and_the_card_states(
        path, shared_data, tmp_path):
    """Both reference-aware files (the default ensemble and the faster single network) on P01 day 15
    with the reference their card names: every MDGM of P01 (imagery only)."""
    from mars_cloudmask_plugin.clearsky import folder_clearsky, read_clearsky
    if not path.exists():
        pytest.fail(f"the shipped reference-aware model {path} is missing from the repository")
    meta = read_metadata(path)
    clearsky = read_clearsky(folder_clearsky(shared_data / "P01" / "mdgm", tmp_path).path)
    m = score_day15(path, shared_data, meta["training_fit"]["buffer"], clearsky)
    stated = meta["training_fit"]["per_sol"]["P01_day15"]
    assert m["iou"] == pytest.approx(stated["iou"], abs=0.01)
    assert m["f1"] == pytest.approx(stated["f1"], abs=0.01)
    assert_card_states_the_models_figures(meta)
