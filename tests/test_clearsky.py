"""The clear-sky reference map and the reference-aware model: the statistic, the file, the network's
inputs, and how predict and batch take a reference."""
import json

import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.clearsky import (build_clearsky, folder_clearsky, percentile_with_missing,
                                            read_clearsky, read_clearsky_info)
from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.inputs import CLEARSKY_INPUTS, build_channels


def test_percentile_skips_missing_values_and_interpolates_like_numpy():
    nan = np.nan
    stack = np.array([[1.0, nan, 4.0], [nan, nan, 2.0], [3.0, nan, nan], [5.0, nan, 6.0]], np.float32)
    value, count = percentile_with_missing(stack, 20)
    # pixel 0: values 1, 3, 5 -> position 0.4 between 1 and 3 = 1.8; pixel 1: none; pixel 2: 2, 4, 6 -> 2.8
    np.testing.assert_allclose(value[[0, 2]], [1.8, 2.8], rtol=1e-6)
    assert np.isnan(value[1]) and count.tolist() == [3, 0, 3]
    rng = np.random.default_rng(0)
    big = rng.random((9, 50, 40)).astype(np.float32)
    big[rng.random(big.shape) < 0.3] = np.nan
    big[:, 0, 0] = np.nan
    for q in (0, 20, 50, 100):
        got, _ = percentile_with_missing(big, q)
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
            expected = np.nanpercentile(big, q, axis=0)
        np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)


@pytest.fixture
def subphase(tmp_path, jpeg_writer):
    """Four sols of P03 (Ls 150-156) whose maps differ by a known blue step; sol k has no data in
    columns 0..100k (black), so the count of sols with data varies along the equator."""
    folder = tmp_path / "archive" / "P03"
    rgb = np.full((grid.HEIGHT, grid.WIDTH, 3), 80, np.uint8)
    rgb[..., 2] = 60
    for k in range(4):
        sol = rgb.copy()
        sol[..., 2] = 60 + 20 * k          # blue 60, 80, 100, 120; red 80
        sol[:, :100 * k] = 0               # no data west of column 100k
        jpeg_writer(folder / f"P03_day0{k + 1}_zequat.jpg", sol)
        with open(folder / "P03_ls.txt", "a") as table:
            table.write(f"P03_day0{k + 1}       28       {150 + 2 * k:.3f}\n")
    return folder


def test_reference_holds_the_percentile_of_the_sols_with_data_and_their_count(subphase, tmp_path):
    paths = sorted(subphase.glob("*.jpg"))
    info = build_clearsky(paths, tmp_path / "ref.tif", percentile=20, min_sols=2)
    reference = read_clearsky(info.path)
    row = 900
    # column 350: all four sols have data: blue 60, 80, 100, 120 -> p20 at position 0.6 = 72
    assert reference.blue[row, 350] == pytest.approx(72, abs=1.5)        # JPEG rounding of the synthetic maps
    assert reference.blue_red[row, 350] == pytest.approx(72 / 80, abs=0.02)
    # column 250: sols 1-3 (blue 60, 80, 100) -> 68; column 50: sol 1 alone -> below min_sols: nodata
    assert reference.blue[row, 250] == pytest.approx(68, abs=1.5)
    assert np.isnan(reference.blue[row, 50]) and np.isnan(reference.blue_red[row, 50])
    import rasterio
    with rasterio.open(info.path) as src:
        counts = src.read(5)[row, [50, 150, 250, 350]]
        assert src.read(1)[row, 350] == pytest.approx(80, abs=1.5) and src.descriptions[3] == "blue/red, percentile 20"
        tags = src.tags()
        assert src.crs.to_wkt() and src.transform.almost_equals(grid.affine_transform())
    assert counts.tolist() == [1, 2, 3, 4]
    assert tags["SOLS"] == "P03_day01,P03_day02,P03_day03,P03_day04" and tags["STATISTIC"] == "percentile 20"
    assert (float(tags["LS_MIN"]), float(tags["LS_MAX"])) == (150, 156)
    assert read_clearsky_info(info.path).label == "ref.tif (4 sols, Ls 150-156, p20)"


def test_reference_build_names_the_sol_without_ls_or_leaves_it_out_in_batch_runs(subphase, tmp_path):
    (subphase / "P03_day09_zequat.jpg").write_bytes((subphase / "P03_day01_zequat.jpg").read_bytes())
    with pytest.raises(CloudmaskError, match="P03_day09"):
        build_clearsky(sorted(subphase.glob("*.jpg")), tmp_path / "ref.tif")
    assert not (tmp_path / "ref.tif").exists()
    info = build_clearsky(sorted(subphase.glob("*.jpg")), tmp_path / "ref.tif", skip_bad=True)
    assert info.left_out == ("P03_day09",) and len(info.sols) == 4


def test_folder_reference_is_cached_and_rebuilt_when_the_folder_gains_a_sol(subphase, tmp_path, jpeg_writer):
    cache = tmp_path / "cache"
    first = folder_clearsky(subphase, cache)
    assert first.path.name == "P03_clearsky.tif"
    stamp = first.path.stat().st_mtime_ns
    assert folder_clearsky(subphase, cache).path.stat().st_mtime_ns == stamp          # reused
    (subphase / "P03_day05_zequat.jpg").write_bytes((subphase / "P03_day04_zequat.jpg").read_bytes())
    with open(subphase / "P03_ls.txt", "a") as table:
        table.write("P03_day05       28       158.000\n")
    again = folder_clearsky(subphase, cache)
    assert len(again.sols) == 5 and again.ls_max == 158


def test_clearsky_channels_fall_back_to_the_maps_own_colour_where_the_reference_has_none():
    rgb = np.array([[[100, 50, 80], [100, 50, 120]]], np.uint8)
    reference = [np.array([[0.7, np.nan]], np.float32), np.array([[70.0, np.nan]], np.float32)]
    out = build_channels(CLEARSKY_INPUTS, rgb, np.array([10.0], np.float32), reference)
    names = list(CLEARSKY_INPUTS)
    assert out.shape == (1, 2, 7)
    assert out[0, 0, names.index("clearsky_blue_red")] == pytest.approx(0.7)
    assert out[0, 1, names.index("clearsky_blue_red")] == pytest.approx(1.2)    # the map's own 120 / 100
    assert out[0, 1, names.index("clearsky_blue")] == 120 and out[0, 0, names.index("latitude")] == 10
    with pytest.raises(CloudmaskError, match="clear-sky reference"):
        build_channels(CLEARSKY_INPUTS, rgb, np.array([10.0], np.float32), None)


def test_excess_channels_say_how_much_bluer_the_map_is_than_its_clear_sky():
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS
    rgb = np.array([[[100, 50, 80], [100, 50, 120], [1, 50, 200]]], np.uint8)
    reference = [np.array([[0.7, np.nan, 0.5]], np.float32), np.array([[70.0, np.nan, 60.0]], np.float32)]
    out = build_channels(EXCESS_INPUTS, rgb, np.array([10.0], np.float32), reference)
    names = list(EXCESS_INPUTS)
    assert out[0, 0, names.index("blue_excess")] == pytest.approx(10.0)              # 80 - 70
    assert out[0, 0, names.index("blue_red_excess")] == pytest.approx(0.1)           # 0.8 - 0.7
    assert out[0, 1, names.index("blue_excess")] == 0                                # no reference: no excess
    assert out[0, 1, names.index("blue_red_excess")] == 0
    assert out[0, 2, names.index("blue_red_excess")] == 1.0                          # 200 / 1 - 0.5, clipped


def test_latitude_from_subsolar_is_the_latitude_less_the_seasons_subsolar_latitude():
    from mars_cloudmask_plugin.crop import Area, pad_area
    rgb = np.full((1, 2, 3), 100, np.uint8)
    names = ("red", "latitude", "latitude_from_subsolar")
    out = build_channels(names, rgb, np.array([10.0], np.float32), ls=90.0)
    assert out[0, :, 2].tolist() == pytest.approx([10.0 - 25.19] * 2)   # the sun over 25.19 N at Ls 90
    with pytest.raises(CloudmaskError, match=r"solar longitude \(Ls\)"):
        build_channels(names, rgb, np.array([10.0], np.float32))
    # pad_area takes the season from the area's Ls: at Ls 270 the sun stands over -25.19
    global_rgb = np.full((grid.HEIGHT, grid.WIDTH, 3), 100, np.uint8)
    padded = pad_area(global_rgb, Area(900, 902, 0, 3600, 0, 0, ls=270.0), 0, 0, 0, channels=names)
    assert padded[:, 0, 2] == pytest.approx(padded[:, 0, 1] + 25.19)


def test_season_channels_place_the_sols_ls_on_a_circle_over_the_whole_map():
    rgb = np.full((2, 3, 3), 100, np.uint8)
    names = ("red", "season_sin", "season_cos")
    out = build_channels(names, rgb, np.array([10.0, -60.0], np.float32), ls=135.0)
    assert out[..., 1] == pytest.approx(np.full((2, 3), np.sqrt(0.5)))
    assert out[..., 2] == pytest.approx(np.full((2, 3), -np.sqrt(0.5)))
    # Ls 359 and Ls 1 are neighbours on the circle, though far apart as numbers
    near_end, near_start = (build_channels(names, rgb, np.zeros(2, np.float32), ls=ls)[0, 0, 1:] for ls in (359.0, 1.0))
    assert np.abs(near_end - near_start).max() < 0.04
    with pytest.raises(CloudmaskError, match=r"solar longitude \(Ls\) for its season_sin, season_cos input"):
        build_channels(names, rgb, np.zeros(2, np.float32))


def test_a_colour_head_sees_only_its_inputs():
    """A channel left out of the head's inputs reaches the decision through the U-Net alone: with
    the U-Net's first weights for it zero (a grown channel), the output does not depend on it."""
    from mars_cloudmask_plugin.unet import FIRST_CONV, build_unet
    names = ("red", "green", "blue", "latitude")
    head = {"boxes": [5], "units": [3], "inputs": ["red", "green", "blue"]}
    model = build_unet(width=2, inputs=names, colour_head=head)
    first = model.get_layer(FIRST_CONV)
    kernel, bias = first.get_weights()
    kernel[:, :, 3, :] = 0
    first.set_weights([kernel, bias])
    x = np.random.default_rng(0).uniform(0, 255, (1, 188, 188, 4)).astype(np.float32)
    other = x.copy()
    other[..., 3] = -60.0
    np.testing.assert_allclose(model(x), model(other), atol=1e-6)
    with pytest.raises(ValueError, match="not inputs of the network"):
        build_unet(width=2, inputs=names, colour_head={"units": [3], "inputs": ["blue_excess"]})


@pytest.fixture(scope="module")
def clearsky_model_path(tiny_clearsky_model_path):
    return tiny_clearsky_model_path


@pytest.mark.parametrize("fixture", ["clearsky_model_path", "tiny_excess_head_model_path",
                                     "tiny_seasonal_head_model_path", "tiny_season_head_model_path"])
def test_seamless_tiling_stays_exact_with_the_reference_inputs(subphase, tmp_path, request, fixture):
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    model = load_model(request.getfixturevalue(fixture))
    assert model.needs_clearsky and len(model.channels) >= 7
    clearsky = read_clearsky(build_clearsky(sorted(subphase.glob("*.jpg")), tmp_path / "ref.tif").path)
    mdgm = subphase / "P03_day04_zequat.jpg"
    whole = make_cloudmask(mdgm, model, tile_size=None, clearsky=clearsky)
    tiled = make_cloudmask(mdgm, model, tile_size=316, clearsky=clearsky)
    assert len(tiled.layout.offsets) > 10
    np.testing.assert_allclose(whole.prob_area, tiled.prob_area, atol=2e-5)
    assert whole.tags()["REFERENCE"] == "ref.tif (4 sols, Ls 150-156, p20)"


def test_predict_takes_a_reference_and_refuses_one_on_another_grid_or_season(cli, subphase, tmp_path,
                                                                              clearsky_model_path, tiny_model_path):
    ref = tmp_path / "P03_ref.tif"
    rc, out, err = cli("reference", "--root", str(subphase), "--out", str(ref))
    assert rc == 0 and "4 sols" in out, err
    mdgm = subphase / "P03_day02_zequat.jpg"
    args = ("predict", str(mdgm), "--model", str(clearsky_model_path), "--out-dir", str(tmp_path / "o"),
            "--formats", "tif", "--tile-size", "316")
    rc, out, err = cli(*args, "--reference", str(ref))
    assert rc == 0, err
    import rasterio
    with rasterio.open(tmp_path / "o" / "P03_day02_zequat_cloudmask.tif") as src:
        assert src.tags()["REFERENCE"].startswith("P03_ref.tif (4 sols") and src.tags()["MODEL"] == "tiny-clearsky test"
    rc, _, err = cli(*args, "--overwrite", "--reference", str(mdgm))              # a JPEG without georeferencing
    assert rc == 1 and "clear-sky reference" in err and str(mdgm) in err and "Traceback" not in err
    wrong = tmp_path / "wrong_grid.tif"
    import rasterio.transform
    with rasterio.open(wrong, "w", driver="GTiff", width=grid.WIDTH, height=grid.HEIGHT, count=3, dtype="float32",
                       transform=rasterio.transform.from_origin(0, 90, 0.1, 0.1)) as dst:
        dst.write(np.zeros((3, grid.HEIGHT, grid.WIDTH), np.float32))
    rc, _, err = cli(*args, "--overwrite", "--reference", str(wrong))
    assert rc == 1 and "another grid" in err and "wrong_grid.tif" in err
    far = tmp_path / "far.tif"
    build_clearsky(sorted(subphase.glob("*.jpg")), far)
    with rasterio.open(far, "r+") as dst:                 # the same maps, told they were taken at Ls 250-256
        dst.update_tags(LS_MIN="250", LS_MAX="256")
    rc, _, err = cli(*args, "--overwrite", "--reference", str(far))
    assert rc == 1 and "98 degrees of Ls from P03_day02" in err
    rc, _, err = cli(*args, "--overwrite")                                          # no reference
    assert rc == 1 and "needs a clear-sky reference" in err
    rc, _, err = cli("predict", str(mdgm), "--model", str(tiny_model_path), "--reference", str(ref),
                     "--out-dir", str(tmp_path / "o"), "--overwrite")
    assert rc == 1 and "does not use a clear-sky reference" in err


def test_a_raster_without_georeferencing_is_refused_in_one_line_without_rasterios_warning(subphase):
    """An MDGM JPEG given as a reference: the error says what is wrong; rasterio's
    NotGeoreferencedWarning would print two more lines from inside the library before it."""
    import warnings
    from mars_cloudmask_plugin.clearsky import read_clearsky_info
    from mars_cloudmask_plugin.raster import read_global_band
    jpeg = subphase / "P03_day02_zequat.jpg"
    for read in (read_clearsky_info, read_global_band):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(CloudmaskError, match="has no georeferencing") as excinfo:
                read(jpeg)
        assert str(jpeg) in str(excinfo.value) and "\n" not in str(excinfo.value)
        unwanted = [str(w.message) for w in caught if w.category.__name__ == "NotGeoreferencedWarning"]
        assert not unwanted, unwanted


def test_batch_reference_auto_builds_one_reference_per_subphase_and_reuses_it_on_resume(
        cli, subphase, make_mdgm, tmp_path, clearsky_model_path):
    root = subphase.parent
    for day in (1, 2, 3):
        make_mdgm(f"P04_day0{day}", ls=160.0 + day, seed=day, folder=root / "P04")
    out = tmp_path / "masks"
    args = ("batch", str(root), "--out-dir", str(out), "--reference", "auto", "--model", str(clearsky_model_path),
            "--formats", "tif", "--tile-size", "whole")
    rc, stdout, err = cli(*args)
    assert rc == 0, err
    assert "7 done, 0 skipped" in stdout
    references = sorted(p.relative_to(out).as_posix() for p in out.rglob("*_clearsky.tif"))
    assert references == ["P03/P03_clearsky.tif", "P04/P04_clearsky.tif"]
    import rasterio
    with rasterio.open(out / "P04" / "P04_day02_zequat_cloudmask.tif") as src:
        assert src.tags()["REFERENCE"] == "P04_clearsky.tif (3 sols, Ls 161-163, p20)"
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*_clearsky.tif")}
    rc, stdout, err = cli(*args)
    assert rc == 0 and "0 done, 7 skipped" in stdout, err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*_clearsky.tif")} == stamps
    # another reference is other work: P04's masks (made with P04's reference) are redone with P03's
    # (Ls 150-156, within 30 degrees of P04), P03's are the same work and stay
    rc, stdout, err = cli("batch", str(root), "--out-dir", str(out), "--reference", str(out / "P03" / "P03_clearsky.tif"),
                          "--model", str(clearsky_model_path), "--formats", "tif", "--tile-size", "whole")
    assert rc == 0 and "3 done, 4 skipped" in stdout and "3 redone" in stdout, err
    assert stdout.count("REDONE P04_day") == 3 and "REFERENCE 'P04_clearsky.tif" in stdout


def test_predict_refuses_reference_auto(cli, make_mdgm, tmp_path):
    rc, _, err = cli("predict", str(make_mdgm()), "--reference", "auto", "--out-dir", str(tmp_path))
    assert rc == 1 and "goes with batch" in err


def test_a_tiny_reference_aware_model_trains_end_to_end_in_stages(tmp_path, subphase, jpeg_writer):
    """The shape of the shipped recipe in one command from random weights: a single-map stage, then
    the clear-sky inputs grown and a colour head fitted on sampled pixels, then all of it on patches."""
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS, LEGACY_INPUTS
    from mars_cloudmask_lab.train import TrainConfig, train
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.writers import write_netcdf
    ref_dir = tmp_path / "labels"
    ref_dir.mkdir()
    for path in sorted(subphase.glob("*.jpg")):
        day = path.name[:9].replace("_", "")
        labels = np.zeros((grid.HEIGHT, grid.WIDTH), np.int16)
        labels[:, 2000:2200] = 1
        write_netcdf(ref_dir / f"cloudmask_{day}.ncdf", labels)
    head = {"boxes": [5, 15], "units": [4]}
    frozen = {"freeze_batchnorm": True, "recalibration_batches": 0}
    config = TrainConfig(mdgm_dir=str(subphase), reference_dir=str(ref_dir), train_days=["P03_day01", "P03_day02"],
                         val_days=["P03_day03"], width=2, patch=220, batch=2, learning_rate=0.01, seed=1,
                         inputs=list(EXCESS_INPUTS), colour_head=head, recalibration_batches=1, clearsky_min_sols=1,
                         stages=[{"epochs": 1, "steps_per_epoch": 2, "inputs": list(LEGACY_INPUTS["rgb+latitude"]),
                                  "colour_head": {}},
                                 {"epochs": 0, "head_patches": 4, "head_pixels_per_patch": 100, "head_epochs": 2, **frozen},
                                 {"epochs": 1, "steps_per_epoch": 2, **frozen}])
    final = train(config, tmp_path / "run", log=lambda line: None)
    model = load_model(final)
    assert load_model(tmp_path / "run" / "stage1" / "final.keras").channels == LEGACY_INPUTS["rgb+latitude"]
    assert "colour_head_loss" in load_model(tmp_path / "run" / "stage2" / "final.keras").metadata
    assert model.channels == EXCESS_INPUTS and model.needs_clearsky and model.metadata["stages"] == 3
    assert "colour head" in model.metadata["architecture"]
    assert model.keras_model.get_layer("colour_head1").filters == 4
    assert model.metadata["clearsky"]["statistic"] == "percentile 20"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["stages"][1]["freeze_batchnorm"] is True
    assert sorted(p.name for p in (tmp_path / "run" / "clearsky").iterdir()) == ["P03_clearsky.tif"]


def test_a_colour_head_counts_towards_the_memory_that_picks_the_auto_strips(clearsky_model_path,
                                                                            tiny_excess_head_model_path):
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import memory_width, resolve_tile_size
    plain, head = load_model(clearsky_model_path), load_model(tiny_excess_head_model_path)
    assert plain.metadata["width"] == head.metadata["width"] == 2 and memory_width(plain) == 2
    assert memory_width(head) > 4          # its 4-unit head over 2 + 8 + 16 features, all at full resolution
    area = (1086, 36000)              # wide enough that even width 2 runs in strips
    plain_rows, plain_cols = resolve_tile_size("auto", "seamless", plain, area)
    head_rows, head_cols = resolve_tile_size("auto", "seamless", head, area)
    assert head_rows == plain_rows and head_cols < plain_cols


def test_the_probability_step_runs_the_reference_aware_model_with_a_reference_and_names_it(
        subphase, tmp_path, clearsky_model_path):
    import rasterio
    from mars_cloudmask_plugin.options import MaskOptions
    from mars_cloudmask_plugin.steps import probability_raster
    ref = build_clearsky(sorted(subphase.glob("*.jpg")), tmp_path / "ref.tif").path
    options = MaskOptions(model_path=str(clearsky_model_path), reference=str(ref), tile_size=316)
    result = probability_raster(subphase / "P03_day02_zequat.jpg", tmp_path / "prob.tif", options)
    with rasterio.open(result.output) as src:
        assert src.tags()["REFERENCE"] == "ref.tif (4 sols, Ls 150-156, p20)"
        assert src.tags()["MODEL"] == result.model_label
    with pytest.raises(CloudmaskError, match="needs a clear-sky reference"):
        probability_raster(subphase / "P03_day02_zequat.jpg", tmp_path / "prob2.tif",
                           MaskOptions(model_path=str(clearsky_model_path)))


def test_a_model_with_a_seasonal_input_refuses_a_sol_without_ls_naming_the_mdgm(
        subphase, tmp_path, tiny_seasonal_head_model_path):
    import shutil
    from mars_cloudmask_plugin.options import MaskOptions
    from mars_cloudmask_plugin.steps import probability_raster
    ref = build_clearsky(sorted(subphase.glob("*.jpg")), tmp_path / "ref.tif").path
    lonely = tmp_path / "elsewhere" / "P03_day02_zequat.jpg"        # no P03_ls.txt beside it: Ls unknown
    lonely.parent.mkdir()
    shutil.copy(subphase / "P03_day02_zequat.jpg", lonely)
    options = MaskOptions(model_path=str(tiny_seasonal_head_model_path), reference=str(ref))
    with pytest.raises(CloudmaskError, match=r"P03_day02_zequat\.jpg: model .* needs the sol's solar longitude"):
        probability_raster(lonely, tmp_path / "prob.tif", options, lat_north=30, lat_south=-30)
