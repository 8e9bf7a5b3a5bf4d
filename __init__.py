"""Mars Cloudmask for QGIS: water-ice cloud masks from MRO MARCI Mars Daily Global Maps.

QGIS calls `classFactory` when it loads the plugin (desktop and qgis_process alike). Nothing else
happens at import time: QGIS, the engine and TensorFlow are imported only when they are needed.
"""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import MarsCloudmaskPlugin
    return MarsCloudmaskPlugin(iface)
