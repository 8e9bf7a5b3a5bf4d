"""Bad input: a one-line error naming the file and the problem, a non-zero exit, no output left."""
import numpy as np
import pytest

from mars_cloudmask_plugin.errors import CloudmaskError

from mars_cloudmask_plugin import grid


def write_raster(path, array, driver="GTiff"):
    import rasterio
    bands = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    with rasterio.open(path, "w", driver=driver, width=bands.shape[2], height=bands.shape[1],
                       count=bands.shape[0], dtype=bands.dtype.name) as dst:
        dst.write(bands)
    return path


def truncated(make_mdgm, tmp_path):
    path = make_mdgm("P01_day03")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def not_an_image(make_mdgm, tmp_path):
    path = make_mdgm("P01_day04")
    path.write_text("this is a text file, not a JPEG\n")
    return path


def grayscale(make_mdgm, tmp_path):
    path = make_mdgm("P01_day05")
    return write_raster(path, np.full((grid.HEIGHT, grid.WIDTH), 120, np.uint8), driver="JPEG")


def four_band(make_mdgm, tmp_path):
    path = make_mdgm("P01_day06")
    tif = path.with_name("P01_day06_zequat.tif")
    path.unlink()
    (path.parent / "P01_ls.txt").write_text("P01_day06 28 135.0\n")
    return write_raster(tif, np.full((grid.HEIGHT, grid.WIDTH, 4), 120, np.uint8))


def finer_grid(make_mdgm, tmp_path):
    path = make_mdgm("P01_day07")
    return write_raster(path, np.full((3601, 7200, 3), 120, np.uint8), driver="JPEG")


def all_black(make_mdgm, tmp_path):
    return make_mdgm("P01_day08", rgb=np.zeros((grid.HEIGHT, grid.WIDTH, 3), np.uint8))


def no_ls(make_mdgm, tmp_path):
    return make_mdgm("P01_day09", ls=None)


def missing(make_mdgm, tmp_path):
    return tmp_path / "P01_day99_zequat.jpg"


CASES = [
    (missing, "file not found"),
    (not_an_image, "cannot be read as an image"),
    (truncated, "cannot be read as an image"),
    (grayscale, "is grayscale \\(1 band\\); an MDGM has 3 bands"),
    (four_band, "is 4-band"),
    (finer_grid, "is 7200 x 3601 pixels; an MDGM on the 0.1-degree global grid is 3600 x 1801.*resample"),
    (all_black, "holds no image data"),
    (no_ls, "no solar longitude.*--ls DEG"),
]


def assert_clean_failure(rc, out, err, path, problem, out_dir):
    import re
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err                                   # one line, no traceback
    assert str(path) in lines[0] and re.search(problem, lines[0]), lines[0]
    assert "Traceback" not in err
    leftovers = [p for p in out_dir.rglob("*") if p.is_file()] if out_dir.exists() else []
    assert leftovers == []                                        # nothing partial or corrupt


@pytest.mark.parametrize("make_case, problem", CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_mdgm_gives_one_line_error_naming_file_and_no_output(make_case, problem, make_mdgm, tmp_path, cli,
                                                                  tiny_model_path):
    path = make_case(make_mdgm, tmp_path)
    out_dir = tmp_path / "out"
    rc, out, err = cli("predict", path, "--out-dir", out_dir, "--model", tiny_model_path)
    assert_clean_failure(rc, out, err, path, problem, out_dir)


@pytest.mark.parametrize("ls", ["400", "-5"])
def test_ls_outside_0_360_is_refused(ls, make_mdgm, tmp_path, cli, tiny_model_path):
    path = make_mdgm("P01_day10")
    out_dir = tmp_path / "out"
    rc, out, err = cli("predict", path, "--out-dir", out_dir, "--ls", ls, "--model", tiny_model_path)
    assert rc != 0 and "outside [0, 360]" in err and len(err.strip().splitlines()) == 1
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_ls_outside_0_360_in_the_archive_table_is_refused(make_mdgm, tmp_path, cli, tiny_model_path):
    path = make_mdgm("P01_day11", ls=412.0)
    out_dir = tmp_path / "out"
    rc, out, err = cli("predict", path, "--out-dir", out_dir, "--model", tiny_model_path)
    assert_clean_failure(rc, out, err, path, "outside \\[0, 360\\]", out_dir)


def test_unwritable_output_folder_is_refused_before_any_work(make_mdgm, tmp_path, cli, tiny_model_path):
    path = make_mdgm("P01_day12")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out_dir = blocker / "masks"                       # a folder under a file can never be made
    rc, out, err = cli("predict", path, "--out-dir", out_dir, "--model", tiny_model_path)
    assert rc != 0 and str(out_dir) in err and "output folder cannot be created" in err
    assert len(err.strip().splitlines()) == 1


def test_model_file_that_is_not_a_model_is_named(make_mdgm, tmp_path, cli):
    path = make_mdgm("P01_day13")
    fake = tmp_path / "fake.keras"
    fake.write_text("not a zip")
    rc, out, err = cli("predict", path, "--out-dir", tmp_path / "out", "--model", fake)
    assert rc != 0 and str(fake) in err and "is not a Mars Cloudmask model" in err


def test_failure_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    from mars_cloudmask_plugin import writers
    target = tmp_path / "mask.tif"

    def boom(*a, **k):
        raise OSError("disk full")
    import rasterio
    monkeypatch.setattr(rasterio.io.DatasetWriter, "update_tags", boom)
    with pytest.raises(CloudmaskError, match=f"{target}: cannot be written \\(disk full\\)"):
        writers.write_geotiff(target, np.zeros((grid.HEIGHT, grid.WIDTH), np.int16))
    assert list(tmp_path.iterdir()) == []
