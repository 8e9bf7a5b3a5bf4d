"""[cloudinpolygons] Cloud cover inside each polygon of a layer (e.g. MDAD storm boxes)."""
from qgis.core import (QgsProcessing, QgsProcessingParameterNumber, QgsProcessingParameterVectorDestination,
                       QgsProcessingParameterVectorLayer)

from .algorithm import EngineAlgorithm, progress_to
from .parameters import MaskSelection, geopackage_output, layer_file
from .translate import tr


class CloudInPolygonsAlgorithm(EngineAlgorithm):
    NAME = "cloudinpolygons"
    DISPLAY_NAME = "Cloud cover in polygons"
    GROUP, GROUP_ID = "Analyses", "analyses"
    TAGS = ("zonal statistics", "polygons", "dust storms", "MDAD", "km2")
    HELP = """
Scores every polygon of a layer (the MDAD storm boxes of "Dust storm boxes from an MDAD table", or
any polygons) against cloud masks and writes the layer again, as a GeoPackage, with the fields
mask_sol, cloud_fraction (of the valid area), valid_fraction (of the polygon), cloud_km2 and
valid_km2: areas on the Mars sphere (IAU_2015:49900, radius 3396190 m), pixels counted where their
centre lies inside the polygon.

Which mask: when the layer has a sol field (sol_name like P01_day10, or subphase + sol day number),
each polygon is scored against the mask of its own sol; with Mars year + Ls fields (MDAD v1.0),
against the mask of that Mars year with the nearest Ls within the tolerance; otherwise give exactly
one mask and every polygon is scored against it. Polygons without a matching mask keep empty fields.
"""
    INPUT, OUTPUT, LS_TOLERANCE, MATCHED = "INPUT", "OUTPUT", "LS_TOLERANCE", "MATCHED"
    MASKS = MaskSelection("MASKS")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterVectorLayer(self.INPUT, tr("Polygons"), [QgsProcessing.TypeVectorPolygon]),
                 "A polygon layer on Mars, e.g. MDAD storm boxes (a layer on another body is refused).")
        self.MASKS.add_to(self)
        number = QgsProcessingParameterNumber
        self.add(number(self.LS_TOLERANCE, tr("Ls tolerance (degrees)"), number.Double, defaultValue=1.0,
                        minValue=0.0, maxValue=180.0),
                 "With Mars year + Ls fields: the nearest mask of that Mars year within this many degrees of Ls.")
        self.add(QgsProcessingParameterVectorDestination(self.OUTPUT, tr("Polygons with cloud cover"),
                                                         type=QgsProcessing.TypeVectorPolygon),
                 "GeoPackage (.gpkg): the input features with the cover fields added.")
        self.add_number_output(self.MATCHED, "Polygons scored")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import polygons
        selection = self.MASKS.read(self, parameters, context)
        result = polygons.cloud_in_polygons(
            layer_file(self.parameterAsVectorLayer(parameters, self.INPUT, context).source()), selection["inputs"],
            geopackage_output(self, parameters, self.OUTPUT, context),
            self.parameterAsDouble(parameters, self.LS_TOLERANCE, context),
            progress=progress_to(feedback), cancel=feedback.isCanceled)
        feedback.pushInfo(tr("{} of {} polygons scored, matched by {}").format(result.matched, result.features,
                                                                                result.matching))
        return {self.OUTPUT: str(result.output), self.MATCHED: result.matched}
