"""Post-filter rules and the output formats: GeoTIFF and CF NetCDF on the Mars global grid."""
import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.crop import Area
from mars_cloudmask_plugin.postfilter import global_mask, global_probability, mask_from_probability
from mars_cloudmask_plugin.writers import write_geotiff, write_netcdf


def test_post_filter_marks_no_data_bleed_and_missing_bands_invalid():
    rgb = np.full((grid.HEIGHT, grid.WIDTH, 3), 120, np.uint8)
    rgb[500, 500] = (0, 0, 0)          # no data
    rgb[500, 501] = (40, 35, 29)       # JPEG bleed near zero: blue < 30
    rgb[500, 502] = (150, 0, 150)      # a missing band
    rgb[500, 503] = (0, 150, 150)      # another missing band
    rgb[500, 504] = (120, 120, 30)     # blue exactly 30 is data
    area = Area(400, 600, 450, 550, 0, 0)
    prob = np.full(area.shape, 0.7, np.float32)
    prob[100, 55] = 0.2
    mask = global_mask(prob, area, rgb, threshold=0.5)
    assert mask.shape == (1801, 3600) and mask.dtype == np.int16
    assert list(mask[500, 500:506]) == [-999, -999, -999, -999, 1, 0]
    assert mask[399, 500] == -999 and mask[600, 500] == -999       # outside the polar bounds
    assert mask[500, 449] == -999 and mask[500, 550] == -999       # outside the trimmed columns
    assert set(np.unique(mask)) == {-999, 0, 1}
    prob_map = global_probability(prob, area, rgb)
    assert prob_map[500, 504] == pytest.approx(0.7) and prob_map[500, 500] == -999
    np.testing.assert_array_equal(mask_from_probability(prob_map, rgb, 0.5), mask)


def test_threshold_decides_cloud_at_or_above_it():
    rgb = np.full((grid.HEIGHT, grid.WIDTH, 3), 120, np.uint8)
    area = Area(0, 1, 0, 3, 0, 0)
    mask = global_mask(np.array([[0.49, 0.5, 0.91]], np.float32), area, rgb, threshold=0.5)
    assert list(mask[0, :3]) == [0, 1, 1]
    assert list(global_mask(np.array([[0.49, 0.5, 0.91]], np.float32), area, rgb, 0.912)[0, :3]) == [0, 0, 0]


@pytest.fixture(scope="module")
def mask():
    rng = np.random.default_rng(0)
    m = np.full((grid.HEIGHT, grid.WIDTH), -999, np.int16)
    m[300:1500, 5:3595] = rng.integers(0, 2, (1200, 3590))
    return m


def test_geotiff_is_int16_on_the_mars_global_grid_tiled_and_compressed(tmp_path, mask):
    import rasterio
    path = write_geotiff(tmp_path / "m.tif", mask, {"LS": 136.5, "MARS_YEAR": 28, "SOURCE_FILE": "P01_day10_zequat.jpg",
                                                    "MODEL": "unet 1.0", "TILING_MODE": "seamless"})
    with rasterio.open(path) as src:
        assert (src.width, src.height, src.count, src.dtypes[0]) == (3600, 1801, 1, "int16")
        assert src.nodata == -999
        assert src.transform.almost_equals(rasterio.Affine(0.1, 0, -180.05, 0, -0.1, 90.05))
        assert src.crs.is_geographic and "Mars" in src.crs.to_wkt()
        assert src.crs.to_dict().get("R") == 3396190 or "3396190" in src.crs.to_wkt()
        assert src.profile["tiled"] and src.compression.value == "DEFLATE"
        tags = src.tags()
        assert tags["LS"] == "136.5" and tags["MARS_YEAR"] == "28" and tags["MODEL"] == "unet 1.0"
        np.testing.assert_array_equal(src.read(1), mask)


def test_netcdf_matches_reference_layout_and_gdal_puts_it_on_mars(tmp_path, mask):
    import netCDF4
    import rasterio
    path = write_netcdf(tmp_path / "m.nc", mask, {"ls": 136.5, "sol": "P01_day10"})
    with netCDF4.Dataset(path) as ds:
        assert ds.Conventions == "CF-1.8" and ds.ls == 136.5
        lat, lon = ds["latitude"][:], ds["longitude"][:]
        assert lat[0] == pytest.approx(-90) and lat[-1] == pytest.approx(90)     # south row first
        assert lon[0] == pytest.approx(-180) and lon[-1] == pytest.approx(179.9)
        cm = ds["cloudmask"]
        assert cm.dimensions == ("latitude", "longitude") and cm.grid_mapping == "mars_crs"
        crs = ds["mars_crs"]
        assert crs.semi_major_axis == 3396190 and crs.inverse_flattening == 0
        assert "Mars" in crs.crs_wkt
        np.testing.assert_array_equal(np.asarray(cm[:].filled(-999))[::-1], mask)
    with rasterio.open(f"NETCDF:{path}:cloudmask") as src:
        assert src.crs is not None and "Mars" in src.crs.to_wkt() and "WGS" not in src.crs.to_wkt()
        assert src.transform.almost_equals(rasterio.Affine(0.1, 0, -180.05, 0, -0.1, 90.05))
        np.testing.assert_array_equal(src.read(1), mask)


def test_reference_reader_reads_our_netcdf_like_a_reference_mask(tmp_path, mask):
    from mars_cloudmask_plugin.raster import read_reference
    np.testing.assert_array_equal(read_reference(write_netcdf(tmp_path / "m.nc", mask)), mask)
