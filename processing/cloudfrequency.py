"""[cloudfrequency] Cloud frequency map of a set of masks."""
from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterEnum, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination)

from .algorithm import EngineAlgorithm, progress_to
from .parameters import MaskSelection, forget_layer_to_load, load_on_completion, raster_output
from .translate import tr


class CloudFrequencyAlgorithm(EngineAlgorithm):
    NAME = "cloudfrequency"
    DISPLAY_NAME = "Cloud frequency of a set of masks"
    GROUP, GROUP_ID = "Analyses", "analyses"
    TAGS = ("frequency", "climatology", "statistics", "subphase", "Ls")
    HELP = """
Per pixel, the share of sols with cloud among the sols where the pixel is valid (invalid pixels,
-999, are ignored), over any set of cloud masks: a list of masks, a folder tree such as the output
of "Cloud masks for an archive folder", or both; filtered by Mars year, Ls range and subphase,
which are read from the masks' own tags (else from the archive's Pxx_ls.txt beside them).

Output: a GeoTIFF on the full 3600 x 1801 global grid in IAU_2015:49900 with three float32 bands:
cloud frequency (0 to 1; nodata -999 where fewer sols than the minimum are valid), valid sols and
cloud sols. Styled as a ramp when loaded. A .nc output name writes CF NetCDF instead.

Group by subphase or by Ls bins of a chosen width to make one map per group (the frequency maps
of Mengwall and Guzewich 2022, figure 7): OUTPUT_P02.tif, OUTPUT_P03.tif ... all loaded. The
masks are read one at a time, so any number of sols fits in memory.
"""
    OUTPUT, OUTPUT_FILES, GROUP_BY, LS_WIDTH, MIN_VALID = "OUTPUT", "OUTPUT_FILES", "GROUP_BY", "LS_WIDTH", "MIN_VALID"
    MASKS = MaskSelection("INPUT")
    SOLS = "SOLS"
    GROUPINGS = ("none", "subphase", "ls")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.MASKS.add_to(self)
        self.add(QgsProcessingParameterEnum(self.GROUP_BY, tr("One map per"),
                                            options=[tr("none: one map of all sols"), tr("subphase"),
                                                     tr("Ls bin (width below)")], defaultValue=0),
                 "none: one map of every selected sol; subphase: one map per subphase (P02, P03 ...); Ls bin: "
                 "one map per Ls bin of the width below, whatever the Mars year.")
        number = QgsProcessingParameterNumber
        self.add(number(self.LS_WIDTH, tr("Ls bin width (degrees)"), number.Double, defaultValue=30.0,
                        minValue=0.1, maxValue=360.0),
                 "Width of the Ls bins when one map is made per Ls bin.", advanced=True)
        self.add(number(self.MIN_VALID, tr("Minimum valid sols"), number.Integer, defaultValue=1, minValue=1),
                 "Pixels valid on fewer sols than this are nodata in the frequency band (the counts stay).")
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Cloud frequency")),
                 "3-band GeoTIFF (cloud frequency, valid sols, cloud sols) on the global grid.")
        self.addOutput(QgsProcessingOutputString(self.OUTPUT_FILES, tr("Maps written (one per line)")))
        self.add_number_output(self.SOLS, "Sols counted")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import frequency
        grouping = self.GROUPINGS[self.parameterAsEnum(parameters, self.GROUP_BY, context)]
        group_by = f"ls:{self.parameterAsDouble(parameters, self.LS_WIDTH, context):g}" if grouping == "ls" else grouping
        output = raster_output(self, parameters, self.OUTPUT, context, style="frequency")
        written = frequency.cloud_frequency(
            output=output, group_by=group_by,
            min_valid=self.parameterAsInt(parameters, self.MIN_VALID, context),
            progress=progress_to(feedback), cancel=feedback.isCanceled, **self.MASKS.read(self, parameters, context))
        for out in written:
            feedback.pushInfo(tr("{}: {} sols{}").format(out.path, out.sols, f" ({out.group})" if out.group else ""))
            if out.group is not None:
                forget_layer_to_load(context, output)
                load_on_completion(context, out.path, tr("Cloud frequency {}").format(out.group), "frequency")
        return {self.OUTPUT: str(written[0].path), self.OUTPUT_FILES: "\n".join(str(o.path) for o in written),
                self.SOLS: sum(o.sols for o in written)}
