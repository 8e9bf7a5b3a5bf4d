"""Outputs load styled (styles/<name>.qml) and in the Mars CRS."""
from qgis.core import QgsCoordinateReferenceSystem, QgsProcessingLayerPostProcessorInterface

from ..mars_cloudmask_plugin.grid import CRS_AUTHID
from .runtime import PLUGIN_DIR

STYLES_DIR = PLUGIN_DIR / "styles"


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Applies a shipped .qml to an output when QGIS loads it, and makes sure the layer is in the
    Mars CRS. The processing context deletes its post-processors when it is destroyed, but Python
    must keep each one alive until then: `create` keeps them and forgets the ones QGIS deleted."""
    _alive = []

    def __init__(self, style, bottom=False):
        super().__init__()
        self.style = style
        self.bottom = bottom

    @classmethod
    def create(cls, style, bottom=False):
        from qgis.PyQt import sip
        cls._alive = [p for p in cls._alive if not sip.isdeleted(p)]
        processor = cls(style, bottom)
        cls._alive.append(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        apply_style(layer, self.style, feedback)
        put_project_on_mars(context.project())
        if self.bottom:
            move_under_its_run(context.project(), layer, context.layersToLoadOnCompletion())


def apply_style(layer, style, feedback=None):
    """Style a loaded output with styles/<style>.qml (none: its own rendering, e.g. the MDGM's
    colours); a mask shows its invalid pixels as a class."""
    if not layer.crs().isValid() or layer.crs().authid() != CRS_AUTHID:
        layer.setCrs(QgsCoordinateReferenceSystem(CRS_AUTHID))
    if style is None:
        layer.triggerRepaint()
        return
    message, ok = layer.loadNamedStyle(str(STYLES_DIR / f"{style}.qml"))
    if not ok and feedback is not None:
        feedback.reportError(f"{STYLES_DIR / f'{style}.qml'}: style not applied ({message})", fatalError=False)
    if style == "cloudmask":
        # -999 is nodata in the file (so other tools skip it), but in QGIS the legend shows it as
        # the "invalid" class instead of leaving holes.
        layer.dataProvider().setUseSourceNoDataValue(1, False)
    layer.triggerRepaint()


def put_project_on_mars(project):
    """A Mars layer in a project on Earth (QGIS starts new projects in an Earth CRS) makes QGIS look
    for a transform between the bodies and show a red error bar: put the project on Mars instead."""
    if project is None:
        return
    crs = project.crs()
    body = crs.celestialBodyName() if crs.isValid() else ""
    if body != "Mars":
        project.setCrs(QgsCoordinateReferenceSystem(CRS_AUTHID))


def move_under_its_run(project, layer, run_layers):
    """Put a loaded base map (the MDGM) directly under the other layers its run loads (its mask),
    above the layers that were there before, so an older opaque layer (another sol's map, a
    clear-sky reference) never hides it. `run_layers`: the context's layers to load (paths)."""
    import os
    if project is None:
        return
    root = project.layerTreeRoot()
    node = root.findLayer(layer.id())
    if node is None:
        return
    ours = {os.path.normpath(str(key)) for key in run_layers}
    position = 0
    for i, child in enumerate(root.children()):
        other = getattr(child, "layer", lambda: None)()
        if child is not node and other is not None and os.path.normpath(other.source().split("|")[0]) in ours:
            position = i + 1                     # below the lowest layer of this run
    # The clone goes in before the node comes out: a layer that leaves the tree, even for a moment,
    # is taken out of the project at the next event loop turn (QgsLayerTreeRegistryBridge).
    root.insertChildNode(position, node.clone())
    node.parent().removeChildNode(node)
