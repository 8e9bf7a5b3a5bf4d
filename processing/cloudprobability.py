"""[cloudprobability] Cloud probability of an MDGM from the tiled U-Net."""
import dataclasses

from qgis.core import QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination

from .base import MODEL_MODULES, StepAlgorithm, progress_to, tr


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
paper's method. The model file defaults to the model shipped with the plugin; its recommended
threshold travels with the output (tag THRESHOLD) so "Post-filter" can use it.

Progress is reported per tile; Cancel stops before the next tile and writes nothing.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_mdgm()
        self.add_ls_and_buffer()
        for name, label in (("LAT_NORTH", "North bound latN (degrees)"),
                            ("LAT_SOUTH", "South bound latS (degrees)")):
            self.add(QgsProcessingParameterNumber(name, tr(label), QgsProcessingParameterNumber.Double,
                                                  optional=True, minValue=-90.0, maxValue=90.0),
                     "Give both bounds to predict between these latitudes instead of the polar bounds of Ls "
                     "(Ls and buffer are then only recorded).")
        self.add_model_options()
        self.add(QgsProcessingParameterRasterDestination("OUTPUT", tr("Cloud probability")),
                 "Float32 GeoTIFF, 0..1, nodata -999.")
        self.add_number_output("LAT_NORTH", "North bound latN used (degrees)")
        self.add_number_output("LAT_SOUTH", "South bound latS used (degrees)")
        self.add_number_output("THRESHOLD", "The model's recommended threshold")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import pipeline, steps, writers
        mdgm, area, sol = self.mdgm_and_area(parameters, context, bounds=True)
        output = self.raster_output(parameters, "OUTPUT", context, style="probability")
        model = self.load_model(parameters, context, feedback)
        feedback.setProgress(2)
        prob, layout = steps.probability_in_area(mdgm, area, model, self.tiling(parameters, context),
                                                 progress=progress_to(feedback, 2, 97), cancel=feedback.isCanceled,
                                                 **self.tile_size(parameters, context))
        feedback.pushInfo(tr("{} tiles of {} px ({}), latitudes {:.3f} to {:.3f}").format(
            len(layout.offsets), layout.tile[0], layout.mode, area.lat_south, area.lat_north))
        if sol.ls is None:
            sol = dataclasses.replace(sol, ls=float("nan"))
        result = pipeline.MaskResult(mdgm.path, sol, area, layout, model.label, model.threshold, None, prob, mdgm.rgb)
        writers.write_geotiff(output, result.probability, result.tags())
        feedback.setProgress(100)
        return {"OUTPUT": output, "LAT_NORTH": area.lat_north, "LAT_SOUTH": area.lat_south,
                "THRESHOLD": model.threshold}
