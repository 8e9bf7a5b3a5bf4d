"""The worker process (mars_cloudmask_plugin/worker.py) and the network runtime's environment
(environment.py), without QGIS: callbacks as they happen, results and engine errors come back, a
crash is one line, cancel stops the worker within a second; the base interpreter is found where
sys.executable lies; a tiny package is installed offline into a new environment, twice."""
import os
import subprocess
import sys
import time

import pytest

from mars_cloudmask_plugin import environment
from mars_cloudmask_plugin.errors import Cancelled, CloudmaskError
from mars_cloudmask_plugin.worker import WorkerError, run_in_worker

HELPER = '''
import os, signal, time
from mars_cloudmask_plugin.errors import CloudmaskError

def steps(n, progress=None, note=None, cancel=None):
    for i in range(n):
        progress((i + 1) / n)
        note(f"step {i}", {"i": i})
        time.sleep(0.05)
    print("stray output on stdout")          # must not break the protocol
    return {"n": n, "pid": os.getpid()}

def bad_input(path):
    raise CloudmaskError(path, "cannot be read as an image")

def crash():
    return 1 / 0

def wait(seconds, progress=None, cancel=None):
    progress(0.0)
    time.sleep(seconds)

def stubborn(seconds, progress=None, cancel=None):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)     # like a long TensorFlow op: deaf to SIGTERM
    progress(0.0)
    time.sleep(seconds)
'''


@pytest.fixture(scope="module")
def helper(tmp_path_factory):
    folder = tmp_path_factory.mktemp("helper")
    (folder / "worker_helper.py").write_text(HELPER)
    sys.path.insert(0, str(folder))
    import worker_helper
    yield worker_helper, folder
    sys.path.remove(str(folder))


def _run(helper, name, *args, **kwargs):
    module, folder = helper
    return run_in_worker(sys.executable, getattr(module, name), *args, sys_path=[folder], **kwargs)


def test_the_worker_runs_the_function_elsewhere_and_its_callbacks_come_back_in_order(helper):
    events, logged = [], []
    result = _run(helper, "steps", 3, progress=lambda f: events.append(("progress", f)),
                  note=lambda text, extra: events.append((text, extra["i"])), cancel=lambda: False,
                  on_log=logged.append)
    assert result["n"] == 3 and result["pid"] != os.getpid()
    assert events == [("progress", 1 / 3), ("step 0", 0), ("progress", 2 / 3), ("step 1", 1), ("progress", 1.0),
                      ("step 2", 2)]
    assert "stray output on stdout" in logged


def test_an_engine_error_comes_back_as_the_same_one_line_error(helper):
    with pytest.raises(CloudmaskError) as caught:
        _run(helper, "bad_input", "/data/P01_day01_zequat.jpg")
    assert str(caught.value) == "/data/P01_day01_zequat.jpg: cannot be read as an image"


def test_a_crash_is_one_line_and_its_traceback_goes_to_the_log(helper):
    logged = []
    with pytest.raises(WorkerError) as caught:
        _run(helper, "crash", on_log=logged.append)
    assert "\n" not in str(caught.value) and "ZeroDivisionError: division by zero" in str(caught.value)
    assert any("Traceback" in line for line in logged)


def test_a_worker_that_dies_is_reported_with_its_exit():
    with pytest.raises(WorkerError, match=r"stopped without a result \(exit status 1\)"):
        run_in_worker("/bin/false", os.getpid)


@pytest.mark.parametrize("name", ["wait", "stubborn"])
def test_cancel_stops_the_worker_within_a_second(helper, name, workers_alive):
    started = {}

    def cancel():
        return "at" in started and time.monotonic() - started["at"] > 0.3
    began = time.monotonic()
    with pytest.raises(Cancelled):
        _run(helper, name, 60, progress=lambda f: started.setdefault("at", time.monotonic()), cancel=cancel)
    latency = time.monotonic() - started["at"] - 0.3
    assert latency < 1.0, f"cancel took {latency:.2f} s"
    assert time.monotonic() - began < 20
    assert not workers_alive(), "the worker outlived its cancel"


def test_the_base_interpreter_is_found_where_sys_executable_is_not_python(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/usr/bin/qgis")
    monkeypatch.setattr(sys, "_base_executable", "/usr/bin/qgis", raising=False)
    python = environment.base_python()
    assert python is not None
    out = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:3], sys.base_prefix)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{tuple(sys.version_info[:3])} {sys.base_prefix}"


def test_install_makes_an_environment_offline_and_a_second_run_changes_nothing(tmp_path, tiny_wheel):
    wheels = tiny_wheel(tmp_path / "wheels").parent
    folder = tmp_path / "runtime"
    requirement = ["--no-index", "--find-links", str(wheels), "marstinypkg==0.1"]
    lines, progress = [], []
    first = environment.install(folder, requirement, on_line=lines.append, progress=progress.append)
    assert first.created and first.python == folder / "bin" / "python"
    assert any("Successfully installed marstinypkg-0.1" in line for line in lines)
    assert progress[0] < progress[-1] == 1.0 and len(set(progress)) >= 3
    check = "import marstinypkg, numpy, rasterio; print(marstinypkg.VERSION)"   # system packages stay visible
    assert subprocess.run([str(first.python), "-c", check], capture_output=True, text=True).stdout.strip() == "0.1"
    assert environment.probe(first.python, ["marstinypkg", "numpy", "nosuchmodule"])["missing"] == ["nosuchmodule"]
    stamp = (folder / "pyvenv.cfg").stat().st_mtime_ns
    lines.clear()
    second = environment.install(folder, requirement, on_line=lines.append)
    assert not second.created and (folder / "pyvenv.cfg").stat().st_mtime_ns == stamp
    assert any("Requirement already satisfied: marstinypkg" in line for line in lines)
    with pytest.raises(CloudmaskError) as caught:                  # what pip cannot find: one line, named
        environment.install(folder, ["--no-index", "--find-links", str(wheels), "marsnosuchpkg==9"])
    assert "\n" not in str(caught.value) and "marsnosuchpkg==9" in str(caught.value) and "ERROR" in str(caught.value)
    (folder / "bin" / "python").unlink()                      # broken (e.g. its Python was upgraded)
    third = environment.install(folder, requirement)
    assert third.created and subprocess.run([str(third.python), "-c", check], capture_output=True).returncode == 0


def test_install_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(CloudmaskError, match="not a virtual environment; choose a new or empty folder"):
        environment.install(tmp_path / "mine", ["x"])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_install_cancel_stops_at_once(tmp_path):
    started = time.monotonic()
    with pytest.raises(Cancelled):
        environment.install(tmp_path / "rt", ["marstinypkg"], cancel=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 2.0
