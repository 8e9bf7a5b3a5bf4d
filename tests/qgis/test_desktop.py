"""The real QGIS desktop as a user meets it (under Xvfb): a fresh profile, the plugin installed from
its ZIP, `cloudmask` run on the sample MDGM through the Processing API inside the running desktop
(scripts/desktop_session.sh), with QGIS's Python lacking TensorFlow and the set-up's .venv as the
network runtime (so the network runs in its worker). Checks the layers, their names, styles and
CRS, the project CRS and the plugin menu; then runs "Install the network runtime" from its dialog
(Run pressed, offline, a tiny wheel) and reads pip's lines in the dialog's log; the screenshot is kept as a test artefact
($MARS_CLOUDMASK_ARTEFACTS, else the test's tmp folder), never committed."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def desktop_out(tmp_path):
    for tool in ("qgis", "Xvfb", "unzip", "zip"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the desktop test needs the QGIS desktop under Xvfb")
    if not (REPO / ".venv" / "bin" / "python").is_file():
        pytest.skip("no set-up .venv to serve as the network runtime (bash scripts/setup.sh)")
    artefacts = os.environ.get("MARS_CLOUDMASK_ARTEFACTS")
    return Path(artefacts) / "desktop" if artefacts else tmp_path / "desktop"


def test_the_desktop_runs_cloudmask_from_the_zip_and_shows_the_mask_on_mars(desktop_out, shipped_model, tiny_wheel,
                                                                            tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MARS_CLOUDMASK_RUNTIME")}
    # then "Install the network runtime" from its dialog, offline, with a tiny wheel
    wheels, runtime = tiny_wheel(tmp_path / "wheels").parent, tmp_path / "runtime"
    env.update(MARS_CLOUDMASK_DESKTOP_INSTALL_ARGS=f"--no-index --find-links {wheels} marstinypkg==0.1",
               MARS_CLOUDMASK_DESKTOP_INSTALL_FOLDER=str(runtime))
    started = time.monotonic()
    proc = subprocess.run(["bash", str(REPO / "scripts" / "desktop_session.sh"), str(desktop_out)], env=env,
                          capture_output=True, text=True, timeout=400)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:] + (desktop_out / "qgis.log").read_text()[-3000:]
    result = json.loads((desktop_out / "result.json").read_text())
    assert "error" not in result, result["error"]
    assert result["plugin_loaded"] and result["provider"] and result["can_execute"] == [True, ""]
    assert result["plugin_menu"] == ["Install the network runtime...", "Mars Cloudmask guide"]
    assert result["install_dialog"].startswith("Install the network runtime")     # the menu opens its dialog
    assert result["project_crs"] == "IAU_2015:49900"
    layers = {layer["name"]: layer for layer in result["layers"]}
    mask = layers["P01_day10 cloud mask"]
    assert mask["crs"] == "IAU_2015:49900" and mask["renderer"] == "paletted"
    assert mask["classes"] == ["cloud", "clear", "invalid"]
    assert layers["P01_day10 MDGM"]["crs"] == "IAU_2015:49900"
    assert [layer["name"] for layer in result["layers"]][-1] == "P01_day10 MDGM"      # under its mask
    assert result["layers_at_screenshot"] == ["P01_day10 cloud mask", "P01_day10 MDGM"]  # still there 6 s later
    assert result["outputs"]["LS"] == 136.5 and 0 < result["outputs"]["CLOUD_FRACTION"] < 1
    assert any("worker process of the network runtime" in line for line in result["infos"])   # no TF in QGIS
    assert len({p for p in result["progress"] if 2 < p < 95}) >= 2 and result["progress"][-1] == 100
    assert Path(result["screenshot"]).stat().st_size > 50_000
    install = "\n".join(result["install_run"]["log"])          # the dialog's log after pressing Run
    assert "Successfully installed marstinypkg-0.1" in install and f"Made the network runtime {runtime}" in install
    assert (runtime / "bin" / "python").is_file()
    print(f"desktop session {seconds:.1f} s (cloudmask {result['run_seconds']} s); screenshot {result['screenshot']};"
          f" message bar: {result['message_bar']}")
