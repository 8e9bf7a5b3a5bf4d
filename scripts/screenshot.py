"""Render our cloud mask over the sample MDGM with QGIS, headless, to a PNG (the map alone, with a
legend; docs/screenshot.png is the whole desktop, from scripts/desktop_session.sh).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot.py [--model M.keras] [--out PNG]

The mask is made by the plugin's own `marscloudmask:cloudmask` algorithm (processing.run, the
plugin imported under its installed name), styled with the shipped styles/cloudmask.qml, and
drawn over the MDGM in IAU_2015:49900 with QgsMapRendererParallelJob. --model defaults to the
shipped model; pass another (e.g. a tiny test model) to try the script before it exists.
"""
import argparse
import gc
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample" / "P01_day10_zequat.jpg"
QGIS_PLUGINS = "/usr/share/qgis/python/plugins"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mdgm", type=Path, default=SAMPLE, help="MDGM to show (default: the repository's sample)")
    p.add_argument("--model", type=Path, default=None, help="model file (default: the shipped model)")
    p.add_argument("--out", type=Path, default=Path("mars_cloudmask_map.png"), help="PNG to write")
    p.add_argument("--width", type=int, default=1400, help="image width in pixels (height follows)")
    p.add_argument("--extent", type=float, nargs=4, metavar=("WEST", "SOUTH", "EAST", "NORTH"),
                   default=(-180.05, -87.0, 179.95, 80.0), help="map extent in degrees")
    return p.parse_args(argv)


def import_plugin(tmp):
    """The plugin under its installed name, from a plugins folder holding only a link to the repo."""
    plugins = Path(tmp) / "plugins"
    plugins.mkdir()
    (plugins / "mars_cloudmask").symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(plugins))
    import mars_cloudmask
    plugin = mars_cloudmask.classFactory(None)
    plugin.initProcessing()
    return plugin


def georeferenced_mdgm(mdgm_path, tmp, steps):
    """The MDGM as an RGB GeoTIFF on the global grid (the JPEG itself has no georeferencing)."""
    from mars_cloudmask.mars_cloudmask_plugin.mdgm import read_mdgm
    return steps.write_rgb_geotiff(Path(tmp) / "mdgm.tif", read_mdgm(mdgm_path).rgb)


def render(layers, extent, width, out):
    from qgis.core import QgsCoordinateReferenceSystem, QgsMapRendererParallelJob, QgsMapSettings, QgsRectangle
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    west, south, east, north = extent
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("IAU_2015:49900"))
    settings.setExtent(QgsRectangle(west, south, east, north))
    settings.setOutputSize(QSize(width, round(width * (north - south) / (east - west))))
    settings.setBackgroundColor(QColor(0, 0, 0))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def annotate(image, title, classes):
    """Title and legend (cloud / clear / invalid from the style) painted onto the map image."""
    from qgis.PyQt.QtCore import QRectF, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QPainter
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    font = QFont("DejaVu Sans", max(10, image.width() // 90))
    painter.setFont(font)
    line = painter.fontMetrics().height()
    height = line * (len(classes) + 1.8)   # bottom left: south of the polar bound, where the map is invalid
    box = QRectF(10, image.height() - height - 10, painter.fontMetrics().horizontalAdvance(title) + line, height)
    painter.fillRect(box, QColor(0, 0, 0, 170))
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(QRectF(box.left() + line * 0.5, box.top() + line * 0.3, box.width(), line), Qt.AlignLeft, title)
    for i, (label, color) in enumerate(classes):
        y = box.top() + line * (1.5 + i)
        swatch = QRectF(box.left() + line * 0.5, y + line * 0.15, line * 1.4, line * 0.7)
        painter.fillRect(swatch, QColor(190, 120, 80))   # a Mars-coloured ground under the semi-transparent class
        painter.fillRect(swatch, color)
        painter.drawText(QRectF(box.left() + line * 2.3, y, box.width(), line), Qt.AlignLeft, label)
    painter.end()
    return image


def main(argv=None):
    args = parse_args(argv)
    if QGIS_PLUGINS not in sys.path:
        sys.path.append(QGIS_PLUGINS)
    from qgis.core import QgsApplication, QgsRasterLayer
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing
    Processing.initialize()
    import processing
    with tempfile.TemporaryDirectory() as tmp:
        plugin = import_plugin(tmp)
        from mars_cloudmask.mars_cloudmask_plugin import steps
        from mars_cloudmask.processing.styles import apply_style
        params = {"INPUT": str(args.mdgm), "OUTPUT": str(Path(tmp) / "mask.tif")}
        if args.model:
            params["MODEL"] = str(args.model)
        result = processing.run("marscloudmask:cloudmask", params)
        mdgm = QgsRasterLayer(str(georeferenced_mdgm(args.mdgm, tmp, steps)), "MDGM")
        mask = QgsRasterLayer(result["OUTPUT"], "cloud mask")
        apply_style(mask, "cloudmask")
        with __import__("rasterio").open(result["OUTPUT"]) as src:
            tags = src.tags()
        title = (f"{tags['SOL']} (MY{tags['MARS_YEAR']}, Ls {tags['LS']}): cloud {100 * result['CLOUD_FRACTION']:.1f}%"
                 f" of valid pixels; model {tags['MODEL']}")
        classes = [(c.label, c.color) for c in mask.renderer().classes()]
        image = render([mask, mdgm], args.extent, args.width, args.out)
        annotate(image, title, classes)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(args.out), "PNG"):
            sys.exit(f"{args.out}: could not write the PNG")
        print(f"wrote {args.out} ({image.width()} x {image.height()}): {title}")
        del mdgm, mask, image
        plugin.unload()
        gc.collect()
    app.exitQgis()


if __name__ == "__main__":
    main()
