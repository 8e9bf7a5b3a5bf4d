"""`mars-cloudmask benchmark` prints every figure it promises (no assertion on the values: speed is
measured by the command itself, never asserted by a test)."""
import re

import pytest


def test_benchmark_prints_stages_memory_flops_ratio_threads_and_start_up(cli, sample_mdgm, tiny_model_path):
    rc, out, err = cli("benchmark", sample_mdgm, "--model", tiny_model_path, "--repeat", "0")
    assert rc == 0, err
    assert re.search(r"GPU: .+", out) and "machine peak" in out and "GFLOP/s" in out
    header = next(line for line in out.splitlines() if "seamless" in line and "blend" in line and "/" not in line)
    assert header.split() == ["seamless", "blend"]
    for label in ("read (s)", "bounds and crop (s)", "pad (s)", "inference (s)", "stitch (s)", "post-filter (s)",
                  "write (s)", "total, end to end (s)", "peak RSS (GB)", "network evaluations (tiles run / planned)",
                  "pixels evaluated per output pixel", "FLOPs per MDGM (GFLOP)", "achieved GFLOP/s (inference)",
                  "share of machine peak"):
        line = next((row for row in out.splitlines() if row.startswith(label)), None)
        assert line is not None, f"no line {label!r} in\n{out}"
        assert len(line[len(label):].split()) >= 2, line                 # a figure for each mode
    assert re.search(r"blend / seamless: end to end [\d.]+x, inference [\d.]+x", out)
    assert re.search(r"4x end to end at this FLOPs ratio needs the stages other than inference under [\d.]+ s "
                     r"per MDGM in both modes \(seamless spends [\d.]+ s on them\)", out)
    assert re.search(r"threads: intra-op .+, inter-op .+", out)
    assert re.search(r"process start-up \(seamless process\): [\d.]+ s = import [\d.]+ s \+ model load [\d.]+ s", out)


def test_benchmark_sweep_prints_a_row_per_width_and_tile(cli, sample_mdgm):
    rc, out, err = cli("benchmark", sample_mdgm, "--sweep", "--sweep-widths", "4", "--sweep-tiles", "316,whole",
                       "--repeat", "0")
    assert rc == 0, err
    rows = [line.split() for line in out.splitlines() if re.match(r"^4 +\d+x\d+", line)]
    assert len(rows) == 2 and rows[0][1] == "316x316" and rows[1][2] == "(whole)"
    assert "peak RSS (GB)" in out and "GFLOP/s" in out


def test_benchmark_bulk_reports_sols_per_hour_serial_and_on_dask(cli, make_mdgm, tiny_model_path, tmp_path):
    make_mdgm("P01_day01", seed=1)
    make_mdgm("P01_day02", seed=2)
    rc, out, err = cli("benchmark", "--bulk", tmp_path / "archive", "--workers", "1", "--model", tiny_model_path)
    assert rc == 0, err
    assert re.search(r"serial \(1 process\) +2 +0 +[\d.]+ +\d+", out), out
    assert re.search(r"Dask LocalCluster, 1 workers x 1 thread +2 +0 +[\d.]+ +\d+", out), out
    assert "masks identical to the serial run's: 2 of 2" in out


def test_other_stages_budget_is_where_the_end_to_end_ratio_meets_the_target():
    from mars_cloudmask_lab.benchmark import other_stages_budget
    flops_ratio, inference = 4.4, 1.0
    budget = other_stages_budget(4.0, flops_ratio, inference)
    assert (flops_ratio * inference + budget) / (inference + budget) == pytest.approx(4.0)
    assert other_stages_budget(4.0, 4.01, 0.94) == pytest.approx(0.01 * 0.94 / 3)
    assert other_stages_budget(4.0, 3.9, 1.0) == 0.0          # under the target whatever the other stages cost
