"""Build the shipped graphical models with the QgsProcessingModelAlgorithm API:

modeler/cloudmask_chain.model3:
    MDGM ─► Crop to polar bounds ─(latN, latS)─► Cloud probability ─► Post-filter ─► Cloud mask
modeler/frequency_with_topography.model3:
    folder of masks ─► Cloud frequency;  MOLA DEM (any Mars CRS) ─► GDAL contours; both loaded

Run (headless): QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_model.py [OUT_DIR]
The child algorithms are referenced by id (marscloudmask:..., gdal:contour), so the providers need
not be loaded to write the files; QGIS resolves them when a model is opened or run. The mask
options (labels, defaults, ranges) come from the engine's one declaration, mars_cloudmask_plugin/options.py.
"""
import sys
from pathlib import Path

from mars_cloudmask_plugin import options

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO / "modeler"

HELP = ("The cloud mask of one MDGM in three visible steps, each a Mars Cloudmask algorithm: "
        "Crop to polar bounds gives the bounds latN/latS of the sol's season, Cloud probability runs the "
        "tiled U-Net between them, Post-filter thresholds the probability and marks pixels without usable "
        "colour invalid. The mask equals the one-step 'Cloud mask from an MDGM', pixel for pixel. Open it in "
        "the graphical modeler to change or extend the chain (e.g. add your own post-processing).")


def option_input(spec, name):
    """A model input for one mask option, as the engine declares it."""
    from qgis.core import (QgsProcessingParameterDefinition, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                           QgsProcessingParameterNumber as number)
    if spec.kind == "number":
        param = number(name, spec.label, number.Double, defaultValue=spec.default, optional=spec.default is None,
                       minValue=spec.minimum, maxValue=spec.maximum)
    elif spec.kind == "tile_size":
        param = number(name, spec.label, number.Integer, optional=True, minValue=spec.minimum)
    elif spec.kind == "choice":
        param = QgsProcessingParameterEnum(name, spec.label, options=list(spec.choice_labels),
                                           defaultValue=spec.choices.index(spec.default))
    elif spec.kind == "file":
        param = QgsProcessingParameterFile(name, spec.label, behavior=QgsProcessingParameterFile.File,
                                           fileFilter="Mars Cloudmask model (*.keras)", optional=True)
    else:
        raise ValueError(spec.kind)
    if spec.advanced:
        param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return param


def add_inputs(model, inputs, spacing):
    """The model's inputs, in a row along the top of the canvas."""
    from qgis.core import QgsProcessingModelParameter
    from qgis.PyQt.QtCore import QPointF
    for i, definition in enumerate(inputs):
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(120 + spacing * i, 60))
        model.addModelParameter(definition, component)


def child_component(child_id, algorithm_id, description, x, sources, statics=None):
    """A child algorithm of a model, its parameters fed from `sources` and fixed `statics`."""
    from qgis.core import QgsProcessingModelChildAlgorithm, QgsProcessingModelChildParameterSource as Source
    from qgis.PyQt.QtCore import QPointF
    component = QgsProcessingModelChildAlgorithm(algorithm_id)
    component.setChildId(child_id)
    component.setDescription(description)
    component.setPosition(QPointF(x, 260))
    for name, source in sources.items():
        component.addParameterSources(name, [source])
    for name, value in (statics or {}).items():
        component.addParameterSources(name, [Source.fromStaticValue(value)])
    return component


def build_chain():
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildParameterSource as Source,
                           QgsProcessingModelOutput, QgsProcessingParameterFile)
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm("Cloud mask, step by step", "Mars Cloudmask")
    specs = (options.LS, options.BUFFER, options.TILING, options.MODEL, options.THRESHOLD, options.TILE_SIZE)
    model.setHelpContent({"ALG_DESC": HELP, "ALG_CREATOR": "Mars Cloudmask",
                          "mdgm": "MARCI Mars Daily Global Map (3600 x 1801 RGB JPEG).",
                          **{spec.dest: spec.help for spec in specs}})

    inputs = [QgsProcessingParameterFile("mdgm", "MDGM (Mars Daily Global Map)",
                                         behavior=QgsProcessingParameterFile.File,
                                         fileFilter="MDGM images (*.jpg *.jpeg *.JPG *.tif *.tiff);;All files (*.*)")]
    inputs += [option_input(spec, spec.dest) for spec in specs]
    add_inputs(model, inputs, 190)

    child = child_component
    param = Source.fromModelParameter
    crop = child("polarcrop", "marscloudmask:polarcrop", "Crop to polar bounds", 250,
                 {"INPUT": param("mdgm"), "LS": param("ls"), "BUFFER": param("buffer")})
    prob = child("cloudprobability", "marscloudmask:cloudprobability", "Cloud probability (tiled U-Net)", 600,
                 {"INPUT": param("mdgm"), "LS": param("ls"), "BUFFER": param("buffer"),
                  "LAT_NORTH": Source.fromChildOutput("polarcrop", "LAT_NORTH"),
                  "LAT_SOUTH": Source.fromChildOutput("polarcrop", "LAT_SOUTH"),
                  "TILING": param("tiling"), "MODEL": param("model"), "TILE_SIZE": param("tile_size")})
    post = child("postfilter", "marscloudmask:postfilter", "Post-filter (probability to mask)", 950,
                 {"PROBABILITY": Source.fromChildOutput("cloudprobability", "OUTPUT"),
                  "INPUT": param("mdgm"), "THRESHOLD": param("threshold")})
    output = QgsProcessingModelOutput("Cloud mask", "Cloud mask")
    output.setChildId("postfilter")
    output.setChildOutputName("OUTPUT")
    output.setPosition(QPointF(1150, 360))
    post.setModelOutputs({"Cloud mask": output})
    for component in (crop, prob, post):
        model.addChildAlgorithm(component)
    model.updateDestinationParameters()
    return model


TOPOGRAPHY_HELP = ("Cloud frequency of a folder of cloud masks (e.g. a batch output) with the contours of a MOLA "
                   "elevation model over it, as in the frequency maps of Mengwall and Guzewich (2022). Give the "
                   "DEM in its own Mars CRS (e.g. the USGS MGS MOLA global mosaic, equirectangular on the Mars "
                   "sphere): QGIS draws both layers on Mars, no Earth transform involved.")


def build_frequency_with_topography():
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildParameterSource as Source,
                           QgsProcessingModelOutput, QgsProcessingParameterFile, QgsProcessingParameterNumber,
                           QgsProcessingParameterRasterLayer)
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm("Cloud frequency with MOLA topography", "Mars Cloudmask")
    model.setHelpContent({"ALG_DESC": TOPOGRAPHY_HELP, "ALG_CREATOR": "Mars Cloudmask",
                          "masks": "Folder of cloud masks, searched recursively.",
                          "dem": "MOLA elevation model (metres), in its own Mars CRS.",
                          "interval": "Contour interval in metres (default 1000).",
                          "min_valid": "Pixels valid on fewer sols are nodata in the frequency."})
    number = QgsProcessingParameterNumber
    inputs = [QgsProcessingParameterFile("masks", "Folder of cloud masks", behavior=QgsProcessingParameterFile.Folder),
              QgsProcessingParameterRasterLayer("dem", "MOLA elevation model"),
              number("interval", "Contour interval (m)", number.Double, defaultValue=1000.0, minValue=1.0),
              number("min_valid", "Minimum valid sols", number.Integer, defaultValue=1, minValue=1)]
    add_inputs(model, inputs, 220)
    param = Source.fromModelParameter

    def child(child_id, algorithm_id, description, x, sources, statics=None, output=None):
        component = child_component(child_id, algorithm_id, description, x, sources, statics)
        child_output, name = output
        out = QgsProcessingModelOutput(name, name)
        out.setChildId(child_id)
        out.setChildOutputName(child_output)
        out.setPosition(QPointF(x + 150, 360))
        component.setModelOutputs({name: out})
        model.addChildAlgorithm(component)

    child("cloudfrequency", "marscloudmask:cloudfrequency", "Cloud frequency of the masks", 250,
          {"FOLDER": param("masks"), "MIN_VALID": param("min_valid")}, output=("OUTPUT", "Cloud frequency"))
    child("contours", "gdal:contour", "MOLA contours", 700, {"INPUT": param("dem"), "INTERVAL": param("interval")},
          {"BAND": 1, "FIELD_NAME": "ELEV"}, output=("OUTPUT", "MOLA contours"))
    model.updateDestinationParameters()
    return model


MODELS = {"cloudmask_chain.model3": build_chain, "frequency_with_topography.model3": build_frequency_with_topography}


def main(argv):
    from qgis.core import QgsApplication
    out_dir = Path(argv[0]) if argv else DEFAULT_OUT_DIR
    app = QgsApplication([], False)
    app.initQgis()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        model = build()
        if not model.toFile(str(out_dir / name)):
            sys.exit(f"{out_dir / name}: could not write the model")
        print(f"wrote {out_dir / name}")
        del model
    app.exitQgis()


if __name__ == "__main__":
    main(sys.argv[1:])
