"""[zonalclimatology] The latitude x Ls diagram of zonal-mean cloud frequency."""
from qgis.core import QgsProcessingParameterFileDestination, QgsProcessingParameterNumber

from .algorithm import EngineAlgorithm, progress_to
from .parameters import MaskSelection, file_output, optional_number
from .translate import tr


class ZonalClimatologyAlgorithm(EngineAlgorithm):
    NAME = "zonalclimatology"
    DISPLAY_NAME = "Latitude x Ls diagram of cloud frequency"
    GROUP, GROUP_ID = "Analyses", "analyses"
    TAGS = ("zonal mean", "climatology", "Ls", "latitude", "seasons", "figure", "report")
    HELP = """
The zonal-mean cloud frequency of a set of cloud masks on latitude bins x solar longitude (Ls)
bins (Mengwall and Guzewich 2022, figure 6): each cell is the cloud share of the valid pixels
pooled over the sols whose Ls falls in the bin, each pixel weighted by its area on the Mars sphere
(cos latitude; IAU_2015:49900, radius 3396190 m), with the number of valid pixels per cell. Ls runs
on across Mars years (MY 28 Ls 350 is followed by MY 29 Ls 0), so a season sample reads left to
right. An optional longitude window limits it to a region (e.g. Tharsis, -135 to -90).

Writes CF NetCDF, optionally CSV, the figure (PNG: Ls across Mars years, latitude, colour bar,
empty bins grey and hatched) and an HTML report showing the figure, which the Results Viewer opens.
Masks are chosen as for "Cloud frequency" (list, folder, filters); each needs Ls and Mars year.
"""
    OUTPUT, OUTPUT_CSV, OUTPUT_FIGURE, OUTPUT_HTML = "OUTPUT", "OUTPUT_CSV", "OUTPUT_FIGURE", "OUTPUT_HTML"
    MASKS = MaskSelection("INPUT")
    LAT_BIN, LS_BIN, LON_WEST, LON_EAST, SOLS = "LAT_BIN", "LS_BIN", "LON_WEST", "LON_EAST", "SOLS"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.MASKS.add_to(self)
        number = QgsProcessingParameterNumber
        self.add(number(self.LAT_BIN, tr("Latitude bin (degrees)"), number.Double, defaultValue=1.0, minValue=0.1,
                        maxValue=180.0), "Height of the latitude bins (default 1 degree).")
        self.add(number(self.LS_BIN, tr("Ls bin (degrees)"), number.Double, defaultValue=5.0, minValue=0.1,
                        maxValue=360.0), "Width of the solar-longitude bins (default 5 degrees).")
        for key, label in ((self.LON_WEST, "Longitude window, west (degrees)"),
                           (self.LON_EAST, "Longitude window, east (degrees)")):
            self.add(number(key, tr(label), number.Double, optional=True, minValue=-180.0, maxValue=180.0),
                     "Give both to use only the pixels between these longitudes (west greater than east crosses "
                     "the antimeridian). Empty: all longitudes.", advanced=True)
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT, tr("Diagram (NetCDF)"), "NetCDF (*.nc)"),
                 "CF-1.8 NetCDF: cloud_fraction(latitude, season), valid_pixels, sols per Ls bin.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_CSV, tr("Diagram (CSV)"), "CSV (*.csv)",
                                                       optional=True, createByDefault=False),
                 "One row per cell: Mars year, Ls start and end, latitude bounds, cloud fraction, valid pixels, sols.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_FIGURE, tr("Figure (PNG)"), "PNG (*.png)",
                                                       optional=True),
                 "The diagram drawn with matplotlib.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_HTML, tr("Report"), "HTML files (*.html)",
                                                       optional=True),
                 "An HTML page showing the figure (opened from the Results Viewer).")
        self.add_number_output(self.SOLS, "Sols counted")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import climatology
        west, east = (optional_number(self, parameters, key, context) for key in (self.LON_WEST, self.LON_EAST))
        result = climatology.zonal_products(
            netcdf=file_output(self, parameters, self.OUTPUT, context, (".nc",)),
            csv=file_output(self, parameters, self.OUTPUT_CSV, context, (".csv",)),
            figure=file_output(self, parameters, self.OUTPUT_FIGURE, context, (".png",)),
            report=file_output(self, parameters, self.OUTPUT_HTML, context, (".html", ".htm")),
            lat_bin=self.parameterAsDouble(parameters, self.LAT_BIN, context),
            ls_bin=self.parameterAsDouble(parameters, self.LS_BIN, context),
            lon_window=None if west is None and east is None else (west, east),
            progress=progress_to(feedback), cancel=feedback.isCanceled, **self.MASKS.read(self, parameters, context))
        clim = result.climatology
        feedback.pushInfo(tr("{} sols, Mars years {}").format(clim.n_sols, ", ".join(map(str, clim.mars_years))))
        paths = {self.OUTPUT: result.netcdf, self.OUTPUT_CSV: result.csv, self.OUTPUT_FIGURE: result.figure,
                 self.OUTPUT_HTML: result.report}
        return dict({key: str(path) if path else None for key, path in paths.items()}, **{self.SOLS: clim.n_sols})
