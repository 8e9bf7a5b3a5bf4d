"""[cloudseries] Cloud area per sol in latitude bands and/or a box."""
from qgis.core import (QgsProcessingParameterBoolean, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterString)

from .algorithm import EngineAlgorithm, progress_to
from .parameters import MaskSelection, file_output
from .translate import tr


class CloudSeriesAlgorithm(EngineAlgorithm):
    NAME = "cloudseries"
    DISPLAY_NAME = "Cloud cover time series"
    GROUP, GROUP_ID = "Analyses", "analyses"
    TAGS = ("time series", "area", "km2", "latitude bands", "box")
    HELP = """
For every sol of a set of cloud masks: the cloud area and the valid area in km² on the Mars sphere
(IAU_2015:49900, radius 3396190 m, exact area of each 0.1-degree pixel), the cloud fraction (of the
valid area) and the valid fraction (of the region), in latitude bands (default 10 degrees) and/or a
lon/lat box (WEST,EAST,SOUTH,NORTH; west greater than east crosses the antimeridian).

Writes a CSV (sol, Mars year, Ls, region, cloud_km2, valid_km2, region_km2, cloud_fraction,
valid_fraction, file) and optionally a PNG plot of the cloud fraction against Ls, one line per
region, Ls running on across Mars years. Masks are chosen as for "Cloud frequency".
"""
    OUTPUT, OUTPUT_FIGURE, BAND, BANDS, BOX, ROWS = "OUTPUT", "OUTPUT_FIGURE", "BAND", "BANDS", "BOX", "ROWS"
    MASKS = MaskSelection("INPUT")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.MASKS.add_to(self)
        self.add(QgsProcessingParameterBoolean(self.BANDS, tr("Latitude bands"), defaultValue=True),
                 "Report every latitude band of the width below (off: the box only).")
        number = QgsProcessingParameterNumber
        self.add(number(self.BAND, tr("Latitude band width (degrees)"), number.Double, defaultValue=10.0,
                        minValue=0.1, maxValue=180.0), "Bands from the south pole, this many degrees each.")
        self.add(QgsProcessingParameterString(self.BOX, tr("Box (west,east,south,north degrees)"), optional=True),
                 "A lon/lat box to report as well, e.g. -135,-90,-10,30 (Tharsis). Empty: no box.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT, tr("Time series (CSV)"), "CSV (*.csv)"),
                 "One row per sol and region.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_FIGURE, tr("Plot (PNG)"), "PNG (*.png)",
                                                       optional=True),
                 "Cloud fraction against Ls, one line per region.")
        self.add_number_output(self.ROWS, "Rows written")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import series
        result = series.series_products(
            csv=file_output(self, parameters, self.OUTPUT, context, (".csv",)),
            figure=file_output(self, parameters, self.OUTPUT_FIGURE, context, (".png",)) or None,
            band=self.parameterAsDouble(parameters, self.BAND, context),
            box=self.parameterAsString(parameters, self.BOX, context) or None,
            bands=self.parameterAsBool(parameters, self.BANDS, context),
            progress=progress_to(feedback), cancel=feedback.isCanceled, **self.MASKS.read(self, parameters, context))
        feedback.pushInfo(tr("{} rows for {} sols").format(len(result.rows), len({r["sol"] for r in result.rows})))
        return {self.OUTPUT: str(result.csv), self.OUTPUT_FIGURE: str(result.figure) if result.figure else None,
                self.ROWS: len(result.rows)}
