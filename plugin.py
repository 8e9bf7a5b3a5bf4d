"""The plugin object QGIS holds: it registers the Processing provider and, in the desktop, adds
the menu Plugins > Mars Cloudmask (install the network runtime, open the guide).

`initProcessing` needs no `iface`, so qgis_process and headless scripts get the provider too.
"""
from qgis.core import QgsApplication

MENU = "&Mars Cloudmask"


class MarsCloudmaskPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None
        self.actions = []

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        if self.provider is None:
            from .processing.provider import MarsCloudmaskProvider
            self.provider = MarsCloudmaskProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()
        if self.iface is None:
            return
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QAction
        from .processing.algorithm import ICON_PATH
        from .processing.runtime import INSTALL_ALGORITHM
        from .processing.translate import tr
        for label, slot in ((tr(INSTALL_ALGORITHM) + "...", self.install_runtime),
                            (tr("Mars Cloudmask guide"), self.open_guide)):
            action = QAction(QIcon(str(ICON_PATH)), label, self.iface.mainWindow())
            action.triggered.connect(slot)
            self.iface.addPluginToMenu(MENU, action)
            self.actions.append(action)

    def install_runtime(self):
        """The install algorithm's dialog: its log shows pip as it runs, Cancel stops it."""
        import processing
        from .processing.runtime import INSTALL_ID
        processing.execAlgorithmDialog(INSTALL_ID, {})

    def open_guide(self):
        from qgis.PyQt.QtCore import QUrl
        from qgis.PyQt.QtGui import QDesktopServices
        from .processing.runtime import GUIDE
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(GUIDE)))

    def unload(self):
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
