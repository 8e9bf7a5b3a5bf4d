"""Write the shipped layer styles (styles/*.qml) with the QGIS API, so they are valid QML for the
QGIS version that made them. Run: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_styles.py

cloudmask.qml: paletted legend cloud (1, cyan) / clear (0, a blue veil that shows on the map) / invalid (-999, grey).
probability.qml: colour ramp 0..1 (blues to white), -999 transparent.
frequency.qml: band 1 (cloud frequency) 0..1, white to deep purple, -999 transparent.
clearsky.qml: the clear-sky reference in true colour (bands 1-3, red, green, blue, each 0..255 stretched
the same for every reference, so two subphases' references compare by eye), -999 transparent.
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
STYLES = REPO / "styles"


def main():
    from qgis.core import (QgsApplication, QgsColorRampShader, QgsContrastEnhancement, QgsGradientColorRamp,
                           QgsGradientStop, QgsMultiBandColorRenderer, QgsPalettedRasterRenderer, QgsRasterLayer,
                           QgsRasterShader, QgsSingleBandPseudoColorRenderer)
    from qgis.PyQt.QtGui import QColor
    from mars_cloudmask_plugin import writers

    app = QgsApplication([], False)
    app.initQgis()
    STYLES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        mask_tif = writers.write_geotiff(Path(tmp) / "mask.tif", np.zeros((1801, 3600), np.int16))
        prob_tif = writers.write_geotiff(Path(tmp) / "prob.tif", np.zeros((1801, 3600), np.float32))

        layer = QgsRasterLayer(str(mask_tif), "mask")
        classes = [QgsPalettedRasterRenderer.Class(1, QColor(0, 215, 255, 200), "cloud"),
                   QgsPalettedRasterRenderer.Class(0, QColor(30, 60, 170, 120), "clear"),
                   QgsPalettedRasterRenderer.Class(-999, QColor(45, 45, 45, 200), "invalid")]
        layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
        _save(layer, STYLES / "cloudmask.qml")
        del layer

        layer = QgsRasterLayer(str(prob_tif), "probability")
        ramp = QgsGradientColorRamp(QColor(8, 48, 107), QColor(255, 255, 255), False,
                                    [QgsGradientStop(0.5, QColor(66, 146, 198))])
        shader_fn = QgsColorRampShader(0.0, 1.0, ramp, QgsColorRampShader.Interpolated)
        shader_fn.classifyColorRamp(11, -1, layer.extent(), None)
        shader_fn.setMinimumValue(0.0)
        shader_fn.setMaximumValue(1.0)
        shader = QgsRasterShader()
        shader.setRasterShaderFunction(shader_fn)
        renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
        renderer.setClassificationMin(0.0)
        renderer.setClassificationMax(1.0)
        renderer.setOpacity(0.85)
        layer.setRenderer(renderer)
        _save(layer, STYLES / "probability.qml")
        del layer

        freq_tif = writers.write_geotiff(Path(tmp) / "freq.tif", np.zeros((1801, 3600, 3), np.float32))
        layer = QgsRasterLayer(str(freq_tif), "frequency")
        ramp = QgsGradientColorRamp(QColor(252, 251, 253), QColor(63, 0, 125), False,
                                    [QgsGradientStop(0.15, QColor(218, 218, 235)), QgsGradientStop(0.5, QColor(128, 125, 186))])
        shader_fn = QgsColorRampShader(0.0, 1.0, ramp, QgsColorRampShader.Interpolated)
        shader_fn.classifyColorRamp(11, -1, layer.extent(), None)
        shader = QgsRasterShader()
        shader.setRasterShaderFunction(shader_fn)
        renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
        renderer.setClassificationMin(0.0)
        renderer.setClassificationMax(1.0)
        layer.setRenderer(renderer)
        _save(layer, STYLES / "frequency.qml")
        del layer

        sky_tif = writers.write_geotiff(Path(tmp) / "clearsky.tif", np.zeros((1801, 3600, 5), np.float32))
        layer = QgsRasterLayer(str(sky_tif), "clear-sky reference")
        renderer = QgsMultiBandColorRenderer(layer.dataProvider(), 1, 2, 3)
        for band, setter in ((1, renderer.setRedContrastEnhancement), (2, renderer.setGreenContrastEnhancement),
                             (3, renderer.setBlueContrastEnhancement)):
            stretch = QgsContrastEnhancement(layer.dataProvider().dataType(band))
            stretch.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
            stretch.setMinimumValue(0.0)
            stretch.setMaximumValue(255.0)
            setter(stretch)
        layer.setRenderer(renderer)
        _save(layer, STYLES / "clearsky.qml")
        del layer
    app.exitQgis()


def _save(layer, path):
    message, ok = layer.saveNamedStyle(str(path))
    if not ok:
        sys.exit(f"{path}: {message}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
