"""QGIS as a user meets it (headless): messages that survive QGIS's rich-text rendering, output
layers named after the sol, the MDGM georeferenced under its mask, a project put on Mars."""
import sys
from pathlib import Path

import pytest


def _render(html_text):
    """What QGIS's rich-text views show of `html_text` (the "cannot be run" dialog is a QTextBrowser
    fed with setHtml), and the links in it."""
    from qgis.PyQt.QtGui import QTextDocument
    document = QTextDocument()
    document.setHtml(html_text)
    links, block = [], document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isAnchor():
                links.append(it.fragment().charFormat().anchorHref())
            it += 1
        block = block.next()
    return document.toPlainText(), links


def test_the_install_message_survives_rich_text_rendering_whole_with_a_link_that_opens(plugin, monkeypatch):
    from qgis.PyQt.QtCore import QUrl
    from mars_cloudmask.processing.runtime import MODEL_MODULES, plan
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    provider = plugin.provider
    cloudmask = next(a for a in provider.algorithms() if a.name() == "cloudmask")
    ok, message = cloudmask.canExecute()
    plain = plan(MODEL_MODULES).problem
    # as processing/gui/ProcessingToolbox.py shows it
    shown, links = _render(f"<h3>This algorithm cannot be run :-( </h3>\n{message}")
    assert not ok and shown == f"This algorithm cannot be run :-( \n{plain}"    # every character, none eaten by a <
    assert "'numpy<2'" in shown and 'run "Install the network runtime"' in shown
    assert shown.rstrip().endswith("Guide: docs/qgis.md in the plugin folder.")
    assert len(links) == 1 and QUrl(links[0]).isLocalFile() and Path(QUrl(links[0]).toLocalFile()).is_file()
    assert _render(provider.warningMessage())[0] == plain


def test_a_broken_runtime_is_named_with_what_to_do(plugin, monkeypatch, tmp_path):
    from mars_cloudmask.processing.runtime import MODEL_MODULES, plan
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setenv("MARS_CLOUDMASK_RUNTIME", str(tmp_path))
    problem = plan(MODEL_MODULES).problem
    assert f"The network runtime {tmp_path} (set by MARS_CLOUDMASK_RUNTIME) is not a working Python" in problem
    assert 'run "Install the network runtime"' in problem


def test_cloudmask_layers_are_named_after_the_sol_on_the_mdgm_in_a_project_on_mars(plugin, project, archive,
                                                                                  tiny_model_path, tmp_path):
    import processing
    from qgis.core import QgsCoordinateReferenceSystem
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    before = sorted(p.name for p in archive.parent.iterdir())
    result = processing.runAndLoadResults("marscloudmask:cloudmask", {
        "INPUT": str(archive), "MODEL": str(tiny_model_path), "LOAD_MDGM": True,
        "OUTPUT": str(tmp_path / "mask.tif"), "OUTPUT_PROBABILITY": str(tmp_path / "prob.tif")})
    assert result["OUTPUT_MDGM"] == str(tmp_path / "mask_mdgm.vrt")
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    assert set(layers) == {"P01_day10 cloud mask", "P01_day10 cloud probability", "P01_day10 MDGM"}
    order = [layer.name() for layer in project.layerTreeRoot().layerOrder()]
    assert order[-1] == "P01_day10 MDGM"                                 # the map under its mask
    mdgm = layers["P01_day10 MDGM"]
    assert mdgm.crs().authid() == "IAU_2015:49900" and mdgm.width() == 3600 and mdgm.height() == 1801
    from qgis.core import QgsRasterLayer
    assert QgsRasterLayer(result["OUTPUT_MDGM"], "as read").crs().authid() == "IAU_2015:49900"   # by itself
    assert mdgm.extent().xMinimum() == pytest.approx(-180.05) and mdgm.extent().yMaximum() == pytest.approx(90.05)
    assert project.crs().authid() == "IAU_2015:49900"                   # no Earth-Mars transform to look for
    assert sorted(p.name for p in archive.parent.iterdir()) == before  # nothing written beside the MDGM
    del layers, mdgm


def test_the_mdgm_goes_under_its_own_mask_above_layers_that_were_there_before(plugin, project, archive,
                                                                            tiny_model_path, tmp_path):
    """An opaque layer loaded earlier (another map, a clear-sky reference) must not hide the MDGM."""
    import processing
    from qgis.core import QgsRasterLayer
    earlier = QgsRasterLayer(processing.run("marscloudmask:georeferencemdgm", {
        "INPUT": str(archive), "OUTPUT": str(tmp_path / "earlier.vrt")})["OUTPUT"], "an earlier map")
    project.addMapLayer(earlier)
    processing.runAndLoadResults("marscloudmask:cloudmask", {
        "INPUT": str(archive), "MODEL": str(tiny_model_path), "LOAD_MDGM": True,
        "OUTPUT": str(tmp_path / "mask.tif"), "OUTPUT_PROBABILITY": str(tmp_path / "prob.tif")})
    from qgis.core import QgsApplication
    QgsApplication.processEvents()          # the layer tree's bridge removes layers that left the tree here
    order = [layer.name() for layer in project.layerTreeRoot().layerOrder()]
    assert order[-2:] == ["P01_day10 MDGM", "an earlier map"] and order[0].startswith("P01_day10 cloud")
    assert "P01_day10 MDGM" in [layer.name() for layer in project.mapLayers().values()]
    del earlier


def test_georeferencemdgm_writes_a_vrt_or_a_geotiff_on_the_grid(run_alg, archive, tmp_path, read_band):
    import rasterio
    vrt = run_alg("georeferencemdgm", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "map.vrt")})["OUTPUT"]
    tif = run_alg("georeferencemdgm", {"INPUT": str(archive), "OUTPUT": str(tmp_path / "map.tif")})["OUTPUT"]
    for path in (vrt, tif):
        with rasterio.open(path) as src:
            assert (src.width, src.height, src.count) == (3600, 1801, 3)
            assert src.transform.to_gdal() == (-180.05, 0.1, 0.0, 90.05, 0.0, -0.1)
            assert src.crs.to_wkt().count("Mars") >= 1
    with rasterio.open(vrt) as a, rasterio.open(tif) as b:
        assert (a.read() == b.read()).all()


def test_the_clear_class_shows_on_the_map(plugin, repo_root):
    """Clear is a visible veil, not a near-transparent tint (it was alpha 45 of 255)."""
    import re
    qml = (repo_root / "styles" / "cloudmask.qml").read_text()
    clear = re.search(r'<paletteEntry[^>]*label="clear"[^>]*>', qml).group(0)
    assert int(re.search(r'alpha="(\d+)"', clear).group(1)) >= 100
