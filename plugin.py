"""The plugin object QGIS holds: it only registers the Processing provider.

`initProcessing` needs no `iface`, so qgis_process and headless scripts get the provider too.
"""
from qgis.core import QgsApplication


class MarsCloudmaskPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is None:
            from .processing.provider import MarsCloudmaskProvider
            self.provider = MarsCloudmaskProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
