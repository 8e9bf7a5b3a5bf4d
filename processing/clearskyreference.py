"""[clearskyreference] The clear-sky reference map of a set of MDGMs."""
from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingParameterFile,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination)

from ..mars_cloudmask_plugin.options import DEFAULT_MIN_SOLS, DEFAULT_PERCENTILE
from .algorithm import EngineAlgorithm, progress_to
from .parameters import name_output, raster_output
from .translate import tr


class ClearSkyReferenceAlgorithm(EngineAlgorithm):
    NAME = "clearskyreference"
    DISPLAY_NAME = "Clear-sky reference from MDGMs"
    TAGS = ("reference", "clear sky", "percentile", "surface", "subphase")
    HELP = """
Per pixel, over the chosen MDGMs where the pixel has data, a low percentile of red, green, blue
and blue/red: the surface as it looks without cloud (water-ice cloud only brightens blue), and the
number of sols used. The reference-aware model compares each map with it, which tells bright
frost and ground from cloud ("Cloud mask from an MDGM", parameter Clear-sky reference).

Give the sols of one season: a subphase folder of the archive (searched recursively), MDGM files,
or both. 8 or more sols make a clean reference; a reference more than 30 degrees of Ls from a sol
is refused when masking it.

Output: a float32 GeoTIFF on the full 3600 x 1801 global grid in IAU_2015:49900, bands red, green,
blue (shown in true colour: a clear-sky colour map of Mars), blue/red and the number of sols;
nodata where fewer sols than the minimum had data. Its tags name the sols, their Ls range and the
statistic. Memory stays bounded: the maps go through a stack on disk beside the output.
"""
    INPUT, MDGMS, OUTPUT, PERCENTILE, MIN_SOLS = "INPUT", "MDGMS", "OUTPUT", "PERCENTILE", "MIN_SOLS"
    SOLS = "SOLS"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterFile(self.INPUT, tr("Archive folder"), behavior=QgsProcessingParameterFile.Folder,
                                            optional=True),
                 "Every MDGM (*_zequat.jpg) in this folder or below, e.g. one subphase of the archive.")
        self.add(QgsProcessingParameterMultipleLayers(self.MDGMS, tr("MDGM files"), QgsProcessing.TypeFile,
                                                      optional=True),
                 "MDGM JPEGs (each with its Pxx_ls.txt beside it), instead of or besides the folder.")
        number = QgsProcessingParameterNumber
        self.add(number(self.PERCENTILE, tr("Percentile"), number.Double, defaultValue=DEFAULT_PERCENTILE,
                        minValue=0.0, maxValue=100.0),
                 "The per-pixel statistic: low, so that cloud, which brightens blue, rarely enters it.")
        self.add(number(self.MIN_SOLS, tr("Minimum sols with data"), number.Integer, defaultValue=DEFAULT_MIN_SOLS,
                        minValue=1),
                 "Pixels with data on fewer sols are nodata (the count band keeps the count).", advanced=True)
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Clear-sky reference")),
                 "5-band float32 GeoTIFF: red, green, blue, blue/red, sols with data.")
        self.add_number_output(self.SOLS, "Sols used")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import clearsky
        folder = self.parameterAsFile(parameters, self.INPUT, context)
        paths = [f for f in self.parameterAsFileList(parameters, self.MDGMS, context) if f] + ([folder] if folder else [])
        if not paths:
            raise QgsProcessingException(tr("No MDGMs: choose an archive folder (with *_zequat.jpg) or MDGM files"))
        output = raster_output(self, parameters, self.OUTPUT, context, style="clearsky")
        info = clearsky.build_clearsky(paths, output, self.parameterAsDouble(parameters, self.PERCENTILE, context),
                                       self.parameterAsInt(parameters, self.MIN_SOLS, context),
                                       progress=progress_to(feedback), cancel=feedback.isCanceled)
        name_output(context, output, tr("Clear-sky reference ({} sols, Ls {:g}-{:g})").format(
            len(info.sols), info.ls_min, info.ls_max))
        feedback.pushInfo(tr("{}: {} sols ({} .. {}), Ls {:g}-{:g}, percentile {:g}").format(
            output, len(info.sols), info.sols[0], info.sols[-1], info.ls_min, info.ls_max, info.percentile))
        return {self.OUTPUT: output, self.SOLS: len(info.sols)}
