"""The plugin as QGIS meets it: metadata, classFactory/initProcessing without iface, the provider and
its algorithms (compliance: names, help, tags, parameter help), the missing-TensorFlow message,
QGIS's own `processing` package, and outputs loaded into the project styled and on Mars."""
import ast
import configparser
import re
import sys
from pathlib import Path

import pytest

from qgis.core import QgsApplication, QgsProcessingException


def test_processing_is_qgis_own_framework_not_the_plugin_folder(plugin, repo_root):
    import processing
    assert processing.__file__ == "/usr/share/qgis/python/plugins/processing/__init__.py"
    assert str(repo_root) not in sys.path
    assert plugin.provider.__module__ == "mars_cloudmask.processing.provider"


def test_metadata_declares_a_processing_plugin_for_qgis_3_22(repo_root):
    meta = configparser.ConfigParser()
    meta.read(repo_root / "metadata.txt")
    general = meta["general"]
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    for key in ("name", "description", "about", "version", "author", "icon"):
        assert general[key].strip(), key
    # No public address yet: no invented email, homepage, tracker or repository (QGIS needs none of
    # them to load a plugin; the plugin repository asks for them on upload).
    assert "example.org" not in (repo_root / "metadata.txt").read_text()
    for key in ("email", "tracker", "repository", "homepage"):
        assert key not in general or "@" in general[key] or general[key].startswith("https://"), key
    assert {"mars", "cloud", "processing", "raster", "MARCI"} <= {t.strip() for t in general["tags"].split(",")}
    assert (repo_root / general["icon"]).is_file()
    from mars_cloudmask_plugin import __version__
    assert general["version"] == __version__


def test_root_init_imports_nothing_at_module_level(repo_root):
    tree = ast.parse((repo_root / "__init__.py").read_text())
    top_level_imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert top_level_imports == []
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["classFactory"]


def test_class_factory_registers_the_provider_through_init_processing_without_iface(plugin, algorithm_ids):
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("marscloudmask")
    assert provider is plugin.provider and plugin.iface is None
    assert provider.name() == "Mars Cloudmask" and not provider.icon().isNull()
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == sorted(f"marscloudmask:{n}" for n in algorithm_ids)


def test_unload_removes_the_provider_and_init_processing_adds_it_back(plugins_dir, plugin):
    import mars_cloudmask
    other = mars_cloudmask.classFactory(None)
    registry = QgsApplication.processingRegistry()
    plugin.unload()
    try:
        assert registry.providerById("marscloudmask") is None
        other.initProcessing()
        assert registry.providerById("marscloudmask") is other.provider
        other.unload()
        assert registry.providerById("marscloudmask") is None
    finally:
        plugin.initProcessing()
    assert registry.providerById("marscloudmask") is plugin.provider


def _algorithms(provider):
    return sorted(provider.algorithms(), key=lambda a: a.name())


def test_every_algorithm_has_names_group_tags_and_help(provider):
    groups = set()
    for alg in _algorithms(provider):
        assert alg.name().isidentifier() and alg.name() == alg.name().lower()
        assert alg.displayName() and alg.displayName()[0].isupper()
        assert alg.groupId() and alg.group()
        groups.add((alg.groupId(), alg.group()))
        help_text = alg.shortHelpString()
        assert len(help_text) > 300, alg.name()
        assert "\n" not in help_text.replace("\n\n", ""), alg.name()   # the dialog makes each line a paragraph
        assert not re.search(r"<[A-Za-z/]", help_text), alg.name()      # shown as rich text: no stray tags
        assert "IAU_2015:49900" in help_text or alg.name() in ("batchcloudmask", "installruntime")
        tags = {t.lower() for t in alg.tags()}
        assert {"mars", "cloud", "marci"} <= tags
        assert not alg.icon().isNull()
        assert isinstance(alg.createInstance(), type(alg))
        # The Help button opens the plugin's own documentation, which ships with it (works offline).
        from qgis.PyQt.QtCore import QUrl
        help_url = QUrl(alg.helpUrl())
        assert help_url.isLocalFile() and Path(help_url.toLocalFile()).is_file(), alg.helpUrl()
    assert groups == {("steps", "Steps"), ("cloudmasks", "Cloud masks"), ("analyses", "Analyses"), ("setup", "Set-up")}


def test_every_parameter_has_a_readable_description_and_help(provider):
    for alg in _algorithms(provider):
        alg = alg.create()
        names = [p.name() for p in alg.parameterDefinitions()]
        assert len(names) == len(set(names))
        for param in alg.parameterDefinitions():
            assert param.name() == param.name().upper(), (alg.name(), param.name())
            assert param.description() and param.description()[0].isupper(), (alg.name(), param.name())
            assert "optional" not in param.description().lower()   # QGIS appends "[optional]" itself
            assert len(param.help()) > 20, (alg.name(), param.name())
            assert not re.search(r"<[A-Za-z/]", param.help()), (alg.name(), param.name())


def _engine_algorithms(provider):
    """Every algorithm but the runtime install (which has no input and needs none)."""
    return [a for a in _algorithms(provider) if a.name() != "installruntime"]


def test_main_input_and_output_are_named_input_and_output(provider):
    for alg in _engine_algorithms(provider):
        alg = alg.create()
        assert alg.parameterDefinition("INPUT") is not None, alg.name()
        assert alg.parameterDefinition("OUTPUT") is not None, alg.name()
        for dest in alg.destinationParameterDefinitions():
            assert alg.outputDefinition(dest.name()) is not None


def test_missing_required_input_is_refused_before_running(provider):
    from qgis.core import QgsProcessingContext
    for alg in _engine_algorithms(provider):
        ok, message = alg.create().checkParameterValues({}, QgsProcessingContext())
        assert not ok and message


def test_without_tensorflow_model_algorithms_cannot_execute_and_say_how_to_install(provider, run_alg, archive,
                                                                                   monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow", None)   # find_spec() now reports it missing
    by_name = {a.name(): a for a in provider.algorithms()}
    for name in ("cloudprobability", "cloudmask", "batchcloudmask"):
        ok, message = by_name[name].canExecute()
        assert not ok
        assert "TensorFlow" in message and "Install the network runtime" in message
        assert "-m venv --system-site-packages" in message and "MARS_CLOUDMASK_RUNTIME" in message
    assert "TensorFlow" in provider.warningMessage()
    assert by_name["polarcrop"].canExecute() == (True, "")
    assert by_name["postfilter"].canExecute() == (True, "")
    with pytest.raises(QgsProcessingException, match="needs TensorFlow"):
        run_alg("cloudmask", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "m.tif")})
    assert not (tmp_path / "m.tif").exists()
    run_alg("polarcrop", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "area.tif")})  # still works


def test_without_rasterio_every_algorithm_says_which_system_package_to_install(provider, monkeypatch):
    monkeypatch.setitem(sys.modules, "rasterio", None)
    for alg in _engine_algorithms(provider):
        ok, message = alg.canExecute()
        assert not ok and "needs rasterio" in message and "python3-rasterio" in message


def test_with_tensorflow_every_algorithm_can_execute(provider):
    assert provider.warningMessage() == ""
    assert all(a.canExecute() == (True, "") for a in provider.algorithms())


def test_outputs_load_into_the_project_styled_on_mars(plugin, project, archive, tiny_model_path, tmp_path):
    import processing
    from qgis.core import QgsPalettedRasterRenderer, QgsSingleBandPseudoColorRenderer
    processing.runAndLoadResults("marscloudmask:cloudmask", {
        "INPUT": str(archive), "MODEL": str(tiny_model_path), "OUTPUT": str(tmp_path / "mask.tif"),
        "OUTPUT_PROBABILITY": str(tmp_path / "prob.tif")})
    layers = {layer.source(): layer for layer in project.mapLayers().values()}
    assert set(layers) == {str(tmp_path / "mask.tif"), str(tmp_path / "prob.tif")}
    mask, prob = layers[str(tmp_path / "mask.tif")], layers[str(tmp_path / "prob.tif")]
    for layer in (mask, prob):
        assert layer.crs().authid() == "IAU_2015:49900"
        e = layer.extent()
        assert (e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()) == \
            pytest.approx((-180.05, -90.05, 179.95, 90.05))
        assert (layer.width(), layer.height()) == (3600, 1801)
    renderer = mask.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    assert {(c.value, c.label) for c in renderer.classes()} == {(1, "cloud"), (0, "clear"), (-999, "invalid")}
    assert not mask.dataProvider().useSourceNoDataValue(1)    # invalid shows as its class
    assert isinstance(prob.renderer(), QgsSingleBandPseudoColorRenderer)
    assert (prob.renderer().classificationMin(), prob.renderer().classificationMax()) == (0.0, 1.0)
    assert prob.dataProvider().useSourceNoDataValue(1)        # -999 stays transparent
    del layers, mask, prob, renderer


def test_no_earth_constants_in_the_plugin_code(repo_root):
    """Degrees are never turned into metres with Earth figures: distances on Mars go through the
    Mars CRS (radius 3396190 m)."""
    sources = [p for folder in ("processing", "mars_cloudmask_plugin") for p in (repo_root / folder).rglob("*.py")]
    sources += [repo_root / "__init__.py", repo_root / "plugin.py"]
    earth = ("6378137", "6371000", "6371.0", "111320", "111319", "111.32", "WGS84", "EPSG:4326", "EPSG:3857")
    offenders = [(p.name, e) for p in sources for e in earth if e in p.read_text()]
    assert offenders == []


def test_every_run_loads_its_output_styled_not_only_the_first(plugin, project, archive, engine_mask, tmp_path):
    """QGIS deletes a run's layer post-processor with the run's context; the next run needs its own."""
    import gc
    import processing
    from mars_cloudmask_plugin.writers import write_geotiff
    prob = write_geotiff(tmp_path / "prob.tif", engine_mask.probability, {"THRESHOLD": "0.5"})
    for i in range(3):
        processing.runAndLoadResults("marscloudmask:postfilter", {
            "PROBABILITY": str(prob), "INPUT": str(archive), "OUTPUT": str(tmp_path / f"mask{i}.tif")})
        gc.collect()
    renderers = sorted((layer.source(), layer.renderer().type()) for layer in project.mapLayers().values())
    assert renderers == [(str(tmp_path / f"mask{i}.tif"), "paletted") for i in range(3)]


def test_plugin_takes_its_constants_from_the_engine(plugin):
    """The provider keeps no copies of engine constants (the modules it reads them from need no
    numpy, so the toolbox still opens without it); they must agree."""
    from mars_cloudmask.mars_cloudmask_plugin import grid, options, tiling
    from mars_cloudmask.processing import styles
    assert styles.CRS_AUTHID == grid.CRS_AUTHID
    assert options.TILING.choices == tiling.MODES
