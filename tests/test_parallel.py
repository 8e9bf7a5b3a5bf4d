"""Batch on Dask: a 2-worker LocalCluster gives the serial run's outputs, loads the model once per
worker, resumes after the sols already written and reports bad files like the serial batch."""
from collections import defaultdict

import numpy as np
import pytest
import rasterio

pytest.importorskip("distributed")

from mars_cloudmask_plugin.batch import failures_report, plan_jobs  # noqa: E402
from mars_cloudmask_plugin.parallel import run_jobs, tf_threads_for  # noqa: E402
from mars_cloudmask_plugin.options import MaskOptions  # noqa: E402


def read_products(job):
    """Every product of a job as arrays + tags, comparable across runs."""
    import netCDF4
    with rasterio.open(job.outputs["tif"]) as src:
        tif = src.read(1), src.tags(), src.profile["dtype"]
    with netCDF4.Dataset(job.outputs["nc"]) as ds:
        nc = np.asarray(ds["cloudmask"][:].filled(np.nan)), ds.getncattr("ls")
    return tif, nc


@pytest.fixture
def archive(make_mdgm, tmp_path):
    """Three small synthetic sols over two subphases, plus one file that is not an image."""
    root = tmp_path / "archive"
    make_mdgm("P01_day01", ls=136.5, seed=1, folder=root / "P01")
    make_mdgm("P01_day02", ls=137.0, seed=2, folder=root / "P01")
    make_mdgm("P02_day05", ls=150.3, seed=3, folder=root / "P02")
    bad = make_mdgm("P02_day06", ls=150.9, folder=root / "P02")
    bad.write_bytes(b"not a jpeg")
    return root, bad


def test_two_worker_local_cluster_matches_serial_and_loads_the_model_once_per_worker(archive, tmp_path,
                                                                                     tiny_model_path, cli):
    root, bad = archive
    options = MaskOptions(model_path=str(tiny_model_path))
    serial_jobs = plan_jobs(root, tmp_path / "serial", options.formats)
    dask_jobs = plan_jobs(root, tmp_path / "dask", options.formats)
    serial = run_jobs(serial_jobs, options)
    stamps, seen = [], []
    parallel = run_jobs(dask_jobs, options, workers=2, stamps=stamps, on_outcome=seen.append)

    assert [o.status for o in serial] == [o.status for o in parallel] == ["done", "done", "done", "failed"]
    assert len(seen) == 4
    assert parallel[3].source == bad and "cannot be read as an image" in parallel[3].message
    assert failures_report(parallel)[0] == "3 done, 0 skipped (outputs exist), 1 failed"
    for s, d in zip(serial_jobs[:3], dask_jobs[:3]):
        (s_mask, s_tags, s_dtype), (s_nc, s_ls) = read_products(s)
        (d_mask, d_tags, d_dtype), (d_nc, d_ls) = read_products(d)
        assert np.array_equal(s_mask, d_mask) and s_tags == d_tags and s_dtype == d_dtype == "int16"
        assert np.array_equal(s_nc, d_nc, equal_nan=True) and s_ls == d_ls
    assert not list((tmp_path / "dask").rglob("*.partial"))       # writes were atomic

    models_per_worker = defaultdict(set)
    for stamp in stamps:
        models_per_worker[stamp.pid].add(stamp.model_id)
    assert 1 <= len(models_per_worker) <= 2 and len(stamps) == 4
    assert all(len(ids) == 1 for ids in models_per_worker.values())  # one model object per worker process

    # Resume: one sol's products removed; a rerun on Dask remakes it alone and skips the rest.
    for path in dask_jobs[1].outputs.values():
        path.unlink()
    rc, stdout, stderr = cli("batch", root, "--out-dir", tmp_path / "dask", "--model", tiny_model_path,
                             "--workers", "2")
    assert rc == 1, stderr                                          # the bad file still fails
    assert "1 done, 2 skipped (outputs exist), 1 failed" in stdout
    assert f"FAILED {bad}: cannot be read as an image" in stdout
    assert np.array_equal(read_products(dask_jobs[1])[0][0], read_products(serial_jobs[1])[0][0])


def test_a_finished_archive_starts_no_cluster(archive, tmp_path, tiny_model_path, monkeypatch):
    root, bad = archive
    bad.unlink()
    options = MaskOptions(model_path=str(tiny_model_path), formats=("tif",))
    jobs = plan_jobs(root, tmp_path / "out", options.formats)
    from mars_cloudmask_plugin import grid
    from mars_cloudmask_plugin.resume import expected_tags
    from mars_cloudmask_plugin.writers import write_geotiff
    for job in jobs:                              # finished earlier: sound masks made with these options
        write_geotiff(job.outputs["tif"], np.zeros((grid.HEIGHT, grid.WIDTH), np.int16), expected_tags(options))
    import mars_cloudmask_plugin.parallel as parallel
    monkeypatch.setattr(parallel, "_run_on_dask", lambda *a, **k: pytest.fail("a cluster was started"))
    outcomes = run_jobs(jobs, options, workers=2)
    assert [o.status for o in outcomes] == ["skipped"] * 3


def test_tensorflow_threads_share_the_cores_between_workers():
    assert tf_threads_for(2, cores=2) == 1
    assert tf_threads_for(1, cores=2) == 2
    assert tf_threads_for(3, cores=2) == 1
    assert tf_threads_for(4, cores=16) == 4


def test_batch_refuses_workers_and_scheduler_together(tmp_path, cli):
    rc, _, stderr = cli("batch", tmp_path, "--out-dir", tmp_path / "o", "--workers", "2",
                        "--scheduler", "tcp://127.0.0.1:1")
    assert rc == 2 and "not allowed with argument" in stderr
