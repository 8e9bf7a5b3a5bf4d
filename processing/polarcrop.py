"""[polarcrop] Crop an MDGM to the polar bounds of its season: the prediction area."""
from qgis.core import QgsProcessingParameterRasterDestination

from .base import StepAlgorithm, tr


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

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_mdgm()
        self.add_ls_and_buffer()
        self.add(QgsProcessingParameterRasterDestination("OUTPUT", tr("Prediction area (cropped MDGM)")),
                 "RGB GeoTIFF on the global grid, nodata (0) outside the prediction area.")
        self.add_number_output("LAT_NORTH", "North bound latN (degrees)")
        self.add_number_output("LAT_SOUTH", "South bound latS (degrees)")
        self.add_number_output("LS", "Solar longitude Ls used (degrees)")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import steps
        mdgm, area, sol = self.mdgm_and_area(parameters, context)
        feedback.setProgress(40)
        feedback.pushInfo(tr("{}: Ls {:g}, latitudes {:.3f} to {:.3f} (rows {}-{}), columns {}-{}").format(
            sol.name, sol.ls, area.lat_south, area.lat_north, area.row0, area.row1 - 1, area.col0, area.col1 - 1))
        output = self.raster_output(parameters, "OUTPUT", context)
        if output:
            tags = {"LS": f"{sol.ls:g}", "MARS_YEAR": sol.mars_year, "SOL": sol.name, "SOURCE_FILE": mdgm.path.name,
                    "LAT_NORTH": f"{area.lat_north:.3f}", "LAT_SOUTH": f"{area.lat_south:.3f}"}
            steps.write_rgb_geotiff(output, steps.crop_to_area(mdgm.rgb, area), tags)
        feedback.setProgress(100)
        return {"OUTPUT": output or None, "LAT_NORTH": area.lat_north, "LAT_SOUTH": area.lat_south, "LS": sol.ls}
