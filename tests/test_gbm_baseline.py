"""The lab's gradient-boosting baseline: the place feature of the model card's "Against the targets"."""
import numpy as np

from mars_cloudmask_lab.scripts.gbm_baseline import CLOUD_LOOK_EXCESS, cloud_looks


def test_a_pixel_looks_cloudy_only_when_its_blue_red_is_above_its_own_reference_by_the_margin():
    # red 100 everywhere; blue gives blue/red 0.50, 0.65 and 0.65 against references 0.50, 0.50 and NaN
    rgb = np.array([[[100, 80, 50], [100, 80, 65], [100, 80, 65], [0, 0, 0]]], np.uint8)
    reference = np.array([[0.50, 0.50, np.nan, 0.50]], np.float32)
    cloudy, data = cloud_looks(rgb, reference)
    assert 0.65 - 0.50 > CLOUD_LOOK_EXCESS
    assert cloudy.tolist() == [[False, True, False, False]]   # no reference: never; no data: never
    assert data.tolist() == [[True, True, True, False]]


class _BlueAbove:
    """A stand-in classifier: cloud where the pixel's blue (feature 2) is above 120."""
    def predict_proba(self, x):
        cloud = (x[:, 2] > 120).astype(np.float64)
        return np.stack([1 - cloud, cloud], axis=1)


def test_a_season_sol_is_masked_inside_the_networks_polar_bounds_and_scored_against_the_published_mask(
        tmp_path, make_mdgm, tiny_model):
    from mars_cloudmask_plugin import grid
    from mars_cloudmask_plugin.mdgm import has_data, read_mdgm
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    from mars_cloudmask_plugin.writers import write_netcdf
    from mars_cloudmask_lab.scripts.gbm_baseline import gbm_season_sol
    path = make_mdgm("P02_day05", ls=145.6, seed=1, folder=tmp_path / "year" / "P02")
    rgb = read_mdgm(path).rgb
    network = make_cloudmask(path, tiny_model, tile_size=None).mask
    valid = network != grid.NODATA                      # the pipeline's polar bounds and data
    ours = np.where(valid, (rgb[..., 2] > 120).astype(np.int16), grid.NODATA)
    block = (slice(600, 700), slice(1500, 1600))
    assert valid[block].all()
    paper = ours.copy()
    paper[block] = 1 - ours[block]                      # the published mask differs in one block only
    write_netcdf(path.parent / "paper_masks" / "cloudmask_P02_day05.ncdf", paper)

    sol = gbm_season_sol(_BlueAbove(), path, None)

    assert (sol.sol, sol.subphase, sol.ls) == ("P02_day05", "P02", 145.6)
    assert sol.tally.valid == int(valid.sum()) and sol.tally.cloud == int((ours == 1).sum())
    agreement = sol.tally.agreement
    assert agreement.fp + agreement.fn == 100 * 100
    assert agreement.tp == int(((ours == 1) & has_data(rgb)).sum()) - int((ours[block] == 1).sum())
