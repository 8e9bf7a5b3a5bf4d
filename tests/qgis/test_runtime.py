"""The network runtime as QGIS uses it (headless): where QGIS's Python has no TensorFlow but the
runtime does, the algorithms run the network in a worker process of the runtime (here the set-up's
.venv, named by MARS_CLOUDMASK_RUNTIME): same mask as in process, progress as it happens, Cancel
within a second, an engine error as one line. And `installruntime` end to end on a tiny offline
package: a new environment, pip's lines streamed, a second run that repairs nothing needlessly."""
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsProcessingException

VENV = Path(__file__).resolve().parents[2] / ".venv"


@pytest.fixture
def tensorflow_only_in_the_runtime(monkeypatch, plugin):
    """QGIS's Python without TensorFlow (find_spec reports it missing), the set-up's .venv as runtime."""
    if not (VENV / "bin" / "python").is_file():
        pytest.skip(f"no set-up virtual environment at {VENV} (bash scripts/setup.sh)")
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setenv("MARS_CLOUDMASK_RUNTIME", str(VENV))


def test_with_the_runtime_every_algorithm_can_execute_and_the_toolbox_warns_of_nothing(
        plugin, tensorflow_only_in_the_runtime):
    provider = plugin.provider      # (not the session fixture: a test of unload replaces the provider)
    assert provider.warningMessage() == ""
    assert all(a.canExecute() == (True, "") for a in provider.algorithms())


def test_cloudmask_runs_in_the_worker_and_gives_the_in_process_mask(tensorflow_only_in_the_runtime, run_alg, archive,
                                                                    tiny_model_path, engine_mask, tmp_path,
                                                                    read_band, feedback_factory, workers_alive):
    feedback = feedback_factory()
    started = time.monotonic()
    result = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "TILING": 0,
                                   "OUTPUT": str(tmp_path / "mask.tif")}, feedback=feedback)
    seconds = time.monotonic() - started
    assert np.array_equal(read_band(result["OUTPUT"])[0], engine_mask.mask)
    assert result["LS"] == 136.5 and 0 < result["CLOUD_FRACTION"] < 1
    assert any(f"worker process of the network runtime {VENV}" in line for line in feedback.infos)
    inside = [p for p in feedback.progress if 2 < p < 95]
    assert len(set(inside)) >= 2, feedback.progress          # progress came back while the worker ran
    assert feedback.progress[-1] == 100
    assert not workers_alive()                               # the worker ended with the run: memory freed
    print(f"cloudmask in the worker: {seconds:.1f} s")


def test_cancel_stops_the_worker_within_a_second(tensorflow_only_in_the_runtime, run_alg, archive, tiny_model_path,
                                                 tmp_path, workers_alive):
    from qgis.core import QgsProcessingFeedback

    class CancelOnFirstStrip(QgsProcessingFeedback):
        cancelled_at = None

        def setProgress(self, value):  # noqa: N802
            super().setProgress(value)
            if value > 2 and self.cancelled_at is None:     # the network is running in the worker
                self.cancelled_at = time.monotonic()
                self.cancel()
    feedback = CancelOnFirstStrip()
    with pytest.raises(QgsProcessingException, match="Cancelled: no output was written"):
        run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path), "TILE_SIZE": 316,
                              "OUTPUT": str(tmp_path / "mask.tif")}, feedback=feedback)
    latency = time.monotonic() - feedback.cancelled_at
    print(f"cancel latency through the worker: {latency:.2f} s")
    assert latency < 1.0
    assert not workers_alive()
    assert not (tmp_path / "mask.tif").exists()


def test_an_engine_error_in_the_worker_is_one_clear_line(tensorflow_only_in_the_runtime, run_alg, tmp_path):
    bad = tmp_path / "P01_day01_zequat.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(QgsProcessingException) as caught:
        run_alg("cloudmask", {"INPUT": str(bad), "OUTPUT": str(tmp_path / "mask.tif")})
    assert str(caught.value).startswith(f"{bad}: cannot be read as an image") and "\n" not in str(caught.value)


@pytest.fixture
def forget_runtime_setting():
    from qgis.core import QgsSettings
    from mars_cloudmask.processing.runtime import RUNTIME_SETTING
    yield RUNTIME_SETTING
    QgsSettings().remove(RUNTIME_SETTING)


def test_install_runtime_end_to_end_on_a_tiny_offline_package(run_alg, tmp_path, tiny_wheel, forget_runtime_setting):
    from qgis.core import QgsProcessingFeedback, QgsSettings
    wheels = tiny_wheel(tmp_path / "wheels").parent
    folder = tmp_path / "runtime"

    class Console(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines, self.infos, self.progress = [], [], []
            self.progressChanged.connect(self.progress.append)

        def pushConsoleInfo(self, info):  # noqa: N802
            self.lines.append(info)

        def pushInfo(self, info):  # noqa: N802
            self.infos.append(info)
    params = {"FOLDER": str(folder), "REQUIREMENTS": f"--no-index --find-links {wheels} marstinypkg==0.1"}
    first = Console()
    result = run_alg("installruntime", params, feedback=first)
    python = folder / "bin" / "python"
    assert result == {"OUTPUT": str(folder), "PYTHON": str(python)}
    assert any("Successfully installed marstinypkg-0.1" in line for line in first.lines)
    assert any(line.startswith("Made the network runtime") for line in first.infos)
    assert len(set(first.progress)) >= 4 and first.progress[-1] == 100
    assert QgsSettings().value(forget_runtime_setting) == str(folder)       # remembered for the algorithms
    assert os.system(f"{python} -c 'import marstinypkg, numpy'") == 0      # system packages stay visible
    second = Console()
    run_alg("installruntime", params, feedback=second)                     # again: repairs, changes nothing
    assert any("Requirement already satisfied: marstinypkg" in line for line in second.lines)
    assert any(line.startswith("Updated the network runtime") for line in second.infos)
    with pytest.raises(QgsProcessingException) as caught:
        run_alg("installruntime", {"FOLDER": str(folder), "REQUIREMENTS": f"--no-index --find-links {wheels} nosuch"})
    assert str(caught.value).startswith(f"{folder}: pip could not install") and "\n" not in str(caught.value)


def test_batch_and_the_probability_step_run_in_the_worker_with_their_callbacks(
        tensorflow_only_in_the_runtime, run_alg, archive, tiny_model_path, tmp_path, feedback_factory, read_band):
    """Batch mode's per-sol reports (on_outcome) come back from the worker as they happen; the
    modeler's probability step returns its result through the worker too."""
    bad = tmp_path / "archive" / "P01" / "P01_day02_zequat.jpg"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a jpeg")
    (bad.parent / archive.name).symlink_to(archive)
    (bad.parent / "P01_ls.txt").write_text((archive.parent / "P01_ls.txt").read_text())
    feedback = feedback_factory()
    result = run_alg("batchcloudmask", {"INPUT": str(bad.parent.parent), "OUTPUT": str(tmp_path / "masks"),
                                        "MODEL": str(tiny_model_path), "FORMATS": [0]}, feedback=feedback)
    assert (result["DONE"], result["SKIPPED"], result["FAILED"]) == (1, 0, 1) and str(bad) in result["FAILED_FILES"]
    assert (tmp_path / "masks" / "P01" / "P01_day10_zequat_cloudmask.tif").exists()
    assert any("P01_day10" in line for line in feedback.infos[1:-1])      # the sol's own line, before the summary
    probability = run_alg("cloudprobability", {"INPUT": str(archive), "MODEL": str(tiny_model_path),
                                               "OUTPUT": str(tmp_path / "prob.tif")})
    assert probability["THRESHOLD"] == 0.5 and probability["LAT_NORTH"] > probability["LAT_SOUTH"]
    assert read_band(probability["OUTPUT"])[0].dtype == np.float32


def test_only_the_network_algorithms_use_the_worker(plugin, monkeypatch):
    """An algorithm without the network makes its engine call in process: a module QGIS's Python lacks
    is a problem for it even where the runtime has it (the runtime cannot run it)."""
    if not (VENV / "bin" / "python").is_file():
        pytest.skip(f"no set-up virtual environment at {VENV}")
    monkeypatch.setitem(sys.modules, "netCDF4", None)
    monkeypatch.setenv("MARS_CLOUDMASK_RUNTIME", str(VENV))
    by_name = {a.name(): a for a in plugin.provider.algorithms()}
    assert by_name["cloudmask"].canExecute() == (True, "")            # in the worker, which has netCDF4
    ok, message = by_name["mdadmask"].canExecute()
    assert not ok and "python3-netcdf4" in message
