"""scripts/build_plugin_zip.sh builds an installable plugin: one folder mars_cloudmask/ with the
plugin, engine, styles and model chain, without tests or data; unpacked into a plugins folder,
qgis_process finds it, lists its algorithms and runs one."""
import os
import subprocess
import zipfile

import pytest


@pytest.fixture(scope="module")
def plugin_zip(repo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "mars_cloudmask.zip"
    proc = subprocess.run(["bash", str(repo_root / "scripts" / "build_plugin_zip.sh"), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def test_zip_holds_the_plugin_folder_without_tests_data_or_environment(plugin_zip, repo_root):
    names = zipfile.ZipFile(plugin_zip).namelist()
    files = {n for n in names if not n.endswith("/")}
    assert all(n.startswith("mars_cloudmask/") for n in names)
    for required in ("metadata.txt", "__init__.py", "plugin.py", "icon.svg", "processing/provider.py",
                     "processing/cloudmask.py", "styles/cloudmask.qml", "styles/probability.qml",
                     "modeler/cloudmask_chain.model3", "mars_cloudmask_plugin/pipeline.py",
                     "mars_cloudmask_plugin/steps.py"):
        assert f"mars_cloudmask/{required}" in files, required
    from mars_cloudmask_plugin.model import SHIPPED_MODELS
    for model in SHIPPED_MODELS:
        if model.exists():
            assert f"mars_cloudmask/models/{model.name}" in files, model.name
    forbidden = ("tests/", "sample/", ".venv/", "runs/", "scripts/", ".git/", "__pycache__", ".pyc", "conftest",
                 "mars_cloudmask_lab/", "recipes/", "_w16.keras")
    assert [n for n in files if any(f in n for f in forbidden)] == []


def test_zip_carries_the_core_only_and_every_core_module(plugin_zip, repo_root):
    """The lab (training, evaluation, benchmark) stays out; the shipped core comes whole."""
    files = {n for n in zipfile.ZipFile(plugin_zip).namelist() if not n.endswith("/")}
    core = {f"mars_cloudmask/{p.relative_to(repo_root)}" for p in (repo_root / "mars_cloudmask_plugin").rglob("*.py")}
    assert core <= files
    assert not any(n.startswith("mars_cloudmask/mars_cloudmask_lab") for n in files)


def test_unpacked_zip_is_found_and_runs_in_qgis_process(plugin_zip, archive, tmp_path, repo_root):
    plugins = tmp_path / "plugins"
    zipfile.ZipFile(plugin_zip).extractall(plugins)
    config = tmp_path / "config" / "profiles" / "default" / "QGIS"
    config.mkdir(parents=True)
    (config / "QGIS3.ini").write_text("[PythonPlugins]\nmars_cloudmask=true\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=str(plugins),
               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config"), PROJ_DATA="/usr/share/proj")
    out = tmp_path / "area.tif"
    proc = subprocess.run(["/usr/bin/qgis_process.bin", "run", "marscloudmask:polarcrop", "--",
                           f"INPUT={archive}", f"OUTPUT={out}"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "LAT_NORTH:\t65.309" in proc.stdout
    assert out.exists()
