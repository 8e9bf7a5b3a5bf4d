"""What every Mars Cloudmask algorithm shares: names and help, the common parameters, the check that
the engine's libraries import, engine errors turned into QgsProcessingException, progress and
cancel wired to the feedback, and styled loading of the outputs.

The engine is imported relatively (`..mars_cloudmask_plugin`): the plugin lives under its
installed folder name and the repository root is never on sys.path (DESIGN.md, the name trap).
"""
import contextlib
import importlib.util
import os
import re
import sys
from pathlib import Path

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessingAlgorithm,
                       QgsProcessingException, QgsProcessingLayerPostProcessorInterface,
                       QgsProcessingOutputNumber, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterNumber)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

PLUGIN_DIR = Path(__file__).resolve().parent.parent
STYLES_DIR = PLUGIN_DIR / "styles"
ICON_PATH = PLUGIN_DIR / "icon.svg"
CRS_AUTHID = "IAU_2015:49900"        # = engine grid.CRS_AUTHID; kept here so the toolbox loads without numpy
TILING_MODES = ("seamless", "blend")  # = engine tiling.MODES, in the order of the TILING enum
MDGM_FILTER = "MDGM images (*.jpg *.jpeg *.JPG *.tif *.tiff);;All files (*.*)"
MODEL_FILTER = "Mars Cloudmask model (*.keras)"

# Python modules each kind of algorithm needs, checked without importing them (TensorFlow takes
# seconds to import; the toolbox must open fast).
BASE_MODULES = ("numpy", "rasterio")
MODEL_MODULES = BASE_MODULES + ("tensorflow", "keras")


SYSTEM_PACKAGES = {"numpy": "python3-numpy", "rasterio": "python3-rasterio", "netCDF4": "python3-netcdf4"}
LABELS = {"tensorflow": "TensorFlow", "keras": "Keras", "numpy": "NumPy", "rasterio": "rasterio", "netCDF4": "netCDF4"}


def install_hint(missing):
    """How to install the `missing` modules for QGIS's Python."""
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    hints = []
    system = [SYSTEM_PACKAGES[m] for m in missing if m in SYSTEM_PACKAGES]
    if system:
        hints.append(f"Install {' '.join(system)} with apt-get (Debian/Ubuntu) or your system's package manager.")
    if set(missing) - set(SYSTEM_PACKAGES):
        hints.append("Set up TensorFlow once for QGIS's Python: /usr/bin/python3 -m venv --system-site-packages VENV"
                     " && VENV/bin/pip install 'tensorflow-cpu==2.17.1' 'keras==3.15.1' 'numpy<2' (in a source "
                     "checkout: bash scripts/setup.sh, which makes .venv), then start QGIS or qgis_process with "
                     f"PYTHONPATH=VENV/lib/{py}/site-packages.")
    return " ".join(hints + ["See docs/qgis.md."])


def missing_modules(names):
    """The modules among `names` that this Python cannot import (checked without importing them)."""
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def requirements_problem(names):
    """None when every module in `names` is importable, else a message saying how to install them."""
    missing = missing_modules(names)
    if not missing:
        return None
    names = ", ".join(LABELS.get(m, m) for m in missing)
    return (f"Mars Cloudmask needs {names}, which QGIS's Python {sys.version.split()[0]} cannot import. "
            f"{install_hint(missing)}")


def isolate_h5py():
    """Import h5py so that it binds to the HDF5 library bundled in its wheel.

    qgis.bin and qgis_process.bin link GDAL and with it Debian's libhdf5 into the global symbol
    scope; Keras imports the pip wheel of h5py, whose extension modules would then resolve HDF5
    calls to that other HDF5 version and fail ("ValueError: Not a datatype"). RTLD_DEEPBIND makes
    them prefer their own bundled library. Harmless where nothing else loaded HDF5 globally."""
    if "h5py" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        return
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        import h5py  # noqa: F401
    except ImportError:
        pass        # Keras reports it, with the install hint around it
    finally:
        sys.setdlopenflags(flags)


def tr(text):
    return QCoreApplication.translate("MarsCloudmask", text)


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Applies a shipped .qml to an output when QGIS loads it, and makes sure the layer is in the
    Mars CRS. The processing context deletes its post-processors when it is destroyed, but Python
    must keep each one alive until then: `create` keeps them and forgets the ones QGIS deleted."""
    _alive = []

    def __init__(self, style):
        super().__init__()
        self.style = style

    @classmethod
    def create(cls, style):
        from qgis.PyQt import sip
        cls._alive = [p for p in cls._alive if not sip.isdeleted(p)]
        processor = cls(style)
        cls._alive.append(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        apply_style(layer, self.style, feedback)


def apply_style(layer, style, feedback=None):
    """Style a loaded output with styles/<style>.qml; a mask shows its invalid pixels as a class."""
    if not layer.crs().isValid() or layer.crs().authid() != CRS_AUTHID:
        layer.setCrs(QgsCoordinateReferenceSystem(CRS_AUTHID))
    message, ok = layer.loadNamedStyle(str(STYLES_DIR / f"{style}.qml"))
    if not ok and feedback is not None:
        feedback.reportError(f"{STYLES_DIR / f'{style}.qml'}: style not applied ({message})", fatalError=False)
    if style == "cloudmask":
        # -999 is nodata in the file (so other tools skip it), but in QGIS the legend shows it as
        # the "invalid" class instead of leaving holes.
        layer.dataProvider().setUseSourceNoDataValue(1, False)
    layer.triggerRepaint()


class CloudmaskAlgorithm(QgsProcessingAlgorithm):
    """Base of the provider's algorithms. Subclasses set the class attributes, declare their
    parameters in `initAlgorithm` with the `add_*` helpers and do the work in `process`."""
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
        return "https://example.org/mars-cloudmask/docs/qgis.md"

    def icon(self):
        return QIcon(str(ICON_PATH))

    def createInstance(self):  # noqa: N802
        return type(self)()

    def canExecute(self):  # noqa: N802
        problem = requirements_problem(self.MODULES)
        return problem is None, problem or ""

    # -- running ---------------------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        problem = requirements_problem(self.MODULES)
        if problem:
            raise QgsProcessingException(problem)
        with engine_errors():
            return self.process(parameters, context, feedback)

    def process(self, parameters, context, feedback):
        raise NotImplementedError

    # -- parameters --------------------------------------------------------------------------
    def add(self, param, help_text, advanced=False):
        param.setHelp(tr(help_text))
        if advanced:
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(param)
        return param

    def add_number_output(self, name, description):
        self.addOutput(QgsProcessingOutputNumber(name, tr(description)))

    def add_mdgm(self, name="INPUT"):
        self.add(QgsProcessingParameterFile(name, tr("MDGM (Mars Daily Global Map)"),
                                            behavior=QgsProcessingParameterFile.File, fileFilter=MDGM_FILTER),
                 "A MARCI Mars Daily Global Map: the distributed 3600 x 1801 RGB JPEG (e.g. P01_day10_zequat.jpg), "
                 "or a 3-band 8-bit raster already on the 0.1-degree global grid.")

    def add_ls_and_buffer(self):
        self.add_ls()
        self.add_buffer()

    def add_ls(self):
        self.add(QgsProcessingParameterNumber("LS", tr("Solar longitude Ls (degrees)"),
                                              QgsProcessingParameterNumber.Double, optional=True,
                                              minValue=0.0, maxValue=360.0),
                 "Solar longitude of the sol, 0 to 360 degrees. Leave empty to read it from the archive's "
                 "Pxx_ls.txt beside the MDGM; a value given here wins over the file.")

    def add_buffer(self):
        self.add(QgsProcessingParameterNumber("BUFFER", tr("Polar-bound buffer c (degrees)"),
                                              QgsProcessingParameterNumber.Double, defaultValue=3.0,
                                              minValue=0.0, maxValue=30.0),
                 "Degrees taken off both polar bounds (the paper's c, default 3): the larger, the further "
                 "the mask stays from the polar hood and the seasonal cap.")

    def add_model_options(self, tiling=True):
        if tiling:
            self.add(QgsProcessingParameterEnum("TILING", tr("Tiling"),
                                                options=[tr("seamless: one prediction per pixel, exact (default)"),
                                                         tr("blend: the paper's overlapping tiles")],
                                                defaultValue=0),
                     "seamless: tiles on a 16-pixel grid; a valid-padding U-Net gives exactly the same result as "
                     "one pass over the whole area, at a quarter of the paper's compute or less. blend: the "
                     "paper's ~50% overlapping tiles weighted by a squared-spline window.")
        self.add(QgsProcessingParameterFile("MODEL", tr("Model file"),
                                            behavior=QgsProcessingParameterFile.File, fileFilter=MODEL_FILTER,
                                            optional=True),
                 "A Mars Cloudmask .keras model (with its metadata). Empty: the model shipped with the plugin "
                 "(models/mars_cloudmask_unet.keras).")
        self.add(QgsProcessingParameterNumber("TILE_SIZE", tr("Tile size (input pixels)"),
                                              QgsProcessingParameterNumber.Integer, optional=True, minValue=0),
                 "Side of the square network input, 16k + 124 pixels (e.g. 668). Empty: the engine's "
                 "default (seamless: as few tiles as fit in memory; blend: the model's own tile). 0: the "
                 "whole prediction area in one pass. Seamless tiling gives the same mask for every tile "
                 "size; smaller tiles use less memory.", advanced=True)

    def add_threshold(self, help_text):
        self.add(QgsProcessingParameterNumber("THRESHOLD", tr("Probability threshold"),
                                              QgsProcessingParameterNumber.Double, optional=True,
                                              minValue=0.0, maxValue=1.0), help_text)

    # -- reading parameters --------------------------------------------------------------------
    def optional_number(self, parameters, name, context):
        """The number given for an optional parameter, or None when it was left empty."""
        value = parameters.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self.parameterAsDouble(parameters, name, context)

    def mdgm_path(self, parameters, context, name="INPUT"):
        path = self.parameterAsFile(parameters, name, context)
        if not path:
            raise QgsProcessingException(tr("No MDGM given (parameter {})").format(name))
        return Path(path)

    def mdgm_and_area(self, parameters, context, bounds=False):
        """(Mdgm, Area, Sol) from INPUT, LS, BUFFER and, with `bounds`, LAT_NORTH / LAT_SOUTH."""
        from ..mars_cloudmask_plugin import mdgm as engine_mdgm, steps
        mdgm = engine_mdgm.read_mdgm(self.mdgm_path(parameters, context))
        explicit = ([self.optional_number(parameters, name, context) for name in ("LAT_NORTH", "LAT_SOUTH")]
                    if bounds else [])
        area, sol = steps.resolve_area(mdgm, self.optional_number(parameters, "LS", context),
                                       self.parameterAsDouble(parameters, "BUFFER", context), *explicit)
        return mdgm, area, sol

    def tiling(self, parameters, context):
        return TILING_MODES[self.parameterAsEnum(parameters, "TILING", context)]

    def tile_size(self, parameters, context):
        """{"tile_size": ...} for the engine call, or {} to keep the engine's default."""
        value = self.optional_number(parameters, "TILE_SIZE", context)
        if value is None:
            return {}
        return {"tile_size": None if int(value) == 0 else int(value)}

    def load_model(self, parameters, context, feedback):
        isolate_h5py()
        from ..mars_cloudmask_plugin import model as engine_model
        from ..mars_cloudmask_plugin.errors import CloudmaskError
        path = self.parameterAsFile(parameters, "MODEL", context) or None
        target = Path(path) if path else engine_model.DEFAULT_MODEL
        try:
            cloud_model = engine_model.load_model(target)
        except CloudmaskError as exc:
            if path is None and not target.exists():
                raise QgsProcessingException(tr("{}: the shipped model is missing; reinstall the plugin with its "
                                                "models/ folder or choose a model file").format(target)) from None
            raise QgsProcessingException(str(exc)) from None
        feedback.pushInfo(tr("Model: {} ({}), tile {}, threshold {:g}").format(
            cloud_model.label, cloud_model.path, cloud_model.tile_size, cloud_model.threshold))
        return cloud_model

    def raster_output(self, parameters, name, context, style=None):
        """Path of a raster destination ('' when an optional one was skipped): GeoTIFF only. When
        QGIS will load it on completion, it gets `style` and the Mars CRS."""
        path = self.parameterAsOutputLayer(parameters, name, context)
        if not path:
            return ""
        if Path(path).suffix.lower() not in (".tif", ".tiff"):
            raise QgsProcessingException(tr("{}: outputs are GeoTIFF files; use a .tif name").format(path))
        writable_folder(path)
        if style and context.willLoadLayerOnCompletion(path):
            context.layerToLoadOnCompletionDetails(path).setPostProcessor(StyleOnLoad.create(style))
        return path


def writable_folder(path):
    """Fail before the work, not after it, when an output cannot be written."""
    from ..mars_cloudmask_plugin.writers import check_writable_folder
    check_writable_folder(Path(path).parent)


@contextlib.contextmanager
def engine_errors():
    """Engine errors (they name the file and the problem) become QgsProcessingException."""
    from ..mars_cloudmask_plugin.errors import Cancelled, CloudmaskError
    try:
        yield
    except CloudmaskError as exc:
        raise QgsProcessingException(str(exc)) from None
    except Cancelled:
        raise QgsProcessingException(tr("Cancelled: no output was written")) from None


def progress_to(feedback, start=0.0, end=100.0):
    """An engine progress callback (fraction 0..1) reporting start..end percent to the feedback."""
    return lambda fraction: feedback.setProgress(start + (end - start) * fraction)


def raster_layer_path(algorithm, parameters, name, context):
    """File path behind a raster layer parameter (a loaded layer or a path)."""
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    if layer is None:
        raise QgsProcessingException(tr("{}: cannot be loaded as a raster").format(parameters.get(name)))
    source = layer.source().split("|")[0]
    if not Path(source).is_file():
        raise QgsProcessingException(tr("{}: not a raster file on disk").format(source))
    return Path(source)


class StepAlgorithm(CloudmaskAlgorithm):
    """One stretch of the chain (group "Steps"), for the modeler and for inspection."""
    GROUP, GROUP_ID = "Steps", "steps"
