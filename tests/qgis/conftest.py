"""QGIS fixtures: one headless QgsApplication per session, QGIS's own Processing framework, and the
plugin imported under its installed name (`mars_cloudmask`, a link in a temporary plugins folder)
and registered through its own classFactory / initProcessing, as QGIS does it.

The repository root is never put on sys.path (DESIGN.md, the `processing` name trap): only the
temporary plugins folder, which holds nothing but the link.
"""
import gc
import os
import sys
from pathlib import Path

import pytest

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"
PLUGIN_NAME = "mars_cloudmask"
REPO = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = REPO / "models" / "mars_cloudmask_unet.keras"
PROVIDER_ID = "marscloudmask"
GRID_TRANSFORM = (0.1, 0.0, -180.05, 0.0, -0.1, 90.05)
ALGORITHM_IDS = ("georeferencemdgm", "polarcrop", "cloudprobability", "postfilter", "cloudmask", "batchcloudmask", "clearskyreference", "cloudfrequency",
                 "zonalclimatology", "cloudseries", "cloudinpolygons", "mdadboxes", "mdadmask", "installruntime")

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PROJ_DATA", "/usr/share/proj")
# No network runtime unless a test sets one: the user's own (in a QGIS profile) never leaks in.
NO_RUNTIME = "/nonexistent/mars_cloudmask_runtime"
os.environ["MARS_CLOUDMASK_RUNTIME"] = NO_RUNTIME


@pytest.fixture(scope="session")
def algorithm_ids():
    """Every algorithm the provider must offer."""
    return ALGORITHM_IDS


@pytest.fixture(scope="session")
def plugins_dir(tmp_path_factory):
    """A plugins folder as QGIS has one: `mars_cloudmask -> <repository root>`."""
    folder = tmp_path_factory.mktemp("qgis_plugins")
    (folder / PLUGIN_NAME).symlink_to(REPO, target_is_directory=True)
    return folder


@pytest.fixture(scope="session")
def qgis_app(plugins_dir):
    """A real headless QgsApplication with QGIS's Processing initialised (torn down at the end, after
    every layer reference is dropped: a live layer at exitQgis() segfaults)."""
    from qgis.core import QgsApplication, QgsProject
    if QGIS_PLUGINS not in sys.path:
        sys.path.append(QGIS_PLUGINS)
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing
    Processing.initialize()
    yield app
    QgsProject.instance().clear()
    gc.collect()
    app.exitQgis()


@pytest.fixture(scope="session")
def plugin(qgis_app, plugins_dir):
    """The plugin object from its own classFactory, with initProcessing() called (no iface)."""
    sys.path.insert(0, str(plugins_dir))
    import importlib
    package = importlib.import_module(PLUGIN_NAME)
    instance = package.classFactory(None)
    instance.initProcessing()
    yield instance
    instance.unload()


@pytest.fixture(scope="session")
def provider(plugin):
    return plugin.provider


@pytest.fixture
def run_alg(plugin):
    """run_alg("cloudmask", {...}) -> processing.run of marscloudmask:<name>; feedback optional."""
    import processing

    def run(name, params, feedback=None, context=None):
        return processing.run(f"{PROVIDER_ID}:{name}", params, feedback=feedback, context=context)
    return run


@pytest.fixture(scope="session")
def shipped_model():
    if not SHIPPED_MODEL.exists():
        pytest.skip(f"shipped model {SHIPPED_MODEL} not present yet (training writes it)")
    return SHIPPED_MODEL


@pytest.fixture
def project():
    """The QGIS project, emptied before and after the test (so no layer outlives the app)."""
    from qgis.core import QgsProject
    QgsProject.instance().clear()
    yield QgsProject.instance()
    QgsProject.instance().clear()
    gc.collect()


def _read_band(path):
    import rasterio
    with rasterio.open(path) as src:
        return src.read(1), src.tags(), src.transform, src.crs


def _assert_global_grid(path):
    """On the global grid, and identified by QGIS as IAU_2015:49900 with the global extent."""
    import rasterio
    with rasterio.open(path) as src:
        assert (src.width, src.height) == (3600, 1801)
        assert tuple(src.transform)[:6] == pytest.approx(GRID_TRANSFORM)
    # QGIS must identify the CRS as IAU_2015:49900, not as a custom CRS
    from qgis.core import QgsRasterLayer
    layer = QgsRasterLayer(str(path), "check")
    try:
        assert layer.isValid()
        assert layer.crs().authid() == "IAU_2015:49900"
        extent = layer.extent()
        assert (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()) == \
            pytest.approx((-180.05, -90.05, 179.95, 90.05))
    finally:
        del layer


@pytest.fixture(scope="session")
def read_band():
    """read_band(path) -> (band 1, tags, transform, crs)."""
    return _read_band


@pytest.fixture(scope="session")
def assert_global_grid():
    """assert_global_grid(path): 3600 x 1801, origin (-180.05, 90.05), 0.1 degree, IAU_2015:49900."""
    return _assert_global_grid


@pytest.fixture(scope="session")
def archive(tmp_path_factory, sample_mdgm):
    """The repository's real sample MDGM (P01_day10, Ls 136.5) in the archive layout, with its
    P01_ls.txt line: real MARCI imagery, always available."""
    folder = tmp_path_factory.mktemp("archive") / "P01"
    folder.mkdir()
    (folder / sample_mdgm.name).symlink_to(sample_mdgm)
    (folder / "P01_ls.txt").write_text((sample_mdgm.parent / "P01_ls.txt").read_text())
    return folder / sample_mdgm.name


@pytest.fixture(scope="session")
def engine_mask(archive, tiny_model):
    """What the engine itself makes of the sample with the tiny model (the reference for the
    algorithms, which must map parameters to the same computation)."""
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    return make_cloudmask(archive, tiny_model)


class RecordingFeedback:
    """A QgsProcessingFeedback that records progress and can cancel itself after N progress reports."""

    def __new__(cls, cancel_after=None):
        from qgis.core import QgsProcessingFeedback

        class _Feedback(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.progress = []
                self.infos = []
                self.progressChanged.connect(self.progress.append)

            def pushInfo(self, info):  # noqa: N802
                self.infos.append(info)
                super().pushInfo(info)

            def setProgress(self, value):  # noqa: N802
                super().setProgress(value)
                if cancel_after is not None and len(self.progress) >= cancel_after:
                    self.cancel()
        return _Feedback()


@pytest.fixture
def feedback_factory():
    return RecordingFeedback
