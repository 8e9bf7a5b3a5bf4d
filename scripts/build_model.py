"""Build the graphical model modeler/cloudmask_chain.model3 with the QgsProcessingModelAlgorithm API:

    MDGM ─► Crop to polar bounds ─(latN, latS)─► Cloud probability ─► Post-filter ─► Cloud mask

Run (headless): QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_model.py [OUT.model3]
The child algorithms are referenced by id (marscloudmask:...), so the provider needs not be loaded
to write the file; QGIS resolves them when the model is opened or run.
"""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "modeler" / "cloudmask_chain.model3"

HELP = ("The cloud mask of one MDGM in three visible steps, each a Mars Cloudmask algorithm: "
        "Crop to polar bounds gives the bounds latN/latS of the sol's season, Cloud probability runs the "
        "tiled U-Net between them, Post-filter thresholds the probability and marks pixels without usable "
        "colour invalid. The mask equals the one-step 'Cloud mask from an MDGM', pixel for pixel. Open it in "
        "the graphical modeler to change or extend the chain (e.g. add your own post-processing).")


def build():
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource as Source, QgsProcessingModelOutput,
                           QgsProcessingModelParameter, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                           QgsProcessingParameterFile, QgsProcessingParameterNumber)
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm("Cloud mask, step by step", "Mars Cloudmask")
    model.setHelpContent({"ALG_DESC": HELP, "ALG_CREATOR": "Mars Cloudmask",
                          "mdgm": "MARCI Mars Daily Global Map (3600 x 1801 RGB JPEG).",
                          "ls": "Solar longitude (degrees); empty: from the archive's Pxx_ls.txt.",
                          "buffer": "Degrees taken off both polar bounds (default 3).",
                          "tiling": "seamless (exact, default) or blend (the paper's).",
                          "model": "Model file; empty: the shipped model.",
                          "threshold": "Probability threshold; empty: the model's own."})

    number = QgsProcessingParameterNumber
    inputs = [
        QgsProcessingParameterFile("mdgm", "MDGM (Mars Daily Global Map)", behavior=QgsProcessingParameterFile.File,
                                   fileFilter="MDGM images (*.jpg *.jpeg *.JPG *.tif *.tiff);;All files (*.*)"),
        number("ls", "Solar longitude Ls (degrees)", number.Double, optional=True, minValue=0.0, maxValue=360.0),
        number("buffer", "Polar-bound buffer c (degrees)", number.Double, defaultValue=3.0, minValue=0.0,
               maxValue=30.0),
        QgsProcessingParameterEnum("tiling", "Tiling", options=["seamless", "blend"], defaultValue=0),
        QgsProcessingParameterFile("model", "Model file", behavior=QgsProcessingParameterFile.File,
                                   fileFilter="Mars Cloudmask model (*.keras)", optional=True),
        number("threshold", "Probability threshold", number.Double, optional=True, minValue=0.0, maxValue=1.0),
        number("tile_size", "Tile size (input pixels)", number.Integer, optional=True, minValue=0),
    ]
    inputs[-1].setFlags(inputs[-1].flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    for i, definition in enumerate(inputs):
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(120 + 190 * i, 60))
        model.addModelParameter(definition, component)

    def child(child_id, algorithm_id, description, x, sources):
        component = QgsProcessingModelChildAlgorithm(algorithm_id)
        component.setChildId(child_id)
        component.setDescription(description)
        component.setPosition(QPointF(x, 260))
        for name, source in sources.items():
            component.addParameterSources(name, [source])
        return component

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


def main(argv):
    from qgis.core import QgsApplication
    out = Path(argv[0]) if argv else DEFAULT_OUT
    app = QgsApplication([], False)
    app.initQgis()
    out.parent.mkdir(parents=True, exist_ok=True)
    model = build()
    if not model.toFile(str(out)):
        sys.exit(f"{out}: could not write the model")
    print(f"wrote {out}")
    del model
    app.exitQgis()


if __name__ == "__main__":
    main(sys.argv[1:])
