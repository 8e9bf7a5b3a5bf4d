"""[georeferencemdgm] The MDGM as a layer on Mars (the distributed JPEG carries no georeferencing)."""
from qgis.core import QgsProcessingParameterRasterDestination

from .algorithm import StepAlgorithm
from .parameters import mdgm_parameter, mdgm_path, name_output, raster_output
from .translate import tr


class GeoreferenceMdgmAlgorithm(StepAlgorithm):
    NAME = "georeferencemdgm"
    DISPLAY_NAME = "Georeference an MDGM"
    TAGS = ("georeference", "VRT", "MDGM", "map", "basemap")
    HELP = """
The distributed MDGM JPEG carries no georeferencing, so QGIS would put it in pixel units. This
writes it as a layer on the full 3600 x 1801 global grid (0.1 degree) in IAU_2015:49900, where it
lies under its cloud mask, MOLA topography and dust-storm boxes: a VRT (a small file that points at
the JPEG, so keep the JPEG where it is) or, with a .tif name, a GeoTIFF copy. The input is never
changed and nothing is written beside it: the output goes where you choose.

Loading a Mars layer into a project on Earth (a new project starts in an Earth CRS) puts the
project on Mars, so QGIS does not look for a transform between the two bodies.
"""
    INPUT, OUTPUT = "INPUT", "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(mdgm_parameter(self.INPUT))
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Georeferenced MDGM"), defaultValue=None,
                                                         createByDefault=True),
                 "A .vrt (default: points at the JPEG) or a .tif (a GeoTIFF copy).")

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802
        return ["vrt", "tif"]

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import steps
        source = mdgm_path(self, parameters, context, self.INPUT)
        output = steps.georeference_mdgm(source, raster_output(self, parameters, self.OUTPUT, context,
                                                               style=None, suffixes=(".vrt", ".tif", ".tiff")))
        name_output(context, output, tr("{} MDGM").format(source.stem.replace("_zequat", "")))
        feedback.setProgress(100)
        return {self.OUTPUT: str(output)}
