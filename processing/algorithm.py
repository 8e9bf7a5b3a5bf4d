"""The base class of the provider's algorithms: identity and help from class attributes, the
runtime check, engine errors turned into QgsProcessingException, progress and cancel wired to the
feedback. Subclasses declare parameters in `initAlgorithm` and make one engine call in `process`;
those that need the network make it through `run_engine`, which runs it in process where QGIS's
Python has TensorFlow and otherwise in a worker process of the plugin's network runtime.

The engine is imported relatively (`..mars_cloudmask_plugin`): the plugin lives under its
installed folder name and the repository root is never on sys.path (DESIGN.md, the name trap).
"""
import contextlib
import re

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputNumber
from qgis.PyQt.QtGui import QIcon

from .parameters import with_help
from .runtime import BASE_MODULES, GUIDE, PLUGIN_DIR, PLUGIN_PARENT, as_rich_text, isolate_h5py, plan
from .styles import put_project_on_mars
from .translate import tr

ICON_PATH = PLUGIN_DIR / "icon.svg"
HELP_FILE = GUIDE     # docs/qgis.md ships in the ZIP: the Help button works offline


class EngineAlgorithm(QgsProcessingAlgorithm):
    """Base of the provider's algorithms. Subclasses set the class attributes, declare their
    parameters in `initAlgorithm` with `add` and make their one engine call in `process`."""
    NAME = ""
    DISPLAY_NAME = ""
    GROUP, GROUP_ID = "Cloud masks", "cloudmasks"
    HELP = ""
    TAGS = ()
    MODULES = BASE_MODULES

    # -- identity and help ---------------------------------------------------------------
    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802
        return tr(self.DISPLAY_NAME)

    def group(self):
        return tr(self.GROUP)

    def groupId(self):  # noqa: N802
        return self.GROUP_ID

    def tags(self):
        return [tr(t) for t in ("mars", "MARCI", "MDGM", "cloud", "water ice") + tuple(self.TAGS)]

    def shortHelpString(self):  # noqa: N802
        """HELP with its paragraphs (blank-line separated) unwrapped: the toolbox shows every line
        of the help as a paragraph of its own."""
        paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", self.HELP.strip()))
        return tr("\n\n".join(paragraphs))

    def helpUrl(self):  # noqa: N802
        from qgis.PyQt.QtCore import QUrl
        return QUrl.fromLocalFile(str(HELP_FILE)).toString()

    def icon(self):
        return QIcon(str(ICON_PATH))

    def createInstance(self):  # noqa: N802
        return type(self)()

    def canExecute(self):  # noqa: N802
        """True where QGIS's Python or the network runtime has the modules. The dialog shows the
        message as rich text: escaped (the `<` of numpy<2 does not eat the rest), the guide a link."""
        problem = self.plan().problem
        return problem is None, as_rich_text(problem)

    def plan(self):
        """How this algorithm runs here: the network algorithms (they need TensorFlow and make their
        engine call through run_engine) may use the runtime's worker; the others run in process."""
        return plan(self.MODULES, worker="tensorflow" in self.MODULES)

    # -- running ---------------------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        self._plan, self._feedback = self.plan(), feedback
        if self._plan.problem:
            raise QgsProcessingException(self._plan.problem)
        if self._plan.in_process and "keras" in self.MODULES:
            isolate_h5py()
        with engine_errors():
            return self.process(parameters, context, feedback)

    def process(self, parameters, context, feedback):
        raise NotImplementedError

    def run_engine(self, function, *args, **kwargs):
        """The algorithm's one engine call, `function(*args, **kwargs)`: in process where QGIS's Python
        has the modules, else in a worker process of the network runtime. There its callbacks
        (progress, ...) come back as they happen, `cancel` stops it within a second, its other output
        goes to the log, and its memory is freed when it ends."""
        if self._plan.in_process:
            return function(*args, **kwargs)
        from ..mars_cloudmask_plugin.worker import run_in_worker
        self._feedback.pushInfo(tr("Running the network in a worker process of the network runtime {}").format(
            self._plan.folder))
        return run_in_worker(self._plan.python, function, *args, sys_path=[PLUGIN_PARENT],
                             on_log=self._feedback.pushConsoleInfo, **kwargs)

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802
        """Runs on the main thread before QGIS loads the outputs: a project still on Earth goes to
        Mars first, so adding Mars layers never makes QGIS look for a transform between bodies."""
        if context.layersToLoadOnCompletion():
            put_project_on_mars(context.project())
        return {}

    # -- declaring parameters and outputs ---------------------------------------------------
    def add(self, param, help_text=None, advanced=False):
        """Add a parameter; `help_text` (when given) becomes its help."""
        if help_text is not None:
            with_help(param, help_text, advanced)
        self.addParameter(param)
        return param

    def add_number_output(self, name, description):
        self.addOutput(QgsProcessingOutputNumber(name, tr(description)))


class StepAlgorithm(EngineAlgorithm):
    """One stretch of the chain (group "Steps"), for the modeler and for inspection."""
    GROUP, GROUP_ID = "Steps", "steps"


@contextlib.contextmanager
def engine_errors():
    """Engine errors (they name the file and the problem) become QgsProcessingException."""
    from ..mars_cloudmask_plugin.errors import Cancelled, CloudmaskError
    from ..mars_cloudmask_plugin.worker import WorkerError
    try:
        yield
    except (CloudmaskError, WorkerError) as exc:
        raise QgsProcessingException(str(exc)) from None
    except Cancelled:
        raise QgsProcessingException(tr("Cancelled: no output was written")) from None


def progress_to(feedback, start=0.0, end=100.0):
    """An engine progress callback (fraction 0..1) reporting start..end percent to the feedback."""
    return lambda fraction: feedback.setProgress(start + (end - start) * fraction)
