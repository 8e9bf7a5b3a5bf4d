"""The evaluator: confusion counts worked by hand, reference orientation, reading our masks back,
the blue/red baseline, and `mars-cloudmask evaluate` end to end on synthetic files."""
import csv
import json
import math

import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_lab.evaluate import BASELINE, baseline_mask, evaluate_files, evaluate_mdgms
from mars_cloudmask_lab.metrics import Confusion, astuple, confusion, confusions_by_threshold
from mars_cloudmask_plugin.archive import sol_in_name
from mars_cloudmask_plugin.raster import FILE_METHOD, read_mask, read_reference
from mars_cloudmask_plugin.writers import write_geotiff, write_netcdf

N = grid.NODATA


def write_reference(path, mask, ascending=True):
    """A mask (north row first, 1/0/-999) as a NetCDF in the reference layout (dims x, y; cloud
    stored as a brightness 1..255; latitude ascending unless told otherwise)."""
    import netCDF4
    values = mask.astype(np.float32)
    cloud = mask == 1
    values[cloud] = 1 + np.nonzero(cloud)[1] % 255       # brightness numbers, not just 1
    lat = grid.latitude_of_row(np.arange(grid.HEIGHT))
    if ascending:
        values, lat = values[::-1], lat[::-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as ds:
        ds.createDimension("x", grid.WIDTH)
        ds.createDimension("y", grid.HEIGHT)
        ds.createVariable("longitude", "f4", ("x",))[:] = grid.longitude_of_column(np.arange(grid.WIDTH))
        ds.createVariable("latitude", "f4", ("y",))[:] = lat
        ds.createVariable("cloudmask", "f4", ("y", "x"), zlib=True)[:] = values
    return path


def blank():
    return np.full((grid.HEIGHT, grid.WIDTH), N, np.int16)


# --- metrics worked by hand -------------------------------------------------------------------

def test_confusion_counts_worked_by_hand():
    prediction = np.array([[1, 1, 0, N], [0, 1, N, 0]], np.int16)
    reference = np.array([[1, 0, 1, 1], [0, N, 0, 1]], np.int16)
    data = np.array([[True, True, True, True], [True, True, True, False]])
    # (0,0) TP; (0,1) FP; (0,2) FN; (0,3) -999 on cloud: FN, uncovered; (1,0) TN;
    # (1,1) reference -999: not scored; (1,2) -999 on clear: TN, uncovered; (1,3) no data: not scored.
    c = confusion(prediction, reference, data)
    assert (c.tp, c.fp, c.fn, c.tn, c.covered) == (1, 1, 2, 2, 4)
    m = c.metrics()
    assert m["scored_pixels"] == 6
    assert m["accuracy"] == pytest.approx(3 / 6)
    assert m["precision"] == pytest.approx(1 / 2)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(2 / 5)
    assert m["iou"] == pytest.approx(1 / 4)
    assert m["coverage"] == pytest.approx(4 / 6)
    pooled = c + Confusion(tp=3, fp=0, fn=0, tn=1, covered=4)
    assert pooled.metrics()["iou"] == pytest.approx(4 / 7)
    assert pooled.metrics()["coverage"] == pytest.approx(8 / 10)


def test_threshold_sweep_counts_match_thresholding_each_mask_by_hand():
    probability = np.array([[0.9, 0.6, 0.3, N], [0.1, 0.7, N, 0.8]], np.float32)
    reference = np.array([[1, 0, 1, 1], [0, N, 0, 1]], np.int16)
    data = np.array([[True, True, True, True], [True, True, True, False]])
    # scored: (0,0) cloud 0.9; (0,1) clear 0.6; (0,2) cloud 0.3; (0,3) cloud, uncovered; (1,0) clear 0.1;
    # (1,2) clear, uncovered. At 0.5: TP 1, FP 1, FN 2, TN 2; at 0.25: TP 2, FP 1, FN 1, TN 2.
    at_half, at_quarter = confusions_by_threshold(probability, reference, data, [0.5, 0.25])
    assert astuple(at_half) == (1, 1, 2, 2, 4) and astuple(at_quarter) == (2, 1, 1, 2, 4)
    for t, c in zip((0.5, 0.25), (at_half, at_quarter)):
        mask = np.where(probability == N, N, (probability >= t).astype(np.int16)).astype(np.int16)
        assert astuple(c) == astuple(confusion(mask, reference, data))


def test_metrics_are_nan_when_nothing_is_scored():
    m = Confusion().metrics()
    assert m["scored_pixels"] == 0
    assert all(math.isnan(m[k]) for k in ("accuracy", "precision", "recall", "f1", "iou", "coverage"))


# --- reading masks ------------------------------------------------------------------------------

def test_reference_is_flipped_to_north_up(tmp_path):
    mask = blank()
    mask[100:110, 5:25] = 1           # a cloud near the north edge
    mask[1700:1705, 40:60] = 0        # clear near the south edge
    up = read_reference(write_reference(tmp_path / "asc.ncdf", mask, ascending=True))
    down = read_reference(write_reference(tmp_path / "desc.ncdf", mask, ascending=False))
    assert up.dtype == np.int16
    np.testing.assert_array_equal(up, mask)      # brightness 1..255 -> 1, rows back north-up
    np.testing.assert_array_equal(down, mask)    # already north-up: left as it is


def test_fractional_values_are_refused(tmp_path):
    path = write_reference(tmp_path / "cloudmask_P01day15.ncdf", blank())
    import netCDF4
    with netCDF4.Dataset(path, "a") as ds:
        ds["cloudmask"][0, :3] = [0.2, 0.7, 0.9]
    with pytest.raises(CloudmaskError, match="probability"):
        read_reference(path)


def test_our_geotiff_and_netcdf_read_back_with_their_sol(tmp_path):
    mask = blank()
    mask[500:600, 1000:1100] = 1
    mask[500:600, 1100:1200] = 0
    tif = write_geotiff(tmp_path / "a.tif", mask, {"SOL": "P01_day15", "MODEL": "unet v9"})
    nc = write_netcdf(tmp_path / "b.nc", mask, {"source_file": "P01_day16_zequat.jpg", "ls": "139.3"})
    named = write_reference(tmp_path / "cloudmask_P02_day05.ncdf", mask)
    a, b, c = read_mask(tif), read_mask(nc), read_mask(named)
    for p in (a, b, c):
        np.testing.assert_array_equal(p.mask, mask)
    assert (a.sol, a.method) == ("P01_day15", "unet v9")
    assert (b.sol, b.method, b.ls) == ("P01_day16", FILE_METHOD, 139.3)
    assert (c.sol, c.method) == ("P02_day05", FILE_METHOD)
    with pytest.raises(CloudmaskError, match="cannot tell its sol"):
        read_mask(write_geotiff(tmp_path / "mask.tif", mask))


@pytest.mark.parametrize("name, sol", [("P01_day10_zequat_cloudmask.tif", "P01_day10"),
                                       ("cloudmask_P01day10.ncdf", "P01_day10"),
                                       ("cloudmask_P02_day05.ncdf", "P02_day05"), ("mask.tif", None)])
def test_sol_in_name(name, sol):
    assert sol_in_name(name) == sol


# --- the blue/red baseline ----------------------------------------------------------------------

def test_baseline_thresholds_blue_over_red_inside_the_polar_bounds():
    rgb = np.zeros((grid.HEIGHT, grid.WIDTH, 3), np.uint8)
    rgb[:, 3:-3] = (100, 100, 90)              # b/r 0.9: cloud
    rgb[:, 1000:1100] = (100, 100, 70)         # b/r 0.7: clear
    rgb[:, 1100:1200] = (100, 100, 80)         # b/r exactly 0.8: not > 0.8, clear
    rgb[:, 1200:1300] = (40, 40, 200)          # b/r 5: cloud
    rgb[800:810, 2000:2010] = (100, 100, 20)   # blue < 30: no data
    mask = baseline_mask(rgb, ls=90.0, buffer=3.0)
    # Ls 90: latN = 59 + 0.214 * 90 - 3 = 75.26 -> first row 148; latS = -57 + 0.247 * 90 + 3 = -31.77
    # -> last row 1217.
    assert mask.dtype == np.int16
    assert (mask[:148] == N).all() and (mask[1218:] == N).all()
    inside = mask[148:1218]
    assert (inside[:, :3] == N).all() and (inside[:, -3:] == N).all()
    assert (inside[:, 3:1000] == 1).all() and (inside[:, 1300:2000] == 1).all()
    assert (inside[:, 1000:1200] == 0).all()
    assert (inside[:, 1200:1300] == 1).all()
    assert (mask[800:810, 2000:2010] == N).all()
    assert (mask[148:800, 2000:2010] == 1).all()


# --- evaluate end to end on synthetic files -------------------------------------------------------
# One sol's scene, all inside a uniform (120, 110, 100) patch (b/r 0.83: the baseline says cloud):
# reference valid on rows 500-599 x columns 1000-1199: cloud in 1000-1099, clear in 1100-1199.
# The MDGM is black (no data) on rows 576-591 x columns 1152-1199: 768 pixels of the clear half,
# aligned to JPEG blocks so compression neither spreads nor shrinks it.

def scene_rgb():
    rgb = np.zeros((grid.HEIGHT, grid.WIDTH, 3), np.uint8)
    rgb[150:-150, 3:-3] = (150, 140, 110)       # black polar caps and edge columns, like an MDGM
    rgb[400:704, 896:1312] = (120, 110, 100)
    rgb[576:592, 1152:1200] = 0
    return rgb


def scene_reference():
    ref = blank()
    ref[500:600, 1000:1100] = 1
    ref[500:600, 1100:1200] = 0
    return ref


def scene_prediction():
    """Cloud on columns 1050-1149, clear elsewhere in the block; -999 on rows 500-549 x 1000-1024
    (reference cloud, predicted clear anyway) and on rows 500-519 x 1050-1099 (reference cloud
    predicted cloud: the -999 turns 1000 hits into misses)."""
    pred = blank()
    pred[480:620, 980:1220] = 0
    pred[500:600, 1050:1150] = 1
    pred[500:550, 1000:1025] = N
    pred[500:520, 1050:1100] = N
    return pred


@pytest.fixture
def archive(tmp_path, make_mdgm):
    """P01/mdgm (two sols, Ls lines) and P01/cloudmask (their references) in the archive layout."""
    root = tmp_path / "P01"
    for day in ("15", "16"):
        make_mdgm(f"P01_day{day}", ls=139.0, folder=root / "mdgm", rgb=scene_rgb())
        write_reference(root / "cloudmask" / f"cloudmask_P01day{day}.ncdf", scene_reference())
    return root


HAND_DAY15 = dict(tp=4000, fp=5000, fn=6000, tn=5000 - 768, covered=20000 - 768 - 1250 - 1000)
HAND_DAY16 = dict(tp=10000, fp=0, fn=0, tn=10000 - 768, covered=20000 - 768)   # prediction == reference
HAND_BASELINE = dict(tp=10000, fp=10000 - 768, fn=0, tn=0, covered=20000 - 768)  # cloud everywhere


def counts(row):
    return {k: row[k] for k in ("tp", "fp", "fn", "tn", "covered")}


def test_evaluate_cli_scores_files_against_hand_counts(archive, tmp_path, cli):
    tif = write_geotiff(tmp_path / "pred" / "P01_day15_zequat_cloudmask.tif", scene_prediction(),
                        {"SOL": "P01_day15", "MODEL": "unet test"})
    nc = write_netcdf(tmp_path / "pred" / "renamed.nc", scene_reference(), {"sol": "P01_day16", "model": "unet test"})
    out_csv, out_json = tmp_path / "scores.csv", tmp_path / "scores.json"
    rc, out, err = cli("evaluate", tif, nc, "--reference", archive / "cloudmask", "--baseline",
                       "--csv", out_csv, "--json", out_json)
    assert rc == 0, err
    assert out.splitlines()[0].startswith("| method | sol | Ls |")
    data = json.loads(out_json.read_text())
    methods = {m["method"]: m for m in data["methods"]}
    assert list(methods) == ["unet test", BASELINE]
    ours = {s["sol"]: s for s in methods["unet test"]["sols"]}
    assert counts(ours["P01_day15"]) == HAND_DAY15
    assert counts(ours["P01_day16"]) == HAND_DAY16
    assert ours["P01_day15"]["iou"] == pytest.approx(4000 / 15000)
    assert ours["P01_day15"]["coverage"] == pytest.approx(16982 / 19232)
    assert ours["P01_day16"]["iou"] == 1.0
    pooled = methods["unet test"]["pooled"]
    assert pooled["iou"] == pytest.approx(14000 / 25000)
    assert pooled["f1"] == pytest.approx(28000 / 39000)
    assert pooled["scored_pixels"] == 2 * 19232
    for s in methods[BASELINE]["sols"]:
        assert counts(s) == HAND_BASELINE
    assert methods[BASELINE]["pooled"]["iou"] == pytest.approx(10000 / 19232)
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["method"], r["sol"]) for r in rows] == [
        ("unet test", "P01_day15"), (BASELINE, "P01_day15"), ("unet test", "P01_day16"), (BASELINE, "P01_day16"),
        ("unet test", "pooled"), (BASELINE, "pooled")]
    assert float(rows[4]["iou"]) == pytest.approx(0.56)


def test_evaluate_cli_baseline_alone_and_days(archive, cli):
    rc, out, err = cli("evaluate", "--reference", archive / "cloudmask", "--baseline", "--days", "16")
    assert rc == 0, err
    lines = [line for line in out.splitlines() if line.startswith(f"| {BASELINE} |")]
    assert [line.split("|")[2].strip() for line in lines] == ["P01_day16", "pooled"]
    assert f"| {10000 / 19232:.3f} |" in lines[0]


@pytest.mark.parametrize("case, message", [
    ("no reference", "no reference mask for P01_day17"),
    ("no mdgm", "MDGM not found"),
    ("nothing", "nothing to score"),
    ("files and model", "not both"),
    ("twice", "a second"),
])
def test_evaluate_cli_errors_are_one_line(archive, tmp_path, cli, case, message):
    tif = write_geotiff(tmp_path / "P01_day15_cloudmask.tif", scene_prediction())
    args = {"no reference": [write_geotiff(tmp_path / "P01_day17_cloudmask.tif", scene_prediction())],
            "no mdgm": [tif, "--mdgm-dir", tmp_path / "elsewhere"],
            "nothing": [],
            "files and model": [tif, "--model", tmp_path / "m.keras"],
            "twice": [tif, write_netcdf(tmp_path / "P01_day15_cloudmask.nc", scene_prediction())]}[case]
    rc, out, err = cli("evaluate", *args, "--reference", archive / "cloudmask")
    assert rc == 1
    assert err.startswith("mars-cloudmask: error:") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_model_in_memory_scores_like_its_written_masks(archive, tmp_path, tiny_model):
    """evaluate --model (predict in memory) and evaluate PRED on the masks `predict` writes agree,
    through both writers (GeoTIFF, and NetCDF stored south row first)."""
    from mars_cloudmask_plugin.pipeline import make_cloudmask, output_paths, write_products
    mdgm = archive / "mdgm" / "P01_day15_zequat.jpg"
    in_memory = evaluate_mdgms([mdgm], archive / "cloudmask", tiny_model, baseline=True, tile_size=None)
    result = make_cloudmask(mdgm, tiny_model, tile_size=None)
    paths = write_products(result, output_paths(tmp_path / "out", mdgm.stem))
    for path in paths:
        from_file = evaluate_files([path], archive / "cloudmask")
        assert from_file.scores[0].method == tiny_model.label
        assert from_file.scores[0].confusion == in_memory.scores[0].confusion
    assert [s.method for s in in_memory.scores] == [tiny_model.label, BASELINE]
    assert in_memory.scores[0].confusion.scored == 19232


# --- real data ----------------------------------------------------------------------------------

def test_real_baseline_on_p01_validation_days(shared_data, cli, tmp_path):
    """The data README: b/r > 0.8 scores IoU about 0.28-0.37 per day against the reference."""
    out_json = tmp_path / "baseline.json"
    rc, out, err = cli("evaluate", "--reference", shared_data / "P01" / "cloudmask", "--baseline",
                       "--days", "15-18", "--json", out_json)
    assert rc == 0, err
    (method,) = json.loads(out_json.read_text())["methods"]
    assert [s["sol"] for s in method["sols"]] == [f"P01_day{d}" for d in (15, 16, 17, 18)]
    assert 0.25 <= method["pooled"]["iou"] <= 0.40
    for s in method["sols"]:
        assert 0.25 <= s["iou"] <= 0.40


def test_real_reference_reads_north_up(shared_data):
    """The reference files store latitude ascending; valid pixels span 71.1 N to 43.5 S in P01."""
    ref = read_reference(shared_data / "P01" / "cloudmask" / "cloudmask_P01day15.ncdf")
    rows = np.flatnonzero((ref != N).any(axis=1))
    np.testing.assert_allclose(grid.latitude_of_row(rows[[0, -1]]), [71.1, -43.5], atol=1e-6)
