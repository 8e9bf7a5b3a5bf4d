"""[cloudprobability] Cloud probability of an MDGM from the tiled U-Net."""
from qgis.core import QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination

from ..mars_cloudmask_plugin import options
from .algorithm import StepAlgorithm, progress_to
from .parameters import (mdgm_parameter, mdgm_path, option_parameter, optional_number, raster_output,
                         read_mask_options)
from .runtime import MODEL_MODULES
from .translate import tr


class CloudProbabilityAlgorithm(StepAlgorithm):
    NAME = "cloudprobability"
    DISPLAY_NAME = "Cloud probability (tiled U-Net)"
    TAGS = ("U-Net", "probability", "tiles", "deep learning")
    MODULES = MODEL_MODULES
    HELP = """
Runs the U-Net over the prediction area of an MDGM, tile by tile, and writes the water-ice cloud
probability (0 to 1) as a float32 GeoTIFF on the full 3600 x 1801 global grid in IAU_2015:49900.
Pixels outside the area, and pixels without usable colour, are nodata (-999).

The area is the polar bounds of Ls (as in "Crop to polar bounds"), or the latitudes given in North
bound / South bound (both, e.g. from "Crop to polar bounds" in a model). The network reads the
image rows beyond the bounds and wraps around the globe east-west, so the edges of the area get
full context.

Tiling: "seamless" gives exactly the result of one pass over the whole area; "blend" is the
paper's method. The model file defaults to the model shipped with the plugin: the single-map model,
or with a Clear-sky reference (from "Clear-sky reference from MDGMs", of the sol's season) the
reference-aware one; the output's tags name both (MODEL, REFERENCE). Its recommended threshold
travels with the output (tag THRESHOLD) so "Post-filter" can use it.

Progress is reported per tile; Cancel stops before the next tile and writes nothing.
"""
    INPUT, OUTPUT = "INPUT", "OUTPUT"
    LAT_NORTH, LAT_SOUTH, THRESHOLD = "LAT_NORTH", "LAT_SOUTH", "THRESHOLD"
    OPTIONS = (options.LS, options.BUFFER, options.TILING, options.REFERENCE, options.MODEL, options.TILE_SIZE)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(mdgm_parameter(self.INPUT))
        for spec in self.OPTIONS[:2]:
            self.add(option_parameter(spec))
        for name, label in ((self.LAT_NORTH, "North bound latN (degrees)"),
                            (self.LAT_SOUTH, "South bound latS (degrees)")):
            self.add(QgsProcessingParameterNumber(name, tr(label), QgsProcessingParameterNumber.Double,
                                                  optional=True, minValue=-90.0, maxValue=90.0),
                     "Give both bounds to predict between these latitudes instead of the polar bounds of Ls "
                     "(Ls and buffer are then only recorded).")
        for spec in self.OPTIONS[2:]:
            self.add(option_parameter(spec))
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Cloud probability")),
                 "Float32 GeoTIFF, 0..1, nodata -999.")
        self.add_number_output(self.LAT_NORTH, "North bound latN used (degrees)")
        self.add_number_output(self.LAT_SOUTH, "South bound latS used (degrees)")
        self.add_number_output(self.THRESHOLD, "The model's recommended threshold")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import steps
        result = self.run_engine(steps.probability_raster,
            mdgm_path(self, parameters, context, self.INPUT),
            raster_output(self, parameters, self.OUTPUT, context, style="probability"),
            read_mask_options(self, parameters, context, self.OPTIONS),
            optional_number(self, parameters, self.LAT_NORTH, context),
            optional_number(self, parameters, self.LAT_SOUTH, context),
            progress=progress_to(feedback, 2, 97), cancel=feedback.isCanceled)
        area, layout = result.area, result.layout
        feedback.pushInfo(tr("Model {}, {} tiles of {} px ({}), latitudes {:.3f} to {:.3f}").format(
            result.model_label, len(layout.offsets), layout.tile[0], layout.mode, area.lat_south, area.lat_north))
        feedback.setProgress(100)
        return {self.OUTPUT: str(result.output), self.LAT_NORTH: area.lat_north, self.LAT_SOUTH: area.lat_south,
                self.THRESHOLD: result.threshold}
