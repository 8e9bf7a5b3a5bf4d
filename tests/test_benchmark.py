"""`mars-cloudmask benchmark` prints every figure it promises. The formatting is tested on canned
figures (no assertion on real speed: speed is measured by the command itself, never asserted by a
test); one test runs a real measurement child process, so the parent/child protocol is covered."""
import re

import numpy as np
import pytest

from mars_cloudmask_lab import benchmark
from mars_cloudmask_lab.commands import benchmark as command

TF_FACTS = {"tensorflow": "2.17.1", "intra_op": 0, "inter_op": 0, "cpus": 2, "gpus": []}
PEAK = {"numpy_matmul": 180.0, "tf_matmul": 200.0, "tf_conv3x3": 150.0, "n": 4096, "repeat": 3,
        "peak_rss_bytes": 5e8, **TF_FACTS}
STAGE_SECONDS = {"read": 0.1, "bounds and crop": 0.01, "pad": 0.02, "inference": 1.0, "stitch": 0.02,
                 "post-filter": 0.03, "write": 0.12}


def canned_mdgm(tiling, tile_size="auto", random_width=None, **_):
    """What a `measure_mdgm` child reports, with round numbers: blend costs 4x the FLOPs and the
    inference of seamless, the other stages 0.3 s in both."""
    factor = 4.0 if tiling == "blend" else 1.0
    seconds = dict(STAGE_SECONDS, inference=1.0 * factor)
    total = sum(seconds.values())
    tile = [316, 316] if tile_size == 316 else [1292, 3804]
    return {"mdgm": "sample.jpg", "tiling": tiling, "tile": tile, "tiles_planned": 2 * int(factor),
            "tiles_run": 2 * int(factor), "area": [1168, 3594], "evaluated_per_output": 1.1 * factor,
            "input_per_output": 1.24 * factor, "seconds": seconds, "total": total, "totals": [total],
            "median_total": total, "cold_total": total + 1.0, "flops": 100e9 * factor, "import_s": 2.0,
            "load_s": 0.4, "graph_build_s": 1.0, "model": f"random-w{random_width or 8} test",
            "width": random_width or 8, "parameters": 123456, "peak_rss_bytes": 1.5e9 * (2 - factor / 4), **TF_FACTS}


def canned_bulk(workers, **_):
    return {"workers": workers, "sols": 2, "wall": 20.0 if workers == 0 else 12.5, "done": 2, "failed": [],
            "sol_seconds": [9.0, 11.0], "peak_rss_bytes": 2e9}


@pytest.fixture
def canned(monkeypatch):
    """The benchmark command with every child measurement replaced by canned figures."""
    specs = []

    def fake_run_child(spec, timeout=None):
        specs.append(dict(spec))
        kind = spec.pop("kind")
        return {"peak": lambda **_: dict(PEAK), "mdgm": canned_mdgm, "bulk": canned_bulk,
                "frequency": lambda **_: {"masks": 700, "sols": 700, "import_s": 0.5, "select_s": 0.6,
                                          "frequency_s": 12.0, "wall_s": 13.1, "peak_rss_bytes": 7.6e8}}[kind](**spec)
    monkeypatch.setattr(command, "run_child", fake_run_child)
    monkeypatch.setattr(benchmark, "same_masks", lambda a, b: len(a))
    return specs


def test_benchmark_prints_stages_memory_flops_ratio_threads_and_start_up(cli, canned, sample_mdgm, tiny_model_path):
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


def test_benchmark_figures_are_the_measured_ones_formatted(cli, canned, sample_mdgm, tiny_model_path):
    rc, out, err = cli("benchmark", sample_mdgm, "--model", tiny_model_path, "--repeat", "0")
    assert rc == 0, err
    rows = {line.split("  ")[0]: line.split()[-2:] for line in out.splitlines() if "  " in line}
    assert rows["inference (s)"] == ["1.000", "4.000"]
    assert rows["total, end to end (s)"] == ["1.300", "4.300"]
    assert rows["FLOPs per MDGM (GFLOP)"] == ["100", "400"]
    assert rows["achieved GFLOP/s (inference)"] == ["100", "100"]
    assert rows["share of machine peak"] == ["50%", "50%"]                      # of the best peak, 200 GFLOP/s
    evaluations = next(line for line in out.splitlines() if line.startswith("network evaluations"))
    assert evaluations.split(")")[1].split() == ["2", "/", "2", "8", "/", "8"]
    assert "blend / seamless: end to end 3.31x, inference 4.00x, FLOPs 4.00x" in out
    # (4 * 1.0 + x) / (1.0 + x) = 4 needs x = 0: no time left for the other stages at a FLOPs ratio of 4
    assert "under 0.000 s per MDGM in both modes (seamless spends 0.300 s on them)" in out
    assert "process start-up (seamless process): 2.40 s = import 2.00 s + model load 0.40 s" in out
    kinds = [spec["kind"] for spec in canned]
    assert kinds == ["peak", "mdgm", "mdgm"]
    assert [spec["tiling"] for spec in canned[1:]] == ["seamless", "blend"]


def test_benchmark_live_compares_qgis_strips_with_the_cli_plan(cli, canned, sample_mdgm, tiny_model_path):
    rc, out, err = cli("benchmark", sample_mdgm, "--model", tiny_model_path, "--repeat", "0", "--live")
    assert rc == 0, err
    assert [(s.get("tiling"), s.get("tile_size")) for s in canned[1:]] == [
        ("seamless", "auto"), ("blend", "auto"), ("seamless", "live")]
    line = next(line for line in out.splitlines() if line.startswith("QGIS plan"))
    assert "= 1.00x the CLI plan's 1.300 s" in line and "inference 1.000 s = 1.00x" in line


def test_benchmark_sweep_prints_a_row_per_width_and_tile(cli, canned, sample_mdgm):
    rc, out, err = cli("benchmark", sample_mdgm, "--sweep", "--sweep-widths", "4", "--sweep-tiles", "316,whole",
                       "--repeat", "0")
    assert rc == 0, err
    rows = [line.split() for line in out.splitlines() if re.match(r"^4 +\d+x\d+", line)]
    assert len(rows) == 2 and rows[0][1] == "316x316" and rows[1][2] == "(whole)"
    assert "peak RSS (GB)" in out and "GFLOP/s" in out
    assert [(s["random_width"], s["tile_size"]) for s in canned[1:]] == [(4, 316), (4, None)]


def test_benchmark_bulk_reports_sols_per_hour_serial_and_on_dask(cli, canned, make_mdgm, tiny_model_path, tmp_path):
    make_mdgm("P01_day01", seed=1)
    make_mdgm("P01_day02", seed=2)
    rc, out, err = cli("benchmark", "--bulk", tmp_path / "archive", "--workers", "1", "--model", tiny_model_path)
    assert rc == 0, err
    assert re.search(r"serial \(1 process\) +2 +0 +20.0 +360 +10.00", out), out
    assert re.search(r"Dask LocalCluster, 1 workers x 1 thread +2 +0 +12.5 +576 ", out), out
    assert "1 workers / serial: 1.60x sols per hour; masks identical to the serial run's: 2 of 2" in out
    assert [(s["kind"], s["workers"]) for s in canned] == [("bulk", 0), ("bulk", 1)]


def test_benchmark_frequency_reports_masks_per_second_and_memory(cli, canned, tmp_path):
    rc, out, err = cli("benchmark", "--frequency", tmp_path)
    assert rc == 0, err
    assert ("cloud frequency of 700 masks below" in out and "13.1 s from its start" in out
            and "the map 12.0 s = 58 masks/s" in out and "peak RSS 0.76 GB" in out)
    assert [s["kind"] for s in canned] == ["peak", "frequency"]


def test_same_masks_counts_pairs_with_identical_arrays(tmp_path):
    from mars_cloudmask_plugin import grid
    from mars_cloudmask_plugin.batch import Job
    from mars_cloudmask_plugin.writers import write_geotiff
    mask = np.zeros((grid.HEIGHT, grid.WIDTH), np.int16)
    other = mask.copy()
    other[5, 5] = 1
    paths = {name: write_geotiff(tmp_path / f"{name}.tif", m) for name, m in
             (("a", mask), ("b", mask), ("c", other))}
    job = lambda name: Job(tmp_path / "x.jpg", {"tif": paths[name]})  # noqa: E731
    assert benchmark.same_masks([job("a"), job("a")], [job("b"), job("c")]) == 1
    assert benchmark.same_masks([job("a")], [Job(tmp_path / "x.jpg", {"tif": tmp_path / "missing.tif"})]) == 0


def test_a_real_measurement_child_reports_what_the_parent_formats(sample_mdgm, tiny_model_path):
    """The one real child process: a fresh interpreter measures the sample with the tiny model and
    hands back every key the formatter reads."""
    r = benchmark.run_child({"kind": "mdgm", "mdgm": str(sample_mdgm), "model": str(tiny_model_path), "repeat": 0,
                             "tiling": "seamless", "tile_size": "auto"})
    assert set(canned_mdgm("seamless")) <= set(r)
    assert r["tiles_run"] >= 1 and r["flops"] > 0 and r["peak_rss_bytes"] > 0 and r["total"] > 0
    assert set(STAGE_SECONDS) <= set(r["seconds"])


def test_other_stages_budget_is_where_the_end_to_end_ratio_meets_the_target():
    flops_ratio, inference = 4.4, 1.0
    budget = benchmark.other_stages_budget(4.0, flops_ratio, inference)
    assert (flops_ratio * inference + budget) / (inference + budget) == pytest.approx(4.0)
    assert benchmark.other_stages_budget(4.0, 4.01, 0.94) == pytest.approx(0.01 * 0.94 / 3)
    assert benchmark.other_stages_budget(4.0, 3.9, 1.0) == 0.0          # under the target whatever the other stages cost
