"""The mars-cloudmask CLI: predict and batch on synthetic MDGMs with a tiny random model."""
import json
import zipfile

import numpy as np
import pytest
import rasterio


def test_predict_writes_mask_netcdf_and_probability_with_a_summary_line(make_mdgm, tmp_path, cli, tiny_model_path):
    path = make_mdgm("P01_day10", ls=136.5)
    out = tmp_path / "out"
    rc, stdout, stderr = cli("predict", path, "--out-dir", out, "--model", tiny_model_path, "--probability")
    assert rc == 0, stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["P01_day10_zequat_cloudmask.nc", "P01_day10_zequat_cloudmask.tif",
                     "P01_day10_zequat_probability.tif"]
    assert "P01_day10_zequat.jpg: cloud" in stdout and "% of valid pixels" in stdout and " s -> " in stdout
    with rasterio.open(out / "P01_day10_zequat_cloudmask.tif") as src:
        tags = src.tags()
        assert tags["LS"] == "136.5" and tags["MARS_YEAR"] == "28" and tags["SOURCE_FILE"] == path.name
        assert tags["MODEL"] == "tiny-random test" and tags["TILING_MODE"] == "seamless"
        assert set(np.unique(src.read(1))) <= {-999, 0, 1}
    with rasterio.open(out / "P01_day10_zequat_probability.tif") as src:
        p = src.read(1)
        assert src.dtypes[0] == "float32" and p[p != -999].min() >= 0 and p[p != -999].max() <= 1


def test_predict_honours_formats_ls_threshold_and_tiling(make_mdgm, tmp_path, cli, tiny_model_path):
    path = make_mdgm("P01_day11", ls=None)                       # no table line: --ls supplies it
    out = tmp_path / "out"
    rc, stdout, stderr = cli("predict", path, "--out-dir", out, "--model", tiny_model_path, "--formats", "tif",
                             "--ls", "250", "--threshold", "0.9", "--tiling", "blend", "--tile-size", "668",
                             "--buffer", "5")
    assert rc == 0, stderr
    assert [p.name for p in out.iterdir()] == ["P01_day11_zequat_cloudmask.tif"]
    with rasterio.open(out / "P01_day11_zequat_cloudmask.tif") as src:
        tags = src.tags()
        mask = src.read(1)
    assert tags["LS"] == "250" and tags["THRESHOLD"] == "0.9" and tags["TILING_MODE"] == "blend"
    # Ls 250, buffer 5: latN = 59 - 0.214*70 - 5 = 39.02, latS = -57 - 0.247*70 + 5 = -69.29
    assert tags["LAT_NORTH"] == "39.020" and tags["LAT_SOUTH"] == "-69.290"
    rows = np.flatnonzero((mask != -999).any(axis=1))
    assert rows.min() >= 510 and rows.max() <= 1592                # 90-0.1*510 = 39.0, 90-0.1*1592 = -69.2


def test_batch_mirrors_the_archive_skips_done_sols_and_reports_bad_files(make_mdgm, tmp_path, cli, tiny_model_path):
    root = tmp_path / "archive"
    make_mdgm("P01_day01", folder=root / "PSP" / "P01")
    make_mdgm("P02_day05", ls=150.3, seed=2, folder=root / "PSP" / "P02")
    bad = make_mdgm("P02_day06", ls=150.9, folder=root / "PSP" / "P02")
    bad.write_bytes(b"garbage")
    out = tmp_path / "masks"
    rc, stdout, stderr = cli("batch", root, "--out-dir", out, "--model", tiny_model_path, "--formats", "tif")
    assert rc == 1                                                  # a file failed
    assert (out / "PSP" / "P01" / "P01_day01_zequat_cloudmask.tif").exists()
    assert (out / "PSP" / "P02" / "P02_day05_zequat_cloudmask.tif").exists()
    assert "2 done, 0 skipped (outputs exist), 1 failed" in stdout
    assert f"FAILED {bad}: cannot be read as an image" in stdout
    first = (out / "PSP" / "P01" / "P01_day01_zequat_cloudmask.tif").stat().st_mtime_ns
    rc, stdout, _ = cli("batch", root, "--out-dir", out, "--model", tiny_model_path, "--formats", "tif")
    assert "0 done, 2 skipped (outputs exist), 1 failed" in stdout
    assert (out / "PSP" / "P01" / "P01_day01_zequat_cloudmask.tif").stat().st_mtime_ns == first
    rc, stdout, _ = cli("batch", root, "--out-dir", out, "--model", tiny_model_path, "--formats", "tif", "--overwrite")
    assert "2 done, 0 skipped" in stdout


def test_batch_of_a_folder_without_mdgms_fails(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    rc, stdout, stderr = cli("batch", tmp_path / "empty", "--out-dir", tmp_path / "o")
    assert rc == 1 and "no MDGMs" in stderr and len(stderr.strip().splitlines()) == 1


def test_model_file_carries_its_metadata(tiny_model_path):
    with zipfile.ZipFile(tiny_model_path) as zf:
        meta = json.loads(zf.read("mars_cloudmask.json"))
    assert meta["margin"] == 92 and meta["tile_size"] == 316 and meta["threshold"] == 0.5
    assert meta["normalisation"].startswith("red, green, blue / 255") and meta["width"] == 4


def test_engine_reads_tile_geometry_and_threshold_from_the_model_file(tmp_path, make_mdgm):
    import keras
    from mars_cloudmask_plugin.model import load_model, model_metadata, save_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    from mars_cloudmask_plugin.unet import build_unet
    km = build_unet(width=2)
    path = save_model(km, tmp_path / "m.keras", model_metadata(km, name="m", version="1", width=2,
                                                               tile_size=412, threshold=0.3))
    result = make_cloudmask(make_mdgm("P01_day02"), load_model(path), tile_size="model")
    assert result.layout.tile == (412, 412) and result.threshold == 0.3


def test_installed_command_lists_every_command_core_and_lab_and_predicts(cli_subprocess, make_mdgm, tmp_path,
                                                                          tiny_model_path):
    """The one subprocess smoke test: the installed `mars-cloudmask` (its entry points add the lab's
    commands to the core's) runs, errors in one line and exits non-zero, and writes a mask."""
    rc, stdout, _ = cli_subprocess("--help")
    assert rc == 0
    for command in ("predict", "batch", "train", "evaluate", "seasons", "benchmark"):
        assert command in stdout
    rc, _, stderr = cli_subprocess("predict", tmp_path / "nothing_zequat.jpg", "--out-dir", tmp_path / "o")
    assert rc == 1 and stderr.strip().splitlines() == [f"mars-cloudmask: error: {tmp_path / 'nothing_zequat.jpg'}: "
                                                         "file not found"]
    rc, stdout, stderr = cli_subprocess("predict", make_mdgm("P01_day10"), "--out-dir", tmp_path / "o",
                                        "--model", tiny_model_path, "--formats", "tif")
    assert rc == 0, stderr
    assert (tmp_path / "o" / "P01_day10_zequat_cloudmask.tif").is_file()


def test_a_model_with_a_latitude_channel_runs_through_the_pipeline(tmp_path, make_mdgm):
    from mars_cloudmask_plugin.model import load_model, model_metadata, save_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    from mars_cloudmask_plugin.unet import build_unet
    km = build_unet(width=2, latitude_channel=True)
    meta = model_metadata(km, name="lat", version="1", width=2, tile_size=316)
    assert meta["inputs"] == ["red", "green", "blue", "latitude"] and "latitude / 90" in meta["normalisation"]
    model = load_model(save_model(km, tmp_path / "lat.keras", meta))
    assert model.uses_latitude
    result = make_cloudmask(make_mdgm("P01_day03"), model)
    assert set(np.unique(result.mask)) <= {-999, 0, 1} and (result.mask != -999).any()
