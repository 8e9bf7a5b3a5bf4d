"""[postfilter] Threshold a cloud probability raster and mark untrustworthy pixels invalid."""
from qgis.core import QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer

from .base import StepAlgorithm, raster_layer_path, tr

DEFAULT_THRESHOLD = 0.5


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

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer("PROBABILITY", tr("Cloud probability raster")),
                 "Float32 probability on the global grid, as written by \"Cloud probability\".")
        self.add_mdgm()
        self.add_threshold("Probability at or above which a pixel is cloud, 0 to 1. Empty: the model's own "
                           "(the probability raster's THRESHOLD tag), else 0.5.")
        self.add(QgsProcessingParameterRasterDestination("OUTPUT", tr("Cloud mask")),
                 "Int16 GeoTIFF: 1 cloud, 0 clear, -999 invalid.")
        self.add_number_output("CLOUD_FRACTION", "Cloud fraction of the valid pixels")
        self.add_number_output("VALID_FRACTION", "Valid fraction of the globe")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import mdgm as engine_mdgm, postfilter, steps, writers
        prob_path = raster_layer_path(self, parameters, "PROBABILITY", context)
        probability, tags = steps.read_global_band(prob_path, "probability raster")
        feedback.setProgress(30)
        mdgm = engine_mdgm.read_mdgm(self.mdgm_path(parameters, context))
        feedback.setProgress(60)
        source = tags.get("SOURCE_FILE")
        if source and source != mdgm.path.name:
            feedback.pushWarning(tr("{}: was made from {}, not from {}").format(prob_path, source, mdgm.path.name))
        threshold = self.optional_number(parameters, "THRESHOLD", context)
        if threshold is None:
            threshold = float(tags.get("THRESHOLD", DEFAULT_THRESHOLD))
        output = self.raster_output(parameters, "OUTPUT", context, style="cloudmask")
        mask = postfilter.mask_from_probability(probability, mdgm.rgb, threshold)
        writers.write_geotiff(output, mask, dict(tags, THRESHOLD=f"{threshold:g}", SOURCE_FILE=mdgm.path.name))
        cloud, valid = postfilter.fractions(mask)
        feedback.pushInfo(tr("Threshold {:g}: cloud {:.1f}% of valid pixels, valid {:.1f}% of the globe").format(
            threshold, 100 * cloud, 100 * valid))
        feedback.setProgress(100)
        return {"OUTPUT": output, "CLOUD_FRACTION": cloud, "VALID_FRACTION": valid}
