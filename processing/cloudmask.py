"""[cloudmask] MDGM -> cloud mask, end to end."""
from qgis.core import QgsProcessingParameterFileDestination, QgsProcessingParameterRasterDestination

from .base import MODEL_MODULES, CloudmaskAlgorithm, progress_to, tr, writable_folder


class CloudMaskAlgorithm(CloudmaskAlgorithm):
    NAME = "cloudmask"
    DISPLAY_NAME = "Cloud mask from an MDGM"
    TAGS = ("U-Net", "mask", "GeoTIFF", "NetCDF")
    MODULES = MODEL_MODULES + ("netCDF4",)
    HELP = """
Makes the water-ice cloud mask of one MARCI Mars Daily Global Map: polar bounds from Ls, tiled
U-Net, threshold and post-filter, in one step (the same result as chaining "Crop to polar bounds",
"Cloud probability" and "Post-filter").

Values: 1 cloud, 0 clear, -999 invalid (no usable colour, or outside the polar bounds). Always on
the full 3600 x 1801 global grid (0.1 degree) in IAU_2015:49900, so masks of different sols stack
pixel for pixel. The GeoTIFF carries Ls, Mars year, source file and model version as tags.

Optional outputs: the same mask as CF-1.8 NetCDF (the layout of the reference masks, on the Mars
sphere) and the float32 cloud probability.

Ls comes from the parameter, else from the archive's Pxx_ls.txt beside the MDGM. Use batch mode
(or "Cloud masks for an archive folder") for many sols.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_mdgm()
        self.add_ls_and_buffer()
        self.add_model_options()
        self.add_threshold("Probability at or above which a pixel is cloud, 0 to 1. Empty: the model's own.")
        self.add(QgsProcessingParameterRasterDestination("OUTPUT", tr("Cloud mask")),
                 "Int16 GeoTIFF: 1 cloud, 0 clear, -999 invalid.")
        self.add(QgsProcessingParameterFileDestination("OUTPUT_NETCDF", tr("Cloud mask as NetCDF"),
                                                       fileFilter="NetCDF (*.nc)", optional=True,
                                                       createByDefault=False),
                 "CF-1.8 NetCDF: cloudmask(latitude, longitude), latitude ascending as in the reference masks.")
        self.add(QgsProcessingParameterRasterDestination("OUTPUT_PROBABILITY", tr("Cloud probability"),
                                                         optional=True, createByDefault=False),
                 "Float32 GeoTIFF, 0..1, nodata -999.")
        self.add_number_output("CLOUD_FRACTION", "Cloud fraction of the valid pixels")
        self.add_number_output("VALID_FRACTION", "Valid fraction of the globe")
        self.add_number_output("LS", "Solar longitude Ls used (degrees)")
        self.add_number_output("LAT_NORTH", "North bound latN (degrees)")
        self.add_number_output("LAT_SOUTH", "South bound latS (degrees)")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import mdgm as engine_mdgm, pipeline
        mdgm = engine_mdgm.read_mdgm(self.mdgm_path(parameters, context))
        ls = self.optional_number(parameters, "LS", context)
        engine_mdgm.find_sol(mdgm.path, ls)  # a missing Ls fails before the model loads
        paths = {"tif": self.raster_output(parameters, "OUTPUT", context, style="cloudmask"),
                 "nc": self.parameterAsFileOutput(parameters, "OUTPUT_NETCDF", context),
                 "probability": self.raster_output(parameters, "OUTPUT_PROBABILITY", context, style="probability")}
        paths = {k: v for k, v in paths.items() if v}
        writable_folder(paths.get("nc", paths["tif"]))
        model = self.load_model(parameters, context, feedback)
        feedback.setProgress(2)
        result = pipeline.make_cloudmask(mdgm, model, ls, self.parameterAsDouble(parameters, "BUFFER", context),
                                         self.tiling(parameters, context),
                                         threshold=self.optional_number(parameters, "THRESHOLD", context),
                                         progress=progress_to(feedback, 2, 95), cancel=feedback.isCanceled,
                                         **self.tile_size(parameters, context))
        pipeline.write_products(result, paths)
        cloud, valid = result.fractions
        feedback.pushInfo(tr("{}: Ls {:g}, {} tiles ({}), threshold {:g}: cloud {:.1f}% of valid pixels, "
                             "valid {:.1f}% of the globe").format(
            result.sol.name, result.sol.ls, len(result.layout.offsets), result.layout.mode, result.threshold,
            100 * cloud, 100 * valid))
        feedback.setProgress(100)
        return {"OUTPUT": paths["tif"], "OUTPUT_NETCDF": paths.get("nc"),
                "OUTPUT_PROBABILITY": paths.get("probability"), "CLOUD_FRACTION": cloud, "VALID_FRACTION": valid,
                "LS": result.sol.ls, "LAT_NORTH": result.area.lat_north, "LAT_SOUTH": result.area.lat_south}
