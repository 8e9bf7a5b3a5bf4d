"""[postfilter] Threshold a cloud probability raster and mark untrustworthy pixels invalid."""
from qgis.core import QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer

from ..mars_cloudmask_plugin import options
from .algorithm import StepAlgorithm
from .parameters import (mdgm_parameter, mdgm_path, option_parameter, optional_number, raster_layer_path,
                         raster_output)
from .translate import tr


class PostFilterAlgorithm(StepAlgorithm):
    NAME = "postfilter"
    DISPLAY_NAME = "Post-filter (probability to mask)"
    TAGS = ("threshold", "post-filter", "mask", "no data")
    HELP = """
Turns a cloud probability raster (from "Cloud probability") into the cloud mask: 1 cloud where the
probability reaches the threshold, 0 clear, -999 invalid. Invalid are pixels outside the prediction
area (nodata in the probability raster) and pixels of the MDGM without usable colour: black, JPEG
bleed around black (blue below 30), or a missing band (any band 0), the published rule.

Threshold: empty uses the model's own threshold, recorded in the probability raster (tag
THRESHOLD), else 0.5.

Output: Int16 GeoTIFF on the full 3600 x 1801 global grid in IAU_2015:49900, nodata -999, styled
cloud / clear / invalid when loaded.
"""
    PROBABILITY, INPUT, THRESHOLD, OUTPUT = "PROBABILITY", "INPUT", options.THRESHOLD.key, "OUTPUT"
    CLOUD_FRACTION, VALID_FRACTION = "CLOUD_FRACTION", "VALID_FRACTION"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(self.PROBABILITY, tr("Cloud probability raster")),
                 "Float32 probability on the global grid, as written by \"Cloud probability\".")
        self.add(mdgm_parameter(self.INPUT))
        self.add(option_parameter(options.THRESHOLD), "Probability at or above which a pixel is cloud, strictly between "
                 "0 and 1. Empty: the model's own (the probability raster's THRESHOLD tag), else 0.5.")
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Cloud mask")),
                 "Int16 GeoTIFF: 1 cloud, 0 clear, -999 invalid.")
        self.add_number_output(self.CLOUD_FRACTION, "Cloud fraction of the valid pixels")
        self.add_number_output(self.VALID_FRACTION, "Valid fraction of the globe")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import steps
        result = steps.postfilter_raster(raster_layer_path(self, parameters, self.PROBABILITY, context),
                                         mdgm_path(self, parameters, context, self.INPUT),
                                         raster_output(self, parameters, self.OUTPUT, context, style="cloudmask"),
                                         optional_number(self, parameters, self.THRESHOLD, context))
        if result.warning:
            feedback.pushWarning(result.warning)
        feedback.pushInfo(tr("Threshold {:g}: cloud {:.1f}% of valid pixels, valid {:.1f}% of the globe").format(
            result.threshold, 100 * result.cloud_fraction, 100 * result.valid_fraction))
        feedback.setProgress(100)
        return {self.OUTPUT: str(result.output), self.CLOUD_FRACTION: result.cloud_fraction,
                self.VALID_FRACTION: result.valid_fraction}
