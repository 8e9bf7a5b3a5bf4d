"""West/east trim, wrap padding from the opposite edge, rows beyond the bounds, mirror past the poles."""
import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.crop import Area, pad_area, prediction_area, usable_columns
from mars_cloudmask_plugin.errors import CloudmaskError


def coded_map():
    """Each pixel encodes its own row and column, so padded pixels say where they came from."""
    rows, cols = np.meshgrid(np.arange(grid.HEIGHT), np.arange(grid.WIDTH), indexing="ij")
    return np.stack([rows % 256, cols % 256, (rows // 256) * 16 + cols // 256], -1).astype(np.int64), rows, cols


def test_usable_columns_trims_thin_black_edges_only():
    rgb = np.full((10, 100, 3), 120, np.uint8)
    rgb[:, :4] = 0
    rgb[:, -2:] = 10            # dim JPEG bleed is not usable either (any band < 30)
    rgb[:, 50] = 0              # a black gore inside the map is kept (not an edge)
    assert usable_columns(rgb) == (4, 98)


def test_usable_columns_needs_one_pixel_with_all_bands_at_least_30():
    rgb = np.zeros((5, 6, 3), np.uint8)
    rgb[2, 1] = (30, 30, 30)
    rgb[3, 4] = (200, 200, 29)
    assert usable_columns(rgb) == (1, 2)


def test_prediction_area_uses_polar_bound_rows_and_trimmed_columns():
    rgb = np.full((grid.HEIGHT, grid.WIDTH, 3), 100, np.uint8)
    rgb[:, :5] = 0
    rgb[:, -7:] = 0
    area = prediction_area(rgb, ls=0)           # latN 56, latS -54 -> rows 340..1440
    assert (area.row0, area.row1, area.col0, area.col1) == (340, 1441, 5, 3593)
    assert area.shape == (1101, 3588)


def test_prediction_area_of_a_map_black_between_the_bounds_is_an_error():
    rgb = np.zeros((grid.HEIGHT, grid.WIDTH, 3), np.uint8)
    rgb[:100] = 150                              # data only near the pole, outside the bounds
    with pytest.raises(CloudmaskError, match="no image data between latitudes"):
        prediction_area(rgb, ls=0, path="m.jpg")


def test_padding_wraps_east_west_from_the_opposite_edge_of_the_area():
    _, rows, cols = coded_map()
    area = Area(400, 500, 5, 3595, 0, 0)
    padded_cols = pad_area(cols[..., None], area, before=92, after_rows=92, after_cols=92)[..., 0]
    assert padded_cols.shape == (100 + 184, 3590 + 184)
    # west padding = the area's last 92 columns (3503..3594), never the black trimmed columns
    np.testing.assert_array_equal(padded_cols[0, :92], np.arange(3503, 3595))
    np.testing.assert_array_equal(padded_cols[0, 92:95], [5, 6, 7])
    np.testing.assert_array_equal(padded_cols[0, -92:], np.arange(5, 97))


def test_padding_north_south_takes_image_rows_beyond_the_bounds():
    _, rows, _ = coded_map()
    area = Area(400, 500, 0, 3600, 0, 0)
    padded_rows = pad_area(rows[..., None], area, 92, 92, 92)[..., 0]
    np.testing.assert_array_equal(padded_rows[:, 0], np.arange(308, 592))


def test_padding_mirrors_only_past_the_poles():
    _, rows, _ = coded_map()
    north = pad_area(rows[..., None], Area(50, 100, 0, 3600, 0, 0), 92, 0, 0)[..., 0][:, 0]
    # rows -42..-1 mirror to 42..1 (row 0, the pole, is not repeated); 0..49 are image rows
    np.testing.assert_array_equal(north[:42], np.arange(42, 0, -1))
    np.testing.assert_array_equal(north[42:92], np.arange(0, 50))
    south = pad_area(rows[..., None], Area(1750, 1801, 0, 3600, 0, 0), 0, 92, 0)[..., 0][:, 0]
    np.testing.assert_array_equal(south[:51], np.arange(1750, 1801))
    np.testing.assert_array_equal(south[51:55], [1799, 1798, 1797, 1796])
