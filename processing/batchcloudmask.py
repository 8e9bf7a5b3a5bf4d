"""[batchcloudmask] Cloud masks for every MDGM of an archive folder."""
from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterBoolean, QgsProcessingParameterFile,
                       QgsProcessingParameterFolderDestination)

from ..mars_cloudmask_plugin import options
from ..mars_cloudmask_plugin.options import AUTO_REFERENCE
from .algorithm import EngineAlgorithm, progress_to
from .parameters import option_parameter, read_mask_options
from .runtime import MODEL_MODULES, NETCDF_MODULES
from .translate import tr


class BatchCloudMaskAlgorithm(EngineAlgorithm):
    NAME = "batchcloudmask"
    DISPLAY_NAME = "Cloud masks for an archive folder"
    TAGS = ("batch", "archive", "folder", "U-Net", "mask")
    MODULES = MODEL_MODULES + NETCDF_MODULES
    HELP = """
Makes cloud masks for every MDGM (*_zequat.jpg) below a folder in the distributed archive layout
(phase / subphase folders, each with its Pxx_ls.txt), and writes them to a mirrored folder tree:
e.g. masks/P01/P01_day10_zequat_cloudmask.tif (and .nc, and P01_day10_zequat_probability.tif if asked).

Sols whose outputs already exist are skipped (tick "Overwrite" to redo them), so an interrupted run
resumes where it stopped. A bad file does not stop the run: it is reported in the log and in the
FAILED_FILES output, and the run goes on with the next sol. Ls is read from each subphase's
Pxx_ls.txt. The model is loaded once for the whole run. "Clear-sky reference per folder" runs the
reference-aware model with one reference per subphase folder, made from all its sols.
"""
    INPUT, OUTPUT, OVERWRITE, REFERENCE_PER_FOLDER = "INPUT", "OUTPUT", "OVERWRITE", "REFERENCE_PER_FOLDER"
    DONE, SKIPPED, FAILED, FAILED_FILES = "DONE", "SKIPPED", "FAILED", "FAILED_FILES"
    OPTIONS = (options.FORMATS_OPTION, options.PROBABILITY, options.BUFFER, options.TILING, options.MODEL,
               options.TILE_SIZE, options.THRESHOLD)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterFile(self.INPUT, tr("Archive folder"),
                                            behavior=QgsProcessingParameterFile.Folder),
                 "Folder holding MDGMs in the archive layout (searched recursively for *_zequat.jpg).")
        self.add(QgsProcessingParameterFolderDestination(self.OUTPUT, tr("Output folder")),
                 "Masks go here, in the same sub-folders as their MDGMs.")
        for spec in self.OPTIONS[:2]:
            self.add(option_parameter(spec))
        self.add(QgsProcessingParameterBoolean(self.OVERWRITE, tr("Overwrite existing outputs"), defaultValue=False),
                 "Off: sols whose outputs all exist are skipped. On: every sol is redone.")
        self.add(QgsProcessingParameterBoolean(self.REFERENCE_PER_FOLDER, tr("Clear-sky reference per folder"),
                                               defaultValue=False),
                 "On: one clear-sky reference per archive folder (a subphase), from all its sols, made once and kept "
                 "beside its masks (P01/P01_clearsky.tif), and the reference-aware model. A rerun reuses it.")
        for spec in self.OPTIONS[2:]:
            self.add(option_parameter(spec))
        self.add_number_output(self.DONE, "Sols masked")
        self.add_number_output(self.SKIPPED, "Sols skipped (outputs existed)")
        self.add_number_output(self.FAILED, "Sols that failed")
        self.addOutput(QgsProcessingOutputString(self.FAILED_FILES, tr("Failed files and why (one per line)")))

    def mask_options(self, parameters, context):
        per_folder = self.parameterAsBool(parameters, self.REFERENCE_PER_FOLDER, context)
        return read_mask_options(self, parameters, context, self.OPTIONS, **(
            {"reference": AUTO_REFERENCE} if per_folder else {}))

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import parallel
        out_dir = self.parameterAsString(parameters, self.OUTPUT, context)

        def log(outcome):
            if outcome.status == "failed":
                feedback.reportError(outcome.message, fatalError=False)
            else:
                feedback.pushInfo(outcome.summary())
        report = self.run_engine(parallel.run_batch, self.parameterAsFile(parameters, self.INPUT, context), out_dir,
                                 self.mask_options(parameters, context),
                                 self.parameterAsBool(parameters, self.OVERWRITE, context), on_outcome=log,
                                 progress=progress_to(feedback), cancel=feedback.isCanceled)
        feedback.pushInfo("\n".join(report.lines()))
        return {self.OUTPUT: out_dir, self.DONE: report.count("done"), self.SKIPPED: report.count("skipped"),
                self.FAILED: report.count("failed"), self.FAILED_FILES: "\n".join(o.message for o in report.failed)}
