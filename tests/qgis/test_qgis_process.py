"""`qgis_process.bin run marscloudmask:cloudmask` in a subprocess, through scripts/qgis_process.sh
(the documented server set-up): the plugin is found via QGIS_PLUGINPATH, enabled in a private
profile, TensorFlow imports from the venv, and the mask equals the engine's."""
import json
import os
import subprocess

import numpy as np


def _qgis_process(repo_root, home, *args, timeout=300, runtime=None):
    """The launcher; with `runtime` it leaves TensorFlow off QGIS's path and names that runtime."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QGIS_PLUGINPATH", "QGIS_CUSTOM_CONFIG_PATH", "MARS_CLOUDMASK_RUNTIME", "PYTHONPATH")}
    env["MARS_CLOUDMASK_QGIS_HOME"] = str(home)
    if runtime:
        env["MARS_CLOUDMASK_RUNTIME"] = str(runtime)
    return subprocess.run(["bash", str(repo_root / "scripts" / "qgis_process.sh"), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout)


def test_qgis_process_runs_cloudmask_and_writes_the_engine_mask(repo_root, archive, tiny_model_path, engine_mask,
                                                                tmp_path, read_band):
    out, nc = tmp_path / "mask.tif", tmp_path / "mask.nc"
    proc = _qgis_process(repo_root, tmp_path / "qgis", "--json", "run", "marscloudmask:cloudmask", "--",
                         f"INPUT={archive}", f"MODEL={tiny_model_path}", "TILING=0", f"OUTPUT={out}",
                         f"OUTPUT_NETCDF={nc}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert report["algorithm_details"]["id"] == "marscloudmask:cloudmask"
    assert report["results"]["OUTPUT"] == str(out) and report["results"]["OUTPUT_NETCDF"] == str(nc)
    assert report["results"]["LS"] == 136.5
    np.testing.assert_array_equal(read_band(out)[0], engine_mask.mask)
    assert nc.exists()


def test_qgis_process_without_tensorflow_runs_the_network_in_the_runtime_worker(repo_root, archive, tiny_model_path,
                                                                                engine_mask, tmp_path, read_band):
    """No TensorFlow on QGIS's path (no .venv in PYTHONPATH); MARS_CLOUDMASK_RUNTIME names the set-up's
    .venv, so CI reuses it instead of downloading TensorFlow again. Same mask as in process."""
    out = tmp_path / "mask.tif"
    proc = _qgis_process(repo_root, tmp_path / "qgis", "run", "marscloudmask:cloudmask", "--", f"INPUT={archive}",
                         f"MODEL={tiny_model_path}", "TILING=0", f"OUTPUT={out}", runtime=repo_root / ".venv")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert f"Running the network in a worker process of the network runtime {repo_root / '.venv'}" in proc.stdout
    np.testing.assert_array_equal(read_band(out)[0], engine_mask.mask)


def test_qgis_process_reports_a_bad_mdgm_by_name_and_fails(repo_root, tmp_path):
    bad = tmp_path / "P01_day01_zequat.jpg"
    bad.write_bytes(b"not an image")
    proc = _qgis_process(repo_root, tmp_path / "qgis", "run", "marscloudmask:polarcrop", "--",
                         f"INPUT={bad}", f"OUTPUT={tmp_path / 'area.tif'}")
    assert proc.returncode != 0
    assert f"{bad}: cannot be read as an image" in proc.stdout + proc.stderr
    assert not (tmp_path / "area.tif").exists()


def test_qgis_process_lists_every_algorithm(repo_root, tmp_path, algorithm_ids):
    proc = _qgis_process(repo_root, tmp_path / "qgis", "list")
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip().startswith("marscloudmask:")}
    assert listed == {f"marscloudmask:{n}" for n in algorithm_ids}
