"""The seasons report: counts pooled per subphase by hand, and `mars-cloudmask seasons` end to end
on a synthetic season sample (agreement with a 'paper' mask we build from our own prediction)."""
import json

import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_lab.metrics import Confusion
from mars_cloudmask_lab.seasons import SeasonSol, Tally, subphase_rows, tally
from mars_cloudmask_plugin.writers import write_netcdf

N = grid.NODATA


def test_tally_counts_ours_and_the_papers_pixels():
    ours = np.array([[1, 1, 0, N], [0, N, 1, 0]], np.int16)
    paper = np.array([[1, 0, 0, 1], [N, 0, 1, 0]], np.int16)
    data = np.ones_like(ours, bool)
    t = tally(ours, data, paper)
    assert (t.cloud, t.valid, t.globe) == (3, 6, 8)
    assert (t.paper_cloud, t.paper_valid) == (3, 7)
    # Paper-valid pixels: (0,0) TP, (0,1) FP, (0,2) TN, (0,3) ours -999 on cloud: FN,
    # (1,1) ours -999 on clear: TN, (1,2) TP, (1,3) TN.
    assert t.agreement == Confusion(tp=2, fp=1, fn=1, tn=3, covered=5)
    assert tally(ours, data).agreement is None


def test_subphase_rows_pool_counts_not_fractions():
    a = SeasonSol("P02_day05", "P02", 28, 145.6, "a", Tally(10, 100, 5, 50, 1000, Confusion(4, 1, 1, 44, 50)))
    b = SeasonSol("P02_day15", "P02", 28, 150.3, "b", Tally(90, 300, 30, 150, 1000, Confusion(26, 4, 9, 111, 140)))
    c = SeasonSol("P03_day05", "P03", 28, 161.7, "c", Tally(0, 0, 0, 0, 1000, None))
    p02, p03 = subphase_rows([a, b, c])
    assert (p02["subphase"], p02["sols"], p02["ls_range"], p02["mars_year"]) == ("P02", 2, "145.6-150.3", "28")
    assert p02["cloud_fraction"] == pytest.approx(100 / 400)          # not the mean of 0.1 and 0.3
    assert p02["valid_fraction"] == pytest.approx(400 / 2000)
    assert p02["paper_cloud_fraction"] == pytest.approx(35 / 200)
    assert p02["agreement_iou"] == pytest.approx(30 / (30 + 5 + 10))
    assert p02["agreement_f1"] == pytest.approx(60 / (60 + 5 + 10))
    assert p02["agreement_coverage"] == pytest.approx(190 / 200)
    assert p03["ls_range"] == "161.7" and p03["agreement_iou"] is None and p03["paper_cloud_fraction"] is None


def test_seasons_cli_reports_agreement_per_sol_and_subphase(tmp_path, make_mdgm, cli, tiny_model_path, tiny_model):
    """P02 day05 has a 'paper' mask: our own prediction with a 100 x 100 block inverted, so the
    agreement follows by hand from our counts; P03 has none; P04 has no Ls and fails (exit 1)."""
    from mars_cloudmask_plugin.mdgm import has_data, read_mdgm
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    year = tmp_path / "year"
    src = make_mdgm("P02_day05", ls=145.6, seed=1, folder=year / "P02")
    make_mdgm("P03_day05", ls=161.7, seed=2, folder=year / "P03")
    make_mdgm("P04_day05", ls=None, seed=3, folder=year / "P04")
    ours = make_cloudmask(src, tiny_model, tile_size=None).mask
    assert (ours[600:700, 1500:1600] != N).all()
    paper = ours.copy()
    paper[600:700, 1500:1600] = 1 - ours[600:700, 1500:1600]
    write_netcdf(year / "P02" / "paper_masks" / "cloudmask_P02_day05.ncdf", paper)
    scored = (ours != N) & has_data(read_mdgm(src).rgb)
    cloud, block_cloud = int(((ours == 1) & scored).sum()), int((ours[600:700, 1500:1600] == 1).sum())
    expected_iou = (cloud - block_cloud) / (cloud - block_cloud + block_cloud + 10000 - block_cloud)

    out_json = tmp_path / "seasons.json"
    rc, out, err = cli("seasons", year, "--model", tiny_model_path, "--tile-size", "whole",
                       "--json", out_json, "--out-dir", tmp_path / "masks")
    assert rc == 1                                              # P04 failed ...
    assert "P04_day05" in err and "no solar longitude" in err
    assert "Per subphase" in out and "| P02 | 1 | 28 | 145.6 |" in out   # ... the others are reported
    data = json.loads(out_json.read_text())
    sols = {s["sol"]: s for s in data["sols"]}
    assert sorted(sols) == ["P02_day05", "P03_day05"]
    p02 = sols["P02_day05"]
    assert p02["agreement_iou"] == pytest.approx(expected_iou)
    assert p02["agreement_coverage"] == 1.0
    assert p02["cloud_fraction"] == pytest.approx((ours == 1).sum() / (ours != N).sum())
    assert p02["valid_fraction"] == pytest.approx((ours != N).mean())
    assert sols["P03_day05"]["agreement_iou"] is None and sols["P03_day05"]["ls"] == 161.7
    assert [r["subphase"] for r in data["subphases"]] == ["P02", "P03"]
    assert "another model, not truth" in data["agreement"]
    assert (tmp_path / "masks" / "P02" / "P02_day05_zequat_cloudmask.tif").exists()
    assert (tmp_path / "masks" / "P03" / "P03_day05_zequat_cloudmask.nc").exists()
