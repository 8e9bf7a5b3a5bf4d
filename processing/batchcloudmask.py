"""[batchcloudmask] Cloud masks for every MDGM of an archive folder."""
from qgis.core import (QgsProcessingException, QgsProcessingOutputString, QgsProcessingParameterBoolean,
                       QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFolderDestination)

from .base import MODEL_MODULES, CloudmaskAlgorithm, progress_to, tr

FORMATS = ("tif", "nc")   # order of the FORMATS enum


class BatchCloudMaskAlgorithm(CloudmaskAlgorithm):
    NAME = "batchcloudmask"
    DISPLAY_NAME = "Cloud masks for an archive folder"
    TAGS = ("batch", "archive", "folder", "U-Net", "mask")
    MODULES = MODEL_MODULES + ("netCDF4",)
    HELP = """
Makes cloud masks for every MDGM (*_zequat.jpg) below a folder in the distributed archive layout
(phase / subphase folders, each with its Pxx_ls.txt), and writes them to a mirrored folder tree:
e.g. masks/P01/P01_day10_zequat_cloudmask.tif (and .nc, and P01_day10_zequat_probability.tif if asked).

Sols whose outputs already exist are skipped (tick "Overwrite" to redo them), so an interrupted run
resumes where it stopped. A bad file does not stop the run: it is reported in the log and in the
FAILED_FILES output, and the run goes on with the next sol. Ls is read from each subphase's
Pxx_ls.txt. The model is loaded once for the whole run.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterFile("INPUT", tr("Archive folder"), behavior=QgsProcessingParameterFile.Folder),
                 "Folder holding MDGMs in the archive layout (searched recursively for *_zequat.jpg).")
        self.add(QgsProcessingParameterFolderDestination("OUTPUT", tr("Output folder")),
                 "Masks go here, in the same sub-folders as their MDGMs.")
        self.add(QgsProcessingParameterEnum("FORMATS", tr("Mask formats"), options=["GeoTIFF", "NetCDF"],
                                            allowMultiple=True, defaultValue=[0, 1]),
                 "GeoTIFF (Int16, nodata -999) and/or CF-1.8 NetCDF.")
        self.add(QgsProcessingParameterBoolean("PROBABILITY", tr("Also write the cloud probability"),
                                               defaultValue=False),
                 "Adds a float32 SOL_zequat_probability.tif beside each mask.")
        self.add(QgsProcessingParameterBoolean("OVERWRITE", tr("Overwrite existing outputs"), defaultValue=False),
                 "Off: sols whose outputs all exist are skipped. On: every sol is redone.")
        self.add_buffer()
        self.add_model_options()
        self.add_threshold("Probability at or above which a pixel is cloud, 0 to 1. Empty: the model's own.")
        self.add_number_output("DONE", "Sols masked")
        self.add_number_output("SKIPPED", "Sols skipped (outputs existed)")
        self.add_number_output("FAILED", "Sols that failed")
        self.addOutput(QgsProcessingOutputString("FAILED_FILES", tr("Failed files and why (one per line)")))

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import batch, pipeline, writers
        from ..mars_cloudmask_plugin.errors import Cancelled
        root = self.parameterAsFile(parameters, "INPUT", context)
        out_dir = self.parameterAsString(parameters, "OUTPUT", context)
        formats = tuple(FORMATS[i] for i in self.parameterAsEnums(parameters, "FORMATS", context))
        if not formats:
            raise QgsProcessingException(tr("Choose at least one mask format"))
        probability = self.parameterAsBool(parameters, "PROBABILITY", context)
        overwrite = self.parameterAsBool(parameters, "OVERWRITE", context)
        writers.check_writable_folder(out_dir)
        jobs = batch.plan_jobs(root, out_dir, formats, probability)
        if not jobs:
            raise QgsProcessingException(tr("{}: no MDGMs (*_zequat.jpg) found in this folder or below").format(root))
        options = pipeline.MaskOptions(buffer=self.parameterAsDouble(parameters, "BUFFER", context),
                                       tiling=self.tiling(parameters, context),
                                       threshold=self.optional_number(parameters, "THRESHOLD", context),
                                       formats=formats, probability=probability,
                                       **self.tile_size(parameters, context))
        model = None
        if overwrite or not all(batch.is_done(job) for job in jobs):
            model = self.load_model(parameters, context, feedback)
        feedback.pushInfo(tr("{} MDGMs below {}").format(len(jobs), root))
        outcomes = []
        for i, job in enumerate(jobs):
            if feedback.isCanceled():
                break
            progress = progress_to(feedback, 100.0 * i / len(jobs), 100.0 * (i + 1) / len(jobs))
            try:
                outcome = batch.run_job(job, options, model, progress, feedback.isCanceled, overwrite)
            except Cancelled:
                break
            outcomes.append(outcome)
            if outcome.status == "failed":
                feedback.reportError(outcome.message, fatalError=False)
            else:
                feedback.pushInfo(outcome.summary())
            progress(1.0)
        report = batch.failures_report(outcomes)
        if len(outcomes) < len(jobs):
            report[0] += tr(", cancelled after {} of {} sols").format(len(outcomes), len(jobs))
        feedback.pushInfo("\n".join(report))
        counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
        return {"OUTPUT": out_dir, "DONE": counts["done"], "SKIPPED": counts["skipped"], "FAILED": counts["failed"],
                "FAILED_FILES": "\n".join(o.message for o in outcomes if o.status == "failed")}
