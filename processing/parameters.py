"""Processing parameters from the engine's one declaration of the mask options
(mars_cloudmask_plugin/options.py), and reading parameter values back for one engine call."""
from pathlib import Path

from qgis.core import (QgsProcessingException, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFile, QgsProcessingParameterNumber)

from ..mars_cloudmask_plugin.options import mask_options
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
                                           fileFilter=MODEL_FILTER, optional=True)
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
    return mask_options(**{k: v for k, v in values.items() if v is not None}, **fixed)


def mdgm_path(algorithm, parameters, context, name="INPUT"):
    path = algorithm.parameterAsFile(parameters, name, context)
    if not path:
        raise QgsProcessingException(tr("No MDGM given (parameter {})").format(name))
    return Path(path)


def raster_output(algorithm, parameters, name, context, style=None):
    """Path of a raster destination ('' when an optional one was skipped): GeoTIFF only. When
    QGIS will load it on completion, it gets `style` and the Mars CRS."""
    path = algorithm.parameterAsOutputLayer(parameters, name, context)
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


def raster_layer_path(algorithm, parameters, name, context):
    """File path behind a raster layer parameter (a loaded layer or a path)."""
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    if layer is None:
        raise QgsProcessingException(tr("{}: cannot be loaded as a raster").format(parameters.get(name)))
    source = layer.source().split("|")[0]
    if not Path(source).is_file():
        raise QgsProcessingException(tr("{}: not a raster file on disk").format(source))
    return Path(source)
