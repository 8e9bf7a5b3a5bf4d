"""The fast default: seamless "auto" tiles are full-height strips (the whole area when it fits),
and they give exactly what a whole-area pass or any other seamless tiling gives."""
import numpy as np
import pytest

from mars_cloudmask_plugin.crop import Area, pad_area
from mars_cloudmask_plugin.pipeline import AUTO_TILE_BUDGET, make_cloudmask, resolve_tile_size
from mars_cloudmask_plugin.options import MaskOptions
from mars_cloudmask_plugin.tiling import plan_tiles, run_tiles, strip_tile


@pytest.mark.parametrize("shape", [(1086, 3593), (1130, 3604), (1071, 3600), (300, 700), (300, 5000)])
@pytest.mark.parametrize("budget", [2.5e6, 1.2e6, 2e5])
def test_strips_cover_the_area_once_each_within_the_budget(shape, budget):
    tile = strip_tile(shape, budget)
    layout = plan_tiles(shape, "seamless", tile)
    whole = plan_tiles(shape, "seamless", None)
    if tile is None:
        assert whole.tile[0] * whole.tile[1] <= budget
        return
    strips = len(layout.offsets)
    assert tile[0] == whole.tile[0] and all(r == 0 for r, _ in layout.offsets)   # full height
    whole_px = whole.tile[0] * whole.tile[1]
    assert 2 <= strips <= -(-whole_px // int(budget))
    assert tile[1] <= whole.tile[1] / strips + 2 * 92 + 2 * 16  # the budget, plus a margin per strip
    cols = np.zeros(shape[1], int)
    for _, c in layout.offsets:
        cols[c:c + layout.out[1]] += 1
    assert cols.min() == 1                                       # every column predicted
    assert layout.offsets[-1][1] < shape[1] and all(c % 16 == 0 for _, c in layout.offsets)


def test_rectangular_tiles_are_checked_side_by_side():
    from mars_cloudmask_plugin.errors import CloudmaskError
    with pytest.raises(CloudmaskError, match="tile size 701 is not a valid U-Net input.*e.g. 716"):
        plan_tiles((300, 700), "seamless", (492, 701))


def test_strips_equal_one_whole_area_pass(tiny_model):
    rgb = np.random.default_rng(5).integers(30, 256, (700, 1400, 3)).astype(np.uint8)
    area = Area(150, 450, 20, 1300, 0, 0)                       # 300 x 1280
    results = []
    for tile in (None, strip_tile(area.shape, 3e5), strip_tile(area.shape, 1.5e5)):
        layout = plan_tiles(area.shape, "seamless", tile)
        padded = pad_area(rgb, area, 92, *layout.pad_after)
        results.append((len(layout.offsets), run_tiles(tiny_model.predict, padded, layout)))
    assert [n for n, _ in results] == [1, 3, 5]
    for _, prob in results[1:]:
        np.testing.assert_allclose(prob, results[0][1], atol=2e-5)


class Width:
    def __init__(self, width, tile_size=668):
        self.metadata, self.tile_size, self.margin, self.depth = {"width": width}, tile_size, 92, 4


def test_auto_is_the_default_and_follows_mode_and_width():
    assert MaskOptions().tile_size == "auto"
    shape = (1092, 3604)
    assert resolve_tile_size("auto", "blend", Width(16), shape) == 668          # the paper's tiles
    assert resolve_tile_size("model", "seamless", Width(16), shape) == 668
    assert resolve_tile_size(None, "seamless", Width(16), shape) is None
    w16 = resolve_tile_size("auto", "seamless", Width(16), shape)
    assert w16 == strip_tile(shape, AUTO_TILE_BUDGET / 16)
    assert resolve_tile_size("auto", "seamless", Width(2), shape) is None        # small nets: whole area
    w32 = resolve_tile_size("auto", "seamless", Width(32), shape)
    if w16 is not None:
        assert w32[1] < w16[1]                                                   # wider nets: narrower strips


def test_default_mask_equals_tiled_mask(make_mdgm, tiny_model):
    path = make_mdgm("P01_day03", seed=4)
    auto = make_cloudmask(path, tiny_model)
    tiled = make_cloudmask(path, tiny_model, tile_size=316)
    assert np.array_equal(auto.mask, tiled.mask)
    np.testing.assert_allclose(auto.probability, tiled.probability, atol=2e-5)
