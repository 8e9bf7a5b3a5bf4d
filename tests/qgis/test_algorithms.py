"""Every algorithm through processing.run, in a real headless QGIS, on the real sample MDGM with the
tiny random model (plumbing, not skill): each must reproduce the engine's own result exactly, put
its rasters on the full global grid in IAU_2015:49900, report progress, honour cancel inside the
tiling, and fail with a QgsProcessingException that names the file and the problem."""
from pathlib import Path

import numpy as np
import pytest
import rasterio



@pytest.fixture(autouse=True)
def _helpers(read_band, assert_global_grid):
    globals().update(read_band=read_band, _assert_global_grid=assert_global_grid)


def test_polarcrop_returns_the_paper_bounds_and_the_map_inside_them_only(run_alg, archive, tmp_path):
    from mars_cloudmask_plugin.bounds import polar_bounds
    from mars_cloudmask_plugin.mdgm import read_mdgm
    out = tmp_path / "area.tif"
    result = run_alg("polarcrop", {"INPUT": str(archive), "BUFFER": 3.0, "OUTPUT": str(out)})
    lat_n, lat_s = polar_bounds(136.5, 3.0)
    assert result["LS"] == 136.5
    assert (result["LAT_NORTH"], result["LAT_SOUTH"]) == pytest.approx((lat_n, lat_s))
    _assert_global_grid(out)
    with rasterio.open(out) as src:
        rgb = np.moveaxis(src.read(), 0, -1)
        assert src.nodata == 0 and src.tags()["LS"] == "136.5"
    original = read_mdgm(archive).rgb
    rows = np.flatnonzero(rgb.any(axis=(1, 2)))
    # first/last rows with data are the first/last pixel centres inside [latS, latN]
    assert 90 - 0.1 * rows[0] <= lat_n < 90 - 0.1 * (rows[0] - 1)
    assert 90 - 0.1 * (rows[-1] + 1) < lat_s <= 90 - 0.1 * rows[-1]
    inside = slice(rows[0], rows[-1] + 1)
    cols = np.flatnonzero(rgb[inside].any(axis=(0, 2)))
    np.testing.assert_array_equal(rgb[inside, cols[0]:cols[-1] + 1], original[inside, cols[0]:cols[-1] + 1])


def test_polarcrop_takes_ls_from_the_parameter_over_the_archive_table(run_alg, archive):
    from mars_cloudmask_plugin.bounds import polar_bounds
    result = run_alg("polarcrop", {"INPUT": str(archive), "LS": 250.0, "BUFFER": 0.0, "OUTPUT": "TEMPORARY_OUTPUT"})
    assert result["LS"] == 250.0
    assert (result["LAT_NORTH"], result["LAT_SOUTH"]) == pytest.approx(polar_bounds(250.0, 0.0))


def test_cloudprobability_equals_the_engine_probability(run_alg, archive, tiny_model_path, engine_mask, tmp_path):
    out = tmp_path / "prob.tif"
    result = run_alg("cloudprobability", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(out)})
    _assert_global_grid(out)
    prob, tags, _, _ = read_band(out)
    np.testing.assert_array_equal(prob, engine_mask.probability)
    assert tags["THRESHOLD"] == "0.5" and tags["SOURCE_FILE"] == archive.name
    assert result["THRESHOLD"] == 0.5


def test_cloudprobability_with_explicit_bounds_equals_the_bounds_of_ls(run_alg, archive, tiny_model_path,
                                                                        engine_mask, tmp_path):
    out = tmp_path / "prob.tif"
    run_alg("cloudprobability", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(out),
                                 "LAT_NORTH": engine_mask.area.lat_north, "LAT_SOUTH": engine_mask.area.lat_south})
    np.testing.assert_array_equal(read_band(out)[0], engine_mask.probability)


def test_cloudprobability_between_narrower_bounds_leaves_the_rest_nodata(run_alg, archive, tiny_model_path, tmp_path):
    out = tmp_path / "prob.tif"
    result = run_alg("cloudprobability", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(out),
                                          "LAT_NORTH": 10.0, "LAT_SOUTH": -10.0})
    prob = read_band(out)[0]
    rows = np.flatnonzero((prob != -999).any(axis=1))
    assert (rows[0], rows[-1]) == (800, 1000)        # latitudes 10.0 .. -10.0
    assert (result["LAT_NORTH"], result["LAT_SOUTH"]) == (10.0, -10.0)


def test_postfilter_of_the_probability_equals_the_engine_mask(run_alg, archive, tiny_model_path, engine_mask,
                                                               tmp_path):
    prob, mask = tmp_path / "prob.tif", tmp_path / "mask.tif"
    run_alg("cloudprobability", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(prob)})
    result = run_alg("postfilter", {"PROBABILITY": str(prob), "INPUT": str(archive), "OUTPUT": str(mask)})
    _assert_global_grid(mask)
    values, tags, _, _ = read_band(mask)
    assert values.dtype == np.int16
    np.testing.assert_array_equal(values, engine_mask.mask)
    assert (result["CLOUD_FRACTION"], result["VALID_FRACTION"]) == pytest.approx(engine_mask.fractions)
    assert tags["THRESHOLD"] == "0.5"


def test_postfilter_threshold_parameter_overrides_the_model_threshold(run_alg, archive, engine_mask, tmp_path):
    from mars_cloudmask_plugin.postfilter import mask_from_probability
    from mars_cloudmask_plugin.mdgm import read_mdgm
    from mars_cloudmask_plugin.writers import write_geotiff
    prob = write_geotiff(tmp_path / "prob.tif", engine_mask.probability, {"THRESHOLD": "0.5"})
    run_alg("postfilter", {"PROBABILITY": str(prob), "INPUT": str(archive), "THRESHOLD": 0.3,
                           "OUTPUT": str(tmp_path / "mask.tif")})
    values, tags, _, _ = read_band(tmp_path / "mask.tif")
    expected = mask_from_probability(engine_mask.probability, read_mdgm(archive).rgb, 0.3)
    np.testing.assert_array_equal(values, expected)
    assert (values == 1).sum() > (engine_mask.mask == 1).sum()
    assert tags["THRESHOLD"] == "0.3"


def test_cloudmask_writes_the_engine_mask_as_geotiff_netcdf_and_probability(run_alg, archive, tiny_model_path,
                                                                             engine_mask, tmp_path):
    import netCDF4
    paths = {"OUTPUT": tmp_path / "m.tif", "OUTPUT_NETCDF": tmp_path / "m.nc", "OUTPUT_PROBABILITY": tmp_path / "p.tif"}
    result = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path),
                                   **{k: str(v) for k, v in paths.items()}})
    assert {k: result[k] for k in paths} == {k: str(v) for k, v in paths.items()}
    for key in ("OUTPUT", "OUTPUT_PROBABILITY"):
        _assert_global_grid(paths[key])
    mask, tags, _, _ = read_band(paths["OUTPUT"])
    np.testing.assert_array_equal(mask, engine_mask.mask)
    np.testing.assert_array_equal(read_band(paths["OUTPUT_PROBABILITY"])[0], engine_mask.probability)
    with netCDF4.Dataset(paths["OUTPUT_NETCDF"]) as ds:
        np.testing.assert_array_equal(ds["cloudmask"][:].filled(-999)[::-1], mask)
    # QGIS places the NetCDF on Mars too, north up: a cloud pixel reads 1 at its lon/lat
    from qgis.core import QgsPointXY, QgsRasterLayer
    layer = QgsRasterLayer(str(paths["OUTPUT_NETCDF"]), "nc")
    row, col = (int(v[len(v) // 2]) for v in np.nonzero(mask == 1))
    assert layer.crs().authid() == "IAU_2015:49900"
    assert layer.dataProvider().sample(QgsPointXY(-180 + 0.1 * col, 90 - 0.1 * row), 1) == (1.0, True)
    del layer
    assert tags["LS"] == "136.5" and tags["SOURCE_FILE"] == archive.name and tags["MODEL"] == "tiny-random test"
    assert (result["CLOUD_FRACTION"], result["VALID_FRACTION"]) == pytest.approx(engine_mask.fractions)
    assert result["LS"] == 136.5


def test_cloudmask_optional_outputs_are_not_written_unless_asked(run_alg, archive, tiny_model_path, tmp_path):
    result = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path),
                                   "OUTPUT": str(tmp_path / "m.tif")})
    assert result["OUTPUT_NETCDF"] is None and result["OUTPUT_PROBABILITY"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tif"]


def test_cloudmask_mask_is_the_same_for_every_tile_size_and_blend_tiling_runs(run_alg, archive, tiny_model_path,
                                                                               engine_mask, tmp_path):
    tiles = {}
    for tile in (316, 0):   # many small tiles; the whole area in one pass
        out = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "TILE_SIZE": tile,
                                    "OUTPUT": str(tmp_path / f"tile{tile}.tif")})
        values, tags, _, _ = read_band(out["OUTPUT"])
        np.testing.assert_array_equal(values, engine_mask.mask)
        tiles[tile] = tags["TILE_SIZE"]
    assert tiles[316] == "316x316" and tiles[0] != "316x316"
    blend = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "TILING": 1,
                                  "TILE_SIZE": 668, "OUTPUT": str(tmp_path / "blend.tif")})
    values, tags, _, _ = read_band(blend["OUTPUT"])
    assert tags["TILING_MODE"] == "blend"
    np.testing.assert_array_equal(values == -999, engine_mask.mask == -999)


SMALL_TILE = 316   # the tiny model's tile: about 250 tiles over the sample's prediction area


def _tile_count(engine_mask):
    from mars_cloudmask_plugin.tiling import plan_tiles
    return len(plan_tiles(engine_mask.area.shape, "seamless", SMALL_TILE, 92, 4).offsets)


def test_cloudmask_reports_progress_per_tile_up_to_100(run_alg, archive, tiny_model_path, engine_mask, tmp_path,
                                                        feedback_factory):
    feedback = feedback_factory()
    run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "TILE_SIZE": SMALL_TILE,
                          "OUTPUT": str(tmp_path / "m.tif")}, feedback=feedback)
    assert feedback.progress == sorted(feedback.progress)
    assert len(set(feedback.progress)) >= _tile_count(engine_mask)   # at least one report per tile
    assert feedback.progress[-1] == 100


def test_default_plan_in_qgis_moves_progress_in_strips_and_gives_the_cli_mask(run_alg, archive, tiny_model_path,
                                                                            tmp_path, feedback_factory, read_band):
    """A model narrow enough that the CLI runs the sample's whole area as one tile (its fastest plan,
    progress 2% -> 95%); in QGIS the default runs three strips: progress moves twice in between, same mask."""
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    feedback = feedback_factory()
    out = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(tmp_path / "m.tif")},
                  feedback=feedback)
    between = sorted({round(p) for p in feedback.progress if 2 < p < 95})
    assert len(between) >= 2, feedback.progress
    values, tags, _, _ = read_band(out["OUTPUT"])
    cli_plan = make_cloudmask(archive, load_model(tiny_model_path))
    assert cli_plan.layout.offsets == ((0, 0),) and tags["TILE_SIZE"] != "x".join(map(str, cli_plan.layout.tile))
    np.testing.assert_array_equal(values, cli_plan.mask)


@pytest.mark.parametrize("algorithm", ["cloudmask", "cloudprobability"])
def test_cancel_stops_inside_the_tiling_and_writes_nothing(run_alg, archive, tiny_model_path, engine_mask, tmp_path,
                                                           feedback_factory, algorithm):
    from qgis.core import QgsProcessingException
    feedback = feedback_factory(cancel_after=5)
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_alg(algorithm, {"INPUT": str(archive), "MODEL": str(tiny_model_path), "TILE_SIZE": SMALL_TILE,
                            "OUTPUT": str(tmp_path / "m.tif")}, feedback=feedback)
    assert len(feedback.progress) < _tile_count(engine_mask) / 2   # stopped early, not after the last tile
    assert list(tmp_path.iterdir()) == []


def test_batchcloudmask_mirrors_the_archive_skips_done_sols_and_goes_on_past_bad_files(
        run_alg, make_mdgm, tiny_model_path, tmp_path, feedback_factory):
    import netCDF4  # noqa: F401  (the NetCDF writer's library)
    good = [make_mdgm("P01_day01", 136.5, seed=1), make_mdgm("P02_day05", 145.0, seed=2)]
    bad = good[0].parent / "P01_day02_zequat.jpg"
    bad.write_bytes(b"not a jpeg")
    out = tmp_path / "masks"
    params = {"INPUT": str(good[0].parent.parent), "OUTPUT": str(out), "MODEL": str(tiny_model_path),
              "FORMATS": [0, 1], "PROBABILITY": True}
    feedback = feedback_factory()
    first = run_alg("batchcloudmask", params, feedback=feedback)
    assert (first["DONE"], first["SKIPPED"], first["FAILED"]) == (2, 0, 1)
    assert str(bad) in first["FAILED_FILES"]
    for source in good:
        folder = out / source.parent.name
        for suffix in ("_cloudmask.tif", "_cloudmask.nc", "_probability.tif"):
            assert (folder / f"{source.stem}{suffix}").exists()
        _assert_global_grid(folder / f"{source.stem}_cloudmask.tif")
    assert feedback.progress[-1] == 100
    second = run_alg("batchcloudmask", params)
    assert (second["DONE"], second["SKIPPED"], second["FAILED"]) == (0, 2, 1)
    third = run_alg("batchcloudmask", dict(params, OVERWRITE=True, FORMATS=[0], PROBABILITY=False))
    assert (third["DONE"], third["SKIPPED"], third["FAILED"]) == (2, 0, 1)


def test_batchcloudmask_stops_on_cancel_keeping_the_sols_already_done(run_alg, make_mdgm, tiny_model_path, tmp_path,
                                                                      feedback_factory):
    sources = [make_mdgm(f"P01_day0{i}", 136.5, seed=i) for i in (1, 2)]
    out = tmp_path / "masks"
    feedback = feedback_factory()
    feedback.progressChanged.connect(lambda p: feedback.cancel() if p >= 50 else None)
    result = run_alg("batchcloudmask", {"INPUT": str(sources[0].parent), "OUTPUT": str(out),
                                        "MODEL": str(tiny_model_path), "FORMATS": [0]}, feedback=feedback)
    assert result["DONE"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["P01_day01_zequat_cloudmask.tif"]


# -- bad input: QgsProcessingException naming the file and the problem --------------------------

def _grayscale(path):
    with rasterio.open(path, "w", driver="GTiff", width=3600, height=1801, count=1, dtype="uint8") as dst:
        dst.write(np.full((1, 1801, 3600), 120, np.uint8))
    return path


@pytest.mark.parametrize("case, problem", [
    ("missing", "file not found"),
    ("not_an_image", "cannot be read as an image"),
    ("grayscale", "grayscale"),
    ("no_ls", "no solar longitude"),
])
@pytest.mark.parametrize("algorithm", ["polarcrop", "cloudprobability", "cloudmask"])
def test_bad_mdgm_raises_processing_exception_naming_the_file(run_alg, make_mdgm, tiny_model_path, tmp_path,
                                                              algorithm, case, problem):
    from qgis.core import QgsProcessingException
    path = {"missing": lambda: tmp_path / "P01_day99_zequat.jpg",
            "not_an_image": lambda: Path(tmp_path / "P01_day98_zequat.jpg").write_bytes(b"garbage") and
            tmp_path / "P01_day98_zequat.jpg",
            "grayscale": lambda: _grayscale(tmp_path / "gray.tif"),
            "no_ls": lambda: make_mdgm("P03_day01", ls=None)}[case]()
    with pytest.raises(QgsProcessingException) as info:
        run_alg(algorithm, {"INPUT": str(path), "MODEL": str(tiny_model_path), "OUTPUT": str(tmp_path / "o.tif")})
    assert str(path) in str(info.value) and problem in str(info.value)
    assert not (tmp_path / "o.tif").exists()


def test_unwritable_output_folder_is_refused_before_the_work_naming_it(run_alg, archive, tiny_model_path, tmp_path,
                                                                     feedback_factory):
    from qgis.core import QgsProcessingException
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    feedback = feedback_factory()
    with pytest.raises(QgsProcessingException, match=f"{blocker}: output folder cannot be created"):
        run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path),
                              "OUTPUT": str(blocker / "mask.tif")}, feedback=feedback)
    assert feedback.progress == []          # refused before any tile ran


def test_bad_model_file_raises_processing_exception_naming_it(run_alg, archive, tmp_path):
    from qgis.core import QgsProcessingException
    model = tmp_path / "broken.keras"
    model.write_bytes(b"no zip")
    with pytest.raises(QgsProcessingException, match=f"{model}: is not a Mars Cloudmask model"):
        run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(model), "OUTPUT": str(tmp_path / "o.tif")})


def test_postfilter_rejects_a_probability_raster_off_the_global_grid_naming_it(run_alg, archive, tmp_path):
    from qgis.core import QgsProcessingException
    small = tmp_path / "small.tif"
    with rasterio.open(small, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32") as dst:
        dst.write(np.zeros((1, 10, 10), np.float32))
    with pytest.raises(QgsProcessingException, match=f"{small}: probability raster is 10 x 10 pixels"):
        run_alg("postfilter", {"PROBABILITY": str(small), "INPUT": str(archive), "OUTPUT": str(tmp_path / "o.tif")})


def test_postfilter_names_a_missing_probability_raster(run_alg, archive, tmp_path):
    from qgis.core import QgsProcessingException
    missing = tmp_path / "P01_day10_zequat_probability.tif"
    with pytest.raises(QgsProcessingException, match=f"PROBABILITY: {missing} not found"):
        run_alg("postfilter", {"PROBABILITY": str(missing), "INPUT": str(archive), "OUTPUT": str(tmp_path / "o.tif")})


def test_cloudprobability_rejects_one_bound_alone_and_inverted_bounds(run_alg, archive, tiny_model_path, tmp_path):
    from qgis.core import QgsProcessingException
    base = {"INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(tmp_path / "o.tif")}
    with pytest.raises(QgsProcessingException, match="give both latitude bounds"):
        run_alg("cloudprobability", dict(base, LAT_NORTH=20.0))
    with pytest.raises(QgsProcessingException, match="north bound -20 is not north of south bound 20"):
        run_alg("cloudprobability", dict(base, LAT_NORTH=-20.0, LAT_SOUTH=20.0))


def test_batchcloudmask_on_a_folder_without_mdgms_says_so(run_alg, tmp_path):
    from qgis.core import QgsProcessingException
    (tmp_path / "empty").mkdir()
    with pytest.raises(QgsProcessingException, match=f"{tmp_path / 'empty'}: no MDGMs"):
        run_alg("batchcloudmask", {"INPUT": str(tmp_path / "empty"), "OUTPUT": str(tmp_path / "out")})
