"""[polarcrop] Crop an MDGM to the polar bounds of its season: the prediction area."""
from qgis.core import QgsProcessingParameterRasterDestination

from ..mars_cloudmask_plugin import options
from .algorithm import StepAlgorithm
from .parameters import mdgm_parameter, mdgm_path, option_parameter, optional_number, raster_output
from .translate import tr


class PolarCropAlgorithm(StepAlgorithm):
    NAME = "polarcrop"
    DISPLAY_NAME = "Crop to polar bounds"
    TAGS = ("polar bounds", "solar longitude", "Ls", "crop")
    HELP = """
Finds the prediction area of an MDGM: the latitudes between the polar bounds of its season (Mengwall
and Guzewich 2022), less the thin black columns at the map's west and east edges.

Polar bounds from the solar longitude Ls and the buffer c:

Ls ≤ 180: latN = 59 + 0.214 (90 - |90 - Ls|) - c, latS = -57 + 0.247 (90 - |90 - Ls|) + c

Ls > 180: latN = 59 - 0.214 (90 - |270 - Ls|) - c, latS = -57 - 0.247 (90 - |270 - Ls|) + c

Ls comes from the parameter, else from the archive's Pxx_ls.txt beside the MDGM; without either the
algorithm stops and says so.

Outputs: the MDGM cropped to that area as an RGB GeoTIFF on the full 3600 x 1801 global grid in
IAU_2015:49900 (pixels outside the area are nodata), and the bounds latN / latS as numbers. In a
model, feed the bounds to "Cloud probability": the network also needs the image rows beyond the
bounds as context, so it reads the full MDGM rather than this cropped raster.
"""
    INPUT, LS, BUFFER, OUTPUT = "INPUT", options.LS.key, options.BUFFER.key, "OUTPUT"
    LAT_NORTH, LAT_SOUTH = "LAT_NORTH", "LAT_SOUTH"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(mdgm_parameter(self.INPUT))
        self.add(option_parameter(options.LS))
        self.add(option_parameter(options.BUFFER))
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Prediction area (cropped MDGM)")),
                 "RGB GeoTIFF on the global grid, nodata (0) outside the prediction area.")
        self.add_number_output(self.LAT_NORTH, "North bound latN (degrees)")
        self.add_number_output(self.LAT_SOUTH, "South bound latS (degrees)")
        self.add_number_output(self.LS, "Solar longitude Ls used (degrees)")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import steps
        result = steps.crop_to_polar_bounds(mdgm_path(self, parameters, context, self.INPUT),
                                            raster_output(self, parameters, self.OUTPUT, context),
                                            optional_number(self, parameters, self.LS, context),
                                            self.parameterAsDouble(parameters, self.BUFFER, context))
        area, sol = result.area, result.sol
        feedback.pushInfo(tr("{}: Ls {:g}, latitudes {:.3f} to {:.3f} (rows {}-{}), columns {}-{}").format(
            sol.name, sol.ls, area.lat_south, area.lat_north, area.row0, area.row1 - 1, area.col0, area.col1 - 1))
        feedback.setProgress(100)
        return {self.OUTPUT: str(result.output) if result.output else None, self.LAT_NORTH: area.lat_north,
                self.LAT_SOUTH: area.lat_south, self.LS: sol.ls}
