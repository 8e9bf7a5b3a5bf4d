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
