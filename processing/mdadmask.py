"""[mdadmask] The MDAD v1.1 dust mask of one MDGM, as a GeoTIFF on the global grid."""
from qgis.core import (QgsProcessingParameterFile, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterString)

from .algorithm import EngineAlgorithm
from .parameters import input_file, raster_output
from .runtime import BASE_MODULES, NETCDF_MODULES
from .translate import tr

NETCDF_FILTER = "NetCDF (*.nc *.nc4 *.ncdf *.cdf);;All files (*.*)"


class MdadMaskAlgorithm(EngineAlgorithm):
    NAME = "mdadmask"
    DISPLAY_NAME = "Dust mask of an MDGM from MDAD"
    GROUP, GROUP_ID = "Analyses", "analyses"
    TAGS = ("dust", "dust storm", "MDAD", "Mars Dust Activity Database", "NetCDF", "mask")
    MODULES = BASE_MODULES + NETCDF_MODULES
    HELP = """
Extracts the dust mask of one Mars Daily Global Map from a Mars Dust Activity Database v1.1 dust
mask NetCDF (Battalio and Wang 2021): a uint8 variable of dimensions time x lon (3600) x lat
(1801) whose time steps are named in dayList (SUB_dayXX, e.g. P01_day05).

Output: uint8 GeoTIFF on the full 3600 x 1801 global grid (0.1 degree) in IAU_2015:49900, north
row first, so it lies pixel for pixel on the cloud mask of the same MDGM. Values as in the
database: 0 no dust, 1-133 storm member, 134-250 split member, 255 missing (nodata). Tags name the
source file and the sol.

A sol that the file does not hold, or a file on another grid, stops the algorithm with a message
that names the file (and, for an unknown sol, some of the sols it holds).
"""
    INPUT, SOL, OUTPUT = "INPUT", "SOL", "OUTPUT"
    DUST_FRACTION, MISSING_FRACTION = "DUST_FRACTION", "MISSING_FRACTION"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterFile(self.INPUT, tr("MDAD v1.1 dust mask (NetCDF)"),
                                            behavior=QgsProcessingParameterFile.File, fileFilter=NETCDF_FILTER),
                 "The MDAD v1.1 dust mask NetCDF of a subphase, with its dayList of MDGM names.")
        self.add(QgsProcessingParameterString(self.SOL, tr("MDGM (sol)")),
                 "The MDGM whose dust mask to extract, as named in dayList, e.g. P01_day05.")
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Dust mask")),
                 "uint8 GeoTIFF on the global grid, nodata 255 (missing).")
        self.add_number_output(self.DUST_FRACTION, "Dust fraction of the observed pixels")
        self.add_number_output(self.MISSING_FRACTION, "Missing fraction of the globe")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import mdad
        result = mdad.mdad_mask(input_file(self, parameters, self.INPUT, context, tr("MDAD dust mask NetCDF")),
                                self.parameterAsString(parameters, self.SOL, context).strip(),
                                raster_output(self, parameters, self.OUTPUT, context))
        feedback.pushInfo(tr("{} ({}): dust {:.2f}% of observed pixels, missing {:.1f}% of the globe").format(
            result.sol, result.variable, 100 * result.dust_fraction, 100 * result.missing_fraction))
        feedback.setProgress(100)
        return {self.OUTPUT: str(result.output), self.DUST_FRACTION: result.dust_fraction,
                self.MISSING_FRACTION: result.missing_fraction}
