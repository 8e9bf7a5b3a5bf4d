"""[cloudmask] MDGM -> cloud mask, end to end."""
from pathlib import Path

from qgis.core import (QgsProcessingOutputRasterLayer, QgsProcessingParameterBoolean,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterRasterDestination)

from ..mars_cloudmask_plugin import options
from .algorithm import EngineAlgorithm, progress_to
from .parameters import (load_on_completion, mdgm_parameter, mdgm_path, name_output, option_parameter, raster_output,
                         read_mask_options, writable_folder)
from .runtime import MODEL_MODULES, NETCDF_MODULES
from .translate import tr


class CloudMaskAlgorithm(EngineAlgorithm):
    NAME = "cloudmask"
    DISPLAY_NAME = "Cloud mask from an MDGM"
    TAGS = ("U-Net", "mask", "GeoTIFF", "NetCDF")
    MODULES = MODEL_MODULES + NETCDF_MODULES
    HELP = """
Makes the water-ice cloud mask of one MARCI Mars Daily Global Map: polar bounds from Ls, tiled
U-Net, threshold and post-filter, in one step (the same result as chaining "Crop to polar bounds",
"Cloud probability" and "Post-filter").

Values: 1 cloud, 0 clear, -999 invalid (no usable colour, or outside the polar bounds). Always on
the full 3600 x 1801 global grid (0.1 degree) in IAU_2015:49900, so masks of different sols stack
pixel for pixel. The GeoTIFF carries Ls, Mars year, source file and model version as tags.

Optional outputs: the same mask as CF-1.8 NetCDF (the layout of the reference masks, on the Mars
sphere) and the float32 cloud probability.

With a clear-sky reference of the sol's season ("Clear-sky reference from MDGMs"), the
reference-aware model runs, which tells bright frost and ground from cloud better; without one,
the single-map model.

Ls comes from the parameter, else from the archive's Pxx_ls.txt beside the MDGM. Use batch mode
(or "Cloud masks for an archive folder") for many sols.
"""

    INPUT, OUTPUT, OUTPUT_NETCDF, OUTPUT_PROBABILITY = "INPUT", "OUTPUT", "OUTPUT_NETCDF", "OUTPUT_PROBABILITY"
    LOAD_MDGM, OUTPUT_MDGM = "LOAD_MDGM", "OUTPUT_MDGM"
    CLOUD_FRACTION, VALID_FRACTION = "CLOUD_FRACTION", "VALID_FRACTION"
    LS, LAT_NORTH, LAT_SOUTH = options.LS.key, "LAT_NORTH", "LAT_SOUTH"
    OPTIONS = (options.LS, options.BUFFER, options.TILING, options.REFERENCE, options.MODEL, options.TILE_SIZE,
               options.THRESHOLD)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(mdgm_parameter(self.INPUT))
        for spec in self.OPTIONS:
            self.add(option_parameter(spec))
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Cloud mask")),
                 "Int16 GeoTIFF: 1 cloud, 0 clear, -999 invalid.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_NETCDF, tr("Cloud mask as NetCDF"),
                                                       fileFilter="NetCDF (*.nc)", optional=True,
                                                       createByDefault=False),
                 "CF-1.8 NetCDF: cloudmask(latitude, longitude), latitude ascending as in the reference masks.")
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT_PROBABILITY, tr("Cloud probability"),
                                                         optional=True, createByDefault=False),
                 "Float32 GeoTIFF, 0..1, nodata -999.")
        self.add(QgsProcessingParameterBoolean(self.LOAD_MDGM, tr("Load the MDGM under the mask"), defaultValue=False),
                 "Also write the MDGM as a georeferenced VRT beside the mask (MASK_mdgm.vrt for MASK.tif, pointing at the "
                 "JPEG; nothing is written beside the MDGM) and load it, so the mask lies on its own map.")
        self.addOutput(QgsProcessingOutputRasterLayer(self.OUTPUT_MDGM, tr("Georeferenced MDGM")))
        self.add_number_output(self.CLOUD_FRACTION, "Cloud fraction of the valid pixels")
        self.add_number_output(self.VALID_FRACTION, "Valid fraction of the globe")
        self.add_number_output(self.LS, "Solar longitude Ls used (degrees)")
        self.add_number_output(self.LAT_NORTH, "North bound latN (degrees)")
        self.add_number_output(self.LAT_SOUTH, "South bound latS (degrees)")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import pipeline
        paths = self.output_paths(parameters, context)
        result = self.run_engine(pipeline.make_products, mdgm_path(self, parameters, context, self.INPUT), paths,
                                 read_mask_options(self, parameters, context, self.OPTIONS),
                                 progress=progress_to(feedback, 2, 95), cancel=feedback.isCanceled)
        cloud, valid = result.fractions
        sol = result.sol.name
        name_output(context, paths["tif"], tr("{} cloud mask").format(sol))
        name_output(context, paths.get("probability"), tr("{} cloud probability").format(sol))
        if "mdgm" in paths:
            load_on_completion(context, paths["mdgm"], tr("{} MDGM").format(sol), bottom=True)   # under its mask
        feedback.pushInfo(tr("{}: Ls {:g}, model {}, {} tiles ({}), threshold {:g}: cloud {:.1f}% of valid pixels, "
                             "valid {:.1f}% of the globe").format(
            result.sol.name, result.sol.ls, result.model_label, len(result.layout.offsets), result.layout.mode,
            result.threshold, 100 * cloud, 100 * valid))
        feedback.setProgress(100)
        return {self.OUTPUT: paths["tif"], self.OUTPUT_NETCDF: paths.get("nc"), self.OUTPUT_MDGM: paths.get("mdgm"),
                self.OUTPUT_PROBABILITY: paths.get("probability"), self.CLOUD_FRACTION: cloud,
                self.VALID_FRACTION: valid, self.LS: result.sol.ls, self.LAT_NORTH: result.area.lat_north,
                self.LAT_SOUTH: result.area.lat_south}

    def output_paths(self, parameters, context):
        """The engine's product -> path map from the destinations (skipped optional ones left out)."""
        paths = {"tif": raster_output(self, parameters, self.OUTPUT, context, style="cloudmask"),
                 "nc": self.parameterAsFileOutput(parameters, self.OUTPUT_NETCDF, context),
                 "probability": raster_output(self, parameters, self.OUTPUT_PROBABILITY, context,
                                              style="probability")}
        paths = {k: v for k, v in paths.items() if v}
        writable_folder(paths.get("nc", paths["tif"]))
        if self.parameterAsBool(parameters, self.LOAD_MDGM, context):
            paths["mdgm"] = str(Path(paths["tif"]).with_name(f"{Path(paths['tif']).stem}_mdgm.vrt"))
        return paths
