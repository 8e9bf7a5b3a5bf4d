"""[installruntime] The network runtime in one click: a private virtual environment on QGIS's own
Python with the pinned TensorFlow and Keras, used by the algorithms that run the network when
QGIS's Python has no TensorFlow."""
import shlex

from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterString, QgsSettings)

from .algorithm import EngineAlgorithm, progress_to
from .runtime import (INSTALL_ALGORITHM, MODEL_MODULES, RUNTIME_ENV, RUNTIME_SETTING, pinned_requirements, plan,
                      runtime_folder, tensorflow_build)
from .translate import tr


class InstallRuntimeAlgorithm(EngineAlgorithm):
    NAME = "installruntime"
    DISPLAY_NAME = INSTALL_ALGORITHM
    GROUP, GROUP_ID = "Set-up", "setup"
    TAGS = ("TensorFlow", "Keras", "install", "runtime", "venv", "pip", "GPU")
    MODULES = ()
    HELP = f"""
Installs what the network needs, once: makes a private Python environment for the plugin (a
virtual environment on QGIS's own Python that also sees its system packages, so NumPy, GDAL,
rasterio and netCDF4 stay the system's) and puts the pinned TensorFlow and Keras into it with pip
(a download of about 250 MB; several GB for the CUDA build, with its CUDA libraries). pip's
output shows in the log as it runs; Cancel stops it.

Afterwards the algorithms that run the network (Cloud mask, Cloud probability, batch) run it in a
worker process of that environment: progress, Cancel and error messages work as usual, and the
memory is freed when each run ends. Where QGIS's own Python already has TensorFlow they run in
process and this environment is not used.

Run it again to repair the environment (e.g. after a system upgrade of Python) or to update it to
the versions this plugin version pins; what is already there is kept. The default place is the
folder mars_cloudmask/runtime in your QGIS profile; {RUNTIME_ENV} (an environment variable) or the
advanced folder parameter choose another, e.g. an existing environment with TensorFlow.
"""
    BUILD, FOLDER, REQUIREMENTS = "BUILD", "FOLDER", "REQUIREMENTS"
    OUTPUT, PYTHON = "OUTPUT", "PYTHON"
    BUILDS = ("auto", "cpu", "cuda")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterEnum(self.BUILD, tr("TensorFlow build"), options=[
            tr("Automatic (CUDA where an NVIDIA GPU answers)"), tr("CPU (tensorflow-cpu)"),
            tr("CUDA, NVIDIA GPUs on Linux (tensorflow[and-cuda])")], defaultValue=0),
            "Which TensorFlow to install, both at the version this plugin pins. Automatic: the CUDA build where "
            "nvidia-smi answers, else the CPU build (about a third of the download).")
        self.add(QgsProcessingParameterFile(self.FOLDER, tr("Environment folder"),
                                            behavior=QgsProcessingParameterFile.Folder, optional=True),
                 f"Where the environment goes (a new or empty folder, or an environment made before). Empty: "
                 f"{RUNTIME_ENV} if set, else mars_cloudmask/runtime in your QGIS profile. A folder given here is "
                 f"remembered (QGIS setting {RUNTIME_SETTING}).", advanced=True)
        self.add(QgsProcessingParameterString(self.REQUIREMENTS, tr("Requirements instead of the pinned ones (pip arguments)"),
                                              optional=True),
                 "For offline installs and tests: pip arguments that replace the pinned TensorFlow, Keras and numpy, "
                 "as on a pip command line, e.g. --no-index --find-links /path/to/wheels tensorflow-cpu==2.17.1 "
                 "keras==3.15.1 'numpy<2'. Empty: the pinned versions.", advanced=True)
        self.addOutput(QgsProcessingOutputString(self.OUTPUT, tr("Environment folder")))
        self.addOutput(QgsProcessingOutputString(self.PYTHON, tr("Its Python interpreter")))

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import environment
        chosen = self.parameterAsFile(parameters, self.FOLDER, context)
        folder = chosen or str(runtime_folder()[0])
        custom = self.parameterAsString(parameters, self.REQUIREMENTS, context).strip()
        build = tensorflow_build(self.BUILDS[self.parameterAsEnum(parameters, self.BUILD, context)])
        requirements = shlex.split(custom) if custom else pinned_requirements(build)
        feedback.pushInfo(tr("Installing {} into {}").format(" ".join(requirements), folder))
        result = environment.install(folder, requirements, on_line=feedback.pushConsoleInfo,
                                     progress=progress_to(feedback, 0, 99), cancel=feedback.isCanceled)
        if chosen:
            QgsSettings().setValue(RUNTIME_SETTING, str(result.folder))
        feedback.pushInfo(tr("{} the network runtime {} in {:.0f} s").format(
            tr("Made") if result.created else tr("Updated"), result.folder, result.seconds))
        if not custom:
            check = plan(MODEL_MODULES)
            if check.problem:
                feedback.reportError(check.problem, fatalError=False)
            elif check.in_process:
                feedback.pushInfo(tr("QGIS's own Python has TensorFlow: the algorithms run in process and do not "
                                     "need this environment."))
            else:
                feedback.pushInfo(tr("Ready: the algorithms that run the network now run it in {}").format(
                    check.python))
        feedback.setProgress(100)
        return {self.OUTPUT: str(result.folder), self.PYTHON: str(result.python)}
