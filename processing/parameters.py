"""Processing parameters from the engine's one declaration of the mask options
(mars_cloudmask_plugin/options.py), and reading parameter values back for one engine call."""
from pathlib import Path

from qgis.core import (QgsProcessingException, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFile, QgsProcessingParameterNumber)

from ..mars_cloudmask_plugin.options import QGIS_TILE_SIZE, mask_options
from .styles import StyleOnLoad
from .translate import tr

MDGM_FILTER = "MDGM images (*.jpg *.jpeg *.JPG *.tif *.tiff);;All files (*.*)"
MODEL_FILTER = "Mars Cloudmask model (*.keras)"


def with_help(param, help_text, advanced=False):
    param.setHelp(tr(help_text))
    if advanced:
        param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return param


def option_parameter(spec, name=None):
    """The Processing parameter of one mask option (`name` overrides its key, e.g. in a model)."""
    name = name or spec.key
    label = tr(spec.label)
    number = QgsProcessingParameterNumber
    if spec.kind == "number":
        param = number(name, label, number.Double, defaultValue=spec.default, optional=spec.default is None,
                       minValue=spec.minimum, maxValue=spec.maximum)
    elif spec.kind == "tile_size":
        param = number(name, label, number.Integer, optional=True, minValue=spec.minimum)
    elif spec.kind == "choice":
        param = QgsProcessingParameterEnum(name, label, options=[tr(t) for t in spec.choice_labels],
                                           defaultValue=spec.choices.index(spec.default))
    elif spec.kind == "formats":
        param = QgsProcessingParameterEnum(name, label, options=[tr(t) for t in spec.choice_labels],
                                           allowMultiple=True, defaultValue=list(range(len(spec.choices))))
    elif spec.kind == "file":
        param = QgsProcessingParameterFile(name, label, behavior=QgsProcessingParameterFile.File,
                                           fileFilter=spec.file_filter or MODEL_FILTER, optional=True)
    elif spec.kind == "flag":
        param = QgsProcessingParameterBoolean(name, label, defaultValue=spec.default)
    else:
        raise ValueError(f"no Processing parameter for option kind {spec.kind!r}")
    return with_help(param, spec.help, spec.advanced)


def mdgm_parameter(name="INPUT"):
    return with_help(QgsProcessingParameterFile(name, tr("MDGM (Mars Daily Global Map)"),
                                                behavior=QgsProcessingParameterFile.File, fileFilter=MDGM_FILTER),
                     "A MARCI Mars Daily Global Map: the distributed 3600 x 1801 RGB JPEG (e.g. "
                     "P01_day10_zequat.jpg), or a 3-band 8-bit raster already on the 0.1-degree global grid.")


def optional_number(algorithm, parameters, name, context):
    """The number given for an optional parameter, or None when it was left empty."""
    value = parameters.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return algorithm.parameterAsDouble(parameters, name, context)


def option_value(algorithm, spec, parameters, context):
    """The engine value of one mask option's parameter (None where an optional one is empty)."""
    key = spec.key
    if spec.kind == "number":
        return optional_number(algorithm, parameters, key, context)
    if spec.kind == "tile_size":
        value = optional_number(algorithm, parameters, key, context)
        return None if value is None else int(value)
    if spec.kind == "choice":
        return spec.choices[algorithm.parameterAsEnum(parameters, key, context)]
    if spec.kind == "formats":
        return tuple(spec.choices[i] for i in algorithm.parameterAsEnums(parameters, key, context))
    if spec.kind == "file":
        return algorithm.parameterAsFile(parameters, key, context) or None
    return algorithm.parameterAsBool(parameters, key, context)


def read_mask_options(algorithm, parameters, context, specs, **fixed):
    """Checked MaskOptions (engine) from the parameters of `specs`; `fixed` sets the rest."""
    values = {spec.dest: option_value(algorithm, spec, parameters, context) for spec in specs}
    values = {k: v for k, v in values.items() if v is not None}
    if any(spec.kind == "tile_size" for spec in specs):
        values.setdefault("tile_size", QGIS_TILE_SIZE)       # empty: strips whose progress moves
    return mask_options(**values, **fixed)


def input_file(algorithm, parameters, name, context, what):
    """The file a required file parameter names, as a Path; a clear error when it names none."""
    path = algorithm.parameterAsFile(parameters, name, context)
    if not path:
        raise QgsProcessingException(tr("No {} given (parameter {})").format(what, name))
    return Path(path)


def mdgm_path(algorithm, parameters, context, name="INPUT"):
    return input_file(algorithm, parameters, name, context, tr("MDGM"))


def raster_output(algorithm, parameters, name, context, style=None, suffixes=(".tif", ".tiff")):
    """Path of a raster destination ('' when an optional one was skipped): GeoTIFF unless told. When
    QGIS will load it on completion, it gets `style` (None: its own colours) and the Mars CRS."""
    path = algorithm.parameterAsOutputLayer(parameters, name, context)
    if not path:
        return ""
    if Path(path).suffix.lower() not in suffixes:
        kinds = "GeoTIFF files; use a .tif name" if suffixes == (".tif", ".tiff") else \
            f"{' or '.join(suffixes)} files"
        raise QgsProcessingException(tr("{}: outputs are {}").format(path, kinds))
    writable_folder(path)
    if context.willLoadLayerOnCompletion(path):
        context.layerToLoadOnCompletionDetails(path).setPostProcessor(StyleOnLoad.create(style))
    return path


def writable_folder(path):
    """Fail before the work, not after it, when an output cannot be written."""
    from ..mars_cloudmask_plugin.writers import check_writable_folder
    check_writable_folder(Path(path).parent)


def raster_layer_path(algorithm, parameters, name, context):
    """File path behind a raster layer parameter (a loaded layer or a path)."""
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    if layer is None:
        raise QgsProcessingException(tr("{}: cannot be loaded as a raster").format(parameters.get(name)))
    source = layer.source().split("|")[0]
    if not Path(source).is_file():
        raise QgsProcessingException(tr("{}: not a raster file on disk").format(source))
    return Path(source)


# -- sets of masks (the analyses) ------------------------------------------------------------

class MaskSelection:
    """The parameters that choose a set of cloud masks: layers/files, a folder, and filters read
    from the masks' own tags. The masks' key is INPUT where they are the algorithm's main input."""
    FOLDER, MARS_YEARS, LS_RANGE, SUBPHASES = "FOLDER", "MARS_YEARS", "LS_RANGE", "SUBPHASES"

    def __init__(self, masks_key="INPUT"):
        self.MASKS = masks_key

    def add_to(self, algorithm):
        from qgis.core import QgsProcessing, QgsProcessingParameterMultipleLayers, QgsProcessingParameterString
        algorithm.add(QgsProcessingParameterMultipleLayers(self.MASKS, tr("Cloud masks"), QgsProcessing.TypeRaster,
                                                           optional=True),
                      "Cloud masks of this plugin (GeoTIFF or NetCDF), or masks in the reference layout "
                      "(cloudmask_P02_day05.ncdf). Give masks here, a folder below, or both.")
        algorithm.add(QgsProcessingParameterFile(self.FOLDER, tr("Folder of cloud masks"),
                                                 behavior=QgsProcessingParameterFile.Folder, optional=True),
                      "A folder searched recursively for masks, e.g. the output of \"Cloud masks for an archive "
                      "folder\". Where both the GeoTIFF and the NetCDF of a sol are there, the GeoTIFF counts.")
        algorithm.add(QgsProcessingParameterString(self.MARS_YEARS, tr("Mars years"), optional=True),
                      "Only masks of these Mars years, comma-separated (e.g. 28,29). Empty: all.", advanced=True)
        algorithm.add(QgsProcessingParameterString(self.LS_RANGE, tr("Ls range (degrees)"), optional=True),
                      "Only sols with solar longitude in LOW-HIGH, e.g. 90-180; 350-10 wraps through 0. "
                      "Empty: all.", advanced=True)
        algorithm.add(QgsProcessingParameterString(self.SUBPHASES, tr("Subphases"), optional=True),
                      "Only these subphases, comma-separated (e.g. P02,P03). Empty: all.", advanced=True)

    def read(self, algorithm, parameters, context):
        """{inputs, mars_years, ls_range, subphases} for the engine's analyses."""
        files = [layer_file(s) for s in algorithm.parameterAsFileList(parameters, self.MASKS, context) if s]
        folder = algorithm.parameterAsFile(parameters, self.FOLDER, context)
        inputs = files + ([folder] if folder else [])
        if not inputs:
            raise QgsProcessingException(tr("Give cloud masks, a folder of masks, or both"))
        years = algorithm.parameterAsString(parameters, self.MARS_YEARS, context)
        try:
            years = [int(y) for y in years.split(",") if y.strip()] or None
        except ValueError:
            raise QgsProcessingException(tr("Mars years {!r}: give whole numbers, e.g. 28,29").format(years)) from None
        phases = [p.strip() for p in algorithm.parameterAsString(parameters, self.SUBPHASES, context).split(",")
                  if p.strip()] or None
        return {"inputs": inputs, "mars_years": years, "subphases": phases,
                "ls_range": algorithm.parameterAsString(parameters, self.LS_RANGE, context) or None}


def layer_file(source):
    """The file behind a layer source: 'NETCDF:"/a/b.nc":cloudmask' and '/a/b.tif|layername=x' -> the path."""
    source = str(source)
    if source.upper().startswith("NETCDF:"):
        rest = source[len("NETCDF:"):]
        return rest.split('"')[1] if rest.startswith('"') else rest.rsplit(":", 1)[0]
    return source.split("|")[0]


def geopackage_output(algorithm, parameters, name, context):
    """Path of a vector destination: a GeoPackage (checked writable before the work)."""
    path = algorithm.parameterAsOutputLayer(parameters, name, context)
    if Path(path).suffix.lower() != ".gpkg":
        raise QgsProcessingException(tr("{}: this layer is written as a GeoPackage; use a .gpkg name").format(path))
    writable_folder(path)
    return path


def file_output(algorithm, parameters, name, context, suffixes):
    """Path of a file destination ('' when an optional one was skipped), with one of `suffixes`."""
    path = algorithm.parameterAsFileOutput(parameters, name, context)
    if not path:
        return ""
    if Path(path).suffix.lower() not in suffixes:
        raise QgsProcessingException(tr("{}: use a name ending in {}").format(path, " or ".join(suffixes)))
    writable_folder(path)
    return path


def load_on_completion(context, path, name, style=None, bottom=False):
    """Have QGIS load an extra output file (e.g. one map per group; with `bottom`, under the run's other layers)
    when the algorithm finishes."""
    from qgis.core import QgsProcessingContext
    details = QgsProcessingContext.LayerDetails(name, context.project(), name)
    details.setPostProcessor(StyleOnLoad.create(style, bottom))      # style None: only the Mars CRS
    context.addLayerToLoadOnCompletion(str(path), details)


def forget_layer_to_load(context, path):
    """Do not load `path` on completion (a destination that was not written as such, e.g. the name
    pattern of one map per group)."""
    layers = dict(context.layersToLoadOnCompletion())
    if str(path) in layers:
        del layers[str(path)]
        context.setLayersToLoadOnCompletion(layers)


def name_output(context, path, name):
    """The layer name an output gets when QGIS loads it (e.g. 'P01_day10 cloud mask')."""
    if path and context.willLoadLayerOnCompletion(str(path)):
        context.layerToLoadOnCompletionDetails(str(path)).name = name
